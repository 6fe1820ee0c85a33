package io.modelguard.examples.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import io.modelguard.event.DecisionEvent;
import io.modelguard.event.PolicyFailureEvent;
import io.modelguard.extraction.ExtractionEvent;
import io.modelguard.extraction.RiskLevel;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The listener side of the meters: tags bounded by the configuration. */
class DemoMetricsTest {
  private static final Instant AT = Instant.parse("2026-01-01T00:00:00Z");

  private final DemoMetrics metrics = new DemoMetrics(Set.of("digits"), Set.of("acme"), Set.of("burst"));

  private double count(String name, String... tags) {
    Counter c = metrics.registry().find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  private void decide(String model, String tenant, ReasonCode denial) {
    metrics.listener().onEvent(new DecisionEvent(AT, "POST", "/v1/models/" + model + "/predict", "default", model,
        tenant == null ? null : "someone", tenant, denial == null, denial, denial == null ? null : Phase.AUTHORIZE,
        null));
  }

  @Test
  void modelsAndTenantsOutsideTheConfigurationShareOneSeries() {
    decide("digits", "acme", null);
    for (int i = 0; i < 50; i++) {
      decide("made-up-" + i, "tenant-" + i, ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    }
    decide("digits", null, ReasonCode.AUTH_MISSING_CREDENTIALS);

    assertThat(count(DemoMetrics.REQUESTS, "model", "digits", "tenant", "acme", "outcome", "allowed")).isEqualTo(1);
    assertThat(count(DemoMetrics.DENIALS, "model", "other", "tenant", "other", "reason", "authz.model_forbidden"))
        .isEqualTo(50);
    assertThat(count(DemoMetrics.DENIALS, "model", "digits", "tenant", "none", "reason", "auth.missing_credentials"))
        .isEqualTo(1);
    assertThat(metrics.registry().find(DemoMetrics.REQUESTS).counters()).hasSize(3);
  }

  @Test
  void countsPolicyFailuresAndOnlyRealRiskChanges() {
    metrics.listener().onEvent(new PolicyFailureEvent(AT, "default", "quota", "java.lang.IllegalStateException", false));
    metrics.extractionListener("digits").onEvent(
        new ExtractionEvent(AT, "p:alice", "prada", RiskLevel.OBSERVE, RiskLevel.PERTURB, 12, 1.0));
    metrics.extractionListener("digits").onEvent(
        new ExtractionEvent(AT, "p:alice", "prada", RiskLevel.PERTURB, RiskLevel.PERTURB, 13, 1.2));
    metrics.extractionListener("resnet").onEvent(
        new ExtractionEvent(AT, "p:bob", "prada", RiskLevel.OBSERVE, RiskLevel.BLOCK, 14, 9.0));

    assertThat(count(DemoMetrics.POLICY_FAILURES, "chain", "default", "policy", "quota", "failed_open", "false"))
        .isEqualTo(1);
    assertThat(count(DemoMetrics.RISK_CHANGES, "model", "digits", "from", "observe", "to", "perturb")).isEqualTo(1);
    assertThat(count(DemoMetrics.RISK_CHANGES, "model", "digits", "from", "perturb", "to", "perturb")).isZero();
    assertThat(count(DemoMetrics.RISK_CHANGES, "model", "other", "from", "observe", "to", "block")).isEqualTo(1);
    assertThat(metrics.scrape()).contains("modelguard_extraction_risk_changes_total{from=\"observe\",model=\"digits\"");
  }
}
