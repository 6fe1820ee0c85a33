package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.ResilientQuotaStore.CircuitState;
import io.modelguard.test.FakeClock;
import io.modelguard.test.redis.RedisServer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A Cluster store whose first decisions come before it could connect (every master down): they
 * fail in the breaker of the keys whose master is not known yet, which opens. Once the cluster is
 * back and the store connected, every key maps to its master and nothing uses that breaker again;
 * {@code circuitState()} counted it still, and said OPEN for ever while every master answered.
 * Real three-master cluster; the breaker's time is the test's ({@code circuitTicker}).
 */
class RedisClusterColdStartBreakerTest {
  private static final QuotaPlan PLAN = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 1_000, Duration.ofHours(1)));
  private static final Duration OPEN = Duration.ofSeconds(1);

  @Test
  void theBreakerOfKeysWithoutAKnownMasterNoLongerCountsOnceEverySlotHasOne() {
    AtomicLong nanos = new AtomicLong();
    try (RedisCluster cluster = RedisCluster.start()) {
      cluster.nodes().forEach(RedisServer::kill);
      try (RedisQuotaStore store = RedisQuotaStore.clusterBuilder(cluster.seeds())
          .clientTimeForTesting(FakeClock.standard())
          .timeout(Duration.ofMillis(200))
          .failureThreshold(3)
          .openDuration(OPEN)
          .circuitTicker(nanos::get)
          .failurePolicy(FailurePolicy.failClosed())
          .build()) {
        QuotaKey key = QuotaKey.forTenant("acme", "digits");
        for (int i = 0; i < 3; i++) {
          assertThat(store.acquire(key, PLAN, 1).status()).isEqualTo(QuotaDecision.Status.UNAVAILABLE);
        }
        assertThat(store.circuitState()).as("no master known, the cluster's one breaker open").isEqualTo(CircuitState.OPEN);

        cluster.nodes().forEach(RedisServer::restart);
        assertThat(cluster.awaitHealthy(20_000)).as("the cluster is whole again").isTrue();
        // Connected without a decision in between (as when the connection completes in the
        // background): no probe ever goes through the breaker of the unknown master again.
        assertThat(store.awaitReady(Duration.ofSeconds(20))).as("the store connects").isTrue();
        nanos.addAndGet(OPEN.toNanos());
        for (int i = 0; i < 20; i++) {
          assertThat(store.acquire(QuotaKey.forTenant("t" + i, "digits"), PLAN, 1).isDegraded()).isFalse();
        }
        assertThat(store.circuitState(key)).isEqualTo(CircuitState.CLOSED);
        assertThat(store.circuitState()).as("every master answers").isEqualTo(CircuitState.CLOSED);
      }
    }
  }
}
