package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisURI;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.test.redis.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A script call that Redis ran but whose reply was lost with the connection must not run again:
 * its operations are not idempotent (a decision charges, a refund gives back). Lettuce re-sends it
 * once reconnected; the script answers it with the first run's reply, kept with the call's replay
 * guard, and changes nothing. A call lost before Redis ran it must still run once. A
 * one-master Redis Cluster behind a loopback proxy that loses one reply, or one call, and closes the
 * connection, as a network failure would.
 */
class RedisClusterLostReplyTest {
  /** A bucket of 100 units a day: no unit refills during the test. */
  private static final QuotaPlan PLAN = QuotaPlan.of(QuotaLimit.tokenBucket("daily", 100, Duration.ofDays(1)));

  private static RedisServer node;
  private static ReplyDroppingProxy proxy;

  @BeforeAll
  static void startCluster() throws InterruptedException {
    node = RedisServer.start(List.of("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
        "--cluster-port", "0"));
    proxy = new ReplyDroppingProxy(node.port());
    assertThat(node.cli("cluster", "addslotsrange", "0", "16383")).contains("OK");
    // The node tells clients to reach it through the proxy, so every command passes there.
    assertThat(node.cli("config", "set", "cluster-announce-port", Integer.toString(proxy.port()))).contains("OK");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!node.cli("cluster", "info").contains("cluster_state:ok")) {
      assertThat(System.nanoTime()).as("cluster state ok").isLessThan(deadline);
      Thread.sleep(50); // waits for the node to finish its own set-up, not for time to pass
    }
  }

  @AfterAll
  static void stopCluster() {
    proxy.close();
    node.close();
  }

  private static RedisQuotaStore store() {
    return RedisQuotaStore.clusterBuilder(List.of(RedisURI.create("redis://127.0.0.1:" + proxy.port())))
        .timeout(Duration.ofSeconds(5))
        .failureThreshold(1_000) // every answer here is Redis's or a failure, never the breaker's
        .failurePolicy(FailurePolicy.failClosed())
        .build();
  }

  private static QuotaKey key(String name) {
    return QuotaKey.forTenant(name + "-" + UUID.randomUUID(), "digits");
  }

  /** Units left in Redis, read without changing them (a cost above the quota is never charged). */
  private static long unitsLeft(RedisQuotaStore store, QuotaKey key) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      QuotaDecision d = store.acquire(key, PLAN, 101);
      if (!d.isDegraded()) {
        return d.remaining(0);
      }
      assertThat(System.nanoTime()).as("Redis answers again after the reconnect: %s", d).isLessThan(deadline);
    }
  }

  @Test
  void aRefundWhoseReplyIsLostIsNotGivenBackTwice() {
    try (RedisQuotaStore store = store()) {
      QuotaKey key = key("lost-refund");
      QuotaDecision first = store.acquire(key, PLAN, 50);
      assertThat(store.acquire(key, PLAN, 50).remaining(0)).isZero();

      proxy.loseNextScriptReply();
      store.settle(key, PLAN, -40, first);

      // Applied once: 40 back. Applied twice, the tenant could spend 80 more of its 100 at once.
      assertThat(unitsLeft(store, key)).as("units left after one refund of 40").isEqualTo(40);
      // Redis answered the re-sent call with the first run's reply: the refund is not lost.
      assertThat(store.droppedSettlements()).as("refunds reported lost").isZero();
    }
  }

  @Test
  void aDecisionWhoseReplyIsLostIsChargedOnceAndTheCallerGetsRedisDecision() {
    try (RedisQuotaStore store = store()) {
      QuotaKey key = key("lost-decision");
      assertThat(store.acquire(key, PLAN, 1).remaining(0)).isEqualTo(99);

      proxy.loseNextScriptReply();
      QuotaDecision lost = store.acquire(key, PLAN, 10);

      // The re-sent call got the first run's reply: Redis's decision, not the failure policy's
      // (which, fail-closed, denied a request Redis had allowed and charged).
      assertThat(lost.status()).as("Redis's own decision: %s", lost).isEqualTo(QuotaDecision.Status.ALLOWED);
      assertThat(lost.isDegraded()).isFalse();
      assertThat(lost.remaining(0)).isEqualTo(89);
      assertThat(unitsLeft(store, key)).as("charged once").isEqualTo(89);
    }
  }

  @Test
  void aDeniedDecisionWhoseReplyIsLostIsDeniedByRedisWhenResent() {
    try (RedisQuotaStore store = store()) {
      QuotaKey key = key("lost-denial");
      assertThat(store.acquire(key, PLAN, 95).remaining(0)).isEqualTo(5);

      proxy.loseNextScriptReply();
      QuotaDecision lost = store.acquire(key, PLAN, 10);

      assertThat(lost.status()).as("Redis's own denial: %s", lost).isEqualTo(QuotaDecision.Status.EXCEEDED);
      assertThat(lost.isDegraded()).isFalse();
      assertThat(lost.retryAfterMicros()).isPositive();
      assertThat(unitsLeft(store, key)).isEqualTo(5);
    }
  }

  @Test
  void aDecisionLostBeforeRedisRanItIsDecidedOnceWhenResent() {
    try (RedisQuotaStore store = store()) {
      QuotaKey key = key("lost-call");
      assertThat(store.acquire(key, PLAN, 1).remaining(0)).isEqualTo(99);

      proxy.loseNextScriptCall();
      QuotaDecision resent = store.acquire(key, PLAN, 10);

      assertThat(resent.status()).as("Redis's own decision: %s", resent).isEqualTo(QuotaDecision.Status.ALLOWED);
      assertThat(resent.isDegraded()).isFalse();
      assertThat(resent.remaining(0)).isEqualTo(89);
      assertThat(unitsLeft(store, key)).as("charged once").isEqualTo(89);
    }
  }

  @Test
  void aRefundLostBeforeRedisRanItIsGivenBackOnceWhenResent() {
    try (RedisQuotaStore store = store()) {
      QuotaKey key = key("lost-refund-call");
      QuotaDecision first = store.acquire(key, PLAN, 50);
      assertThat(store.acquire(key, PLAN, 50).remaining(0)).isZero();

      proxy.loseNextScriptCall();
      store.settle(key, PLAN, -40, first);

      assertThat(unitsLeft(store, key)).as("units left after one refund of 40").isEqualTo(40);
      assertThat(store.droppedSettlements()).isZero();
    }
  }
}
