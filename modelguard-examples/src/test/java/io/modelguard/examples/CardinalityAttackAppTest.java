package io.modelguard.examples;

import static io.modelguard.examples.ModelServingAppTest.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.examples.jaxrs.JerseyServingApp;
import io.modelguard.examples.metrics.MetricsServlet;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.test.redis.RedisServer;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A remote client tries to grow the demo's meters with requests that each look cheap: every value
 * it controls (API key, bearer token, its {@code kid} and issuer, the demo issuer's subject and
 * tier, model id, path, query string, header names) is new on every request. Over the real app
 * (servlet and Jersey variants), {@code GET /metrics} must show the same series after a flood of
 * such requests as after a short warm-up of the same kinds: no series per client-chosen value.
 * Forwarded-address headers do not make a new client of each request, and with {@code --redis-url}
 * the same flood writes no Redis key without a TTL and no quota key per client-chosen value.
 */
class CardinalityAttackAppTest {
  private static final String DIGITS = "/v1/models/digits/predict";
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private static ModelServingApp servlet;
  private static ModelServingApp jersey;

  @BeforeAll
  static void start() throws Exception {
    PrintStream quiet = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
    // The leaping quota clock keeps every limit (the per-address one for failed credentials too)
    // from refusing: each request reaches the authenticators and the policies behind them.
    servlet = ModelServingApp.start(AppOptions.defaults().withPort(0).withQuotaClock(QuotaClocks.leaping()), quiet);
    jersey = ModelServingApp.start(AppOptions.defaults().withPort(0).withQuotaClock(QuotaClocks.leaping()), quiet,
        JerseyServingApp.ENDPOINTS);
  }

  @AfterAll
  static void stop() {
    for (ModelServingApp app : new ModelServingApp[] {servlet, jersey}) {
      if (app != null) {
        app.close();
      }
    }
  }

  @Test
  void clientChosenValuesCreateNoSeriesInTheServletVariant() {
    assertFloodAddsNoSeries(servlet);
  }

  @Test
  void clientChosenValuesCreateNoSeriesInTheJerseyVariant() {
    assertFloodAddsNoSeries(jersey);
  }

  private static void assertFloodAddsNoSeries(ModelServingApp app) {
    DemoClient client = new DemoClient(app.baseUri());
    Random random = new Random(20260101);
    flood(app, client, random, 3);
    Set<String> warm = series(client);
    flood(app, client, random, 60);
    Set<String> flooded = series(client);

    assertThat(flooded).as("series after 60 distinct values of each kind").isEqualTo(warm);
    // The flood did reach the meters: eight guarded requests of each round counted, under the same series.
    assertThat(requests(client)).isEqualTo(8 * (3 + 60));
  }

  /** {@code n} requests of each kind, every client-chosen value a new one. */
  private static void flood(ModelServingApp app, DemoClient client, Random random, int n) {
    String free = app.key("free").orElseThrow().plaintext();
    String digits = DemoClient.body("pixels", app.models().get(ModelCatalog.DIGITS).orElseThrow().example());
    for (int i = 0; i < n; i++) {
      String r = Long.toHexString(random.nextLong());
      expect(401, client.post(DIGITS, "mg_test_" + r + r, digits));
      expect(401, client.postBearer(DIGITS, r + "." + r, digits));
      expect(401, client.postBearer(DIGITS, unsignedJwt("{\"alg\":\"ES256\",\"kid\":\"" + r + "\"}",
          "{\"iss\":\"" + app.baseUri() + "\",\"sub\":\"" + r + "\"}"), digits));
      expect(401, client.postBearer(DIGITS, unsignedJwt("{\"alg\":\"ES256\",\"kid\":\"" + r + "\"}",
          "{\"iss\":\"https://issuer-" + r + ".example\",\"sub\":\"" + r + "\"}"), digits));
      expect(403, client.post("/v1/models/m" + r + "/predict", free, digits));
      expect(404, client.post("/v1/" + r, free, digits));
      expect(200, client.post(DIGITS + "?" + r + "=" + r, free, digits));
      expect(200, client.postWith(DIGITS, digits, "X-API-Key", free, "X-" + r, r));
      String token = client.demoToken("{\"subject\":\"s" + r + "\",\"tier\":\"free\"}");
      expect(200, client.postBearer(DIGITS, token, digits));
      expect(422, client.postWith("/demo/token", "{\"subject\":\"s" + r + "\",\"tier\":\"t" + r + "\"}"));
    }
  }

  private static String unsignedJwt(String header, String payload) {
    return B64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
        + B64.encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "." + B64.encodeToString(new byte[64]);
  }

