package io.modelguard.examples.gateway;

import io.modelguard.examples.DemoShutdown;
import io.modelguard.examples.StartupException;
import io.modelguard.examples.http.HealthServlet;
import io.modelguard.examples.http.NotFoundServlet;
import io.modelguard.examples.http.PredictServlet;
import io.modelguard.examples.http.ProblemErrorHandler;
import io.modelguard.examples.model.ForwardedImage;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.examples.model.Predictions;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bare model server for the gateway demo: the demo's models ({@link PredictServlet}) on
 * 127.0.0.1 with no guard at all — what a team's unprotected inference service looks like. Only
 * the gateway ({@link GatewayApp}) should be able to reach it. It serves every demo model; {@code
 * image-classifier} classifies the image the gateway fetched and checked at the edge and forwards
 * in its body ({@link ForwardedImage}), and refuses an image URL with {@code 422 input.invalid}: it
 * never fetches anything. Its errors are {@link ProblemErrorHandler}'s problem+json bodies, as the
 * demo's.
 *
 * <pre>
 * java -cp modelguard-examples.jar io.modelguard.examples.gateway.UpstreamServer [--port N]
 * </pre>
 *
 * <p>Prints {@value #READY} followed by its base URI on stdout once it accepts connections.
 */
public final class UpstreamServer implements AutoCloseable {
  /** The start of the line printed once the server listens. */
  public static final String READY = "Upstream model server listening on ";
  /** The program name that starts its one-line errors. */
  static final String PROGRAM = "modelguard-upstream";

  private static final Logger log = LoggerFactory.getLogger(UpstreamServer.class);

  private final Server server;
  private final URI baseUri;

  private UpstreamServer(Server server, URI baseUri) {
    this.server = server;
    this.baseUri = baseUri;
  }

  /** Trains the models and serves them on 127.0.0.1:{@code port} (0 = any free port). */
  public static UpstreamServer start(int port) throws Exception {
    ModelCatalog models = ModelCatalog.trainDemoModels();
    Server server = new Server();
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setHost("127.0.0.1");
    connector.setPort(port);
    server.addConnector(connector);
    try {
      // Bind first: a port in use is the operator's to fix, told in one line (see run).
      connector.open();
    } catch (IOException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new StartupException("cannot listen on 127.0.0.1:" + port + " (" + cause.getClass().getSimpleName()
          + (cause.getMessage() == null ? "" : ": " + cause.getMessage()) + ")", e);
    }
    ServletContextHandler context = new ServletContextHandler("/");
    // image-classifier takes the image the gateway fetched, from the body: this server fetches nothing.
    context.addServlet(new ServletHolder("predict", new PredictServlet(models, Predictions.ImageSource.FORWARDED)),
        "/v1/models/*");
    context.addServlet(new ServletHolder("health", new HealthServlet()), HealthServlet.PATH);
    // As in the demo: 404 for any other path and method, and errors as fixed problem+json bodies
    // (no request URI, stack or server version), in case something other than the gateway asks.
    context.addServlet(new ServletHolder("not-found", new NotFoundServlet()), "/");
    context.setErrorHandler(new ProblemErrorHandler());
    server.setHandler(context);
    server.setErrorHandler(ProblemErrorHandler.forServer());
    server.start();
    return new UpstreamServer(server, URI.create("http://127.0.0.1:" + connector.getLocalPort()));
  }

  /** The base URI, such as {@code http://127.0.0.1:9000}. */
  public URI baseUri() {
    return baseUri;
  }

  /**
   * Stops the server, logging {@code Stopped} and the base URI, as the demo does: the last line of a
   * stopped upstream's log. Idempotent.
   *
   * @throws IllegalStateException if the server fails to stop
   */
  @Override
  public void close() {
    if (server.isStopped()) {
      return;
    }
    try {
      server.stop();
      log.info("Stopped {}", baseUri);
    } catch (Exception e) {
      throw new IllegalStateException("the upstream server failed to stop", e);
    }
  }

  /** Serves until the process is stopped. Exit codes as the demo's: 2 for a bad option or a port in use. */
  public static void main(String[] args) throws Exception {
    DemoShutdown.runMain("modelguard-upstream-shutdown", shutdown -> run(args, System.out, System.err, shutdown));
  }

  /**
   * {@link #main} without {@code System.exit}: returns 2 with one line on {@code err} (no stack
   * trace, nothing on {@code out}) for an invalid option or a port that cannot be bound, as the
   * demo's command line does; otherwise serves until the server stops. The server, once started and
   * before {@value #READY} announces it, is given to {@code shutdown} to close at exit; a stop that
   * comes earlier leaves out the announcement.
   */
  static int run(String[] args, PrintStream out, PrintStream err, DemoShutdown shutdown) throws Exception {
    int port;
    try {
      port = parsePort(args);
    } catch (StartupException e) {
      err.println(PROGRAM + ": " + e.getMessage());
      return StartupException.EXIT_CODE;
    }
    UpstreamServer upstream;
    try {
      upstream = start(port);
    } catch (StartupException e) {
      err.println(PROGRAM + ": " + e.getMessage());
      return StartupException.EXIT_CODE;
    }
    if (shutdown.closeAtExit(upstream)) {
      out.println(READY + upstream.baseUri());
      out.flush();
    }
    upstream.server.join();
    return 0;
  }

  private static int parsePort(String[] args) throws StartupException {
    int port = 9000;
    for (int i = 0; i < args.length; i++) {
      String value;
      if (args[i].equals("--port")) {
        if (i + 1 >= args.length) {
          throw new StartupException("--port needs a value (usage: UpstreamServer [--port N])");
        }
        value = args[++i];
      } else if (args[i].startsWith("--port=")) {
        value = args[i].substring("--port=".length());
      } else {
        throw new StartupException("unknown option (usage: UpstreamServer [--port N])");
      }
      try {
        port = Integer.parseInt(value.trim());
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 0 || port > 65535) {
        throw new StartupException("--port must be a number from 0 to 65535 (0 = any free port)");
      }
    }
    return port;
  }
}
