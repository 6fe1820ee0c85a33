package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaStore;
import io.modelguard.test.quota.QuotaStoreCompatibilitySuite;
import io.modelguard.test.redis.RedisServer;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Redis store keeps the store contract on a real three-node Redis Cluster: the multi-key
 * script works because every key of a decision shares one hash tag.
 */
class RedisClusterQuotaStoreCompatibilityTest extends QuotaStoreCompatibilitySuite {
  private static RedisCluster cluster;

  @BeforeAll
  static void startCluster() {
    cluster = RedisCluster.start();
  }

  @AfterAll
  static void stopCluster() {
    cluster.close();
  }

  @Override
  protected QuotaStore createStore(Clock clock) {
    return RedisQuotaStore.clusterBuilder(cluster.seeds())
        .clientTimeForTesting(clock)
        .timeout(Duration.ofSeconds(5))
        .failurePolicy(FailurePolicy.failClosed())
        .build();
  }

  @Override
  protected void closeStore(QuotaStore store) {
    ((RedisQuotaStore) store).close();
  }

  @Test
  void theEvictionCheckReadsEveryMaster() {
    // Keys live on every master, so one that may evict resets the tenants whose keys it holds. The
    // check used to ask one node only.
    for (RedisServer node : cluster.nodes()) {
      assertThat(node.cli("config", "set", "maxmemory-policy", "noeviction")).contains("OK");
    }
    try (RedisQuotaStore store = RedisQuotaStore.clusterBuilder(cluster.seeds()).timeout(Duration.ofSeconds(5)).build()) {
      assertThat(store.evictionPolicy(Duration.ofSeconds(10))).contains("noeviction");
      for (RedisServer node : cluster.nodes()) {
        assertThat(node.cli("config", "set", "maxmemory-policy", "allkeys-lru")).contains("OK");
        assertThat(store.evictionPolicy(Duration.ofSeconds(10))).as(node.url()).contains("allkeys-lru");
        assertThat(node.cli("config", "set", "maxmemory-policy", "noeviction")).contains("OK");
      }
    } finally {
      for (RedisServer node : cluster.nodes()) {
        node.cli("config", "set", "maxmemory-policy", "noeviction");
      }
    }
  }
}
