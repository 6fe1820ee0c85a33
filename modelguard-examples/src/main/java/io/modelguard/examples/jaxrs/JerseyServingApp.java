package io.modelguard.examples.jaxrs;

import io.modelguard.ModelGuard;
import io.modelguard.examples.DemoShutdown;
import io.modelguard.examples.ModelServingApp;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.jaxrs.ModelGuardFeature;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.server.ServerProperties;
import org.glassfish.jersey.servlet.ServletContainer;

/**
 * The demo on JAX-RS: the same configuration, models, tiers, keys, policies, quota store and
 * banner as {@link ModelServingApp} (it starts through {@link ModelServingApp#start(
 * io.modelguard.examples.AppOptions, java.io.PrintStream, ModelServingApp.Endpoints)}), but the
 * model endpoints are a Jersey application ({@link ModelsResource}) guarded by {@link
 * ModelGuardFeature} instead of servlets behind {@code ModelGuardFilter}. Jersey runs in its
 * servlet container on the same embedded Jetty; the unguarded infrastructure endpoints ({@code
 * /healthz}, the demo issuer's) stay servlets.
 *
 * <pre>
 * java -cp modelguard-examples.jar io.modelguard.examples.jaxrs.JerseyServingApp [the demo's options]
 * </pre>
 */
public final class JerseyServingApp {
  /** The JAX-RS variant's endpoints. */
  public static final ModelServingApp.Endpoints ENDPOINTS = JerseyServingApp::context;

  private JerseyServingApp() {}

  /** Runs the JAX-RS variant with the demo's options (see {@code --help}). */
  public static void main(String[] args) throws Exception {
    DemoShutdown.runMain("modelguard-shutdown",
        shutdown -> ModelServingApp.run(args, System.getenv(), System.out, System.err, ENDPOINTS, shutdown));
  }

  /**
   * The Jersey application: the resource, and the guard's feature unless the guard is off ({@code
   * --guard off}, for the overhead benchmark only).
   */
  static ResourceConfig application(ModelCatalog models, ModelGuard guard, boolean guarded) {
    ResourceConfig application = new ResourceConfig()
        .register(new ModelsResource(models, guard))
        // No generated application.wadl: the demo publishes exactly its endpoints.
        .property(ServerProperties.WADL_FEATURE_DISABLE, true);
    return guarded ? application.register(new ModelGuardFeature(guard)) : application;
  }

  private static ServletContextHandler context(ModelServingApp.Site site) {
    ServletContextHandler context = new ServletContextHandler("/");
    // "/*" serves every path the exact mappings below do not; Jersey answers 404 for unknown ones.
    context.addServlet(new ServletHolder("jersey",
        new ServletContainer(application(site.models(), site.guard(), site.guarded()))), "/*");
    // Error answers may come before the body is read (Jersey's 404 and 405; the feature's refusal of a
    // body over 1 MiB), as with the servlet filter: Connection: close, as there.
    // The meters' guard latency here includes the model's: the guard runs inside Jersey.
    ModelServingApp.addUnguardedEndpoints(context, site);
    return context;
  }
}
