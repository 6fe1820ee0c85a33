package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.ResilientQuotaStore.CircuitState;
import io.modelguard.test.FakeClock;
import io.modelguard.test.LogCapture;
import io.modelguard.test.redis.RedisServer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Redis answering the script with an error reply while the connection is fine. A Redis out of
 * memory ({@code OOM} under {@code noeviction}) refuses every key: an outage like any other, which
 * opens the breaker. A key another client overwrote with a value of another type ({@code
 * WRONGTYPE}) fails that key only: its decisions get the failure policy, but the breaker every key
 * goes through stays closed, and the operator is told which key, at most once a minute. So does a
 * key of the right type whose value the script does not write (a count that is no count, a hash
 * field missing or foreign): read as a full quota, it would allow the tenant its whole quota again.
 *
 * <p>Time is the test's: the script and the fallback on a fake clock, the circuit and the warnings
 * on a ticker the test moves.
 */
class RedisErrorReplyTest {
  private static final QuotaPlan PLAN = QuotaPlan.of(QuotaLimit.tokenBucket("tokens", 100, Duration.ofHours(1)));
  private static final Duration OPEN = Duration.ofSeconds(1);

  private final FakeClock clock = FakeClock.standard();
  private final AtomicLong nanos = new AtomicLong();
  private final QuotaKey key = QuotaKey.forTenant("errors-" + UUID.randomUUID(), "digits");
  private final QuotaKey other = QuotaKey.forTenant("other-" + UUID.randomUUID(), "digits");
  private RedisServer server;

  @BeforeEach
  void startRedis() {
    server = RedisServer.start(List.of("--maxmemory-policy", "noeviction"));
  }

  @AfterEach
  void stopRedis() {
    server.close();
  }

  private RedisQuotaStore store(FailurePolicy policy) {
    RedisQuotaStore store = RedisQuotaStore.builder(RedisURI.create(server.url()))
        .clientTimeForTesting(clock)
        .timeout(Duration.ofMillis(500))
        .openDuration(OPEN)
        .circuitTicker(nanos::get)
        .failurePolicy(policy)
        .build();
    assertThat(store.awaitReady(Duration.ofSeconds(10))).as("Redis answers").isTrue();
    return store;
  }

  /** The Redis name of the plan's one limit for {@code k}. */
  private static String redisKey(QuotaKey k) {
    return RedisQuotaStore.DEFAULT_PREFIX + "{" + k.partition() + "}:tokens:t3600";
  }

