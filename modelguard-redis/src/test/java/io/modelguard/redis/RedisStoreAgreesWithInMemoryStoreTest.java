package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisURI;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaArithmetic;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.test.FakeClock;
import io.modelguard.test.redis.RedisServer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Lua script and {@link QuotaArithmetic} decide alike on random histories at the edges: the
 * largest quotas and windows, costs and refunds far beyond them (up to {@code Long.MIN_VALUE} and
 * {@code Long.MAX_VALUE}, past 2<sup>53</sup>, where Lua's doubles lose integers), settlements,
 * and times just before, at and after window edges. Time only moves forward there: where it steps
 * back the stores differ on purpose in one respect (Redis deletes a key back to a full quota at
 * once, the in-memory store may keep it until it is evicted). Token buckets and sliding windows on
 * a clock stepping back and forth are replayed apart, around that difference: both stores move
 * them back alike.
 */
class RedisStoreAgreesWithInMemoryStoreTest {
  private static final Duration[] WINDOWS = {Duration.ofSeconds(1), Duration.ofSeconds(7), Duration.ofMinutes(1),
      Duration.ofDays(1), QuotaLimit.MAX_WINDOW};

  private static RedisServer server;

  @BeforeAll
  static void startRedis() {
    server = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    server.close();
  }

  @Test
  void bothStoresAnswerTheSameToTheMicrosecondOnRandomHistories() {
    for (long seed = 1; seed <= 150; seed++) {
      replay(seed);
    }
  }

  @Test
  void bothStoresCapATokenBucketAlikeWhileTheClockStepsBackAndForth() {
    for (long seed = 1; seed <= 60; seed++) {
      replayWithStepsBack(seed);
    }
  }

  @Test
  void bothStoresMoveSlidingWindowsBackAlikeWhileTheClockStepsBackAndForth() {
    for (long seed = 1; seed <= 60; seed++) {
      replaySlidingWithStepsBack(seed);
    }
  }

  @Test
  void bothStoresRefuseATimeBefore1970AndWriteNothing() {
    // Quota state holds no time before 1970 (all zeros is a fresh key; the script's state is
    // unsigned digits): Java's truncating and Lua's flooring division would index such a time's
    // window differently, and the script would write a state it then refuses to read.
    FakeClock clock = FakeClock.at(Instant.parse("1969-12-31T23:59:30Z"));
    InMemoryQuotaStore memory = InMemoryQuotaStore.builder().clock(clock).build();
    try (RedisQuotaStore redis = RedisQuotaStore.builder(RedisURI.create(server.url())).clientTimeForTesting(clock)
        .timeout(Duration.ofSeconds(5)).failurePolicy(FailurePolicy.failClosed()).build()) {
      QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)),
          QuotaLimit.slidingWindow("minute", 5, Duration.ofMinutes(1)));
      QuotaKey key = QuotaKey.forTenant("agree-1969-" + UUID.randomUUID(), "digits");
      String prefix = RedisQuotaStore.DEFAULT_PREFIX + "{" + key.partition() + "}:";

      assertThatThrownBy(() -> memory.acquire(key, plan, 1)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("before 1970");
      assertThat(redis.acquire(key, plan, 1).status()).isEqualTo(QuotaDecision.Status.UNAVAILABLE);
      assertThat(server.cli("exists", prefix + "burst:t1", prefix + "minute:s60")).as("nothing written")
          .contains("0");

      clock.set(Instant.EPOCH.plusSeconds(1));
      for (int i = 0; i < 6; i++) {
        assertThat(redis.acquire(key, plan, 1)).hasToString(memory.acquire(key, plan, 1).toString());
      }
    }
  }

  private static QuotaLimit limit(SplittableRandom r, String name) {
    Duration window = WINDOWS[r.nextInt(WINDOWS.length)];
    boolean bucket = r.nextBoolean();
    long max = bucket ? window.getSeconds() * 1_000_000L : QuotaLimit.MAX_SLIDING_QUOTA;
    long[] quotas = {1, 2, 3, 10, 999_983, max / 3, max - 1, max};
    long quota = Math.min(max, quotas[r.nextInt(quotas.length)]);
    return bucket ? QuotaLimit.tokenBucket(name, quota, window) : QuotaLimit.slidingWindow(name, quota, window);
  }

  /**
   * One token bucket, the clock stepping back as often as forward. A write that leaves the bucket
   * at or before now (a refund) makes Redis delete it, while the in-memory store keeps that time,
   * which a later step back would count: the clock steps back only while no write left the bucket
   * so since the last grant, after which both stores hold the same time again.
   */
  private static void replayWithStepsBack(long seed) {
    replayWithStepsBack(seed, new StepBackScenario() {
      @Override
      public QuotaPlan plan(SplittableRandom r) {
        QuotaLimit limit = limit(r, "b");
        while (limit.algorithm() != QuotaLimit.Algorithm.TOKEN_BUCKET) {
          limit = limit(r, "b");
        }
        return QuotaPlan.of(limit);
      }

      @Override
      public long[] costs(long q) {
        return new long[] {1, 1, 2, 5, q, q + 1};
      }

      @Override
      public long[] deltas(long q) {
        return new long[] {-1, 1, -5, 5, -q, q, -3 * q, 3 * q};
      }

      @Override
      public boolean mayStepBackAfterAdjusting(QuotaPlan plan, QuotaDecision now) {
        return now.resetAfterMicros(0) > 0;
      }
    });
  }

  /**
   * One or two sliding windows, the clock stepping back as often as forward, by up to a year or
   * to a window edge. A write that leaves a window counting nothing (a refund) makes Redis delete
   * it, while the in-memory store keeps its index, which a later step back would find ahead: the
   * clock steps back only while every window counts something or nothing was written since.
   */
  private static void replaySlidingWithStepsBack(long seed) {
    replayWithStepsBack(seed, new StepBackScenario() {
      @Override
      public QuotaPlan plan(SplittableRandom r) {
        QuotaLimit[] limits = new QuotaLimit[1 + r.nextInt(2)];
        for (int i = 0; i < limits.length; i++) {
          do {
            limits[i] = limit(r, "s" + i);
          } while (limits[i].algorithm() != QuotaLimit.Algorithm.SLIDING_WINDOW || limits[i].quota() > 10);
        }
        return QuotaPlan.of(limits);
      }

      @Override
      public long[] costs(long q) {
        return new long[] {1, 1, 1, 2, q, q + 1};
      }

      @Override
      public long[] deltas(long q) {
        return new long[] {-1, 1, -2, 2, -q, q, -3 * q, 3 * q};
      }

      @Override
      public boolean mayStepBackAfterAdjusting(QuotaPlan plan, QuotaDecision now) {
        boolean mayStepBack = true;
        for (int i = 0; i < plan.size(); i++) {
          mayStepBack &= now.remaining(i) < plan.limits().get(i).quota();
        }
        return mayStepBack;
      }

      @Override
      public void afterMove(SplittableRandom r, FakeClock clock, QuotaPlan plan, boolean back) {
        if (r.nextInt(3) == 0) { // to a window edge: 1 µs before, at, or 1 µs after it
          long window = plan.limits().get(r.nextInt(plan.size())).windowMillis() * 1000;
          long now = clock.millis() * 1000;
          long edge = (back ? Math.floorDiv(now, window) : Math.floorDiv(now, window) + 1) * window
              + r.nextLong(-1, 2);
          clock.set(Instant.EPOCH.plusNanos(edge * 1000));
        }
      }
    });
  }

  /** What a replay on a clock stepping back and forth varies with the kind of limit it replays. */
  private interface StepBackScenario {
    /** The plan, drawn from {@code r}. */
    QuotaPlan plan(SplittableRandom r);

    /** The costs to draw from, for a first limit of quota {@code q}. */
    long[] costs(long q);

    /** The refunds and forced charges to draw from, for a first limit of quota {@code q}. */
    long[] deltas(long q);

    /** Whether the clock may step back once an adjustment left the key as {@code now} shows it. */
    boolean mayStepBackAfterAdjusting(QuotaPlan plan, QuotaDecision now);

    /** Moves the clock further after it moved ({@code back}: it stepped back), if the scenario does. */
    default void afterMove(SplittableRandom r, FakeClock clock, QuotaPlan plan, boolean back) {}
  }

  /**
   * A random history of decisions, settlements, adjustments and clock moves (back as often as
   * forward, while {@code scenario} says the stores would not differ on purpose), compared step by
   * step between the two stores.
   */
  private static void replayWithStepsBack(long seed, StepBackScenario scenario) {
    SplittableRandom r = new SplittableRandom(seed);
    try (Stores stores = Stores.open(r)) {
      QuotaPlan plan = scenario.plan(r);
      QuotaKey key = QuotaKey.forTenant("agree-back-" + seed + "-" + UUID.randomUUID(), "digits");
      long q = plan.limits().get(0).quota();
      long[] costs = scenario.costs(q);
      long[] deltas = scenario.deltas(q);
      long[] moves = {1, 999, 1_000_000, 60_000_000L, 3_600_000_000L, 86_400_000_000L, 366L * 86_400_000_000L};
      List<QuotaDecision> decided = new ArrayList<>();
      boolean mayStepBack = true;
      for (int step = 0; step < 60; step++) {
        String what = "seed " + seed + ", step " + step + ", " + plan + " at " + stores.clock().instant();
        int op = r.nextInt(10);
        if (op < 5) {
          long cost = costs[r.nextInt(costs.length)];
          QuotaDecision expected = stores.memory().acquire(key, plan, cost);
          QuotaDecision actual = stores.redis().acquire(key, plan, cost);
          assertThat(actual).as("%s, cost %d", what, cost).hasToString(expected.toString());
          decided.add(expected);
          mayStepBack |= expected.isAllowed();
        } else if (op < 7 && !decided.isEmpty()) {
          QuotaDecision now = stores.adjustAndCompare(r, key, plan, decided, deltas, what);
          mayStepBack = scenario.mayStepBackAfterAdjusting(plan, now);
        } else {
          long micros = r.nextLong(1, moves[r.nextInt(moves.length)] + 1);
          boolean back = mayStepBack && r.nextBoolean();
          stores.clock().advance(Duration.ofNanos((back ? -micros : micros) * 1000));
          scenario.afterMove(r, stores.clock(), plan, back);
        }
      }
    }
  }

  /** An in-memory store and a Redis one, both on one fake clock. */
  private record Stores(FakeClock clock, InMemoryQuotaStore memory, RedisQuotaStore redis) implements AutoCloseable {
    /** Both stores, on a clock starting at a time drawn from {@code r}. */
    static Stores open(SplittableRandom r) {
      FakeClock clock = FakeClock.at(Instant.parse("2026-01-01T00:00:00.250Z").plusMillis(r.nextLong(1_000_000_000L)));
      return new Stores(clock, InMemoryQuotaStore.builder().clock(clock).build(),
          RedisQuotaStore.builder(RedisURI.create(server.url())).clientTimeForTesting(clock)
              .timeout(Duration.ofSeconds(5)).failurePolicy(FailurePolicy.failClosed()).build());
    }

    /**
     * Settles (the script's kind 2) or adjusts one of the reservations {@code decided} by one of
     * {@code deltas} in both stores, then checks that both answer alike as of now; returns the
     * in-memory store's answer. Adjustments reach Redis asynchronously; a decision on the key
     * queues behind them, and one above every quota changes nothing.
     */
    QuotaDecision adjustAndCompare(SplittableRandom r, QuotaKey key, QuotaPlan plan, List<QuotaDecision> decided,
        long[] deltas, String what) {
      QuotaDecision reservation = decided.get(r.nextInt(decided.size()));
      long delta = deltas[r.nextInt(deltas.length)];
      if (r.nextBoolean()) {
        memory.settle(key, plan, delta, reservation);
        redis.settle(key, plan, delta, reservation);
      } else {
        memory.adjust(key, plan, delta, reservation.decidedAtMicros());
        redis.adjust(key, plan, delta, reservation.decidedAtMicros());
      }
      QuotaDecision expected = memory.acquire(key, plan, Long.MAX_VALUE);
      assertThat(redis.acquire(key, plan, Long.MAX_VALUE)).as("%s, after adjusting by %d", what, delta)
          .hasToString(expected.toString());
      return expected;
    }

    @Override
    public void close() {
      redis.close();
    }
  }

  private static void replay(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    try (Stores stores = Stores.open(r)) {
      FakeClock clock = stores.clock();
      InMemoryQuotaStore memory = stores.memory();
      RedisQuotaStore redis = stores.redis();
      QuotaLimit[] limits = new QuotaLimit[1 + r.nextInt(3)];
      for (int i = 0; i < limits.length; i++) {
        limits[i] = limit(r, "l" + i);
      }
      QuotaPlan plan = QuotaPlan.of(limits);
      QuotaKey key = QuotaKey.forTenant("agree-" + seed + "-" + UUID.randomUUID(), "digits");
      long[] costs = {1, 1, 2, 5, 100, limits[0].quota(), limits[0].quota() + 1, 1L << 40, 1L << 53, Long.MAX_VALUE};
      long[] deltas = {-1, 1, -5, 5, -(1L << 40), 1L << 40, -(1L << 54), 1L << 54, Long.MIN_VALUE, Long.MAX_VALUE};
      long[] moves = {1, 999, 1000, 1_000_000, 60_000_000L, 86_400_000_000L, 366L * 86_400_000_000L};
      List<QuotaDecision> decided = new ArrayList<>();
      for (int step = 0; step < 60; step++) {
        String what = "seed " + seed + ", step " + step + ", " + plan;
        int op = r.nextInt(10);
        if (op < 5) {
          long cost = costs[r.nextInt(costs.length)];
          QuotaDecision expected = memory.acquire(key, plan, cost);
          QuotaDecision actual = redis.acquire(key, plan, cost);
          assertThat(actual).as("%s, cost %d", what, cost).hasToString(expected.toString());
          assertThat(actual.decidedAtMicros()).as(what).isEqualTo(expected.decidedAtMicros());
          decided.add(expected);
        } else if (op < 7 && !decided.isEmpty()) {
          stores.adjustAndCompare(r, key, plan, decided, deltas, what);
        } else {
          long micros = moves[r.nextInt(moves.length)];
          if (r.nextBoolean()) {
            micros = r.nextLong(1, micros + 1);
          }
          if (r.nextInt(3) == 0) { // to a window edge: 1 µs before, at, or 1 µs after it
            long window = limits[r.nextInt(limits.length)].windowMillis() * 1000;
            long now = QuotaArithmetic.micros(clock);
            micros = Math.max(1, (Math.floorDiv(now, window) + 1) * window - now + r.nextInt(3) - 1);
          }
          clock.advance(Duration.ofNanos(micros * 1000));
        }
      }
    }
  }
}
