package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.RandomSource;
import io.modelguard.examples.http.PredictServlet;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.test.RawHttp;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The demo as a client sees it: the real app on a free loopback port, spoken to over HTTP. */
class ModelServingAppTest {
  private static final String DIGITS = "/v1/models/digits/predict";
  private static final String IRIS = "/v1/models/iris/predict";
  private static final String BEARER_MISSING = "Bearer realm=\"modelguard\"";
  private static final String BEARER_INVALID = "Bearer realm=\"modelguard\", error=\"invalid_token\"";

  private static ModelServingApp app;
  private static DemoClient client;
  private static String banner;
  private static String digitsBody;
  private static String irisBody;

  @BeforeAll
  static void start() throws Exception {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    app = ModelServingApp.start(AppOptions.defaults().withPort(0).withQuotaClock(QuotaClocks.leaping()),
        new PrintStream(console, true, StandardCharsets.UTF_8));
    banner = console.toString(StandardCharsets.UTF_8);
    client = new DemoClient(app.baseUri());
    digitsBody = DemoClient.body("pixels", app.models().get(ModelCatalog.DIGITS).orElseThrow().example());
    irisBody = DemoClient.body("features", app.models().get(ModelCatalog.IRIS).orElseThrow().example());
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  private static String key(String label) {
    return app.key(label).orElseThrow().plaintext();
  }

  @Test
  void bindsLoopbackOnTheRequestedFreePort() {
    assertThat(app.baseUri().getHost()).isEqualTo("127.0.0.1");
    assertThat(app.port()).isPositive();
  }

  @Test
  void printsTheDemoKeysAndCurlCommandsOnce() {
    assertThat(banner).contains("listening on " + app.baseUri());
    for (String label : List.of("free", "pro", "enterprise", "revoked", "expired")) {
      assertThat(key(label)).startsWith("mg_test_");
      assertThat(ApiKeyFormat.parse(key(label))).isPresent();
      assertThat(banner).contains(key(label));
    }
    assertThat(banner).contains("curl -s " + app.baseUri() + "/v1/models/digits/predict -H 'X-API-Key: " + key("free"));
    assertThat(banner).contains(" Models: digits, iris, image-classifier, sentiment")
        .contains(" Image URLs of image-classifier are fetched from any public host on ports 80 and 443 (no allow-list)")
        .contains("curl -s " + app.baseUri() + "/v1/models/image-classifier/predict -H 'X-API-Key: "
            + key("enterprise"))
        .contains("curl -s " + app.baseUri() + "/v1/models/sentiment/predict -H 'X-API-Key: " + key("free"))
        .doesNotContain("WARNING");
  }

  @Test
  void freeKeyPredictsADigit() {
    HttpResponse<String> r = client.post(DIGITS, key("free"), digitsBody);

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
    JsonNode body = DemoClient.json(r);
    assertThat(body.get("model").asText()).isEqualTo("digits");
    assertThat(body.get("label").isInt()).isTrue();
    assertThat(body.get("label").asInt()).isEqualTo(0); // the example is the data set's first row, a 0
    // Tier free sees only the top 3 probabilities (the rest 0, not renormalised): see DemoExtraction.
    JsonNode p = body.get("probabilities");
    assertThat(p.size()).isEqualTo(10);
    double sum = 0;
    int nonZero = 0;
    for (JsonNode v : p) {
      assertThat(v.asDouble()).isBetween(0.0, 1.0);
      sum += v.asDouble();
      nonZero += v.asDouble() != 0.0 ? 1 : 0;
    }
    assertThat(nonZero).isBetween(1, 3);
    assertThat(sum).isLessThanOrEqualTo(1.0 + 1e-6).isGreaterThan(0.9);
    assertThat(p.get(0).asDouble()).isGreaterThan(0.9);
  }

  @Test
  void noKeyIsMissingCredentials() {
    HttpResponse<String> r = client.post(DIGITS, null, digitsBody);

    assertProblem(r, 401, "auth.missing_credentials");
    assertThat(r.headers().allValues("WWW-Authenticate")).containsExactly(BEARER_MISSING);
  }

  @Test
  void malformedUnknownWrongSecretRevokedAndExpiredKeysAreInvalid() {
    String free = key("free");
    List<String> invalid = new ArrayList<>();
    invalid.add("mg_test_not-a-key");
    invalid.add(free.substring(0, free.length() - 1) + (free.endsWith("A") ? "B" : "A")); // bad checksum
    invalid.add(ApiKeyFormat.generate(ApiKeyFormat.Environment.TEST, RandomSource.seeded(7))); // never issued
    String otherSecret = "Z".repeat(ApiKeyFormat.SECRET_LENGTH);
    invalid.add(ApiKeyFormat.assemble(ApiKeyFormat.Environment.TEST,
        ApiKeyFormat.parse(free).orElseThrow().keyId(), otherSecret)); // real key id, wrong secret
    invalid.add(key("revoked"));
    invalid.add(key("expired"));

    for (String k : invalid) {
      HttpResponse<String> r = client.post(DIGITS, k, digitsBody);
      assertProblem(r, 401, "auth.invalid_api_key");
      assertThat(r.headers().allValues("WWW-Authenticate")).containsExactly(BEARER_INVALID);
      assertThat(r.body()).doesNotContain(k);
    }
  }

  @Test
  void freeKeyMayNotUseIris() {
    HttpResponse<String> r = client.post(IRIS, key("free"), irisBody);

    assertProblem(r, 403, "authz.model_forbidden");
    assertThat(r.headers().allValues("WWW-Authenticate"))
        .containsExactly("Bearer error=\"insufficient_scope\", scope=\"model:iris:invoke\"");
  }

  @Test
  void unknownModelIsAnsweredLikeAForbiddenOne() {
    HttpResponse<String> r = client.post("/v1/models/resnet50/predict", key("pro"), digitsBody);

    assertProblem(r, 403, "authz.model_forbidden");
  }

  @Test
  void proKeyPredictsAnIris() {
    HttpResponse<String> r = client.post(IRIS, key("pro"), irisBody);

    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode body = DemoClient.json(r);
    assertThat(body.get("model").asText()).isEqualTo("iris");
    assertThat(body.get("label").asInt()).isEqualTo(0); // the first row is a setosa
    assertThat(body.get("probabilities").size()).isEqualTo(3);
  }

  @Test
  void proKeyMayAlsoUseDigits() {
    assertThat(client.post(DIGITS, key("pro"), digitsBody).statusCode()).isEqualTo(200);
  }

  @Test
  void listsTheModelsOfTheCallersTier() {
    HttpResponse<String> free = client.get("/v1/models", key("free"));
    HttpResponse<String> pro = client.get("/v1/models", key("pro"));
    HttpResponse<String> enterprise = client.get("/v1/models", key("enterprise"));

    assertThat(free.statusCode()).isEqualTo(200);
    assertThat(DemoClient.json(free).toString()).isEqualTo("{\"models\":[\"digits\",\"sentiment\"]}");
    assertThat(pro.statusCode()).isEqualTo(200);
    assertThat(DemoClient.json(pro).toString()).isEqualTo("{\"models\":[\"digits\",\"iris\",\"sentiment\"]}");
    assertThat(enterprise.statusCode()).isEqualTo(200);
    assertThat(DemoClient.json(enterprise).toString())
        .isEqualTo("{\"models\":[\"digits\",\"image-classifier\",\"iris\",\"sentiment\"]}");
  }

  @Test
  void listingModelsNeedsAKey() {
    HttpResponse<String> none = client.get("/v1/models", null);
    HttpResponse<String> revoked = client.get("/v1/models", key("revoked"));

    assertProblem(none, 401, "auth.missing_credentials");
    assertThat(none.headers().allValues("WWW-Authenticate")).containsExactly(BEARER_MISSING);
    assertProblem(revoked, 401, "auth.invalid_api_key");
  }

  @Test
  void healthNeedsNoKey() {
    HttpResponse<String> r = client.get("/healthz", null);

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"status\":\"ok\"}");
  }

