package io.modelguard.examples;

import static io.modelguard.examples.ModelServingAppTest.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.examples.model.ModelCatalog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Limits from the configuration file, in memory, with the real clock: a per-day limit of 3 and a
 * per-hour unauthenticated limit of 2 are far from refilling within a test.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConfiguredQuotaAppTest {
  static final String CONFIG = "{\n"
      + "  \"tiers\": {\n"
      + "    \"basic\": {\"models\": [\"digits\"], \"limits\": [\n"
      + "      {\"name\": \"burst\", \"quota\": 50, \"windowSeconds\": 1},\n"
      + "      {\"name\": \"daily\", \"quota\": 3, \"windowSeconds\": 86400, \"algorithm\": \"sliding\"}]},\n"
      + "    \"unmetered\": [\"digits\"]\n"
      + "  },\n"
      + "  \"keys\": [\n"
      + "    {\"subject\": \"alice\", \"tenant\": \"acme\", \"tier\": \"basic\"},\n"
      + "    {\"subject\": \"bob\", \"tenant\": \"globex\", \"tier\": \"basic\"},\n"
      + "    {\"subject\": \"carol\", \"tenant\": \"initech\", \"tier\": \"unmetered\"}\n"
      + "  ],\n"
      + "  \"quota\": {\"unauthenticated\": [{\"name\": \"guesses\", \"quota\": 2, \"windowSeconds\": 3600}]}\n"
      + "}\n";

  @TempDir
  static Path dir;

  private static ModelServingApp app;
  private static DemoClient client;
  private static String body;
  private static String banner;

  @BeforeAll
  static void start() throws Exception {
    Path config = dir.resolve("quota.json");
    Files.writeString(config, CONFIG);
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    app = ModelServingApp.start(AppOptions.defaults().withPort(0).withConfigFile(config),
        new PrintStream(console, true, StandardCharsets.UTF_8));
    banner = console.toString(StandardCharsets.UTF_8);
    client = new DemoClient(app.baseUri());
    body = DemoClient.body("pixels", app.models().get(ModelCatalog.DIGITS).orElseThrow().example());
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  private static String key(String subject) {
    return app.key(subject).orElseThrow().key().orElseThrow();
  }

  @Test
  @Order(1)
  void theTiersLimitsOfTheFileApplyPerTenant() {
    String policy = "\"burst\";q=50;w=1, \"daily\";q=3;w=86400";
    for (int i = 1; i <= 3; i++) {
      HttpResponse<String> ok = client.post("/v1/models/digits/predict", key("alice"), body);
      assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
      assertThat(ok.headers().firstValue("RateLimit-Policy")).hasValue(policy);
      assertThat(ok.headers().firstValue("RateLimit").orElseThrow()).startsWith("\"daily\";r=" + (3 - i) + ";t=");
    }
    HttpResponse<String> over = client.post("/v1/models/digits/predict", key("alice"), body);
    assertProblem(over, 429, "quota.exceeded");
    long retryAfter = Long.parseLong(over.headers().firstValue("Retry-After").orElseThrow());
    assertThat(retryAfter).isBetween(1L, 2 * 86_400L);
    assertThat(over.headers().firstValue("RateLimit-Policy")).hasValue(policy);
    assertThat(over.headers().firstValue("RateLimit").orElseThrow()).startsWith("\"daily\";r=0;t=");

    // Another tenant of the same tier has its own count.
    HttpResponse<String> other = client.post("/v1/models/digits/predict", key("bob"), body);
    assertThat(other.statusCode()).isEqualTo(200);
    assertThat(other.headers().firstValue("RateLimit").orElseThrow()).startsWith("\"daily\";r=2;t=");
  }

  @Test
  @Order(2)
  void aTierWithoutLimitsIsNotLimited() {
    for (int i = 0; i < 10; i++) {
      HttpResponse<String> ok = client.post("/v1/models/digits/predict", key("carol"), body);
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.headers().firstValue("RateLimit-Policy")).isEmpty();
      assertThat(ok.headers().firstValue("RateLimit")).isEmpty();
    }
    assertThat(banner).contains("Quota of tier basic (per tenant and model): burst 50/s, daily 3/day (sliding)")
        .doesNotContain("Quota of tier unmetered")
        .contains("Unauthenticated requests per client address: guesses 2/h");
  }

  @Test
  @Order(3)
  void theFilesUnauthenticatedLimitApplies() {
    assertProblem(client.post("/v1/models/digits/predict", null, body), 401, "auth.missing_credentials");
    assertProblem(client.post("/v1/models/digits/predict", "mg_test_nonsense", body), 401, "auth.invalid_api_key");
    HttpResponse<String> third = client.post("/v1/models/digits/predict", key("carol"), body);
    assertProblem(third, 429, "quota.exceeded");
    assertThat(third.headers().firstValue("RateLimit-Policy")).hasValue("\"guesses\";q=2;w=3600");
    assertThat(Long.parseLong(third.headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 1800L);
  }
}
