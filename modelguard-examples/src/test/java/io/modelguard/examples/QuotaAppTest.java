package io.modelguard.examples;

import static io.modelguard.examples.ModelServingAppTest.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.examples.model.ModelCatalog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * The demo's built-in tier limits, in memory, on the real app. The quota store's clock is fixed,
 * so buckets never refill during a test: counts are exact whatever the machine's speed.
 */
class QuotaAppTest {
  static final String FREE_POLICY = "\"burst\";q=5;w=1, \"minute\";q=60;w=60, \"daily\";q=1000;w=86400";
  static final String PRO_POLICY = "\"burst\";q=20;w=1, \"minute\";q=600;w=60, \"daily\";q=100000;w=86400";

  private static final Clock FROZEN = Clock.fixed(Instant.parse("2026-01-01T12:00:00Z"), ZoneOffset.UTC);

  private static ModelServingApp start(ByteArrayOutputStream console) throws StartupException {
    return ModelServingApp.start(AppOptions.defaults().withPort(0).withQuotaClock(FROZEN),
        new PrintStream(console, true, StandardCharsets.UTF_8));
  }

  private static String digits(ModelServingApp app) {
    return DemoClient.body("pixels", app.models().get(ModelCatalog.DIGITS).orElseThrow().example());
  }

  @Test
  void freeKeyOverItsBurstGets429WithRetryAfterWhileAnotherTenantIsUnaffected() throws Exception {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    try (ModelServingApp app = start(console)) {
      DemoClient client = new DemoClient(app.baseUri());
      String free = app.key("free").orElseThrow().key().orElseThrow();
      String pro = app.key("pro").orElseThrow().key().orElseThrow();
      String body = digits(app);
      for (int i = 1; i <= 5; i++) {
        HttpResponse<String> ok = client.post("/v1/models/digits/predict", free, body);
        assertThat(ok.statusCode()).as("request %d: %s", i, ok.body()).isEqualTo(200);
        assertThat(ok.headers().firstValue("RateLimit-Policy")).hasValue(FREE_POLICY);
        assertThat(ok.headers().firstValue("RateLimit")).hasValue("\"burst\";r=" + (5 - i) + ";t=1");
        assertThat(ok.headers().firstValue("Retry-After")).isEmpty();
      }
      HttpResponse<String> over = client.post("/v1/models/digits/predict", free, body);
      assertProblem(over, 429, "quota.exceeded");
      assertThat(over.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(over.headers().firstValue("RateLimit-Policy")).hasValue(FREE_POLICY);
      assertThat(over.headers().firstValue("RateLimit")).hasValue("\"burst\";r=0;t=1");

      // Another tenant (the pro key) is not affected, and gets its own tier's policy.
      for (int i = 1; i <= 3; i++) {
        HttpResponse<String> ok = client.post("/v1/models/digits/predict", pro, body);
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        assertThat(ok.headers().firstValue("RateLimit-Policy")).hasValue(PRO_POLICY);
        assertThat(ok.headers().firstValue("RateLimit")).hasValue("\"burst\";r=" + (20 - i) + ";t=1");
      }
      // A model outside the tier is refused (403) by authorization, before any quota is charged.
      assertProblem(client.post("/v1/models/iris/predict", free, "{\"features\":[5.1,3.5,1.4,0.2]}"), 403,
          "authz.model_forbidden");
      // Still refused: the clock has not moved.
      assertProblem(client.post("/v1/models/digits/predict", free, body), 429, "quota.exceeded");

      String banner = console.toString(StandardCharsets.UTF_8);
      assertThat(banner).contains("Quota of tier free (per tenant and model): burst 5/s, minute 60/min (sliding), "
          + "daily 1000/day (sliding)");
      assertThat(banner).contains("Unauthenticated requests per client address: unauthenticated 30/min");
      assertThat(banner).contains("Quota counts are kept in memory");
    }
  }

  @Test
  void unauthenticatedGuessingFromOneAddressIsThrottledBeforeKeysAreChecked() throws Exception {
    try (ModelServingApp app = start(new ByteArrayOutputStream())) {
      DemoClient client = new DemoClient(app.baseUri());
      String pro = app.key("pro").orElseThrow().key().orElseThrow();
      String revoked = app.key("revoked").orElseThrow().key().orElseThrow();
      String body = digits(app);
      // 29 guesses (a revoked key, no key) are answered 401 as usual.
      for (int i = 0; i < 29; i++) {
        HttpResponse<String> r = client.post("/v1/models/digits/predict", i % 2 == 0 ? revoked : null, body);
        assertThat(r.statusCode()).as("guess %d: %s", i, r.body()).isEqualTo(401);
      }
      // Requests that authenticate give their unit back: they do not use up the address's allowance.
      for (int i = 0; i < 5; i++) {
        assertThat(client.post("/v1/models/digits/predict", pro, body).statusCode()).isEqualTo(200);
      }
      assertProblem(client.post("/v1/models/digits/predict", revoked, body), 401, "auth.invalid_api_key");
      // The 31st unauthenticated request: refused before any key is checked, so even a valid key is
      // refused now, and the answer says nothing about the credential.
      for (String key : new String[] {revoked, null, pro}) {
        HttpResponse<String> r = client.post("/v1/models/digits/predict", key, body);
        assertProblem(r, 429, "quota.exceeded");
        assertThat(r.headers().firstValue("Retry-After")).hasValue("2");
        assertThat(r.headers().firstValue("RateLimit-Policy")).hasValue("\"unauthenticated\";q=30;w=60");
        assertThat(r.headers().firstValue("RateLimit")).hasValue("\"unauthenticated\";r=0;t=60");
        assertThat(r.headers().firstValue("WWW-Authenticate")).isEmpty();
      }
      // Unguarded endpoints are not behind the per-address limit.
      assertThat(client.get("/healthz", null).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void guessesAtTheModelListCountAgainstTheSameAllowance() throws Exception {
    // The catalog authenticates with the same keys and tokens: unlimited there, it was a free oracle.
    try (ModelServingApp app = start(new ByteArrayOutputStream())) {
      DemoClient client = new DemoClient(app.baseUri());
      String pro = app.key("pro").orElseThrow().key().orElseThrow();
      String revoked = app.key("revoked").orElseThrow().key().orElseThrow();
      for (int i = 0; i < 30; i++) {
        HttpResponse<String> r = client.get("/v1/models", i % 2 == 0 ? revoked : null);
        assertThat(r.statusCode()).as("guess %d: %s", i, r.body()).isEqualTo(401);
      }
      for (String key : new String[] {revoked, pro}) {
        assertProblem(client.get("/v1/models", key), 429, "quota.exceeded");
        assertProblem(client.post("/v1/models/digits/predict", key, digits(app)), 429, "quota.exceeded");
      }
    }
  }
}
