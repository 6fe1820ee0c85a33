package io.modelguard.examples;

import io.modelguard.test.redis.RedisServer;
import static io.modelguard.examples.ModelServingAppTest.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.RandomSource;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.authn.ApiKeyHasher;
import io.modelguard.authn.ApiKeyIssuer;
import io.modelguard.examples.model.ModelCatalog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --redis-url} with a real {@code redis-server} on a free loopback port: instances share
 * one count, and when Redis is down each failure policy behaves as documented. Limits are per day
 * (no refill within a test).
 */
class RedisQuotaAppTest {
  private static final int LIMIT = 5;

  @TempDir
  static Path dir;

  private static RedisServer shared;
  private static RedisServer doomed;
  private static Path config;
  private static String acmeKey;
  private static String globexKey;
  private static String body;
  private static final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    shared = RedisServer.start();
    doomed = RedisServer.start();
    // Fixed plaintext keys, so that every instance accepts the same keys (each hashes with its own pepper).
    byte[] pepper = new byte[32];
    RandomSource random = RandomSource.secure();
    random.nextBytes(pepper);
    ApiKeyIssuer issuer = new ApiKeyIssuer(ApiKeyHasher.withPepper(pepper), random, Clock.systemUTC());
    acmeKey = issuer.issue(ApiKeyFormat.Environment.TEST, "alice", "acme", "basic", null).key();
    globexKey = issuer.issue(ApiKeyFormat.Environment.TEST, "bob", "globex", "basic", null).key();
    config = dir.resolve("redis.json");
    Files.writeString(config, "{\n"
        + "  \"tiers\": {\"basic\": {\"models\": [\"digits\"], \"limits\": [\n"
        + "    {\"name\": \"daily\", \"quota\": " + LIMIT + ", \"windowSeconds\": 86400, \"algorithm\": \"sliding\"}]}},\n"
        + "  \"keys\": [\n"
        + "    {\"key\": \"" + acmeKey + "\", \"subject\": \"alice\", \"tenant\": \"acme\", \"tier\": \"basic\"},\n"
        + "    {\"key\": \"" + globexKey + "\", \"subject\": \"bob\", \"tenant\": \"globex\", \"tier\": \"basic\"}\n"
        + "  ]\n"
        + "}\n");
  }

  @AfterAll
  static void stop() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
    if (shared != null) {
      shared.close();
    }
    if (doomed != null) {
      doomed.close();
    }
  }

  private static ModelServingApp app(ByteArrayOutputStream console, String... flags) throws Exception {
    List<String> args = new ArrayList<>(List.of("--port", "0", "--config", config.toString()));
    args.addAll(List.of(flags));
    ModelServingApp app = ModelServingApp.start(AppOptions.parse(args.toArray(new String[0]), Map.of()),
        new PrintStream(console, true, StandardCharsets.UTF_8));
    toClose.add(app);
    if (body == null) {
      body = DemoClient.body("pixels", app.models().get(ModelCatalog.DIGITS).orElseThrow().example());
    }
    return app;
  }

  private static HttpResponse<String> predict(ModelServingApp app, String key) {
    return new DemoClient(app.baseUri()).post("/v1/models/digits/predict", key, body);
  }

  @Test
  void twoInstancesSharingRedisShareOneCount() throws Exception {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    ModelServingApp a = app(console, "--redis-url", shared.url());
    ModelServingApp b = app(new ByteArrayOutputStream(), "--redis-url=" + shared.url());
    assertThat(console.toString(StandardCharsets.UTF_8))
        .contains("Quota counts are kept in Redis at 127.0.0.1:")
        .contains("while it is unavailable: local:1");

    int allowed = 0;
    for (int i = 0; i < 2 * LIMIT; i++) {
      HttpResponse<String> r = predict(i % 2 == 0 ? a : b, acmeKey);
      if (r.statusCode() == 200) {
        allowed++;
        assertThat(r.headers().firstValue("RateLimit-Policy")).hasValue("\"daily\";q=5;w=86400");
        assertThat(r.headers().firstValue("RateLimit").orElseThrow()).startsWith("\"daily\";r=" + (LIMIT - allowed) + ";");
      } else {
        assertProblem(r, 429, "quota.exceeded");
        assertThat(r.headers().firstValue("Retry-After")).isPresent();
        assertThat(r.headers().firstValue("RateLimit").orElseThrow()).startsWith("\"daily\";r=0;");
      }
    }
    // Each instance alone would have admitted LIMIT: together they admitted LIMIT, not 2 × LIMIT.
    assertThat(allowed).isEqualTo(LIMIT);
    assertThat(predict(a, acmeKey).statusCode()).isEqualTo(429);
    assertThat(predict(b, acmeKey).statusCode()).isEqualTo(429);
    // Another tenant is unaffected, on either instance.
    assertThat(predict(b, globexKey).statusCode()).isEqualTo(200);
    assertThat(predict(a, globexKey).headers().firstValue("RateLimit").orElseThrow()).startsWith("\"daily\";r=3;");
    // The counts live in Redis, under the library's keys.
    assertThat(shared.cli("--scan", "--pattern", "mg:q:*")).contains("mg:q:{t:acme:digits}:daily");
  }

  @Test
  void whenRedisIsDownEachFailurePolicyAppliesAndTheAppDoesNotCrash() throws Exception {
    ModelServingApp closed = app(new ByteArrayOutputStream(), "--redis-url", doomed.url(), "--quota-failure", "closed");
    ModelServingApp open = app(new ByteArrayOutputStream(), "--redis-url", doomed.url(), "--quota-failure", "open");
    assertThat(predict(closed, globexKey).statusCode()).isEqualTo(200);
    assertThat(predict(open, globexKey).headers().firstValue("RateLimit").orElseThrow()).startsWith("\"daily\";r=3;");

    doomed.kill();

    // closed: 503 quota.unavailable with Retry-After, for every caller.
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> r = predict(closed, globexKey);
      assertProblem(r, 503, "quota.unavailable");
      assertThat(r.headers().firstValue("Retry-After")).isPresent();
    }
    // open: allowed and uncounted, even past the limit of 5 (3 were left before Redis died); with
    // no count to report, no rate-limit field either.
    for (int i = 0; i < LIMIT + 2; i++) {
      HttpResponse<String> r = predict(open, globexKey);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.headers().firstValue("RateLimit-Policy")).isEmpty();
      assertThat(r.headers().firstValue("RateLimit")).isEmpty();
    }
    // local (the default), started while Redis is down: the app starts, and counts in memory.
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    ModelServingApp local = app(console, "--redis-url", doomed.url());
    int allowed = 0;
    for (int i = 0; i < LIMIT + 2; i++) {
      HttpResponse<String> r = predict(local, acmeKey);
      if (r.statusCode() == 200) {
        allowed++;
      } else {
        assertProblem(r, 429, "quota.exceeded");
      }
    }
    assertThat(allowed).isEqualTo(LIMIT);
    // And closed, started while Redis is down: starts too, and refuses.
    ModelServingApp closedFromStart = app(new ByteArrayOutputStream(), "--redis-url", doomed.url(),
        "--quota-failure", "closed");
    assertProblem(predict(closedFromStart, acmeKey), 503, "quota.unavailable");
    // Unguarded endpoints do not need Redis.
    assertThat(new DemoClient(closedFromStart.baseUri()).get("/healthz", null).statusCode()).isEqualTo(200);
  }
}
