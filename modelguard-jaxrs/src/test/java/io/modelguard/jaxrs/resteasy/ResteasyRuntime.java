package io.modelguard.jaxrs.resteasy;

import io.modelguard.jaxrs.JaxrsRuntime;
import io.modelguard.jaxrs.JettyHost;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import jakarta.servlet.ServletConfig;
import jakarta.servlet.ServletException;
import jakarta.ws.rs.core.Application;
import java.util.List;
import org.jboss.resteasy.core.ResteasyDeploymentImpl;
import org.jboss.resteasy.plugins.interceptors.GZIPDecodingInterceptor;
import org.jboss.resteasy.plugins.interceptors.GZIPEncodingInterceptor;
import org.jboss.resteasy.plugins.server.servlet.HttpServlet30Dispatcher;
import org.jboss.resteasy.spi.ResteasyDeployment;

/**
 * RESTEasy's servlet dispatcher inside embedded Jetty. The dispatcher picks up a deployment it
 * finds in the servlet context; starting that deployment in the servlet's {@code init} keeps a
 * refused application a failure of the container's start-up.
 */
final class ResteasyRuntime implements JaxrsRuntime {
  @Override
  public Deployment deploy(Application application) throws Exception {
    return JettyHost.start(new Dispatcher(application));
  }

  @Override
  public Deployment deployWithHttp2(Application application) throws Exception {
    return JettyHost.startWithHttp2(new Dispatcher(application));
  }

  @Override
  public String runtimeDelegatePrefix() {
    return "org.jboss.resteasy.";
  }

  /**
   * RESTEasy's {@link GZIPEncodingInterceptor} compresses every response that declares {@code
   * Content-Encoding: gzip}; {@link GzipWhenAccepted} declares it for a client that accepts gzip.
   */
  @Override
  public List<Class<?>> compression() {
    return List.of(GzipWhenAccepted.class, GZIPEncodingInterceptor.class);
  }

  private static final class Dispatcher extends HttpServlet30Dispatcher {
    private static final long serialVersionUID = 1L;
    private final transient Application application;
    private transient ResteasyDeployment deployment;

    Dispatcher(Application application) {
      this.application = application;
    }

    @Override
    public void init(ServletConfig config) throws ServletException {
      deployment = new ResteasyDeploymentImpl();
      deployment.setApplication(application);
      deployment.start();
      config.getServletContext().setAttribute(ResteasyDeployment.class.getName(), deployment);
      super.init(config);
    }

    @Override
    public void destroy() {
      super.destroy();
      if (deployment != null) {
        deployment.stop();
      }
    }
  }

  @Override
  public List<Class<?>> requestDecoding() {
    return List.of(GZIPDecodingInterceptor.class);
  }
}
