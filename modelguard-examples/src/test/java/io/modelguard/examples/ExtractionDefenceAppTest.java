package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import io.modelguard.examples.model.Classifier;
import io.modelguard.examples.model.Dataset;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.examples.model.SoftmaxRegression;
import io.modelguard.test.LogCapture;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.DoubleFunction;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The extraction defence, on by default, over the real app on a free loopback port: a benign
 * client sending 50 distinct digits of the data set gets the undefended model's labels (free tier:
 * only the top 3 probabilities) and is never refused; a client searching around one digit with
 * single-pixel changes is flagged (a WARN line from {@link DemoExtraction}), then throttled or
 * blocked with the documented problem body; no response reveals the risk level.
 */
class ExtractionDefenceAppTest {
  private static final Set<String> PREDICTION_FIELDS = Set.of("model", "label", "probabilities");

  private static ModelServingApp app;
  private static DemoClient client;
  private static LogCapture logs;

  @BeforeAll
  static void start() throws Exception {
    logs = LogCapture.of(DemoExtraction.class, Level.INFO);
    app = ModelServingApp.start(AppOptions.defaults().withPort(0).withQuotaClock(QuotaClocks.leaping()),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    client = new DemoClient(app.baseUri());
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
    logs.close();
  }

  @Test
  void benignClientGetsTheUndefendedLabelsAndIsNeverRefused() {
    String free = app.key("free").orElseThrow().plaintext();
    Classifier model = app.models().get(ModelCatalog.DIGITS).orElseThrow().classifier();
    Dataset digits = Dataset.fromResource(ModelCatalog.DIGITS, "digits.csv");
    Set<String> seen = new HashSet<>();
    int sent = 0;
    for (int i = 0; sent < 50; i += 31) { // 50 distinct rows spread over the data set
      double[] pixels = digits.features(i % digits.size());
      if (!seen.add(Arrays.toString(pixels))) {
        continue;
      }
      sent++;
      HttpResponse<String> r = client.post("/v1/models/digits/predict", free, DemoClient.body("pixels", pixels));
      assertThat(r.statusCode()).as("benign query %d", sent).isEqualTo(200);
      assertNoRiskHeaders(r);
      JsonNode json = DemoClient.json(r);
      assertFieldsAre(json);
      double[] undefended = model.predictProba(pixels);
      int label = SoftmaxRegression.argMax(undefended);
      assertThat(json.get("label").asInt()).as("benign query %d", sent).isEqualTo(label);
      // Tier free: 10 entries, only the top 3 non-zero, the top one the undefended value.
      JsonNode p = json.get("probabilities");
      assertThat(p.size()).isEqualTo(10);
      int nonZero = 0;
      for (JsonNode v : p) {
        if (v.asDouble() != 0.0) {
          nonZero++;
        }
      }
      assertThat(nonZero).as("benign query %d: non-zero probabilities", sent).isBetween(1, TierFidelity.FREE_TOP_K);
      assertThat(p.get(label).asDouble()).isCloseTo(undefended[label], Offset.offset(1e-6));
    }
    assertThat(warnings("p:demo-free")).isEmpty();
  }

  @Test
  void adversarialSearchIsFlaggedThenThrottledOrBlocked() {
    String pro = app.key("pro").orElseThrow().plaintext();
    double[] base = app.models().get(ModelCatalog.DIGITS).orElseThrow().example();
    List<Integer> statuses = new ArrayList<>();
    HttpResponse<String> refused = null;
    for (int i = 0; i < 400 && refused == null; i++) {
      double[] probe = base.clone();
      int pixel = i % 64;
      probe[pixel] = (base[pixel] + 1 + i / 64) % 17; // one pixel changed; every probe distinct
      HttpResponse<String> r = client.post("/v1/models/digits/predict", pro, DemoClient.body("pixels", probe));
      statuses.add(r.statusCode());
      assertNoRiskHeaders(r);
      if (r.statusCode() == 200) {
        JsonNode json = DemoClient.json(r);
        assertFieldsAre(json);
        for (JsonNode v : json.get("probabilities")) { // perturbed or not: the same 6 decimals
          assertThat(v.asDouble() * 1e6).isCloseTo(Math.rint(v.asDouble() * 1e6), Offset.offset(1e-3));
        }
      } else {
        refused = r;
      }
    }
    assertThat(refused).as("refused within 400 queries; statuses %s", statuses).isNotNull();
    assertThat(statuses.subList(0, statuses.size() - 1)).containsOnly(200);
    assertThat(warnings("p:demo-pro")).as("WARN detection lines").isNotEmpty();
    assertThat(warnings("p:demo-pro").get(0)).contains("demo-pro").contains("digits").contains("OBSERVE");
    for (String line : warnings("p:demo-pro")) {
      assertThat(line).doesNotContain(pro).doesNotContain("[");
    }

    assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    JsonNode problem = DemoClient.json(refused);
    if (refused.statusCode() == 429) {
      // Throttled: exactly what an exhausted quota looks like.
      assertThat(problem.get("code").asText()).isEqualTo("quota.exceeded");
      assertThat(refused.headers().firstValue("Retry-After")).isPresent();
    } else {
      assertThat(refused.statusCode()).isEqualTo(403);
      assertThat(problem.get("code").asText()).isEqualTo("extraction.blocked");
      assertThat(problem.get("detail").asText()).isEqualTo("This client is blocked from querying the model.");
    }
    assertThat(problem.toString().toLowerCase(Locale.ROOT)).doesNotContain("risk").doesNotContain("throttle");
    // The same client stays refused; a benign query of another client is unaffected.
    HttpResponse<String> again = client.post("/v1/models/digits/predict", pro, DemoClient.body("pixels", base));
    assertThat(again.statusCode()).isIn(429, 403);
    HttpResponse<String> other = client.post("/v1/models/digits/predict", app.key("free").orElseThrow().plaintext(),
        DemoClient.body("pixels", base));
    assertThat(other.statusCode()).isEqualTo(200);
    // iris is not defended: the flagged client still gets its answers there.
    HttpResponse<String> iris = client.post("/v1/models/iris/predict", pro,
        DemoClient.body("features", app.models().get(ModelCatalog.IRIS).orElseThrow().example()));
    assertThat(iris.statusCode()).isEqualTo(200);

    // Operators see it in /metrics: the client's risk changes, and its refusal counted by reason.
    PrometheusText metrics = PrometheusText.parse(client.get("/metrics", null).body());
    assertThat(metrics.sum("modelguard_extraction_risk_changes_total", Map.of("model", "digits", "from", "observe")))
        .as("risk changes out of OBSERVE").isGreaterThanOrEqualTo(1.0);
    String reason = refused.statusCode() == 429 ? "quota.exceeded" : "extraction.blocked";
    assertThat(metrics.sum("modelguard_denials_total", Map.of("model", "digits", "tenant", "demo-pro", "reason", reason)))
        .isGreaterThanOrEqualTo(2.0);
  }

  @Test
  void aFlaggedClientGetsOneAnswerForEveryEncodingOfOneInput() {
    // A fresh free-tier client of its own (a demo token), so the other tests' clients stay as they are.
    String token = client.demoToken("{\"subject\":\"encodings\",\"tier\":\"free\"}");
    double[] base = app.models().get(ModelCatalog.DIGITS).orElseThrow().example();
    String exact = client.postBearer("/v1/models/digits/predict", token, DemoClient.body("pixels", base)).body();
    // Near-copies of one digit: flagged at once, and the same input is answered perturbed from then on.
    for (int i = 0; i < 3; i++) { // few: enough to flag, too few to throttle
      double[] probe = base.clone();
      probe[i] = (base[i] + 1) % 17;
      assertThat(client.postBearer("/v1/models/digits/predict", token, DemoClient.body("pixels", probe)).statusCode())
          .isEqualTo(200);
    }
    HttpResponse<String> perturbed = client.postBearer("/v1/models/digits/predict", token, DemoClient.body("pixels", base));
    assertThat(perturbed.statusCode()).isEqualTo(200);
    assertThat(perturbed.body()).as("the client is flagged: its answer is no longer the model's").isNotEqualTo(exact);

    // Spellings of the same 64 numbers: each is one query, so one answer; a fresh noise draw per
    // spelling would let the client average the noise away.
    List<String> spellings = List.of(
        pixels(base, v -> Long.toString((long) v)),
        pixels(base, v -> v + "e0"),
        pixels(base, v -> v + "000"),
        pixels(base, v -> v == 0 ? "-0.0" : Double.toString(v)),
        pixels(base, v -> v + "00000000000000000001"),
        " \n" + DemoClient.body("pixels", base).replace(",", " ,\t") + "\n ");
    for (String spelling : spellings) {
      HttpResponse<String> r = client.postBearer("/v1/models/digits/predict", token, spelling);
      assertThat(r.body()).as(spelling).isEqualTo(perturbed.body());
    }
  }

  private static String pixels(double[] values, DoubleFunction<String> spelling) {
    StringBuilder b = new StringBuilder("{\"pixels\":[");
    for (int i = 0; i < values.length; i++) {
      b.append(i == 0 ? "" : ",").append(spelling.apply(values[i]));
    }
    return b.append("]}").toString();
  }

  private static List<String> warnings(String client) {
    return logs.messagesAt(Level.WARN).stream().filter(m -> m.contains(client)).toList();
  }

  private static void assertNoRiskHeaders(HttpResponse<String> r) {
    for (String name : r.headers().map().keySet()) {
      String n = name.toLowerCase(Locale.ROOT);
      assertThat(n).doesNotContain("risk").doesNotContain("extraction").doesNotContain("level");
    }
  }

  private static void assertFieldsAre(JsonNode json) {
    Set<String> names = new HashSet<>();
    json.fieldNames().forEachRemaining(names::add);
    assertThat(names).isEqualTo(PREDICTION_FIELDS);
  }
}
