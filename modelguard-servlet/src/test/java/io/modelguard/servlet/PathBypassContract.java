package io.modelguard.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.EndpointSpec;
import io.modelguard.servlet.testapp.ConformanceApp;
import io.modelguard.servlet.testapp.PredictionServlet;
import io.modelguard.servlet.testapp.RelayServlet;
import io.modelguard.servlet.testapp.ServletDef;
import io.modelguard.servlet.testapp.ServletRuntime;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import io.modelguard.test.ConformanceFixture;
import io.modelguard.test.PathBypassProbe;
import io.modelguard.test.PathBypassProbe.Attack;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PathBypassProbe} on a real container: request targets the container reads otherwise than
 * written, other methods, and dispatches from an unguarded servlet ({@link RelayServlet}) to a
 * guarded one, by forward, include, asynchronous dispatch and error page. The annotated {@code
 * PredictServlet} serves {@code /v1/models/*}; {@link RoutedPredictionServlet}, without the
 * annotation, serves {@code /rt/models/*} and is guarded by a path rule.
 */
abstract class PathBypassContract {
  private ConformanceFixture fixture;
  private Deployment deployment;

  /** The container under test. */
  abstract ServletRuntime runtime();

  /** Served under the rule {@code /rt/models/{model}/predict}, without the annotation. */
  public static class RoutedPredictionServlet extends PredictionServlet {
    private static final long serialVersionUID = 1L;
  }

  @BeforeEach
  void deploy() throws Exception {
    fixture = ConformanceFixture.create();
    List<ServletDef> servlets = new ArrayList<>(ConformanceApp.servlets(fixture));
    servlets.add(ServletDef.of(RelayServlet.class, "/relay/*"));
    servlets.add(ServletDef.of(RoutedPredictionServlet.class, "/rt/models/*"));
    ModelGuardFilter filter = ModelGuardFilter.builder(fixture.guard())
        .route("/rt/models/{model}/predict", EndpointSpec.of("{model}", "default", 1))
        .build();
    // The error page of a 404: a guarded servlet, for iris.
    deployment = runtime().start("", List.of(filter), servlets, Map.of(404, "/v1/models/iris/predict"));
  }

  @AfterEach
  void stop() throws Exception {
    deployment.close();
  }

  @Test
  void noPathVariantOrDispatchReachesAModelTheKeyMayNotInvokeOrAnyModelWithoutAKey() throws Exception {
    List<Attack> attacks = new ArrayList<>(PathBypassProbe.pathVariants("/v1/models"));
    for (Attack a : PathBypassProbe.pathVariants("/rt/models")) {
      // A path outside the rule that its servlet still answers (/rt/models/iris/PREDICT) passes
      // unguarded: rules guard paths, not servlets, as the README's servlet section says.
      if (!a.target().endsWith("/PREDICT")) {
        attacks.add(Attack.post("rule: " + a.attack(), a.target()));
      }
    }
    attacks.add(Attack.post("relay forward", "/relay/forward/v1/models/iris/predict"));
    attacks.add(Attack.post("relay forward, dot segments", "/relay/forward/v1/models/x/../iris/predict"));
    attacks.add(Attack.post("relay include", "/relay/include/v1/models/iris/predict"));
    attacks.add(Attack.post("relay async dispatch", "/relay/async/v1/models/iris/predict"));
    attacks.add(Attack.post("error page (sendError 404, page guarded for iris)", "/relay/none"));

    List<String> bypasses = new PathBypassProbe(deployment.baseUri(), fixture)
        .bypasses(getClass().getSimpleName() + ": paths and dispatches", attacks);

    assertThat(bypasses).isEmpty();
  }

  @Test
  void noMethodOrOverrideHeaderReachesAModelTheKeyMayNotInvokeOrAnyModelWithoutAKey() throws Exception {
    List<String> bypasses = new PathBypassProbe(deployment.baseUri(), fixture)
        .bypasses(getClass().getSimpleName() + ": methods", PathBypassProbe.methodVariants("/v1/models/iris/predict"));

    assertThat(bypasses).isEmpty();
  }
}
