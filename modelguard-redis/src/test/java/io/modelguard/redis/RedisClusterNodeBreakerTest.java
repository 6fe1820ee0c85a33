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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * One master of a real three-master Redis Cluster fails (SIGKILL) while the other two keep
 * answering ({@code cluster-require-full-coverage no}, so they serve their slots on), and
 * decisions interleave over keys of all three masters: the failed master's keys open their own
 * breaker after {@code failureThreshold} failures and are then answered by the failure policy
 * without touching Redis, while the healthy masters' keys go on being counted in Redis. With one
 * breaker for the store, every success on a healthy master reset the count of consecutive
 * failures, the breaker never opened, and every decision on the failed master's keys waited the
 * full timeout.
 *
 * <p>Time is the test's: the script runs on a fake clock (no refill) and the breaker on a ticker
 * the test moves, so an open breaker probes only when the test says. Only Lettuce's reconnection
 * to the restarted master takes real time, polled with a deadline ({@link OutageDrill#awaitRedis}).
 */
class RedisClusterNodeBreakerTest {
  private static final QuotaPlan PLAN = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 1_000, Duration.ofHours(1)));
  private static final Duration OPEN = Duration.ofSeconds(1);
  private static final int THRESHOLD = 3;
  private static final int ROUNDS = 10;

  private final AtomicLong nanos = new AtomicLong();

  @Test
  void aFailedMasterOpensItsOwnBreakerWhileTheHealthyMastersKeepCountingInRedis() {
    try (RedisCluster cluster = RedisCluster.start(); RedisQuotaStore store = store(cluster, nanos)) {
      Map<RedisServer, QuotaKey> keys = cluster.oneKeyPerNode(PLAN.limit(0));
      for (QuotaKey key : keys.values()) {
        assertThat(store.acquire(key, PLAN, 1).isDegraded()).as("every master answers before the drill").isFalse();
      }
      List<RedisServer> masters = new ArrayList<>(keys.keySet());
      RedisServer failed = masters.get(0);
      QuotaKey failedKey = keys.get(failed);

      failed.kill();
      List<Long> callsOfFailedKey = new ArrayList<>();
      for (int round = 0; round < ROUNDS; round++) {
        long before = store.redisCalls();
        QuotaDecision d = store.acquire(failedKey, PLAN, 1);
        callsOfFailedKey.add(store.redisCalls() - before);
        assertThat(d.status()).as("the failure policy answers for the failed master").isEqualTo(QuotaDecision.Status.UNAVAILABLE);
        for (RedisServer healthy : masters.subList(1, 3)) {
          QuotaDecision h = store.acquire(keys.get(healthy), PLAN, 1);
          assertThat(h.isDegraded()).as("a healthy master decides, round %d", round).isFalse();
          assertThat(h.remaining(0)).as("counted in Redis").isEqualTo(1_000 - 2 - round);
        }
      }

      // THRESHOLD decisions on the failed master's keys reached Redis, none after them.
      assertThat(callsOfFailedKey).as("Redis calls per decision on the failed master's key")
          .containsExactlyElementsOf(expectedCalls());
      assertThat(store.circuitState()).as("the worst breaker: the failed master's").isEqualTo(CircuitState.OPEN);
      for (RedisServer healthy : masters.subList(1, 3)) {
        // The count is in the master that serves the key.
        assertThat(healthy.cli("exists", RedisCluster.redisKey(keys.get(healthy), PLAN.limit(0)))).contains("1");
      }

      // The failed master comes back (empty, no persistence): its breaker probes and closes.
      failed.restart();
      assertThat(cluster.awaitHealthy(20_000)).as("the cluster is whole again").isTrue();
      OutageDrill.awaitRedis(store, nanos, OPEN, failedKey, PLAN);
      assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
      assertThat(store.acquire(failedKey, PLAN, 1).remaining(0)).as("counted in Redis again").isEqualTo(998);
    }
  }

  /**
   * A fail-closed store on {@code cluster}, which serves its slots while a master is down; time is
   * the test's (the script's on a fake clock, the breaker's on {@code nanos}), the threshold {@link
   * #THRESHOLD} and the open duration {@link #OPEN}. Ready when returned.
   */
  static RedisQuotaStore store(RedisCluster cluster, AtomicLong nanos) {
    cluster.servePartially();
    RedisQuotaStore store = RedisQuotaStore.clusterBuilder(cluster.seeds())
        .clientTimeForTesting(FakeClock.standard())
        .timeout(Duration.ofMillis(100))
        .failureThreshold(THRESHOLD)
        .openDuration(OPEN)
        .circuitTicker(nanos::get)
        .failurePolicy(FailurePolicy.failClosed())
        .build();
    assertThat(store.awaitReady(Duration.ofSeconds(10))).as("the cluster answers").isTrue();
    return store;
  }

  /** 1 for each of the first {@link #THRESHOLD} decisions, 0 after. */
  private static List<Long> expectedCalls() {
    List<Long> calls = new ArrayList<>();
    for (int i = 0; i < ROUNDS; i++) {
      calls.add(i < THRESHOLD ? 1L : 0L);
    }
    return calls;
  }
}
