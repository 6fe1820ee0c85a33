package io.modelguard.jaxrs.jersey;

import io.modelguard.jaxrs.JaxrsRuntime;
import io.modelguard.jaxrs.JettyHost;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import jakarta.ws.rs.core.Application;
import java.util.List;
import org.glassfish.jersey.message.GZipEncoder;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.server.filter.EncodingFilter;
import org.glassfish.jersey.servlet.ServletContainer;

/** Jersey's servlet container inside embedded Jetty. */
final class JerseyRuntime implements JaxrsRuntime {
  @Override
  public Deployment deploy(Application application) throws Exception {
    return JettyHost.start(new ServletContainer(ResourceConfig.forApplication(application)));
  }

  @Override
  public Deployment deployWithHttp2(Application application) throws Exception {
    return JettyHost.startWithHttp2(new ServletContainer(ResourceConfig.forApplication(application)));
  }

  @Override
  public String runtimeDelegatePrefix() {
    return "org.glassfish.jersey.";
  }

  /** {@link EncodingFilter} picks the coding the client accepts; {@link GZipEncoder} applies it. */
  @Override
  public List<Class<?>> compression() {
    return List.of(EncodingFilter.class, GZipEncoder.class);
  }

  /** {@link GZipEncoder} decodes a request body in {@code Content-Encoding: gzip} too. */
  @Override
  public List<Class<?>> requestDecoding() {
    return List.of(GZipEncoder.class);
  }
}
