package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.examples.metrics.DemoMetrics;
import io.modelguard.examples.metrics.MetricsServlet;
import io.modelguard.examples.metrics.NonBlockingAsyncAppender;
import io.modelguard.examples.model.ModelCatalog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics} and the JSON audit log after a tour of requests over the real app: every
 * meter counts exactly the tour's requests, a client-chosen model id creates no series of its own,
 * and every audit line is JSON without key material.
 */
class ObservabilityAppTest {
  private static final String DIGITS = "/v1/models/digits/predict";
  private static final String SENTIMENT = "/v1/models/sentiment/predict";
  /** A logger of this test's own, with an appender like the demo's (the tests' Logback configuration has none). */
  private static final String QUEUED_LOGGER = "io.modelguard.examples.test.queued";

  @TempDir
  static Path dir;

  private static ModelServingApp app;
  private static DemoClient client;
  private static Path auditFile;
  private static PrometheusText metrics;
  private static final List<String> keys = new ArrayList<>();

  @BeforeAll
  static void tour() throws Exception {
    auditFile = dir.resolve("audit.jsonl");
    queuedLogger().addAppender(nonBlockingAppender("TOUR_ASYNC"));
    app = ModelServingApp.start(AppOptions.defaults().withPort(0).withQuotaClock(QuotaClocks.leaping())
            .withAuditLogFile(auditFile),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    client = new DemoClient(app.baseUri());
    for (String label : List.of("free", "pro", "enterprise", "revoked", "expired")) {
      keys.add(app.key(label).orElseThrow().plaintext());
    }
    String free = app.key("free").orElseThrow().plaintext();
    String pro = app.key("pro").orElseThrow().plaintext();
    String digits = DemoClient.body("pixels", app.models().get(ModelCatalog.DIGITS).orElseThrow().example());
    String iris = DemoClient.body("features", app.models().get(ModelCatalog.IRIS).orElseThrow().example());

    expect(200, client.post(DIGITS, free, digits));
    expect(200, client.post(DIGITS, free, digits));
    expect(200, client.post(SENTIMENT, free, "{\"text\":\"Lovely staff and a great room\"}"));
    expect(422, client.post(SENTIMENT, free, "{\"text\":\"\"}"));
    expect(401, client.post(DIGITS, null, digits));
    expect(401, client.post(DIGITS, app.key("revoked").orElseThrow().plaintext(), digits));
    expect(403, client.post("/v1/models/iris/predict", free, iris));
    expect(403, client.post("/v1/models/x1/predict", free, digits));
    expect(403, client.post("/v1/models/" + "y".repeat(40) + "/predict", free, digits));
    expect(200, client.post("/v1/models/iris/predict", pro, iris));
    expect(200, client.get("/v1/models", pro));
    expect(200, client.get("/healthz", null));

    HttpResponse<String> scrape = client.get(MetricsServlet.PATH, null);
    expect(200, scrape);
    assertThat(scrape.headers().firstValue("Content-Type")).hasValue(MetricsServlet.CONTENT_TYPE);
    metrics = PrometheusText.parse(scrape.body());
  }

  private static void expect(int status, HttpResponse<String> r) {
    assertThat(r.statusCode()).as("%s %s: %s", r.request().method(), r.uri(), r.body()).isEqualTo(status);
  }

  private static double requests(String model, String tenant, String outcome) {
    return metrics.sum("modelguard_requests_total", Map.of("model", model, "tenant", tenant, "outcome", outcome));
  }

  private static double denials(String model, String tenant, String reason) {
    return metrics.sum("modelguard_denials_total", Map.of("model", model, "tenant", tenant, "reason", reason));
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
    queuedLogger().detachAndStopAllAppenders();
  }

  private static Logger queuedLogger() {
    Logger logger = ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(QUEUED_LOGGER);
    logger.setAdditive(false);
    return logger;
  }

  /** A started {@link NonBlockingAsyncAppender} in front of a sink that writes nowhere. */
  private static NonBlockingAsyncAppender nonBlockingAppender(String name) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    AppenderBase<ILoggingEvent> sink = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent event) {}
    };
    sink.setContext(context);
    sink.start();
    NonBlockingAsyncAppender appender = new NonBlockingAsyncAppender();
    appender.setContext(context);
    appender.setName(name);
    appender.addAppender(sink);
    appender.start();
    return appender;
  }

  @Test
  void countsDecisionsPerModelTenantAndOutcome() {
    assertThat(requests("digits", "demo-free", "allowed")).isEqualTo(2.0);
    assertThat(requests("sentiment", "demo-free", "allowed")).isEqualTo(1.0);
    assertThat(requests("sentiment", "demo-free", "denied")).isEqualTo(1.0);
    assertThat(requests("iris", "demo-free", "denied")).isEqualTo(1.0);
    assertThat(requests("iris", "demo-pro", "allowed")).isEqualTo(1.0);
    // Unauthenticated: no tenant.
    assertThat(requests("digits", DemoMetrics.NONE, "denied")).isEqualTo(2.0);
    // GET /v1/models names no model.
    assertThat(requests(DemoMetrics.NONE, "demo-pro", "allowed")).isEqualTo(1.0);
    // Unguarded paths are not decisions.
    assertThat(metrics.sum("modelguard_requests_total", Map.of())).isEqualTo(11.0);
  }

  @Test
  void countsDenialsByReasonCode() {
    assertThat(denials("digits", DemoMetrics.NONE, "auth.missing_credentials")).isEqualTo(1.0);
    assertThat(denials("digits", DemoMetrics.NONE, "auth.invalid_api_key")).isEqualTo(1.0);
    assertThat(denials("iris", "demo-free", "authz.model_forbidden")).isEqualTo(1.0);
    assertThat(denials("sentiment", "demo-free", "input.invalid")).isEqualTo(1.0);
  }

  @Test
  void aModelIdTheClientMadeUpCreatesNoSeries() {
    assertThat(denials(DemoMetrics.OTHER, "demo-free", "authz.model_forbidden")).isEqualTo(2.0);
    for (PrometheusText.Sample s : metrics.samples()) {
      assertThat(s.labels().getOrDefault("model", DemoMetrics.NONE))
          .isIn("digits", "iris", "image-classifier", "sentiment", DemoMetrics.OTHER, DemoMetrics.NONE);
      assertThat(s.labels().getOrDefault("tenant", DemoMetrics.NONE))
          .isIn("demo-free", "demo-pro", "demo-enterprise", "demo", DemoMetrics.OTHER, DemoMetrics.NONE);
    }
  }

  @Test
  void timesTheGuardOfEveryDecisionAndTheModelOfEveryAllowedPrediction() {
    assertThat(metrics.sum("modelguard_guard_latency_seconds_count",
        Map.of("model", "digits", "tenant", "demo-free", "outcome", "allowed"))).isEqualTo(2.0);
    assertThat(metrics.sum("modelguard_guard_latency_seconds_count",
        Map.of("model", "digits", "tenant", DemoMetrics.NONE, "outcome", "denied"))).isEqualTo(2.0);
    assertThat(metrics.sum("modelguard_guard_latency_seconds_sum", Map.of("model", "digits"))).isPositive();
    // Histogram buckets for a p99: the +Inf bucket counts every request.
    assertThat(metrics.sum("modelguard_guard_latency_seconds_bucket",
        Map.of("model", "digits", "tenant", "demo-free", "outcome", "allowed", "le", "+Inf"))).isEqualTo(2.0);
    assertThat(metrics.find("modelguard_guard_latency_seconds_bucket",
        Map.of("model", "digits", "tenant", "demo-free", "outcome", "allowed"))).hasSize(14);
    assertThat(metrics.sum("modelguard_model_latency_seconds_count", Map.of("model", "digits", "tenant", "demo-free")))
        .isEqualTo(2.0);
    assertThat(metrics.sum("modelguard_model_latency_seconds_count", Map.of("model", "iris", "tenant", "demo-pro")))
        .isEqualTo(1.0);
    // A denied request never reaches the model.
    assertThat(metrics.find("modelguard_model_latency_seconds_count", Map.of("model", "iris", "tenant", "demo-free")))
        .isEmpty();
  }

  @Test
  void showsTheLogLinesEachNonBlockingAppenderDropped() {
    // Found in Logback's configuration at start-up; none was dropped on this tour.
    assertThat(metrics.find("modelguard_demo_log_events_dropped_total", Map.of("appender", "TOUR_ASYNC")))
        .singleElement()
        .satisfies(s -> assertThat(s.value()).isZero());
  }

  @Test
  void recordsQuotaConsumedAndRemaining() {
    assertThat(metrics.sum("modelguard_quota_consumed_total", Map.of("model", "digits", "tenant", "demo-free")))
        .isEqualTo(2.0);
    // The leaping test clock refills every bucket between decisions: 4 of the burst of 5 are left.
    assertThat(metrics.find("modelguard_quota_remaining", Map.of("model", "digits", "tenant", "demo-free")))
        .singleElement()
        .satisfies(s -> {
          assertThat(s.labels()).containsEntry("limit", "burst");
          assertThat(s.value()).isEqualTo(4.0);
        });
    assertThat(metrics.find("modelguard_quota_remaining", Map.of("model", "iris", "tenant", "demo-pro")))
        .singleElement()
        .satisfies(s -> assertThat(s.value()).isEqualTo(19.0));
  }

  @Test
  void writesOneJsonAuditLinePerDecisionWithoutKeyMaterial() throws IOException {
    // The file is written by a background thread every few milliseconds: wait for the tour's lines.
    app.flushAuditLog();
    List<String> lines = Files.readAllLines(auditFile, StandardCharsets.UTF_8);
    assertThat(lines).hasSize(11);
    List<JsonNode> json = new ArrayList<>();
    for (String line : lines) {
      json.add(DemoClient.JSON.readTree(line));
      for (String key : keys) {
        String secret = key.substring(8 + ApiKeyFormat.KEY_ID_LENGTH, 8 + ApiKeyFormat.KEY_ID_LENGTH
            + ApiKeyFormat.SECRET_LENGTH);
        assertThat(line).doesNotContain(key).doesNotContain(secret);
      }
      assertThat(line).doesNotContain("pixels").doesNotContain("Lovely staff");
    }
    assertThat(json).allSatisfy(j -> {
      assertThat(j.get("event").asText()).isEqualTo("decision");
      assertThat(j.get("ts").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
      assertThat(j.get("outcome").asText()).isIn("allowed", "denied");
    });
    JsonNode forbidden = json.stream()
        .filter(j -> j.path("code").asText().equals("authz.model_forbidden") && j.path("model").asText().equals("iris"))
        .findFirst().orElseThrow();
    assertThat(forbidden.get("outcome").asText()).isEqualTo("denied");
    assertThat(forbidden.get("phase").asText()).isEqualTo("AUTHORIZE");
    assertThat(forbidden.get("policy").asText()).isEqualTo("model-access");
    assertThat(forbidden.get("subject").asText()).isEqualTo("demo-free");
    assertThat(forbidden.get("tenant").asText()).isEqualTo("demo-free");
    assertThat(forbidden.get("method").asText()).isEqualTo("POST");
    assertThat(forbidden.get("path").asText()).isEqualTo("/v1/models/iris/predict");
    JsonNode allowed = json.get(0);
    assertThat(allowed.get("outcome").asText()).isEqualTo("allowed");
    assertThat(allowed.has("code")).isFalse();
    assertThat(allowed.get("model").asText()).isEqualTo("digits");
  }
}
