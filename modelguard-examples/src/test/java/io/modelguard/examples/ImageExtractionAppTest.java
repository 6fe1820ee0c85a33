package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelguard.examples.model.Dataset;
import io.modelguard.examples.model.DigitPictures;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.test.input.LoopbackHttpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The extraction defence also watches {@code image-classifier}: a client searching around one digit
 * with single-pixel changes, sent as images by URL, is flagged from the pixels of the fetched
 * images, then refused there and on {@code digits} (one defence for both endpoints of the model),
 * while an untouched image of another client is still classified.
 */
class ImageExtractionAppTest {
  private static final String PREDICT = "/v1/models/image-classifier/predict";

  private static LoopbackHttpServer images;
  private static ModelServingApp app;
  private static DemoClient client;
  private static double[] base;

  @BeforeAll
  static void start() throws Exception {
    Dataset digits = Dataset.fromResource("digits", "digits.csv");
    base = digits.features(DigitPictures.firstFullRangeRow(digits, 7));
    images = LoopbackHttpServer.start()
        .serve("/seven.png", 200, "image/png", DigitPictures.encode(DigitPictures.draw(base, 8, true), "png"));
    app = ModelServingApp.start(AppOptions.defaults().withPort(0).withAllowFetchHost("127.0.0.1:" + images.port())
            .withQuotaClock(QuotaClocks.leaping()),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    client = new DemoClient(app.baseUri());
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
    if (images != null) {
      images.close();
    }
  }

  @Test
  void aSinglePixelSearchByImageUrlIsFlaggedAndRefusedOnBothEndpoints() {
    String attacker = app.key("enterprise").orElseThrow().plaintext();
    List<Integer> statuses = new ArrayList<>();
    HttpResponse<String> refused = null;
    for (int i = 0; i < 400 && refused == null; i++) {
      double[] probe = base.clone();
      int pixel = i % 64;
      probe[pixel] = (base[pixel] + 1 + i / 64) % 17; // one pixel changed; every probe distinct
      String path = "/probe-" + i + ".png";
      images.serve(path, 200, "image/png", DigitPictures.encode(DigitPictures.draw(probe, 8, true), "png"));
      HttpResponse<String> r = client.post(PREDICT, attacker, "{\"imageUrl\":\"" + images.url(path) + "\"}");
      statuses.add(r.statusCode());
      if (r.statusCode() != 200) {
        refused = r;
      }
    }

    assertThat(refused).as("refused within 400 queries; statuses %s", statuses).isNotNull();
    assertThat(statuses.subList(0, statuses.size() - 1)).containsOnly(200);
    assertThat(refused.statusCode()).isIn(429, 403);
    assertThat(DemoClient.json(refused).get("code").asText()).isIn("quota.exceeded", "extraction.blocked");
    // One defence for the model: the same client is refused on digits too.
    HttpResponse<String> digits = client.post("/v1/models/digits/predict", attacker, DemoClient.body("pixels", base));
    assertThat(digits.statusCode()).isIn(429, 403);
    // Detections came from the image endpoint's own queries.
    PrometheusText metrics = PrometheusText.parse(client.get("/metrics", null).body());
    assertThat(metrics.sum("modelguard_extraction_risk_changes_total",
        Map.of("model", "image-classifier", "from", "observe"))).isGreaterThanOrEqualTo(1.0);
    assertThat(metrics.sum("modelguard_extraction_risk_changes_total", Map.of("model", "digits"))).isZero();
  }

  @Test
  void anotherClientsImageIsStillClassified() {
    // A second identity of tier enterprise (the only demo tier with image-classifier): a demo token.
    String token = client.demoToken("{\"subject\":\"benign-viewer\",\"tier\":\"enterprise\"}");
    HttpResponse<String> r = client.postBearer(PREDICT, token, "{\"imageUrl\":\"" + images.url("/seven.png") + "\"}");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode json = DemoClient.json(r);
    assertThat(json.get("label").asInt()).isEqualTo(7);
  }
}
