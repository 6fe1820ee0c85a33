package io.modelguard.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.modelguard.EndpointSpec;
import io.modelguard.ModelGuard;
import io.modelguard.test.ConformanceFixture;
import io.modelguard.test.LogCapture;
import org.junit.jupiter.api.Test;

/** Path rules are validated when they are added, before any container is involved. */
class ModelGuardFilterBuilderTest {
  private final ModelGuard guard = ConformanceFixture.create().guard();

  @Test
  void routeWithAnUnknownChainFailsNamingTheRouteAndTheChain() {
    assertThatThrownBy(() -> ModelGuardFilter.builder(guard)
            .route("/v1/models/{model}/predict", EndpointSpec.of("{model}", "defualt", 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route /v1/models/{model}/predict")
        .hasMessageContaining("No ModelGuard chain named 'defualt'");
  }

  @Test
  void routeWithAnInvalidTemplateFailsNamingIt() {
    assertThatThrownBy(() -> ModelGuardFilter.builder(guard)
            .route("v1/models/{model}", EndpointSpec.of("{model}", "default", 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route v1/models/{model}");
    assertThatThrownBy(() -> ModelGuardFilter.builder(guard)
            .route("/v1/models/x{model}", EndpointSpec.of("{model}", "default", 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("whole segment");
  }

  @Test
  void routeWithAnEmptySegmentIsRefusedRatherThanGuardingLess() {
    // "/t/predict/" would match only the path with the slash, and leave /t/predict unguarded.
    assertThatThrownBy(() -> ModelGuardFilter.builder(guard)
            .route("/t/predict/", EndpointSpec.of("digits", "default", 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route /t/predict/")
        .hasMessageContaining("empty segment");
    assertThatThrownBy(() -> ModelGuardFilter.builder(guard)
            .route("/v1//models/{model}/predict", EndpointSpec.of("{model}", "default", 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty segment");
  }

  @Test
  void aModelVariableNoTemplateBindsIsWarnedAbout() {
    // {id} in the template, {model} in the spec (or no template at all): no model, so model access
    // and per-model quotas silently would not apply. A template without variables (a catalog) and
    // one that declares the variable are not warned about.
    try (LogCapture logged = LogCapture.of(ModelGuardFilter.class, Level.WARN)) {
      ModelGuardFilter.builder(guard)
          .route("/v1/models/{id}/predict", EndpointSpec.of("{model}", "default", 1))
          .route("/v1/models", EndpointSpec.of("{model}", "default", 1))
          .route("/v2/models/{model}/predict", EndpointSpec.of("{model}", "default", 1))
          .build();
      ModelGuardFilter.warnIfModelVariableUnbound("servlet 'bare'", EndpointSpec.of("{model}", "default", 1));

      assertThat(logged.messagesAt(Level.WARN)).satisfiesExactly(
          m -> assertThat(m).contains("route /v1/models/{id}/predict", "{model}", "does not declare"),
          m -> assertThat(m).contains("servlet 'bare'", "{model}", "gives no path template"));
    }
  }

  @Test
  void missingArgumentsAreRejectedAtOnce() {
    assertThatThrownBy(() -> new ModelGuardFilter(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> ModelGuardFilter.builder(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> ModelGuardFilter.builder(guard).route(null, EndpointSpec.of("digits", "default", 1)))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> ModelGuardFilter.builder(guard).route("/x", null))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void outputLimitBelowOneByteIsRejected() {
    assertThatThrownBy(() -> ModelGuardFilter.builder(guard).maxOutputBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxOutputBytes");
    assertThat(ModelGuardFilter.builder(guard).maxOutputBytes(1).build()).isNotNull();
  }

  @Test
  void validRoutesBuildAFilter() {
    assertThat(ModelGuardFilter.builder(guard)
            .route("/v1/models/{model}/predict", EndpointSpec.of("{model}", "default", 1))
            .route("/v1/fixed/predict", EndpointSpec.of("digits", "failing", 2))
            .build())
        .isNotNull();
  }
}
