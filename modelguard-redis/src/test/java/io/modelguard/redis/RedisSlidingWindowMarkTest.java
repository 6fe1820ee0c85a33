package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.test.FakeClock;
import io.modelguard.test.redis.RedisServer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sliding window's mark in Redis (field {@code g}): a key as earlier versions wrote it, without
 * the field, reads as unmarked; a move back after a clock step back writes the mark, keeps the key
 * while the mark decides refunds even with nothing counted, and drops the field two windows on.
 */
class RedisSlidingWindowMarkTest {
  private static final QuotaPlan PLAN = QuotaPlan.of(QuotaLimit.slidingWindow("volume", 5, Duration.ofMinutes(1)));
  private static final long W = 60_000;
  /** The extra TTL of the test-only client-time mode ({@link RedisScriptStore}). */
  private static final long GRACE = 3_600_000;

  private final FakeClock clock = FakeClock.standard();
  private final QuotaKey key = QuotaKey.forTenant("mark-" + UUID.randomUUID(), "digits");
  private final String name = RedisQuotaStore.DEFAULT_PREFIX + "{" + key.partition() + "}:volume:s60";
  private RedisServer server;
  private RedisClient client;
  private StatefulRedisConnection<String, String> connection;
  private RedisQuotaStore store;

  @BeforeEach
  void start() {
    server = RedisServer.start();
    client = RedisClient.create(RedisURI.create(server.url()));
    connection = client.connect();
    store = RedisQuotaStore.builder(RedisURI.create(server.url()))
        .clientTimeForTesting(clock)
        .timeout(Duration.ofSeconds(5))
        .failurePolicy(FailurePolicy.failClosed())
        .build();
  }

  @AfterEach
  void stop() {
    store.close();
    connection.close();
    client.shutdown();
    server.close();
  }

  @Test
  void aKeyWithoutTheMarkReadsAsUnmarkedAndAMoveBackMarksItUntilTwoWindowsOn() {
    RedisCommands<String, String> redis = connection.sync();
    long s = clock.millis() / W + 1;
    clock.set(Instant.ofEpochMilli(s * W + 10_000));
    // As an earlier version wrote it: 2 counted in S, three fields.
    redis.hset(name, Map.of("i", Long.toString(s), "c", "2", "p", "0"));
    redis.pexpire(name, 120_000);
    QuotaDecision d = store.acquire(key, PLAN, 3);
    assertThat(d.isAllowed()).as("%s", d).isTrue();
    assertThat(d.remaining(0)).as("the 2 read as counted in S").isZero();
    assertThat(redis.hgetall(name)).containsExactlyInAnyOrderEntriesOf(Map.of("i", Long.toString(s), "c", "5", "p", "0"));

    clock.set(Instant.ofEpochMilli((s - 1) * W + 40_000)); // the clock steps back 30 s
    assertThat(store.acquire(key, PLAN, 1).isAllowed()).as("refused, so moved back to S - 1").isFalse();
    assertThat(redis.hgetall(name)).as("marked: moved back one window from S")
        .containsExactlyInAnyOrderEntriesOf(Map.of("i", Long.toString(s - 1), "c", "5", "p", "0", "g", Long.toString(2 * s)));

    store.adjust(key, PLAN, -5, s * W * 1000 + 10_000_000); // S's charges, off the current count
    assertThat(store.acquire(key, PLAN, 6).isAllowed()).as("never fits; runs after the refund").isFalse();
    assertThat(redis.hgetall(name)).as("nothing counted, yet kept: the mark still decides refunds")
        .containsExactlyInAnyOrderEntriesOf(Map.of("i", Long.toString(s - 1), "c", "0", "p", "0", "g", Long.toString(2 * s)));
    assertThat(redis.pttl(name) - GRACE).as("until S + 2, not S + 1 as the index alone would keep it")
        .isGreaterThan((s + 1) * W - clock.millis()).isLessThanOrEqualTo((s + 2) * W - clock.millis());

    clock.set(Instant.ofEpochMilli((s + 2) * W + 1_000));
    assertThat(store.acquire(key, PLAN, 1).isAllowed()).isTrue();
    assertThat(redis.hgetall(name)).as("two windows on, the mark is dropped")
        .containsExactlyInAnyOrderEntriesOf(Map.of("i", Long.toString(s + 2), "c", "1", "p", "0"));
  }
}
