package io.modelguard.servlet.testapp;

import io.modelguard.test.AdapterConformanceSuite.Deployment;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletRegistration;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.coyote.http2.Http2Protocol;
import org.apache.tomcat.util.descriptor.web.ErrorPage;

/**
 * Tomcat 11 (embedded): servlets and the filter instance registered through the {@code
 * ServletContext} API from a container initializer, as an application would.
 */
public final class TomcatRuntime implements ServletRuntime {
  /** Held so the level sticks: Tomcat logs through java.util.logging. */
  private static final Logger TOMCAT_LOG = Logger.getLogger("org.apache");

  static {
    TOMCAT_LOG.setLevel(Level.WARNING);
  }

  private Context lastContext;
  /** The URL patterns the filters are mapped to. */
  private String[] filterPatterns = {"/*"};

  /**
   * Maps the filters of the next deployments to {@code patterns} instead of {@code /*}, as an
   * application mapping it too narrowly might.
   *
   * @param patterns the filters' URL patterns
   * @return this runtime
   */
  public TomcatRuntime filterPatterns(String... patterns) {
    this.filterPatterns = patterns.clone();
    return this;
  }

  @Override
  public Deployment start(String contextPath, List<Filter> filters, List<ServletDef> servlets,
      Map<Integer, String> errorPages, boolean http2) throws Exception {
    Path base = Files.createTempDirectory("modelguard-tomcat");
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(base.toString());
    Connector connector = new Connector();
    connector.setPort(0);
    connector.setProperty("address", "127.0.0.1");
    if (http2) {
      Http2Protocol h2c = new Http2Protocol();
      h2c.setInitialWindowSize(HTTP2_STREAM_WINDOW);
      connector.addUpgradeProtocol(h2c);
    }
    tomcat.setConnector(connector);

    Context context = tomcat.addContext(contextPath, base.toString());
    if (context instanceof StandardContext standard) {
      // Leak detection needs --add-opens and only warns about it; nothing here leaks.
      standard.setClearReferencesThreadLocals(false);
      standard.setClearReferencesRmiTargets(false);
    }
    errorPages.forEach((status, location) -> {
      ErrorPage page = new ErrorPage();
      page.setErrorCode(status);
      page.setLocation(location);
      context.addErrorPage(page);
    });
    context.addServletContainerInitializer((classes, servletContext) -> {
      for (ServletDef def : servlets) {
        ServletRegistration.Dynamic registration = def.instance() != null
            ? servletContext.addServlet(def.name(), def.instance())
            : servletContext.addServlet(def.name(), def.type());
        registration.setAsyncSupported(true);
        registration.addMapping(def.patterns().toArray(new String[0]));
      }
      for (int i = 0; i < filters.size(); i++) {
        FilterRegistration.Dynamic registration = servletContext.addFilter(ServletRuntime.filterName(i), filters.get(i));
        registration.setAsyncSupported(true);
        registration.addMappingForUrlPatterns(EnumSet.allOf(DispatcherType.class), false, filterPatterns);
      }
    }, null);
    lastContext = context;
    tomcat.start();
    URI uri = URI.create("http://127.0.0.1:" + connector.getLocalPort() + contextPath);
    return new Deployment() {
      @Override
      public URI baseUri() {
        return uri;
      }

      @Override
      public void close() throws Exception {
        tomcat.stop();
        tomcat.destroy();
        delete(base);
      }
    };
  }

  /** The context of the last {@link #start}. */
  public Context lastContext() {
    return lastContext;
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
