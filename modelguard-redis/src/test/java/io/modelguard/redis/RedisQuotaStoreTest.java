package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaKeyStateException;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.QuotaStoreException;
import io.modelguard.quota.ResilientQuotaStore;
import io.modelguard.test.LogCapture;
import io.modelguard.test.redis.RedisServer;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the Redis store does beyond the shared contract: Redis time, keys and TTLs, coalescing, script reloads. */
class RedisQuotaStoreTest {
  private static RedisServer server;
  private static RedisClient client;
  private static StatefulRedisConnection<String, String> connection;
  private static RedisCommands<String, String> redis;

  @BeforeAll
  static void startRedis() {
    server = RedisServer.start();
    client = RedisClient.create(RedisURI.create(server.url()));
    connection = client.connect();
    redis = connection.sync();
  }

  @AfterAll
  static void stopRedis() {
    connection.close();
    client.shutdown();
    server.close();
  }

  private static RedisQuotaStore.Builder builder() {
    return RedisQuotaStore.builder(RedisURI.create(server.url())).timeout(Duration.ofSeconds(5)).failurePolicy(FailurePolicy.failClosed());
  }

  private static QuotaKey key(String name) {
    return QuotaKey.forTenant(name + "-" + UUID.randomUUID(), "digits");
  }

  @Test
  void decisionsRunOnRedisTimeAndRefillInRealTime() throws Exception {
    try (RedisQuotaStore store = builder().build()) {
      QuotaKey key = key("real-time");
      QuotaPlan plan = QuotaPlan.of(QuotaLimit.slidingWindow("second", 10, Duration.ofSeconds(1)),
          QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1)));
      long before = System.currentTimeMillis() * 1000;
      QuotaDecision first = store.acquire(key, plan, 5);
      assertThat(first.isAllowed()).isTrue();
      assertThat(first.decidedAtMicros()).as("Redis TIME on this machine").isBetween(before - 5_000_000, before + 5_000_000);
      QuotaDecision denied = store.acquire(key, plan, 1);
      assertThat(denied.isAllowed()).isFalse();
      assertThat(denied.retryAfterMicros()).isBetween(1L, 1_000_000L);
      Thread.sleep(denied.retryAfterMicros() / 1000 + 30); // a real window: Redis keeps its own time
      QuotaDecision later = store.acquire(key, plan, 1);
      assertThat(later.isAllowed()).as("allowed after waiting Retry-After: %s then %s", denied, later).isTrue();
      assertThat(later.decidedAtMicros()).isGreaterThan(denied.decidedAtMicros() + denied.retryAfterMicros() - 1);
    }
  }

  @Test
  void keysAreHashTaggedPerTenantAndModelAndExpire() {
    try (RedisQuotaStore store = builder().build()) {
      QuotaKey key = key("ttl");
      QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofMinutes(1)),
          QuotaLimit.slidingWindow("daily", 100, Duration.ofDays(1)));
      QuotaDecision d = store.acquire(key, plan, 1);
      String tag = "mg:q:{" + key.partition() + "}:";
      assertThat(redis.pttl(tag + "burst:t60")).isBetween(1L, 6_000L + 1_000L);
      assertThat(redis.hgetall(tag + "daily:s86400")).containsEntry("c", "1").containsEntry("p", "0").containsKey("i");
      assertThat(redis.pttl(tag + "daily:s86400")).isBetween(86_400_000L, 2 * 86_400_000L + 1_000L);
      store.adjust(key, plan, -1, d.decidedAtMicros());
      // Adjustments are asynchronous; a decision on the same key is queued behind it.
      assertThat(store.acquire(key, plan, 1).remaining(1)).isEqualTo(99);
      store.adjust(key, plan, -1, d.decidedAtMicros());
      store.acquire(QuotaKey.forTenant("flush", "digits"), plan, 1);
      assertThat(awaitGone(tag + "daily:s86400")).as("a key back to a full quota is deleted").isTrue();
      assertThat(redis.exists(tag + "burst:t60")).isZero();
    }
  }

  @Test
  void tenantsWhoseNamesDifferOnlyInLoneSurrogatesKeepTheirOwnCounts() {
    // UTF-8 on the way to Redis would turn each lone surrogate into '?': one key for all three.
    QuotaPlan plan = QuotaPlan.of(QuotaLimit.slidingWindow("daily", 5, Duration.ofDays(1)));
    String tenant = "acme-" + UUID.randomUUID();
    QuotaKey high = QuotaKey.forTenant(tenant + "\uD800", "digits");
    QuotaKey low = QuotaKey.forTenant(tenant + "\uDFFF", "digits");
    QuotaKey question = QuotaKey.forTenant(tenant + "?", "digits");
    try (RedisQuotaStore store = builder().build()) {
      assertThat(store.acquire(high, plan, 5).isAllowed()).isTrue();

      assertThat(store.acquire(low, plan, 5).isAllowed()).as("another tenant: its own count").isTrue();
      assertThat(store.acquire(question, plan, 5).isAllowed()).as("another tenant: its own count").isTrue();
      assertThat(store.acquire(high, plan, 1).isAllowed()).as("the first tenant is spent").isFalse();
    }
  }

  @Test
  void thePlansWhoseArgumentsAreCachedStayBounded() {
    // Per-principal quota claims can make a new plan per request; the cache must not keep them all.
    RedisScriptStore script = new RedisScriptStore(() -> null, "mg:q:", 1_000_000L, null, false, 1, (k, d, e) -> {},
        RedisScriptStore.randomInstanceId(), 10_000L);
    for (int i = 1; i <= RedisScriptStore.MAX_CACHED_PLANS * 2 + 1; i++) {
      QuotaPlan plan = QuotaPlan.of(QuotaLimit.slidingWindow("daily", i, Duration.ofDays(1)));
      assertThat(script.limitArgsOf(plan)).contains(Long.toString(i));
      assertThat(script.cachedPlans()).isBetween(1, RedisScriptStore.MAX_CACHED_PLANS);
    }
  }

  private static boolean awaitGone(String redisKey) {
    for (int i = 0; i < 100; i++) {
      if (redis.exists(redisKey) == 0) {
        return true;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  @Test
  void concurrentDecisionsOnOneKeyShareScriptCallsAndStayExact() throws Exception {
    try (RedisQuotaStore store = builder().build()) {
      assertThat(store.awaitReady(Duration.ofSeconds(10))).isTrue();
      int admitted = hammer(store, key("coalesced"), 500, 16, 100);
      assertThat(admitted).isEqualTo(500);
      assertThat(store.scriptCalls()).as("1,600 decisions in far fewer script calls").isLessThan(800);
    }
  }

  @Test
  void withoutCoalescingEveryDecisionIsAScriptCallAndStillExact() throws Exception {
    try (RedisQuotaStore store = builder().coalescing(false).build()) {
      int admitted = hammer(store, key("single"), 300, 16, 40);
      assertThat(admitted).isEqualTo(300);
      assertThat(store.scriptCalls()).isEqualTo(16 * 40);
    }
  }

  private static int hammer(RedisQuotaStore store, QuotaKey key, long quota, int threads, int attempts)
      throws InterruptedException {
    QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", quota, Duration.ofDays(30)));
    AtomicInteger admitted = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < attempts; i++) {
          if (store.acquire(key, plan, 1).isAllowed()) {
            admitted.incrementAndGet();
          }
        }
      });
      workers.add(w);
      w.start();
    }
    go.countDown();
    for (Thread w : workers) {
      w.join();
    }
    return admitted.get();
  }

  @Test
  void warnsAtStartUnlessRedisIsSetNotToEvictKeys() {
    // Evicted quota keys read as full quotas: a Redis that evicts under memory pressure resets tenants.
    try (LogCapture logged = LogCapture.of(RedisQuotaStore.class, Level.WARN)) {
      assertThat(server.cli("config", "set", "maxmemory-policy", "volatile-lru")).contains("OK");
      try (RedisQuotaStore store = builder().build()) {
        assertThat(store.awaitReady(Duration.ofSeconds(10))).isTrue();
      }
      assertThat(logged.messagesAt(Level.WARN)).singleElement().asString()
          .contains("'volatile-lru'").contains("noeviction");

      logged.clear();
      assertThat(server.cli("config", "set", "maxmemory-policy", "noeviction")).contains("OK");
      try (RedisQuotaStore store = builder().build()) {
        assertThat(store.awaitReady(Duration.ofSeconds(10))).isTrue();
        assertThat(store.evictionPolicy(Duration.ofSeconds(10))).contains("noeviction");
      }
      assertThat(logged.messagesAt(Level.WARN)).isEmpty();
    } finally {
      server.cli("config", "set", "maxmemory-policy", "noeviction");
    }
  }

  @Test
  void aRefundRedisFailsToApplyIsCountedAndWarnedAboutNotLostSilently() throws Exception {
    // Settlements reach Redis asynchronously, after settle() returned: one that Redis then refuses
    // (here it is out of memory) leaves the tenant charged for units it did not use, which an
    // operator must be able to see; it was logged at DEBUG only.
    try (LogCapture logged = LogCapture.of(ResilientQuotaStore.class, Level.WARN);
        RedisQuotaStore store = builder().build()) {
      QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofMinutes(1)));
      QuotaKey key = key("lost-refund");
      QuotaDecision reservation = store.acquire(key, plan, 5);
      assertThat(server.cli("config", "set", "maxmemory", "1")).contains("OK");
      try {
        store.settle(key, plan, -4, reservation);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (store.droppedSettlements() == 0 && System.nanoTime() < deadline) {
          Thread.sleep(5); // waits for the asynchronous answer, not for time to pass
        }
      } finally {
        server.cli("config", "set", "maxmemory", "0");
      }
      assertThat(store.droppedSettlements()).isEqualTo(1);
      assertThat(logged.messagesAt(Level.WARN)).singleElement().asString()
          .contains("settlement of -4 units").contains(key.toString()).contains("OOM");
      assertThat(store.acquire(key, plan, 1).remaining(0)).as("the refund was not applied").isEqualTo(4);
      assertThat(store.circuitState()).isEqualTo(ResilientQuotaStore.CircuitState.CLOSED);
    }
  }

  @Test
  void reloadsTheScriptWhenRedisHasForgottenIt() {
    try (RedisQuotaStore store = builder().build()) {
      QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofMinutes(1)));
      assertThat(store.acquire(key("flush"), plan, 1).isAllowed()).isTrue();
      assertThat(server.cli("script", "flush")).contains("OK");
      QuotaDecision d = store.acquire(key("flush"), plan, 1);
      assertThat(d.isAllowed()).isTrue();
      assertThat(d.isDegraded()).isFalse();
    }
  }

  @Test
  void anInterruptedCallerGetsRedisDecisionAndOpensNoBreaker() {
    // A request thread whose interrupt flag is set (restored by a library earlier in the request,
    // or set by a time limiter that gave up on it) is no Redis outage: its decision is still
    // Redis's, the flag stays set for the caller, and such calls never open the breaker that every
    // other tenant's decisions go through (fail-closed: 503 for everyone).
    try (RedisQuotaStore store = builder().failureThreshold(3).build()) {
      QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofMinutes(1)));
      QuotaKey key = key("interrupted");
      for (int i = 0; i < 3; i++) {
        Thread.currentThread().interrupt();
        QuotaDecision d;
        try {
          d = store.acquire(key, plan, 1);
        } finally {
          assertThat(Thread.interrupted()).as("the caller's interrupt flag is kept").isTrue();
        }
        assertThat(d.status()).as("decision %d: %s", i, d).isEqualTo(QuotaDecision.Status.ALLOWED);
        assertThat(d.isDegraded()).isFalse();
        assertThat(d.remaining(0)).isEqualTo(9 - i);
      }
      assertThat(store.circuitState()).isEqualTo(ResilientQuotaStore.CircuitState.CLOSED);
      assertThat(store.acquire(key("other-tenant"), plan, 1).status()).isEqualTo(QuotaDecision.Status.ALLOWED);
    }
  }

  @Test
  void bucketEndsOfTheWrongLengthAreRefusedRatherThanMisreadAsTheNextDecision() throws Exception {
    // The script reads one end per limit and the next decision of the batch right after them: an
    // array with an extra element made it read that element as the next decision's kind and the
    // decision's kind as its cost, so another request on the key was allowed at no cost. (The
    // in-memory store reads one end per limit and ignores the rest.)
    CompletableFuture<RedisScriptingAsyncCommands<String, String>> connected = new CompletableFuture<>();
    RedisScriptStore script = new RedisScriptStore(() -> connected, "mg:q:", Duration.ofSeconds(5).toNanos(), null, true, 128,
        (k, d, e) -> {}, RedisScriptStore.randomInstanceId(), 10_000L);
    QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofMinutes(1)));
    QuotaKey key = key("ends");
    script.adjust(key, plan, 1, 0); // a forced charge of one unit, in flight until connected
    Throwable refused = null;
    try {
      script.adjust(key, plan, -1, 0, new long[] {0, 0}); // queued: the next call carries it
    } catch (IllegalArgumentException e) {
      refused = e;
    }
    ExecutorService caller = Executors.newSingleThreadExecutor();
    try {
      Future<QuotaDecision> whole = caller.submit(() -> script.acquire(key, plan, 10)); // queued too
      while (script.operations() < (refused == null ? 3 : 2)) {
        Thread.onSpinWait();
      }
      connected.complete(connection.async());
      QuotaDecision d = whole.get(10, TimeUnit.SECONDS);
      assertThat(d.isAllowed()).as("nine units left, ten asked: %s", d).isFalse();
      assertThat(refused).as("ends for two limits on a plan of one").isInstanceOf(IllegalArgumentException.class);
    } finally {
      caller.shutdownNow();
    }
  }

  @Test
  void aCallThatThrowsInsteadOfFailingItsFutureDoesNotLeaveTheKeyStuck() throws Exception {
    // One script call of a key is in flight at a time; one that threw before it had a future to
    // complete (here the connection's supplier) left it counted in flight for good, so every later
    // decision of that key waited for the timeout and failed.
    AtomicInteger calls = new AtomicInteger();
    RedisScriptStore script = new RedisScriptStore(() -> {
      if (calls.getAndIncrement() == 0) {
        throw new IllegalStateException("connection factory failed");
      }
      return CompletableFuture.completedFuture(connection.async());
    }, "mg:q:", Duration.ofSeconds(5).toNanos(), null, true, 128, (k, d, e) -> {},
        RedisScriptStore.randomInstanceId(), 10_000L);
    QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofMinutes(1)));
    QuotaKey key = key("thrown");

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> script.acquire(key, plan, 1))
        .isInstanceOf(io.modelguard.quota.QuotaStoreException.class);
    QuotaDecision next = script.acquire(key, plan, 1);
    assertThat(next.isAllowed()).as("the key's next decision is Redis's").isTrue();
    assertThat(next.remaining(0)).isEqualTo(9);
  }

  @Test
  void aScriptCallSentTwiceIsAppliedOnceAndTheSecondGetsTheFirstReplyOnAStandaloneRedisToo() throws Exception {
    // Any client-side retry of a call Redis ran already (Lettuce's re-send after a lost reply, say)
    // would charge a decision or give a refund back twice. Here every script call is sent twice in
    // a row on one connection, as a re-send would be, and the caller hears the second's reply: the
    // first's, kept in its replay guard. (It was refused, so the failure policy answered a decision
    // Redis had allowed and charged.)
    AtomicInteger dropped = new AtomicInteger();
    RedisScriptStore script = new RedisScriptStore(() -> CompletableFuture.completedFuture(sentTwice(connection.async())),
        "mg:q:", Duration.ofSeconds(5).toNanos(), null, true, 128, (k, d, e) -> dropped.incrementAndGet(),
        RedisScriptStore.randomInstanceId(), 10_000L);
    QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("daily", 100, Duration.ofDays(1)));
    QuotaKey key = key("twice");

    QuotaDecision decided = script.acquire(key, plan, 10);
    assertThat(decided.status()).as("Redis's own decision: %s", decided).isEqualTo(QuotaDecision.Status.ALLOWED);
    assertThat(decided.remaining(0)).isEqualTo(90);
    script.adjust(key, plan, -4, 0);

    RedisScriptStore once = new RedisScriptStore(() -> CompletableFuture.completedFuture(connection.async()), "mg:q:",
        Duration.ofSeconds(5).toNanos(), null, true, 128, (k, d, e) -> {}, RedisScriptStore.randomInstanceId(), 10_000L);
    // A cost above the quota is never charged: this reads the units left.
    assertThat(once.acquire(key, plan, 101).remaining(0)).as("charged 10 once, 4 given back once").isEqualTo(94);
    assertThat(dropped.get()).as("the refund was applied, so it is not reported lost").isZero();
  }

  @Test
  void aCallReSentWhileRedisIsOutOfMemoryGetsItsFirstReply() throws Exception {
    // Above maxmemory Redis refuses a script's first write, and only that one. The guard's SET NX
    // was that write, so a call re-sent while Redis was full got OOM though its first run had been
    // applied: its decision failed (under fail-closed, denied though charged) and its refund was
    // reported dropped though given back. Each call here runs once with memory to spare, and is
    // re-sent while Redis is full.
    redis.scriptLoad(RedisScriptStore.SCRIPT); // no fallback to EVAL on Lettuce's thread
    AtomicInteger dropped = new AtomicInteger();
    RedisScriptStore script = new RedisScriptStore(
        () -> CompletableFuture.completedFuture(reSentWhileFull(connection.async())), "mg:q:",
        Duration.ofSeconds(5).toNanos(), null, false, 1, (k, d, e) -> dropped.incrementAndGet(),
        RedisScriptStore.randomInstanceId(), 10_000L);
    QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("daily", 100, Duration.ofDays(1)));
    QuotaKey key = key("resent-full");

    QuotaDecision decided = script.acquire(key, plan, 10);
    assertThat(decided.status()).as("Redis's own decision: %s", decided).isEqualTo(QuotaDecision.Status.ALLOWED);
    assertThat(decided.remaining(0)).isEqualTo(90);
    script.adjust(key, plan, -4, 0);

    RedisScriptStore once = new RedisScriptStore(() -> CompletableFuture.completedFuture(connection.async()), "mg:q:",
        Duration.ofSeconds(5).toNanos(), null, false, 1, (k, d, e) -> {}, RedisScriptStore.randomInstanceId(), 10_000L);
    assertThat(once.acquire(key, plan, 101).remaining(0)).as("charged 10 once, 4 given back once").isEqualTo(94);
    assertThat(dropped.get()).as("the refund was applied, so it is not reported lost").isZero();
  }

  /**
   * {@code commands}, sending each script call a second time while Redis is above {@code
   * maxmemory} and answering with the second's reply. Blocks the caller: for calls sent on the
   * caller's thread (no coalescing) of a script Redis has loaded.
   */
  @SuppressWarnings("unchecked") // a proxy of the very interface it is cast to
  private static RedisScriptingAsyncCommands<String, String> reSentWhileFull(
      RedisScriptingAsyncCommands<String, String> commands) {
    return (RedisScriptingAsyncCommands<String, String>) Proxy.newProxyInstance(RedisQuotaStoreTest.class.getClassLoader(),
        new Class<?>[] {RedisScriptingAsyncCommands.class}, (proxy, method, args) -> {
          Object first = method.invoke(commands, args);
          if (!method.getName().startsWith("eval")) {
            return first;
          }
          assertThat(((RedisFuture<?>) first).await(5, TimeUnit.SECONDS)).isTrue();
          assertThat(server.cli("config", "set", "maxmemory", "1")).contains("OK");
          try {
            RedisFuture<?> second = (RedisFuture<?>) method.invoke(commands, args);
            assertThat(second.await(5, TimeUnit.SECONDS)).isTrue();
            return second;
          } finally {
            server.cli("config", "set", "maxmemory", "0");
          }
        });
  }

  @Test
  void aCallSentTwiceOnAKeyOfAnotherTypeFailsTwiceAndItsRefundIsReportedLostNotApplied() throws Exception {
    // The first run failed with WRONGTYPE and applied nothing; the re-sent call was refused as a
    // replay, and a refused refund counts as applied: a lost refund no one was told of.
    AtomicInteger dropped = new AtomicInteger();
    RedisScriptStore script = new RedisScriptStore(() -> CompletableFuture.completedFuture(sentTwice(connection.async())),
        "mg:q:", Duration.ofSeconds(5).toNanos(), null, true, 128, (k, d, e) -> dropped.incrementAndGet(),
        RedisScriptStore.randomInstanceId(), 10_000L);
    QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("daily", 100, Duration.ofDays(1)));
    QuotaKey key = key("twice-broken");
    redis.rpush("mg:q:{" + key.partition() + "}:daily:t86400", "not a quota");

    assertThatThrownBy(() -> script.acquire(key, plan, 10)).isInstanceOf(QuotaKeyStateException.class)
        .hasMessageContaining("WRONGTYPE");
    script.adjust(key, plan, -4, 0);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (dropped.get() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(5); // waits for the asynchronous answer, not for time to pass
    }
    assertThat(dropped.get()).as("the refund Redis could not apply is reported lost").isEqualTo(1);
  }

  @Test
  void aReplayWhoseKeptReplyCannotBeReadIsRefusedAndChangesNothing() {
    // The guard keeps no reply the script can read (its first run failed before keeping one, or
    // another client wrote it): the call is refused as a replay, not run a second time.
    String instance = "unreadable" + UUID.randomUUID().toString().replace("-", "");
    RedisScriptStore script = new RedisScriptStore(() -> CompletableFuture.completedFuture(connection.async()), "mg:q:",
        Duration.ofSeconds(5).toNanos(), null, true, 128, (k, d, e) -> {}, instance, 10_000L);
    QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("daily", 100, Duration.ofDays(1)));
    QuotaKey key = key("unreadable");
    String guards = "mg:q:{" + key.partition() + "}:c:" + instance + ":";
    List<String> kept = List.of("?", "r 1 1 2", "r 1 1 2 0 0 x", "r 1 1 2 0 0 0 0", "e", "1");
    for (int call = 1; call <= kept.size(); call++) {
      redis.psetex(guards + call, 10_000, kept.get(call - 1));
    }

    for (int call = 1; call <= kept.size(); call++) {
      String guard = kept.get(call - 1);
      assertThatThrownBy(() -> script.acquire(key, plan, 10)).as("guard '%s'", guard)
          .isInstanceOf(QuotaStoreException.class).hasMessageContaining("refused a re-sent quota call");
    }
    assertThat(redis.exists("mg:q:{" + key.partition() + "}:daily:t86400")).as("nothing charged").isZero();
    assertThat(script.acquire(key, plan, 10).remaining(0)).as("the next call runs").isEqualTo(90);
    String reply = redis.get(guards + (kept.size() + 1));
    assertThat(reply).as("its reply kept for a replay").matches("r [0-9]+ 1 [0-9]+ 0 0 0");
    assertThat(redis.pttl(guards + (kept.size() + 1))).isBetween(1L, 10_000L);
  }

  /** {@code commands}, sending each script call twice and answering with the second's reply. */
  @SuppressWarnings("unchecked") // a proxy of the very interface it is cast to
  private static RedisScriptingAsyncCommands<String, String> sentTwice(RedisScriptingAsyncCommands<String, String> commands) {
    return (RedisScriptingAsyncCommands<String, String>) Proxy.newProxyInstance(RedisQuotaStoreTest.class.getClassLoader(),
        new Class<?>[] {RedisScriptingAsyncCommands.class}, (proxy, method, args) -> {
          Object first = method.invoke(commands, args);
          return method.getName().startsWith("eval") ? method.invoke(commands, args) : first;
        });
  }

  @Test
  void eachScriptCallLeavesAReplayGuardThatExpires() {
    try (RedisQuotaStore store = builder().build()) {
      QuotaKey key = key("guard");
      QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofMinutes(1)));
      store.acquire(key, plan, 1);
      store.acquire(key, plan, 1);

      String tag = "mg:q:{" + key.partition() + "}:";
      List<String> guards = redis.keys(tag + "c:*");
      assertThat(guards).as("one guard per call, in the key's slot, numbered").hasSize(2)
          .allMatch(k -> k.matches(java.util.regex.Pattern.quote(tag) + "c:[A-Za-z0-9_-]{22}:[0-9]+"));
      for (String guard : guards) {
        // Twice Lettuce's own timeout of twice the store's 5 s, so past any re-send of the call.
        assertThat(redis.pttl(guard)).as("TTL of %s", guard).isBetween(1L, 20_000L);
      }
    }
  }

  @Test
  void buildsWhileRedisIsDownAndAnswersWithItsFailurePolicyWithinTheTimeout() {
    RedisURI nowhere = RedisURI.create("redis://127.0.0.1:" + RedisServer.freePort());
    try (RedisQuotaStore store = RedisQuotaStore.builder(nowhere).timeout(Duration.ofMillis(100))
        .failurePolicy(FailurePolicy.failClosed()).build()) {
      QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofMinutes(1)));
      long t0 = System.nanoTime();
      QuotaDecision d = store.acquire(key("down"), plan, 1);
      long millis = (System.nanoTime() - t0) / 1_000_000;
      assertThat(d.status()).isEqualTo(QuotaDecision.Status.UNAVAILABLE);
      assertThat(millis).isLessThanOrEqualTo(100 + 400);
    }
  }
}