  @Test
  void wrongPixelShapeIsInvalidInputNamingTheFieldAndTheRule() {
    // ModelGuard's input policy answers these before the servlet runs; the detail names the field
    // and the rule it breaks, never the value.
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put(DemoClient.body("pixels", 1, 2, 3), "Field 'pixels' must be an array of 64 numbers (it has 3).");
    cases.put(DemoClient.body("pixels", new double[65]), "Field 'pixels' must be an array of 64 numbers (it has more).");
    cases.put(DemoClient.body("pixels", filled(64, 17)), "Field 'pixels' element 0 must be a number in 0..16.");
    cases.put(DemoClient.body("pixels", filled(64, -1)), "Field 'pixels' element 0 must be a number in 0..16.");
    cases.put("{\"pixels\":" + "[\"a\"" + ",0".repeat(63) + "]}", "Field 'pixels' element 0 must be a number.");
    cases.put("{\"pixels\":\"0,0,0\"}", "Field 'pixels' must be an array of 64 numbers.");
    cases.put("{}", "Field 'pixels' is required.");
    String unknown = "The input contains a field that is not in the model's input specification.";
    cases.put("{\"pixels\":[" + "0,".repeat(63) + "0],\"extra\":1}", unknown);
    cases.put("{\"features\":[1,2,3,4]}", unknown); // the other model's field
    cases.put("[1,2,3]", "The input must be a JSON object.");
    cases.forEach((body, detail) -> {
      HttpResponse<String> r = client.post(DIGITS, key("free"), body);
      assertProblem(r, 422, "input.invalid");
      assertThat(DemoClient.json(r).get("detail").asText()).as(body).isEqualTo(detail);
    });
  }

