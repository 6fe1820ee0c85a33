package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.RandomSource;
import io.modelguard.examples.model.ModelCatalog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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
    app = ModelServingApp.start(AppOptions.defaults().withPort(0),
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
    for (String label : List.of("free", "pro", "revoked", "expired")) {
      assertThat(key(label)).startsWith("mg_test_");
      assertThat(ApiKeyFormat.parse(key(label))).isPresent();
      assertThat(banner).contains(key(label));
    }
    assertThat(banner).contains("curl -s " + app.baseUri() + "/v1/models/digits/predict -H 'X-API-Key: " + key("free"));
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
    JsonNode p = body.get("probabilities");
    assertThat(p.size()).isEqualTo(10);
    double sum = 0;
    for (JsonNode v : p) {
      assertThat(v.asDouble()).isBetween(0.0, 1.0);
      sum += v.asDouble();
    }
    assertThat(sum).isCloseTo(1.0, within(1e-4));
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

    assertThat(free.statusCode()).isEqualTo(200);
    assertThat(DemoClient.json(free).toString()).isEqualTo("{\"models\":[\"digits\"]}");
    assertThat(pro.statusCode()).isEqualTo(200);
    assertThat(DemoClient.json(pro).toString()).isEqualTo("{\"models\":[\"digits\",\"iris\"]}");
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
  void wrongPixelShapeIsInvalidInputNamingTheField() {
    for (String body : List.of(
        DemoClient.body("pixels", 1, 2, 3),                      // too few
        DemoClient.body("pixels", new double[65]),               // too many
        DemoClient.body("pixels", filled(64, 17)),               // out of range
        DemoClient.body("pixels", filled(64, -1)),               // out of range
        "{\"pixels\":" + "[\"a\"" + ",0".repeat(63) + "]}",      // not numbers
        "{\"pixels\":\"0,0,0\"}",                                // not an array
        "{\"pixels\":[" + "0,".repeat(63) + "0],\"extra\":1}",   // extra field
        "{\"features\":[1,2,3,4]}",                              // the other model's field
        "[1,2,3]")) {                                            // not an object
      HttpResponse<String> r = client.post(DIGITS, key("free"), body);
      assertProblem(r, 422, "input.invalid");
      assertThat(DemoClient.json(r).get("detail").asText()).contains("'pixels'");
    }
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
  }

  @Test
  void oversizedBodyIsRefused() {
    String huge = "{\"pixels\":[" + "0,".repeat(20_000) + "0]}";

    assertProblem(client.post(DIGITS, key("free"), huge), 413, "input.too_large");
  }

  @Test
  void guardRunsBeforeInputValidation() {
    // Without a key, even a malformed body is answered 401: nothing reaches the model unauthenticated.
    assertProblem(client.post(DIGITS, null, "not json"), 401, "auth.missing_credentials");
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
