package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.resource.ClientResources;
import io.modelguard.ReasonCode;
import io.modelguard.examples.metrics.MetricsServlet;
import io.modelguard.extraction.ExtractionDefence;
import io.modelguard.extraction.NoiseKeys;
import io.modelguard.extraction.Prediction;
import io.modelguard.extraction.RiskLevel;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.redis.RedisRiskExchange;
import io.modelguard.test.redis.RedisServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** With {@code --redis-url}, two demo instances' extraction defences share the levels they raise. */
class DemoExtractionSharingTest {
  private static final Prediction P = Prediction.of(new double[] {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1});
  private static RedisServer server;

  @BeforeAll
  static void startRedis() {
    server = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    server.close();
  }

  private static NoiseKeys keys() {
    return NoiseKeys.withSecret(new byte[32]);
  }

  @Test
  void aLevelRaisedOnOneInstanceHoldsOnTheOther() {
    QuotaSettings settings = QuotaSettings.none().withRedisUrl(server.url());
    try (DemoExtraction a = DemoExtraction.open(keys(), Clock.systemUTC(), settings);
        DemoExtraction b = DemoExtraction.open(keys(), Clock.systemUTC(), settings)) {
      ExtractionDefence digitsA = a.digits();
      flag(digitsA);
      RiskLevel raised = digitsA.level("p:acme:mallory");
      assertThat(raised).isNotEqualTo(RiskLevel.OBSERVE);

      until(() -> b.digits().level("p:acme:mallory") == raised);

      // A raise written by hand on the documented channel and label blocks on both.
      server.cli("PUBLISH", RedisRiskExchange.DEFAULT_CHANNEL, "{\"v\":1,\"from\":\"ops\",\"label\":\"digits\","
          + "\"client\":\"p:acme:eve\",\"score\":61,\"at\":" + System.currentTimeMillis() + "}");
      until(() -> a.digits().admit("p:acme:eve").reason().equals(java.util.Optional.of(ReasonCode.EXTRACTION_BLOCKED))
          && b.digits().admit("p:acme:eve").reason().equals(java.util.Optional.of(ReasonCode.EXTRACTION_BLOCKED)));
    }
  }

  /**
   * With {@code --redis-url} the exchange's Redis client runs on the quota backend's Lettuce
   * resources (its connections come up on their event bus) instead of opening its own; closing the
   * extraction leaves them running for the store, and closing the backend shuts them down.
   */
  @Test
  void theExchangeSharesTheQuotaBackendsRedisResourcesWhichOnlyTheBackendShutsDown() {
    QuotaSettings settings = QuotaSettings.none().withRedisUrl(server.url());
    QuotaBackend quota = QuotaBackend.open(settings, Clock.systemUTC());
    ClientResources shared = quota.redisResources().orElseThrow();
    try {
      AtomicInteger activated = new AtomicInteger();
      shared.eventBus().get().subscribe(e -> {
        if (e instanceof ConnectionActivatedEvent) {
          activated.incrementAndGet();
        }
      });
      try (DemoExtraction a = DemoExtraction.open(keys(), Clock.systemUTC(), settings, quota.redisResources());
          DemoExtraction b = DemoExtraction.open(keys(), Clock.systemUTC(), settings)) {
        until(() -> activated.get() == 2); // the exchange's publishing and subscribing connections
        flag(a.digits());
        RiskLevel raised = a.digits().level("p:acme:mallory");
        assertThat(raised).isNotEqualTo(RiskLevel.OBSERVE);
        until(() -> b.digits().level("p:acme:mallory") == raised);
      }

      assertThat(shared.eventExecutorGroup().isShuttingDown()).isFalse();
      QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("test", 1_000, Duration.ofSeconds(1)));
      assertThat(quota.store().acquire(QuotaKey.forTenant("sharing-test", "none"), plan, 1).isDegraded())
          .as("the store still answered by Redis").isFalse();
    } finally {
      quota.close();
    }
    assertThat(shared.eventExecutorGroup().isShuttingDown()).isTrue();
  }

  /**
   * With {@code --redis-url}, {@code GET /metrics} shows what the exchange did: another instance's
   * raise received, a message that is not one ignored, nothing published or dropped yet.
   */
  @Test
  void theAppsMetricsCountTheRaisesItsExchangeReceivedAndTheMessagesItIgnored() throws Exception {
    try (RedisServer own = RedisServer.start();
        ModelServingApp app = ModelServingApp.start(AppOptions.parse(new String[] {"--port", "0", "--redis-url",
            own.url()}, Map.of()), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
      DemoClient client = new DemoClient(app.baseUri());
      until(() -> own.cli("PUBSUB", "NUMSUB", RedisRiskExchange.DEFAULT_CHANNEL).contains("\n1"));

      own.cli("PUBLISH", RedisRiskExchange.DEFAULT_CHANNEL, "{\"v\":1,\"from\":\"ops\",\"label\":\"digits\","
          + "\"client\":\"p:acme:eve\",\"score\":61,\"at\":" + System.currentTimeMillis() + "}");
      own.cli("PUBLISH", RedisRiskExchange.DEFAULT_CHANNEL, "not a raise");

      until(() -> raises(client, "received") == 1 && raises(client, "ignored") == 1);
      assertThat(raises(client, "published")).isZero();
      assertThat(raises(client, "dropped")).isZero();
    }
  }

  private static double raises(DemoClient client, String outcome) {
    HttpResponse<String> scrape = client.get(MetricsServlet.PATH, null);
    assertThat(scrape.statusCode()).isEqualTo(200);
    PrometheusText metrics = PrometheusText.parse(scrape.body());
    assertThat(metrics.find("modelguard_extraction_exchange_raises_total", Map.of("outcome", outcome)))
        .as("the %s series", outcome).hasSize(1);
    return metrics.sum("modelguard_extraction_exchange_raises_total", Map.of("outcome", outcome));
  }

  @Test
  void withoutRedisNothingIsShared() {
    try (DemoExtraction a = DemoExtraction.open(keys(), Clock.systemUTC(), QuotaSettings.none());
        DemoExtraction b = DemoExtraction.open(keys(), Clock.systemUTC(), QuotaSettings.none())) {
      flag(a.digits());
      assertThat(a.digits().level("p:acme:mallory")).isNotEqualTo(RiskLevel.OBSERVE);
      assertThat(b.digits().level("p:acme:mallory")).isEqualTo(RiskLevel.OBSERVE);
    }
  }

  /** Single-pixel changes of one image from {@code p:acme:mallory}, until a detector (the hashing one) flags them. */
  private static void flag(ExtractionDefence defence) {
    double[] base = new double[64];
    for (int i = 0; i < 64; i++) {
      base[i] = (i * 7) % 17;
    }
    for (int i = 0; i < 400 && defence.level("p:acme:mallory") == RiskLevel.OBSERVE; i++) {
      double[] probe = base.clone();
      probe[i % 64] = (base[i % 64] + 1 + i / 64) % 17; // one pixel changed; every probe distinct
      defence.observe("p:acme:mallory", probe, P);
    }
  }

  /** Polls {@code condition} every 20 ms for at most 20 s. */
  private static void until(BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline).as("timed out").isNegative();
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
  }
}
