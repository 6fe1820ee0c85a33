package io.modelguard.redis;

import io.lettuce.core.RedisURI;
import io.modelguard.test.redis.RedisServer;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaStore;
import io.modelguard.test.quota.QuotaStoreCompatibilitySuite;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The Redis store keeps the store contract on a real standalone redis-server. The script takes
 * its time from the suite's fake clock (the test-only client-time mode), so the window arithmetic
 * is checked to the microsecond; it fails closed, so a Redis error can never pass for a decision.
 */
class RedisQuotaStoreCompatibilityTest extends QuotaStoreCompatibilitySuite {
  private static RedisServer server;

  @BeforeAll
  static void startRedis() {
    server = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    server.close();
  }

  @Override
  protected QuotaStore createStore(Clock clock) {
    return RedisQuotaStore.builder(RedisURI.create(server.url()))
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
