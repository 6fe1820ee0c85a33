package io.modelguard.jaxrs;

import io.modelguard.test.AdapterConformanceSuite.Deployment;
import jakarta.servlet.Servlet;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Embedded Jetty 12 (ee10) serving one JAX-RS servlet at the root of the root context, on
 * 127.0.0.1 and a free port. A servlet that fails to initialise makes {@link #start} throw, as a
 * production container refuses to deploy such an application.
 */
public final class JettyHost implements Deployment {
  private final Server server;
  private final URI baseUri;

  private JettyHost(Server server, URI baseUri) {
    this.server = server;
    this.baseUri = baseUri;
  }

  /** Starts Jetty with {@code servlet} mapped to {@code /*}. */
  public static JettyHost start(Servlet servlet) throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server, 1, 1);
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
