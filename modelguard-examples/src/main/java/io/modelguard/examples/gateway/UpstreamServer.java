package io.modelguard.examples.gateway;

import io.modelguard.examples.http.HealthServlet;
import io.modelguard.examples.http.NotFoundServlet;
import io.modelguard.examples.http.PredictServlet;
import io.modelguard.examples.http.ProblemErrorHandler;
import io.modelguard.examples.model.ModelCatalog;
import java.net.URI;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A bare model server for the gateway demo: the demo's models ({@link PredictServlet}) on
 * 127.0.0.1 with no guard at all — what a team's unprotected inference service looks like. Only
 * the gateway ({@link GatewayApp}) should be able to reach it. It serves {@code digits} and
 * {@code iris}; {@code image-classifier} needs the image the guard fetched and is answered {@code
 * 500}. Its errors are {@link ProblemErrorHandler}'s problem+json bodies, as the demo's.
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
    ServletContextHandler context = new ServletContextHandler("/");
    context.addServlet(new ServletHolder("predict", new PredictServlet(models)), "/v1/models/*");
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

  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      throw new IllegalStateException("the upstream server failed to stop", e);
    }
  }

  /** Serves until the process is stopped. */
  public static void main(String[] args) throws Exception {
    int port = 9000;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--port") && i + 1 < args.length) {
        port = Integer.parseInt(args[++i]);
      } else if (args[i].startsWith("--port=")) {
        port = Integer.parseInt(args[i].substring("--port=".length()));
      } else {
        System.err.println("Usage: UpstreamServer [--port N]");
        System.exit(2);
      }
    }
    UpstreamServer upstream = start(port);
    System.out.println(READY + upstream.baseUri());
    System.out.flush();
    upstream.server.join();
  }
}