  @Test
  void irisInputIsValidatedByModelGuardToo() {
    HttpResponse<String> r = client.post(IRIS, key("pro"), DemoClient.body("features", 5.1, 3.5, 1.4, 200));

    assertProblem(r, 422, "input.invalid");
    assertThat(DemoClient.json(r).get("detail").asText()).isEqualTo("Field 'features' element 3 must be a number in 0..100.");
  }

  @Test
  void unparseableJsonIsMalformedWithoutTheParserMessage() {
    HttpResponse<String> r = client.post(DIGITS, key("free"), "{\"pixels\":[1,2,<script>");

    assertProblem(r, 400, "input.malformed");
    assertThat(r.body()).doesNotContain("script").doesNotContain("Unexpected").doesNotContain("line");
  }

  @Test
  void nonJsonMediaTypeIsRefused() {
    HttpResponse<String> r = client.post(DIGITS, key("free"), "text/plain", digitsBody);

    assertProblem(r, 415, "input.unsupported_media_type");
    assertThat(DemoClient.json(r).get("detail").asText()).isEqualTo("This model accepts application/json.");
  }

  @Test
  void oversizedBodyIsRefused() throws Exception {
    // A body declared larger than the 1 MiB the guard would read and discard is refused at once,
    // before the rest arrives, so a client still sending it can find the connection closed under
    // it (a broken pipe, not an answer). On a raw socket the test sends the head and just over the
    // cap, which the socket buffers whether or not the server reads it. (A smaller body is read to
    // its end first: GatewayTest's 16 KB one.)
    String huge = "{\"pixels\":[" + "0,".repeat(600_000) + "0]}";
    String sent = huge.substring(0, PredictServlet.MAX_BODY_BYTES + 1);
    String head = RawHttp.exchangeHead(app.baseUri(), "POST " + DIGITS + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "X-API-Key: " + key("free") + "\r\nContent-Type: application/json\r\nContent-Length: " + huge.length()
        + "\r\n\r\n" + sent);

    assertThat(head).startsWith("HTTP/1.1 413 ").contains("Content-Type: application/problem+json")
        .contains("Connection: close");
  }

