package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.examples.model.ModelCatalog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code --guard off} (benchmark only): the same app without the ModelGuard filter. Requests reach
 * the models with no credential at all, and the banner says so loudly.
 */
class GuardOffAppTest {

  @Test
  void servesTheModelsWithoutAnyCheckAndWarnsLoudly() throws Exception {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    AppOptions options = AppOptions.parse(new String[] {"--port", "0", "--guard", "off"}, Map.of())
        .withQuotaClock(QuotaClocks.leaping());
    assertThat(options.guard()).isFalse();
    try (ModelServingApp app = ModelServingApp.start(options, new PrintStream(console, true, StandardCharsets.UTF_8))) {
      DemoClient client = new DemoClient(app.baseUri());
      String digits = DemoClient.body("pixels", app.models().get(ModelCatalog.DIGITS).orElseThrow().example());

      HttpResponse<String> noKey = client.post("/v1/models/digits/predict", null, digits);
      HttpResponse<String> sentiment = client.post("/v1/models/sentiment/predict", null, "{\"text\":\"great\"}");

      assertThat(noKey.statusCode()).isEqualTo(200);
      assertThat(noKey.headers().firstValue("RateLimit")).isEmpty();
      // No tier, so no top-3 cut: all ten probabilities as the model gave them.
      assertThat(DemoClient.json(noKey).get("probabilities")).hasSize(10);
      assertThat(sentiment.statusCode()).isEqualTo(200);
      // Without the guard an unknown model reaches PredictServlet, whose sendError(404) is a problem too.
      HttpResponse<String> unknown = client.post("/v1/models/nosuch/predict", null, digits);
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(unknown.headers().firstValue("Content-Type")).hasValueSatisfying(
          t -> assertThat(t).startsWith("application/problem+json"));
      assertThat(unknown.body()).isEqualTo("{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404}");
      assertThat(DemoClient.json(sentiment).get("label").asText()).isEqualTo("positive");
      // A charset parameter the JVM does not know is a parameter like any other (Jetty's
      // getContentType() would throw on it): the servlet answers, as it does without one.
      HttpResponse<String> oddCharset = client.post("/v1/models/digits/predict", null,
          "application/json; charset=nope", digits);
      assertThat(oddCharset.statusCode()).as(oddCharset.body()).isEqualTo(200);
      assertThat(DemoClient.json(oddCharset).get("model").asText()).isEqualTo("digits");
      assertThat(console.toString(StandardCharsets.UTF_8))
          .contains("WARNING --guard off: ModelGuard is NOT installed")
          .contains("For the overhead benchmark only.");
      // Nothing was decided, so nothing was counted.
      PrometheusText metrics = PrometheusText.parse(client.get("/metrics", null).body());
      assertThat(metrics.sum("modelguard_requests_total", Map.of())).isZero();
    }
  }

  @Test
  void guardIsOnByDefaultAndTheFlagTakesOnlyOnOrOff() throws Exception {
    assertThat(AppOptions.defaults().guard()).isTrue();
    assertThat(AppOptions.parse(new String[] {"--guard=on"}, Map.of()).guard()).isTrue();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> AppOptions.parse(new String[] {"--guard", "no"}, Map.of()))
        .isInstanceOf(StartupException.class)
        .hasMessage("--guard must be on or off");
  }
}
