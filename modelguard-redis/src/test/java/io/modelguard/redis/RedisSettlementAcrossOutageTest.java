package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisURI;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.ResilientQuotaStore.CircuitState;
import io.modelguard.test.FakeClock;
import io.modelguard.test.redis.RedisServer;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A reservation is settled in the store that decided it, across a real outage (redis-server
 * killed and restarted): a refund of a reservation the local fallback made never reaches Redis
 * once it is back, and a refund of a reservation Redis made never reaches the fallback while the
 * circuit is open. Time is the test's: the script and the fallback run on a fake clock (no
 * refill), and the circuit on a ticker that the test moves when it wants a probe. Only Lettuce's
 * reconnection to the restarted server takes real time, polled with a deadline.
 */
class RedisSettlementAcrossOutageTest {
  private static final QuotaPlan PLAN = QuotaPlan.of(QuotaLimit.tokenBucket("tokens", 100, Duration.ofHours(1)));
  /** The plan of the calls that open and probe the circuit, on a key of their own. */
  private static final QuotaPlan PROBE = QuotaPlan.of(QuotaLimit.tokenBucket("probe", 1_000_000, Duration.ofSeconds(1)));
  private static final Duration OPEN = Duration.ofSeconds(1);

  private final FakeClock clock = FakeClock.standard();
  private final AtomicLong nanos = new AtomicLong();
  private final QuotaKey key = QuotaKey.forTenant("settle-" + UUID.randomUUID(), "digits");
  private final QuotaKey probe = QuotaKey.forTenant("probe-" + UUID.randomUUID(), "digits");

  private RedisQuotaStore store(RedisServer server) {
    RedisQuotaStore store = RedisQuotaStore.builder(RedisURI.create(server.url()))
        .clientTimeForTesting(clock)
        .timeout(Duration.ofMillis(500))
        .failureThreshold(1)
        .openDuration(OPEN)
        .circuitTicker(nanos::get)
        .failurePolicy(FailurePolicy.localFallback(1))
        .build();
    assertThat(store.awaitReady(Duration.ofSeconds(10))).as("Redis answers").isTrue();
    return store;
  }

  @Test
  void aRefundOfAReservationTheFallbackMadeNeverReachesRedisOnceItIsBack() {
    try (RedisServer server = RedisServer.start(); RedisQuotaStore store = store(server)) {
      server.kill();
      openCircuit(store);
      QuotaDecision reserved = store.acquire(key, PLAN, 30);
      assertThat(reserved.isAllowed()).isTrue();
      assertThat(reserved.isDegraded()).as("decided by the local fallback").isTrue();
      server.restart();
      awaitRedis(store);
      take(store, 10, false, 90);

      store.settle(key, PLAN, -25, reserved);
      // Redis never charged the 30, so it gives none of them back (with the refund: 99 left).
      take(store, 1, false, 89);
    }
  }

  @Test
  void aRefundOfAReservationRedisMadeNeverReachesTheFallbackWhileTheCircuitIsOpen() {
    try (RedisServer server = RedisServer.start(); RedisQuotaStore store = store(server)) {
      QuotaDecision reserved = store.acquire(key, PLAN, 30);
      assertThat(reserved.isDegraded()).as("decided by Redis").isFalse();
      server.kill();
      openCircuit(store);
      take(store, 10, true, 90);

      store.settle(key, PLAN, -25, reserved);
      // The fallback never charged the 30 either: the refund is dropped (with it there: 99 left).
      take(store, 1, true, 89);
    }
  }

  /** Takes {@code cost} units of the key, checking which store decided and how many units are left. */
  private void take(RedisQuotaStore store, long cost, boolean byFallback, long remaining) {
    QuotaDecision d = store.acquire(key, PLAN, cost);
    assertThat(d.isDegraded()).as("decided by the fallback: %s", d).isEqualTo(byFallback);
    assertThat(d.remaining(0)).isEqualTo(remaining);
  }

  /** One failing call on the probe key opens the circuit (threshold 1); Redis must be down. */
  private void openCircuit(RedisQuotaStore store) {
    assertThat(store.acquire(probe, PROBE, 1).isDegraded()).isTrue();
    assertThat(store.circuitState()).isEqualTo(CircuitState.OPEN);
  }

  /** Lets the open circuit probe, on the probe key, until a probe reaches the restarted Redis. */
  private void awaitRedis(RedisQuotaStore store) {
    OutageDrill.awaitRedis(store, nanos, OPEN, probe, PROBE);
  }
}
