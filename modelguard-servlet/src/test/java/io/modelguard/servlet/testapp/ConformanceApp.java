package io.modelguard.servlet.testapp;

import io.modelguard.servlet.ModelGuardFilter;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import io.modelguard.test.ConformanceFixture;
import io.modelguard.test.input.InputConformance;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The endpoints {@link ConformanceFixture} documents, as annotated servlet classes, deployed the
 * same way on every container.
 *
 * <p>Servlet URL patterns cannot put a wildcard in the middle of a path, so {@code
 * /v1/models/{model}/predict} is served by {@link PredictServlet} on the prefix {@code
 * /v1/models/*} (the filter still binds {@code model} from the annotation's template, and denies a
 * path under the prefix that does not match it), while the rewrite, echo and validate endpoints
 * are mapped exactly, once per registered model (and, for validate, once per model of {@link
 * InputConformance#cases()}).
 */
public final class ConformanceApp {
  private ConformanceApp() {}

  /** The servlets, with their mappings. */
  public static List<ServletDef> servlets(ConformanceFixture fixture) {
    List<ServletDef> servlets = new ArrayList<>();
    servlets.add(ServletDef.of(PredictServlet.class, "/v1/models/*"));
    servlets.add(ServletDef.of(FixedModelServlet.class, ConformanceFixture.FAILING));
    List<String> rewrite = new ArrayList<>();
    List<String> echo = new ArrayList<>();
    for (String model : new TreeSet<>(fixture.guard().models())) {
      rewrite.add(ConformanceFixture.REWRITE.replace("{model}", model));
      echo.add(ConformanceFixture.ECHO.replace("{model}", model));
    }
    Set<String> validated = new TreeSet<>(fixture.guard().models());
    InputConformance.cases().forEach(c -> validated.add(c.model()));
    List<String> validate = new ArrayList<>();
    for (String model : validated) {
      validate.add(ConformanceFixture.VALIDATE.replace("{model}", model));
    }
    servlets.add(ServletDef.of(RewriteServlet.class, rewrite.toArray(new String[0])));
    servlets.add(ServletDef.of(EchoServlet.class, echo.toArray(new String[0])));
    servlets.add(ServletDef.of(ValidateServlet.class, validate.toArray(new String[0])));
    servlets.add(ServletDef.of(OpenServlet.class, ConformanceFixture.OPEN));
    return servlets;
  }

  /** Starts the conformance application on {@code runtime}, guarded by a plain {@link ModelGuardFilter}. */
  public static Deployment deploy(ServletRuntime runtime, ConformanceFixture fixture) throws Exception {
    return runtime.start("", new ModelGuardFilter(fixture.guard()), servlets(fixture));
  }
}
