package io.modelguard.redis;

import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaStore;
import io.modelguard.test.quota.QuotaStoreCompatibilitySuite;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

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
}
