package io.modelguard.examples.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import io.modelguard.event.DecisionEvent;
import io.modelguard.event.ExtractionDetectionEvent;
import io.modelguard.event.PolicyFailureEvent;
import io.modelguard.extraction.RiskLevel;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The listener side of the meters: tags bounded by the configuration. */
class DemoMetricsTest {
  private static final Instant AT = Instant.parse("2026-01-01T00:00:00Z");

  private final DemoMetrics metrics = new DemoMetrics(Set.of("digits"), Set.of("acme"), Set.of("burst"));

  private double count(String name, String... tags) {
    return count(metrics, name, tags);
  }

  private static double count(DemoMetrics metrics, String name, String... tags) {
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
  void countsSsrfRefusalsByTheirNoteAndNoOtherNoteWhenAskedTo() {
    DemoMetrics counting = new DemoMetrics(Set.of("digits"), Set.of("acme"), Set.of("burst"), true);
    for (String note : new String[] {"ssrf_refused:DENIED_ADDRESS", "ssrf_refused:PORT_NOT_ALLOWED",
        "ssrf_refused:DENIED_ADDRESS", "ssrf_refused:SOMETHING_ELSE", "ssrf_refused:MALFORMED", "my_policy:flagged",
        null}) {
      counting.listener().onEvent(new DecisionEvent(AT, "POST", "/v1/models/digits/predict", "default", "digits",
          "someone", "acme", false, ReasonCode.INPUT_FETCH_FAILED, Phase.VALIDATE, "input", note));
    }

    assertThat(count(counting, DemoMetrics.SSRF_REFUSALS,
        "model", "digits", "tenant", "acme", "refusal", "denied_address")).isEqualTo(2);
    assertThat(count(counting, DemoMetrics.SSRF_REFUSALS,
        "model", "digits", "tenant", "acme", "refusal", "port_not_allowed")).isEqualTo(1);
    assertThat(counting.registry().find(DemoMetrics.SSRF_REFUSALS).counters())
        .as("a note of no refusal the fetcher conceals creates no series").hasSize(2);
    assertThat(count(counting, DemoMetrics.DENIALS,
        "model", "digits", "tenant", "acme", "reason", "input.fetch_failed")).isEqualTo(7);
  }

  @Test
  void countsNoSsrfRefusalUnlessAskedTo() {
    // Whoever reads the meters would learn what the client's 502 conceals (see DemoMetrics).
    metrics.listener().onEvent(new DecisionEvent(AT, "POST", "/v1/models/digits/predict", "default", "digits",
        "someone", "acme", false, ReasonCode.INPUT_FETCH_FAILED, Phase.VALIDATE, "input",
        "ssrf_refused:DENIED_ADDRESS"));

    assertThat(metrics.registry().find(DemoMetrics.SSRF_REFUSALS).counters()).isEmpty();
    assertThat(count(DemoMetrics.DENIALS, "model", "digits", "tenant", "acme", "reason", "input.fetch_failed"))
        .isEqualTo(1);
  }

  @Test
  void countsPolicyFailuresAndOnlyRealRiskChanges() {
    metrics.listener().onEvent(new PolicyFailureEvent(AT, "default", "quota", "java.lang.IllegalStateException", false));
    metrics.listener().onEvent(new ExtractionDetectionEvent(AT, "p:alice", "alice", "acme", "digits",
        RiskLevel.OBSERVE, RiskLevel.PERTURB, List.of("prada", "hashing"), 1.0, 12));
    metrics.listener().onEvent(new ExtractionDetectionEvent(AT, "p:alice", "alice", "acme", "digits",
        RiskLevel.PERTURB, RiskLevel.PERTURB, List.of("prada"), 1.2, 13));
    metrics.listener().onEvent(new ExtractionDetectionEvent(AT, "a:10.0.0.9", null, null, "resnet",
        RiskLevel.OBSERVE, RiskLevel.BLOCK, List.of("prada"), 9.0, 14));

    assertThat(count(DemoMetrics.POLICY_FAILURES, "chain", "default", "policy", "quota", "failed_open", "false"))
        .isEqualTo(1);
    assertThat(count(DemoMetrics.RISK_CHANGES, "model", "digits", "tenant", "acme", "from", "observe", "to", "perturb"))
        .isEqualTo(1);
    assertThat(count(DemoMetrics.RISK_CHANGES, "model", "digits", "tenant", "acme", "from", "perturb", "to", "perturb"))
        .isZero();
    assertThat(count(DemoMetrics.RISK_CHANGES, "model", "other", "tenant", "none", "from", "observe", "to", "block"))
        .isEqualTo(1);
    assertThat(count(DemoMetrics.DETECTIONS, "model", "digits", "tenant", "acme", "detector", "prada")).isEqualTo(2);
    assertThat(count(DemoMetrics.DETECTIONS, "model", "digits", "tenant", "acme", "detector", "hashing")).isEqualTo(1);
    assertThat(metrics.scrape()).contains("modelguard_extraction_risk_changes_total{from=\"observe\",model=\"digits\"");
  }

  @Test
  void readsOnlyWellFormedRateLimitHeaders() {
    // The form the quota policy writes, as a regular expression: the hand-written scan must agree.
    Pattern form = Pattern.compile("\"([A-Za-z0-9._-]{1,32})\";r=(\\d{1,18});t=\\d+");
    List<String> headers = List.of("\"burst\";r=19;t=1", "\"a.b_c-D9\";r=0;t=60", "\"burst\";r=19;t=",
        "\"burst\";r=;t=1", "\"\";r=1;t=1", "burst;r=1;t=1", "\"burst\";r=1;t=1;x", "\"bu rst\";r=1;t=1",
        "\"" + "x".repeat(32) + "\";r=1;t=1", "\"" + "x".repeat(33) + "\";r=1;t=1", "\"b\";r=" + "9".repeat(18) + ";t=1",
        "\"b\";r=" + "9".repeat(19) + ";t=1", "\"b\";r=-1;t=1", "\"b\";r=1;t=1 ", "\"b\";r=1", "\"b\"", "\"", "",
        "\"b\";r=\u0661;t=1", "\"b\";q=1;t=1", "\"b\";r=1;t=\u0661");
    for (String header : headers) {
      Matcher m = form.matcher(header);
      int end = DemoMetrics.rateLimitNameEnd(header);
      if (m.matches()) {
        assertThat(end).as(header).isEqualTo(m.end(1));
      } else {
        assertThat(end).as(header).isEqualTo(-1);
      }
    }
  }
}
