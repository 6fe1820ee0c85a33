package io.modelguard.servlet.testapp;

import io.modelguard.test.AdapterConformanceSuite.Deployment;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import java.net.URI;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.FilterMapping;
import org.eclipse.jetty.ee10.servlet.ErrorPageErrorHandler;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.ee10.servlet.ServletMapping;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/** Jetty 12 (ee10, Servlet 6.0): servlets as holders, the filter instance in a {@link FilterHolder}. */
public final class JettyRuntime implements ServletRuntime {

  /** The last context started, for tests that inspect its state. */
  private ServletContextHandler lastContext;
  /** The URL patterns the filters are mapped to. */
  private String[] filterPatterns = {"/*"};

  /**
   * Maps the filters of the next deployments to {@code patterns} instead of {@code /*}, as an
   * application mapping it too narrowly might.
   *
   * @param patterns the filters' URL patterns
   * @return this runtime
   */
  public JettyRuntime filterPatterns(String... patterns) {
    this.filterPatterns = patterns.clone();
    return this;
  }

  @Override
  public Deployment start(String contextPath, List<Filter> filters, List<ServletDef> servlets,
      Map<Integer, String> errorPages, boolean http2) throws Exception {
    Server server = new Server();
    ServerConnector connector;
    if (http2) {
      HttpConfiguration config = new HttpConfiguration();
      HTTP2CServerConnectionFactory h2c = new HTTP2CServerConnectionFactory(config);
      h2c.setInitialStreamRecvWindow(HTTP2_STREAM_WINDOW);
      connector = new ServerConnector(server, new HttpConnectionFactory(config), h2c);
    } else {
      connector = new ServerConnector(server);
    }
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);

    ServletContextHandler context = new ServletContextHandler(contextPath.isEmpty() ? "/" : contextPath);
    for (ServletDef def : servlets) {
      ServletHolder holder = def.instance() != null
          ? new ServletHolder(def.name(), def.instance())
          : new ServletHolder(def.name(), def.type());
      holder.setAsyncSupported(true);
      context.getServletHandler().addServlet(holder);
      ServletMapping mapping = new ServletMapping();
      mapping.setServletName(def.name());
      mapping.setPathSpecs(def.patterns().toArray(new String[0]));
      context.getServletHandler().addServletMapping(mapping);
    }
    for (int i = 0; i < filters.size(); i++) {
      FilterHolder holder = new FilterHolder(filters.get(i));
      holder.setName(ServletRuntime.filterName(i));
      holder.setAsyncSupported(true);
      FilterMapping mapping = new FilterMapping();
      mapping.setFilterName(holder.getName());
      mapping.setPathSpecs(filterPatterns);
      mapping.setDispatcherTypes(EnumSet.allOf(DispatcherType.class));
      context.getServletHandler().addFilter(holder, mapping);
    }
    if (!errorPages.isEmpty()) {
      ErrorPageErrorHandler errors = new ErrorPageErrorHandler();
      errorPages.forEach(errors::addErrorPage);
      context.setErrorHandler(errors);
    }
    server.setHandler(context);
    lastContext = context;
    try {
      server.start();
    } catch (Exception e) {
      server.stop();
      throw e;
    }
    URI base = URI.create("http://127.0.0.1:" + connector.getLocalPort() + contextPath);
    return new Deployment() {
      @Override
      public URI baseUri() {
        return base;
      }

      @Override
      public void close() throws Exception {
        server.stop();
      }
    };
  }

  /** The context of the last {@link #start}. */
  public ServletContextHandler lastContext() {
    return lastContext;
  }
}
