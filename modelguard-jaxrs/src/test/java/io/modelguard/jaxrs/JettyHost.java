package io.modelguard.jaxrs;

import io.modelguard.test.AdapterConformanceSuite.Deployment;
import jakarta.servlet.Servlet;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Embedded Jetty 12 (ee10) serving one JAX-RS servlet at the root of the root context, on
 * 127.0.0.1 and a free port. A servlet that fails to initialise makes {@link #start} throw, as a
 * production container refuses to deploy such an application.
 */
public final class JettyHost implements Deployment {
  /** The bytes of a request body an HTTP/2 client may send before the server reads any (its stream window). */
  public static final int HTTP2_STREAM_WINDOW = 64 * 1024;

  private final Server server;
  private final URI baseUri;

  private JettyHost(Server server, URI baseUri) {
    this.server = server;
    this.baseUri = baseUri;
  }

  /** Starts Jetty with {@code servlet} mapped to {@code /*}, over HTTP/1.1. */
  public static JettyHost start(Servlet servlet) throws Exception {
    return start(servlet, false);
  }

  /**
   * Starts Jetty with {@code servlet} mapped to {@code /*}, over HTTP/1.1 and cleartext HTTP/2
   * (h2c: by prior knowledge, or upgraded from HTTP/1.1), where a request body may come with no
   * {@code Content-Length} and, HTTP/2 having no chunking, no {@code Transfer-Encoding} either.
   * A stream's window is {@link #HTTP2_STREAM_WINDOW}.
   */
  public static JettyHost startWithHttp2(Servlet servlet) throws Exception {
    return start(servlet, true);
  }

  private static JettyHost start(Servlet servlet, boolean http2) throws Exception {
    Server server = new Server();
    ServerConnector connector;
    if (http2) {
      HttpConfiguration config = new HttpConfiguration();
      HTTP2CServerConnectionFactory h2c = new HTTP2CServerConnectionFactory(config);
      // A client can then send no more of a body than the server read plus 64 KiB (HTTP/2 flow control).
      h2c.setInitialStreamRecvWindow(HTTP2_STREAM_WINDOW);
      connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(config), h2c);
    } else {
      connector = new ServerConnector(server, 1, 1);
    }
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler("/");
    context.getServletHandler().setStartWithUnavailable(false);
    ServletHolder holder = new ServletHolder("jaxrs", servlet);
    holder.setInitOrder(1);
    context.addServlet(holder, "/*");
    server.setHandler(context);
    try {
      server.start();
    } catch (Exception e) {
      server.stop();
      throw e;
    }
    return new JettyHost(server, URI.create("http://127.0.0.1:" + connector.getLocalPort()));
  }

  /**
   * An HTTP/1.1 client for deployments on loopback, for one request; connecting times out after 5
   * seconds. One client a request keeps each request on a connection of its own: Jetty ends a
   * connection, without a {@code Connection: close}, when a response is complete before the
   * request's body has arrived and nothing has read it (most test resources never read theirs),
   * and a request sent on that connection next fails with no response at all, about once in ten
   * thousand on loopback.
   */
  public static HttpClient client() {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  @Override
  public URI baseUri() {
    return baseUri;
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }
}
