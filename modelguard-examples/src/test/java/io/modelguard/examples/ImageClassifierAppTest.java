package io.modelguard.examples;

import static io.modelguard.examples.ModelServingAppTest.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelguard.examples.model.Dataset;
import io.modelguard.examples.model.DigitPictures;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.test.input.LoopbackHttpServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@code image-classifier} model end to end: real apps on loopback fetch digit images from a
 * real HTTP server on 127.0.0.1 through ModelGuard's SSRF-safe fetcher.
 *
 * <p>Two apps run side by side: {@code allowed}, started with {@code --allow-fetch-host
 * 127.0.0.1:PORT} for the image server, and {@code open}, started with the defaults (no
 * allow-list: public hosts only). The image server counts every TCP connection it accepts, so a
 * refusal is proven to have happened before anything connected.
 */
class ImageClassifierAppTest {
  private static final String PREDICT = "/v1/models/image-classifier/predict";
  private static final String UPSTREAM_SECRET = "upstream-secret /srv/images/private";
  private static final int DIGIT = 7;

  private static LoopbackHttpServer images;
  private static ModelServingApp allowed;
  private static ModelServingApp open;
  private static DemoClient allowedClient;
  private static DemoClient openClient;
  private static String allowedBanner;
  private static double[] digitRow;