  private static void expect(int status, HttpResponse<String> r) {
    assertThat(r.statusCode()).as("%s %s: %s", r.request().method(), r.uri(), r.body()).isEqualTo(status);
  }

  /** Every series of {@code GET /metrics}: a sample's name and labels, without its value. */
  private static Set<String> series(DemoClient client) {
    HttpResponse<String> scrape = client.get(MetricsServlet.PATH, null);
    expect(200, scrape);
    return PrometheusText.parse(scrape.body()).samples().stream()
        .map(s -> s.name() + s.labels())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static double requests(DemoClient client) {
    HttpResponse<String> scrape = client.get(MetricsServlet.PATH, null);
    return PrometheusText.parse(scrape.body()).sum("modelguard_requests_total", Map.of());
  }

  @Test
  void forwardedAddressHeadersDoNotRotateTheUnauthenticatedLimit() throws Exception {
    PrintStream quiet = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
    try (ModelServingApp app = ModelServingApp.start(QuotaClocks.frozen(AppOptions.defaults().withPort(0)), quiet)) {
      DemoClient client = new DemoClient(app.baseUri());
      String digits = DemoClient.body("pixels", app.models().get(ModelCatalog.DIGITS).orElseThrow().example());
      int allowance = (int) QuotaSettings.DEFAULT_UNAUTHENTICATED.get(0).quota();
      List<Integer> statuses = new ArrayList<>();
      for (int i = 0; i <= allowance; i++) {
        // Each request claims another origin, IPv4 and IPv6, in every header a proxy might set.
        String v4 = "198.51." + (i / 250) + "." + (i % 250 + 1);
        String v6 = "2001:db8:" + Integer.toHexString(i + 1) + "::1";
        statuses.add(client.postWith(DIGITS, digits, "X-API-Key", "mg_test_unknown" + i,
            "X-Forwarded-For", v4 + ", " + v6, "Forwarded", "for=\"[" + v6 + "]\"", "X-Real-IP", v4,
            "True-Client-IP", v6).statusCode());
      }
      assertThat(statuses.subList(0, allowance)).containsOnly(401);
      // The loopback address spent its allowance, whatever each request said it came from.
      assertProblem(client.postWith(DIGITS, digits, "X-API-Key", "mg_test_unknown", "X-Forwarded-For", "203.0.113.9",
          "Forwarded", "for=203.0.113.9"), 429, "quota.exceeded");
    }
  }

  @Test
  void aFloodWritesNoRedisKeyWithoutTtlAndNoQuotaKeyPerClientValue() throws Exception {
    PrintStream quiet = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
    try (RedisServer redis = RedisServer.start();
        ModelServingApp app = ModelServingApp.start(AppOptions.defaults().withPort(0).withRedisUrl(redis.url()),
            quiet)) {
      DemoClient client = new DemoClient(app.baseUri());
      String free = app.key("free").orElseThrow().plaintext();
      String digits = DemoClient.body("pixels", app.models().get(ModelCatalog.DIGITS).orElseThrow().example());
      Random random = new Random(7);
      for (int i = 0; i < 40; i++) {
        String r = Long.toHexString(random.nextLong());
        client.postWith(DIGITS, digits, "X-API-Key", "mg_test_" + r, "X-Forwarded-For", "2001:db8:" + i + "::1");
        client.post("/v1/models/m" + r + "/predict", free, digits);
        client.post(DIGITS + "?" + r, free, digits);
        client.postBearer(DIGITS, client.demoToken("{\"subject\":\"s" + r + "\",\"tier\":\"free\"}"), digits);
      }

      List<String> keys = List.of(redis.cli("--scan").split("\\R"));
      assertThat(keys).isNotEmpty();
      for (String key : keys) {
        // -1 is a key without a TTL; -2 one that expired since the scan (a one-second window's).
        assertThat(Long.parseLong(redis.cli("PTTL", key).strip())).as("PTTL of %s", key).isNotEqualTo(-1L);
      }
      // Quota keys (replay guards, one per script call and short-lived, aside) by their hash tag:
      // the loopback address, and the tenants the flood used on the one model it may call.
      Set<String> partitions = keys.stream()
          .filter(k -> !k.contains("}:c:"))
          .map(k -> k.substring(k.indexOf('{') + 1, k.indexOf('}')))
          .collect(Collectors.toCollection(TreeSet::new));
      assertThat(partitions).containsExactlyInAnyOrder("a:127.0.0.1", "t:demo-free:digits", "t:demo:digits");
    }
  }
}
