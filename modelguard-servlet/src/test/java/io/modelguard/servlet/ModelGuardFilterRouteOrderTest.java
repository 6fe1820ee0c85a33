package io.modelguard.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.EndpointSpec;
import io.modelguard.ModelGuard;
import io.modelguard.test.ConformanceFixture;
import org.junit.jupiter.api.Test;

/**
 * Path rules are tried in the order added and the first match wins, so a rule that an earlier one
 * covers would never apply: the builder refuses it rather than let the earlier rule's chain guard
 * requests the operator meant for the later one.
 */
class ModelGuardFilterRouteOrderTest {
  private final ModelGuard guard = ConformanceFixture.create().guard();
  private final EndpointSpec byModel = EndpointSpec.of("{model}", "default", 1);
  private final EndpointSpec strict = EndpointSpec.of("digits", "failing", 2);

  @Test
  void aSpecificRuleAfterACatchAllIsRefusedNamingBothAndTheFix() {
    ModelGuardFilter.Builder builder = ModelGuardFilter.builder(guard).route("/v1/models/{model}/predict", byModel);

    assertThatThrownBy(() -> builder.route("/v1/models/digits/predict", strict))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route /v1/models/digits/predict would never apply")
        .hasMessageContaining("route /v1/models/{model}/predict, added before it, matches every path it matches")
        .hasMessageContaining("add the more specific route /v1/models/digits/predict first");
  }

  @Test
  void theSameRulesInTheOtherOrderAreAccepted() {
    assertThat(ModelGuardFilter.builder(guard)
            .route("/v1/models/digits/predict", strict)
            .route("/v1/models/{model}/predict", byModel)
            .build())
        .isNotNull();
  }

  @Test
  void aRuleCoveredByAnyEarlierRuleIsRefusedNotOnlyByTheLastOne() {
    ModelGuardFilter.Builder builder = ModelGuardFilter.builder(guard)
        .route("/v1/{anything}/{model}/predict", byModel)
        .route("/v2/models/{model}/predict", byModel);

    assertThatThrownBy(() -> builder.route("/v1/models/digits/predict", strict))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route /v1/{anything}/{model}/predict, added before it");
  }

  @Test
  void aVariableCoversEveryLiteralEvenOneThatIsNoModelId() {
    // Routing does not look at model ids: /v1/models/-x/predict goes to the first rule (which then
    // denies it, authz.model_forbidden), so a rule for it after the first would never apply.
    ModelGuardFilter.Builder builder = ModelGuardFilter.builder(guard).route("/v1/models/{model}/predict", byModel);

    assertThatThrownBy(() -> builder.route("/v1/models/-x/predict", strict))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route /v1/models/{model}/predict, added before it");
  }

  @Test
  void aRuleThatOnlyOverlapsAnEarlierOneIsAccepted() {
    // /v1/models/iris/predict reaches the second rule; /v1/x/digits/predict only the first.
    assertThat(ModelGuardFilter.builder(guard)
            .route("/v1/{x}/digits/predict", strict)
            .route("/v1/models/{model}/predict", byModel)
            .route("/{a}/b", strict)
            .route("/a/{b}", strict)
            .build())
        .isNotNull();
  }

  @Test
  void aDuplicateRuleIsRefusedNamingBoth() {
    ModelGuardFilter.Builder builder = ModelGuardFilter.builder(guard).route("/v1/models/{model}/predict", byModel);

    assertThatThrownBy(() -> builder.route("/v1/models/{model}/predict", strict))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route /v1/models/{model}/predict would never apply: route /v1/models/{model}/predict, "
            + "added before it, matches the same paths; keep one of the two");
    // Another variable name matches the same paths.
    assertThatThrownBy(() -> builder.route("/v1/models/{id}/predict", strict))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route /v1/models/{id}/predict would never apply: route /v1/models/{model}/predict");
    assertThatThrownBy(() -> ModelGuardFilter.builder(guard).route("/v1/fixed", strict).route("/v1/fixed", byModel))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route /v1/fixed would never apply: route /v1/fixed, added before it");
  }

  @Test
  void rulesWithDifferentNumbersOfSegmentsAreAccepted() {
    // A variable never spans a '/', and the root is matched by no variable.
    assertThat(ModelGuardFilter.builder(guard)
            .route("/v1/models/{model}", byModel)
            .route("/v1/models/{model}/predict", byModel)
            .route("/v1/models", strict)
            .route("/{x}", strict)
            .route("/", strict)
            .build())
        .isNotNull();
  }
}