  @Test
  void aRedisOutOfMemoryIsAnOutageTheBreakerCountsAndTheFallbackAnswers() {
    try (LogCapture logged = LogCapture.of("io.modelguard", Level.INFO);
        RedisQuotaStore store = store(FailurePolicy.localFallback(1))) {
      assertThat(take(store, key, 10)).isEqualTo(redis(90));

      // The store's own keys fill the Redis (one per client address, as unauthenticated traffic makes).
      long used = Long.parseLong(field(server.cli("info", "memory"), "used_memory"));
      assertThat(server.cli("config", "set", "maxmemory", Long.toString(used + 256 * 1024))).contains("OK");
      QuotaDecision d = null;
      for (int i = 0; i < 100_000 && (d == null || !d.isDegraded()); i++) {
        d = store.acquire(QuotaKey.forAddress("10.0." + (i >> 8) + "." + (i & 255)), PLAN, 1);
      }
      assertThat(d.isDegraded()).as("Redis full: the fallback decided").isTrue();
      assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);

      long calls = store.redisCalls();
      assertThat(take(store, key, 1)).as("OOM: the fallback's own count").isEqualTo(fallback(99));
      assertThat(take(store, other, 1)).isEqualTo(fallback(99));
      assertThat(store.circuitState()).as("three OOM replies in a row open the breaker").isEqualTo(CircuitState.OPEN);
      assertThat(take(store, key, 1)).isEqualTo(fallback(98));
      assertThat(store.redisCalls() - calls).as("the open circuit leaves Redis alone").isEqualTo(2);
      assertThat(logged.messagesAt(Level.WARN)).singleElement().asString().contains("circuit open").contains("OOM");

      assertThat(server.cli("config", "set", "maxmemory", "0")).contains("OK");
      nanos.addAndGet(OPEN.toNanos());
      assertThat(take(store, key, 1)).as("Redis's count, untouched by the outage").isEqualTo(redis(89));
      assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
    }
  }

  @Test
  void aKeyOfAnotherTypeFailsOnlyThatKeyAndTheOperatorIsToldWhichOnceAMinute() {
    try (LogCapture logged = LogCapture.of("io.modelguard", Level.INFO);
        RedisQuotaStore store = store(FailurePolicy.localFallback(1))) {
      assertThat(take(store, key, 10)).isEqualTo(redis(90));
      // Another client writes a list under the key's name (or an older layout, or a shared prefix).
      assertThat(server.cli("del", redisKey(key))).contains("1");
      assertThat(server.cli("rpush", redisKey(key), "not a quota")).contains("1");

      long calls = store.redisCalls();
      for (int i = 1; i <= 10; i++) {
        assertThat(take(store, key, 1)).as("decision %d on the key of another type", i).isEqualTo(fallback(100 - i));
      }
      assertThat(store.redisCalls() - calls).as("each went to Redis: the key may be fixed at any time").isEqualTo(10);
      assertThat(store.circuitState()).as("one key's bad value is no outage of Redis").isEqualTo(CircuitState.CLOSED);
      assertThat(take(store, other, 1)).as("other keys are counted in Redis").isEqualTo(redis(99));
      assertThat(logged.messagesAt(Level.WARN)).singleElement().asString()
          .contains(redisKey(key)).contains("WRONGTYPE").contains("another type").doesNotContain("circuit open");

      nanos.addAndGet(TimeUnit.SECONDS.toNanos(61));
      assertThat(take(store, key, 1)).isEqualTo(fallback(89));
      assertThat(logged.messagesAt(Level.WARN)).as("a minute later, the next warning").hasSize(2);
      assertThat(logged.messagesAt(Level.WARN).get(1)).contains(redisKey(key)).contains("so far: 11,");

      assertThat(server.cli("del", redisKey(key))).contains("1"); // the operator removes it
      assertThat(take(store, key, 1)).as("counted in Redis again, from a full quota").isEqualTo(redis(99));
      assertThat(logged.messagesAt(Level.INFO)).isEmpty();
    }
  }

  @Test
  void underFailClosedAKeyOfAnotherTypeIsUnavailableWhileEveryOtherKeyIsCounted() {
    try (RedisQuotaStore store = store(FailurePolicy.failClosed())) {
      assertThat(server.cli("hset", redisKey(key), "field", "value")).contains("1");
      for (int i = 1; i <= 10; i++) {
        QuotaDecision d = store.acquire(key, PLAN, 1);
        assertThat(d.status()).isEqualTo(QuotaDecision.Status.UNAVAILABLE);
        assertThat(d.retryAfterMicros()).isPositive();
      }
      // Ten failures in a row on one key: a breaker counting them would answer 503 to every tenant.
      QuotaDecision o = store.acquire(other, PLAN, 1);
      assertThat(o.status()).as("another tenant: %s", o).isEqualTo(QuotaDecision.Status.ALLOWED);
      assertThat(o.isDegraded()).isFalse();
    }
  }

  @Test
  void aTokenBucketKeyHoldingNoCountTheScriptWritesIsRefusedNotReadAsAFullQuota() {
    String name = redisKey(key);
    Map<String, Consumer<RedisCommands<String, String>>> corrupt = new LinkedHashMap<>();
    for (String value : List.of("abc", "-5", "nan", "inf", "-inf", "1e20", "1.5", "0x10", "", " 7", "7 ",
        "9007199254740992", "99999999999999999999")) {
      corrupt.put("'" + value + "'", redis -> redis.set(name, value));
    }
    refusesEach(PLAN, name, corrupt);
  }

  @Test
  void aSlidingWindowKeyWithFieldsTheScriptDoesNotWriteIsRefusedNotReadAsAFullQuota() {
    QuotaPlan window = QuotaPlan.of(QuotaLimit.slidingWindow("daily", 100, Duration.ofDays(1)));
    String name = RedisQuotaStore.DEFAULT_PREFIX + "{" + key.partition() + "}:daily:s86400";
    Map<String, Consumer<RedisCommands<String, String>>> corrupt = new LinkedHashMap<>();
    corrupt.put("i=abc", redis -> redis.hset(name, Map.of("i", "abc", "c", "0", "p", "0")));
    corrupt.put("c=-1", redis -> redis.hset(name, Map.of("i", "1", "c", "-1", "p", "0")));
    corrupt.put("c=nan", redis -> redis.hset(name, Map.of("i", "1", "c", "nan", "p", "0")));
    corrupt.put("p=inf", redis -> redis.hset(name, Map.of("i", "1", "c", "0", "p", "inf")));
    corrupt.put("c=1.5", redis -> redis.hset(name, Map.of("i", "1", "c", "1.5", "p", "0")));
    corrupt.put("p missing", redis -> redis.hset(name, Map.of("i", "1", "c", "5")));
    corrupt.put("a foreign field too", redis -> redis.hset(name, Map.of("i", "1", "c", "5", "p", "0", "x", "1")));
    corrupt.put("only a foreign field", redis -> redis.hset(name, Map.of("field", "value")));
    corrupt.put("g=abc", redis -> redis.hset(name, Map.of("i", "1", "c", "5", "p", "0", "g", "abc")));
    corrupt.put("g=-2", redis -> redis.hset(name, Map.of("i", "1", "c", "5", "p", "0", "g", "-2")));
    corrupt.put("g and a foreign field", redis -> redis.hset(name, Map.of("i", "1", "c", "5", "p", "0", "g", "2", "x", "1")));
    corrupt.put("g, p missing", redis -> redis.hset(name, Map.of("i", "1", "c", "5", "g", "2")));
    refusesEach(window, name, corrupt);
  }

  /**
   * Writes each corrupt value under {@code name}, {@code key}'s one Redis key for {@code plan}:
   * under fail-closed every decision on it is unavailable (not allowed from a full quota) and
   * leaves the value as it was, while other keys are counted in Redis and the breaker stays
   * closed; the operator is told the key's name. Deleted, the key counts from a full quota again.
   */
  private void refusesEach(QuotaPlan plan, String name, Map<String, Consumer<RedisCommands<String, String>>> corrupt) {
    RedisClient client = RedisClient.create(RedisURI.create(server.url()));
    try (LogCapture logged = LogCapture.of("io.modelguard", Level.INFO);
        StatefulRedisConnection<String, String> connection = client.connect();
        RedisQuotaStore store = store(FailurePolicy.failClosed())) {
      RedisCommands<String, String> redis = connection.sync();
      for (Map.Entry<String, Consumer<RedisCommands<String, String>>> value : corrupt.entrySet()) {
        redis.del(name);
        value.getValue().accept(redis);
        String dump = redis.type(name) + " " + (redis.type(name).equals("string") ? redis.get(name) : redis.hgetall(name));

        QuotaDecision d = store.acquire(key, plan, 1);
        assertThat(d.status()).as("a decision on %s holding %s: %s", name, value.getKey(), d)
            .isEqualTo(QuotaDecision.Status.UNAVAILABLE);
        assertThat(redis.type(name) + " " + (redis.type(name).equals("string") ? redis.get(name) : redis.hgetall(name)))
            .as("the value is left for the operator to see").isEqualTo(dump);
      }
      assertThat(store.circuitState()).as("one key's bad value is no outage of Redis").isEqualTo(CircuitState.CLOSED);
      QuotaDecision o = store.acquire(other, plan, 1);
      assertThat(o.status()).as("another tenant: %s", o).isEqualTo(QuotaDecision.Status.ALLOWED);
      assertThat(o.isDegraded()).isFalse();
      assertThat(logged.messagesAt(Level.WARN)).singleElement().asString()
          .contains(name).contains("MGBADSTATE").contains("does not write").doesNotContain("circuit open");

      redis.del(name); // the operator removes it
      QuotaDecision fresh = store.acquire(key, plan, 1);
      assertThat(fresh.status()).as("counted in Redis again: %s", fresh).isEqualTo(QuotaDecision.Status.ALLOWED);
      assertThat(fresh.remaining(0)).isEqualTo(99);
      assertThat(store.acquire(key, plan, 1).remaining(0)).as("the state the script wrote reads back").isEqualTo(98);
    } finally {
      client.shutdown();
    }
  }

  /** Takes {@code cost} units of {@code k}; returns who decided and how many units are left. */
  private static String take(RedisQuotaStore store, QuotaKey k, long cost) {
    QuotaDecision d = store.acquire(k, PLAN, cost);
    assertThat(d.isAllowed()).as("allowed: %s", d).isTrue();
    return (d.isDegraded() ? "fallback " : "redis ") + d.remaining(0);
  }

  private static String redis(long remaining) {
    return "redis " + remaining;
  }

  private static String fallback(long remaining) {
    return "fallback " + remaining;
  }

  private static String field(String info, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + ":(\\d+)").matcher(info);
    assertThat(m.find()).as("%s in %s", name, info).isTrue();
    return m.group(1);
  }
}