  @Test
  void requestsJettyCannotParseGetTheProblemBodyToo() throws Exception {
    // Answered by the server before any context sees the request: still the fixed problem body.
    String badLength = RawHttp.exchange(app.baseUri(), "POST " + DIGITS + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Content-Length: abc\r\nConnection: close\r\n\r\n");
    String garbage = RawHttp.exchange(app.baseUri(), "GARBAGE\r\n\r\n");
    String longUri = RawHttp.exchange(app.baseUri(), "GET /" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Connection: close\r\n\r\n");

    for (String r : List.of(badLength, garbage)) {
      assertThat(r).startsWith("HTTP/1.1 400 ").contains("Content-Type: application/problem+json")
          .endsWith("\r\n\r\n{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400}");
    }
    assertThat(longUri).startsWith("HTTP/1.1 414 ").contains("Content-Type: application/problem+json")
        .endsWith("\r\n\r\n{\"type\":\"about:blank\",\"title\":\"URI Too Long\",\"status\":414}");
  }

  @Test
  void guardRunsBeforeInputValidation() {
    // Without a key, even a malformed body is answered 401: nothing reaches the model unauthenticated.
    assertProblem(client.post(DIGITS, null, "not json"), 401, "auth.missing_credentials");
  }

  @Test
  void aRefusalWrittenBeforeTheBodyArrivedClosesTheConnectionAndSaysSo() throws Exception {
    // The guard answers as soon as the headers are in, for a body declared larger than the 1 MiB it
    // would read and discard first; the body is never sent. Without "Connection: close" a keep-alive
    // client would reuse a connection the server is closing.
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", app.port())) {
      socket.setSoTimeout(5000);
      socket.getOutputStream().write(("POST " + IRIS + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + key("free")
          + "\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);

      assertThat(response).startsWith("HTTP/1.1 403 ").containsIgnoringCase("\r\nConnection: close\r\n")
          .contains("\"code\":\"authz.model_forbidden\"");
    }
    HttpResponse<String> ok = client.post(DIGITS, key("free"), digitsBody);
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.headers().firstValue("Connection")).isEmpty();
  }

  @Test
  void aTrailingSlashIsServedAsTheModelTheGuardAdmittedAndCharged() {
    // ModelGuardFilter ignores empty segments: it admits this as digits, charges the quota and
    // audits it as allowed, so the servlet must answer it (as the JAX-RS variant does), not 404.
    HttpResponse<String> r = client.post(DIGITS + "/", key("pro"), digitsBody);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("RateLimit")).isPresent();
    assertThat(r.body()).isEqualTo(client.post(DIGITS, key("pro"), digitsBody).body());
  }

  @Test
  void aTextOfFiveHundredCharactersFitsEvenWrittenAsJsonEscapes() {
    // 500 emoji as an ASCII-only JSON encoder writes them (Python's json.dumps by default): a
    // surrogate pair of backslash-u escapes, 12 bytes, per character. The README promises 1 to 500
    // characters; the body cap must not refuse a text within them for how JSON spells it.
    String text = "\\ud83d\\ude00".repeat(ModelCatalog.TEXT_MAX_LENGTH);

    HttpResponse<String> r = client.post("/v1/models/sentiment/predict", key("pro"), "{\"text\":\"" + text + "\"}");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(DemoClient.json(r).get("model").asText()).isEqualTo("sentiment");
    // One character more is refused by the text rule, not by size.
    assertProblem(client.post("/v1/models/sentiment/predict", key("pro"), "{\"text\":\"" + text + "a\"}"), 422,
        "input.invalid");
  }

  private static double[] filled(int n, double v) {
    double[] out = new double[n];
    java.util.Arrays.fill(out, v);
    return out;
  }

  static void assertProblem(HttpResponse<String> r, int status, String code) {
    assertThat(r.statusCode()).as("status of %s", r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
        v -> assertThat(v).startsWith("application/problem+json"));
    JsonNode body = DemoClient.json(r);
    assertThat(body.get("code").asText()).isEqualTo(code);
    assertThat(body.get("type").asText()).isEqualTo("urn:modelguard:problem:" + code);
    assertThat(body.get("status").asInt()).isEqualTo(status);
  }
}