  @BeforeAll
  static void start() throws Exception {
    Dataset digits = Dataset.fromResource("digits", "digits.csv");
    digitRow = digits.features(DigitPictures.firstFullRangeRow(digits, DIGIT));
    images = LoopbackHttpServer.start()
        .serve("/seven.png", 200, "image/png", DigitPictures.encode(DigitPictures.draw(digitRow, 8, true), "png"))
        .serve("/seven.jpg", 200, "image/jpeg", DigitPictures.encode(DigitPictures.draw(digitRow, 8, true), "jpeg"))
        .serve("/seven.gif", 200, "image/gif", DigitPictures.encode(DigitPictures.draw(digitRow, 8, false), "gif"))
        .serve("/gone.png", 404, "text/plain", UPSTREAM_SECRET.getBytes(StandardCharsets.UTF_8))
        .serve("/tiny.png", 200, "image/png", DigitPictures.encode(DigitPictures.draw(digitRow, 1, true), "png"))
        .serve("/panorama.png", 200, "image/png", DigitPictures.encode(wide(ModelCatalog.IMAGE_MAX_SIDE + 1, 8), "png"))
        .serve("/bomb.png", 200, "image/png", DigitPictures.pngDeclaring(20_000, 20_000))
        .serve("/corrupt.png", 200, "image/png", DigitPictures.pngDeclaring(8, 8))
        .serve("/huge.png", 200, "image/png", pngMagicFollowedBy(ModelCatalog.IMAGE_MAX_BYTES + 1))
        .serve("/page.html", 200, "image/png", "<html>not an image</html>".getBytes(StandardCharsets.UTF_8));

    ByteArrayOutputStream console = new ByteArrayOutputStream();
    allowed = ModelServingApp.start(
        AppOptions.defaults().withPort(0).withAllowFetchHost("127.0.0.1:" + images.port())
            .withQuotaClock(QuotaClocks.leaping()),
        new PrintStream(console, true, StandardCharsets.UTF_8));
    allowedBanner = console.toString(StandardCharsets.UTF_8);
    open = ModelServingApp.start(AppOptions.defaults().withPort(0).withQuotaClock(QuotaClocks.leaping()),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    allowedClient = new DemoClient(allowed.baseUri());
    openClient = new DemoClient(open.baseUri());
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[] {allowed, open, images}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // best effort
      }
    }
  }

  @BeforeEach
  void resetTheImageServer() {
    images.reset();
  }

  /** The enterprise key: of the demo tiers, only enterprise grants image-classifier. */
  private static String pro(ModelServingApp app) {
    return app.key("enterprise").orElseThrow().plaintext();
  }

  private static String body(String url) {
    return "{\"imageUrl\":\"" + url + "\"}";
  }

  private static HttpResponse<String> classify(String path) {
    return allowedClient.post(PREDICT, pro(allowed), body(images.url(path)));
  }

  @Test
  void pngJpegAndGifOfADigitAreFetchedAndClassified() {
    for (String path : List.of("/seven.png", "/seven.jpg", "/seven.gif")) {
      HttpResponse<String> r = classify(path);

      assertThat(r.statusCode()).as("%s: %s", path, r.body()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
      JsonNode json = DemoClient.json(r);
      assertThat(json.get("model").asText()).isEqualTo("image-classifier");
      assertThat(json.get("label").asInt()).as(path).isEqualTo(DIGIT);
      assertThat(json.get("probabilities").size()).isEqualTo(10);
      double sum = 0;
      for (JsonNode p : json.get("probabilities")) {
        sum += p.asDouble();
      }
      assertThat(sum).isCloseTo(1.0, within(1e-4));
    }
    // One connection per request: ModelGuard fetched each image once and the servlet used those bytes.
    assertThat(images.connections()).isEqualTo(3);
    assertThat(images.requestLines())
        .containsExactly("GET /seven.png HTTP/1.1", "GET /seven.jpg HTTP/1.1", "GET /seven.gif HTTP/1.1");
  }

  @Test
  void aLosslessImageGivesExactlyTheDigitsModelsAnswerForItsPixels() {
    HttpResponse<String> image = classify("/seven.png");
    HttpResponse<String> pixels = allowedClient.post("/v1/models/digits/predict", pro(allowed),
        DemoClient.body("pixels", digitRow));

    assertThat(image.statusCode()).isEqualTo(200);
    assertThat(DemoClient.json(image).get("probabilities")).isEqualTo(DemoClient.json(pixels).get("probabilities"));
    assertThat(DemoClient.json(image).get("label")).isEqualTo(DemoClient.json(pixels).get("label"));
  }

  @Test
  void withoutTheAllowListTheSameLoopbackUrlIsBlockedBeforeAnythingConnects() {
    HttpResponse<String> r = openClient.post(PREDICT, pro(open), body(images.url("/seven.png")));

    assertProblem(r, 422, "input.url_blocked");
    assertThat(DemoClient.json(r).get("detail").asText()).isEqualTo("Field 'imageUrl': The URL's host is not a public address.");
    assertThat(images.connections()).isZero();
  }

  @Test
  void theMetadataAddressIsBlockedWithOrWithoutTheAllowList() {
    String metadata = body("http://169.254.169.254/latest/meta-data/iam/security-credentials/");

    HttpResponse<String> withList = allowedClient.post(PREDICT, pro(allowed), metadata);
    HttpResponse<String> withoutList = openClient.post(PREDICT, pro(open), metadata);

    assertProblem(withList, 422, "input.url_blocked");
    assertThat(DemoClient.json(withList).get("detail").asText())
        .isEqualTo("Field 'imageUrl': The URL's host is not on the allow-list.");
    assertProblem(withoutList, 422, "input.url_blocked");
    assertThat(DemoClient.json(withoutList).get("detail").asText())
        .isEqualTo("Field 'imageUrl': The URL's host is not a public address.");
  }

  @Test
  void onlyTheAllowedPortOfTheLoopbackAddressIsOpen() {
    for (String url : List.of("http://127.0.0.1:" + (images.port() == 65535 ? 65534 : images.port() + 1) + "/seven.png",
        "http://localhost:" + images.port() + "/seven.png",
        "http://127.1:" + images.port() + "/seven.png",
        "http://[::ffff:127.0.0.1]:" + images.port() + "/seven.png")) {
      HttpResponse<String> r = allowedClient.post(PREDICT, pro(allowed), body(url));
      assertProblem(r, 422, "input.url_blocked");
    }
    assertThat(images.connections()).isZero();
  }

  @Test
  void anUpstreamErrorIsFetchFailedAndPassesNothingOfTheUpstreamOn() {
    HttpResponse<String> r = classify("/gone.png");

    assertProblem(r, 502, "input.fetch_failed");
    assertThat(DemoClient.json(r).get("detail").asText()).isEqualTo("Field 'imageUrl': The URL's host did not return the resource.");
    assertThat(r.body()).doesNotContain("upstream-secret").doesNotContain("/srv").doesNotContain("404");
    assertThat(images.connections()).isEqualTo(1);
  }

  @Test
  void anImageWiderThanTheLimitIsInvalidAndAHeaderBombIsNeverDecoded() {
    HttpResponse<String> panorama = classify("/panorama.png");
    HttpResponse<String> bomb = classify("/bomb.png");

    for (HttpResponse<String> r : List.of(panorama, bomb)) {
      assertProblem(r, 422, "input.invalid");
      assertThat(DemoClient.json(r).get("detail").asText())
          .isEqualTo("Field 'imageUrl': the fetched image is larger than 1024 x 1024 pixels.");
    }
  }

  @Test
  void anImageWhoseHeaderPassesButWhoseDataIsBrokenIsInvalid() {
    HttpResponse<String> r = classify("/corrupt.png"); // an 8 x 8 header, no pixel data

    assertProblem(r, 422, "input.invalid");
    assertThat(DemoClient.json(r).get("detail").asText()).isEqualTo("Field 'imageUrl': the fetched image could not be decoded.");
    assertThat(r.body()).doesNotContain("Exception").doesNotContain("IDAT");
  }

  @Test
  void anImageOverTheByteCapOrNotAnImageIsFetchFailed() {
    HttpResponse<String> huge = classify("/huge.png");
    HttpResponse<String> page = classify("/page.html");

    assertProblem(huge, 502, "input.fetch_failed");
    assertThat(DemoClient.json(huge).get("detail").asText()).isEqualTo("Field 'imageUrl': The resource at the URL is too large.");
    assertProblem(page, 502, "input.fetch_failed");
    assertThat(DemoClient.json(page).get("detail").asText())
        .isEqualTo("Field 'imageUrl': The resource at the URL is not an accepted content type.");
    assertThat(page.body()).doesNotContain("html");
  }

  @Test
  void aTinyImageIsStillClassified() {
    HttpResponse<String> r = classify("/tiny.png"); // 8 x 8 pixels, one per cell

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(DemoClient.json(r).get("label").asInt()).isEqualTo(DIGIT);
  }

  @Test
  void theFreeTierAndAnonymousCallersAreRefusedBeforeAnyFetch() {
    HttpResponse<String> free = allowedClient.post(PREDICT, allowed.key("free").orElseThrow().plaintext(),
        body(images.url("/seven.png")));
    HttpResponse<String> anonymous = allowedClient.post(PREDICT, null, body(images.url("/seven.png")));

    assertProblem(free, 403, "authz.model_forbidden");
    assertThat(free.headers().allValues("WWW-Authenticate"))
        .containsExactly("Bearer error=\"insufficient_scope\", scope=\"model:image-classifier:invoke\"");
    assertProblem(anonymous, 401, "auth.missing_credentials");
    assertThat(images.connections()).isZero();
  }

  @Test
  void theRequestItselfIsValidatedBeforeAnyFetch() {
    String url = images.url("/seven.png");
    String[][] cases = {
        {"{\"imageUrl\":42}", "Field 'imageUrl' must be a URL string."},
        {"{}", "Field 'imageUrl' is required."},
        {"{\"imageUrl\":\"" + url + "\",\"pixels\":[1]}",
            "The input contains a field that is not in the model's input specification."},
        {"{\"imageUrl\":\"" + url + "?" + "a".repeat(3000) + "\"}", "Field 'imageUrl' is longer than 2048 characters."},
    };
    for (String[] c : cases) {
      HttpResponse<String> r = allowedClient.post(PREDICT, pro(allowed), c[0]);
      assertProblem(r, 422, "input.invalid");
      assertThat(DemoClient.json(r).get("detail").asText()).isEqualTo(c[1]);
    }
    HttpResponse<String> tooLarge = allowedClient.post(PREDICT, pro(allowed), body(url + "?" + "a".repeat(5000)));
    assertProblem(tooLarge, 413, "input.too_large");
    assertThat(DemoClient.json(tooLarge).get("detail").asText())
        .isEqualTo("The request body is larger than this model accepts (4096 bytes).");
    assertThat(images.connections()).isZero();
  }

  @Test
  void theBannerShowsTheAllowListAndHowToCallTheModel() {
    assertThat(allowedBanner)
        .contains("Models: digits, iris, image-classifier")
        .contains("Image URLs of image-classifier are fetched from only 127.0.0.1:" + images.port())
        .contains("curl -s " + allowed.baseUri() + PREDICT + " -H 'X-API-Key: " + pro(allowed) + "'")
        .contains("{\"imageUrl\":\"http://127.0.0.1:" + images.port() + "/digit.png\"}")
        .contains("{\"imageUrl\":\"http://169.254.169.254/latest/meta-data/\"}");
  }

  private static BufferedImage wide(int width, int height) {
    return new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
  }

  /** PNG's signature and header, then zeros up to {@code size} bytes. */
  private static byte[] pngMagicFollowedBy(int size) {
    byte[] head = DigitPictures.pngDeclaring(8, 8);
    return Arrays.copyOf(head, size);
  }
}
