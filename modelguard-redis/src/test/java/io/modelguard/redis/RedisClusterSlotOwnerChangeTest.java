package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.cluster.SlotHash;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.ResilientQuotaStore.CircuitState;
import io.modelguard.test.redis.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A slot changes master while the old master's breaker is open, as in a failover (here the slot is
 * handed to another master of a real three-master cluster with {@code CLUSTER SETSLOT} after its
 * master was killed): once the client has the new topology, the slot's keys go through the new
 * master's breaker, closed, and are counted in Redis at once, though the old master's breaker is
 * still open. The breaker's ticker never moves, so no probe is involved.
 */
class RedisClusterSlotOwnerChangeTest {
  private static final QuotaLimit LIMIT = QuotaLimit.tokenBucket("burst", 1_000, Duration.ofHours(1));
  private static final QuotaPlan PLAN = QuotaPlan.of(LIMIT);

  @Test
  void whenAKeysSlotChangesMasterTheNewMastersBreakerApplies() {
    AtomicLong nanos = new AtomicLong();
    try (RedisCluster cluster = RedisCluster.start(); RedisQuotaStore store = RedisClusterNodeBreakerTest.store(cluster, nanos)) {
      Map<RedisServer, QuotaKey> keys = cluster.oneKeyPerNode(LIMIT);
      List<RedisServer> nodes = cluster.nodes();
      QuotaKey moved = keys.get(nodes.get(0));
      QuotaKey stays = keys.get(nodes.get(2));
      for (QuotaKey key : keys.values()) {
        // Opens the connection to every master, so no later decision waits for one.
        assertThat(store.acquire(key, PLAN, 1).isDegraded()).as("every master answers").isFalse();
      }

      nodes.get(0).kill();
      for (int i = 0; i < 3; i++) {
        assertThat(store.acquire(moved, PLAN, 1).status()).isEqualTo(QuotaDecision.Status.UNAVAILABLE);
      }
      assertThat(store.circuitState(moved)).as("the killed master's breaker").isEqualTo(CircuitState.OPEN);
      long calls = store.redisCalls();
      assertThat(store.acquire(moved, PLAN, 1).status()).isEqualTo(QuotaDecision.Status.UNAVAILABLE);
      assertThat(store.redisCalls()).as("the open breaker keeps the key away from Redis").isEqualTo(calls);

      // Another key of the same slot: the breaker is the master's, so it is open for this one too.
      // (The calls of the first key's lane that timed out are still with the killed master until
      // Lettuce's own timeout frees them; the sibling's lane has none.)
      int slot = SlotHash.getSlot(RedisCluster.redisKey(moved, LIMIT));
      QuotaKey sibling = keyInSlot(slot);
      assertThat(store.circuitState(sibling)).isEqualTo(CircuitState.OPEN);

      // The slot goes to the second master, in the view of both live masters.
      RedisServer heir = nodes.get(1);
      String heirId = heir.cli("cluster", "myid").trim();
      assertThat(heir.cli("cluster", "bumpepoch")).containsAnyOf("BUMPED", "STILL");
      for (RedisServer live : nodes.subList(1, 3)) {
        assertThat(live.cli("cluster", "setslot", Integer.toString(slot), "node", heirId)).contains("OK");
      }
      store.refreshTopology();
      assertThat(store.circuitState(sibling)).as("the new master's breaker").isEqualTo(CircuitState.CLOSED);

      QuotaDecision d = store.acquire(sibling, PLAN, 1);
      assertThat(d.isDegraded()).as("decided by the new master, through its own breaker: %s", d).isFalse();
      assertThat(d.remaining(0)).as("counted in Redis").isEqualTo(999);
      assertThat(heir.cli("exists", RedisCluster.redisKey(sibling, LIMIT))).contains("1");
      assertThat(store.circuitState()).as("the killed master still serves its other slots").isEqualTo(CircuitState.OPEN);
      assertThat(store.acquire(stays, PLAN, 1).isDegraded()).isFalse();
    }
  }

  /** A tenant key whose Redis keys are in {@code slot}. */
  private static QuotaKey keyInSlot(int slot) {
    String run = UUID.randomUUID().toString();
    for (int i = 0; i < 1_000_000; i++) {
      QuotaKey key = QuotaKey.forTenant("sibling-" + run + "-" + i, "digits");
      if (SlotHash.getSlot(RedisCluster.redisKey(key, LIMIT)) == slot) {
        return key;
      }
    }
    throw new IllegalStateException("no key found in slot " + slot);
  }
}
