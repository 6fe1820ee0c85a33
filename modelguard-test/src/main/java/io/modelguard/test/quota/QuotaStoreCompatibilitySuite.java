package io.modelguard.test.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.modelguard.quota.QuotaArithmetic;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.QuotaStore;
import io.modelguard.test.FakeClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link QuotaStore} keeps, in the manner of Bucket4j's shared backend tests. A
 * store's test extends this class and implements {@link #createStore(Clock)}; the store must take
 * all its time from the given clock (a Redis store in its test-only client-time mode), so every
 * figure below is exact: both stores must answer the same numbers to the microsecond.
 *
 * <p>Each test uses fresh tenant names, so stores may share a backend between tests.
 */
public abstract class QuotaStoreCompatibilitySuite {
  /** Where every test's clock starts: a quarter second past midnight, 2026-01-01 UTC. */
  public static final Instant START = Instant.parse("2026-01-01T00:00:00.250Z");

  /** The clock the store under test must use. */
  protected final FakeClock clock = FakeClock.at(START);

  private final String run = UUID.randomUUID().toString().substring(0, 8);
  private QuotaStore store;

  /**
   * Creates the store under test, taking all its time from {@code clock}.
   *
   * @param clock the suite's fake clock
   * @return a new, empty store
   * @throws Exception if the store cannot be created
   */
  protected abstract QuotaStore createStore(Clock clock) throws Exception;

  /**
   * Releases a store made by {@link #createStore}. Default: nothing.
   *
   * @param store the store to release
   * @throws Exception if releasing fails
   */
  protected void closeStore(QuotaStore store) throws Exception {}

  /** The suite's fixture: the store, created before each test. */
  @BeforeEach
  void openStore() throws Exception {
    store = createStore(clock);
  }

  /** The suite's fixture: the store, released after each test. */
  @AfterEach
  void releaseStore() throws Exception {
    closeStore(store);
  }

  /** {@return the store under test} */
  protected QuotaStore store() {
    return store;
  }

  /**
   * {@return a key of {@code tenant} on model {@code digits}, unique to this test}
   *
   * @param tenant the tenant name, prefixed with this run's id so that tests do not share counters
   */
  protected QuotaKey key(String tenant) {
    return QuotaKey.forTenant(run + "-" + tenant, "digits");
  }

  private static QuotaPlan bucket(long quota, Duration window) {
    return QuotaPlan.of(QuotaLimit.tokenBucket("burst", quota, window));
  }

  private static QuotaPlan sliding(long quota, Duration window) {
    return QuotaPlan.of(QuotaLimit.slidingWindow("volume", quota, window));
  }

  private QuotaDecision take(QuotaKey key, QuotaPlan plan, long cost) {
    return store.acquire(key, plan, cost);
  }

  private void advanceMicros(long micros) {
    clock.advance(Duration.ofNanos(micros * 1000));
  }

  private static long micros(Duration d) {
    return d.toNanos() / 1000;
  }

  /** Moves the clock to {@code offset} past the start of the next window of {@code window}. */
  private void toNextWindow(Duration window, Duration offset) {
    long w = window.toMillis();
    long now = clock.millis();
    clock.set(Instant.ofEpochMilli((now / w + 1) * w).plus(offset));
  }

  // ---------------------------------------------------------------------------------------------
  // Exactness under contention

  @Test
  void tokenBucketAdmitsExactlyItsQuotaUnderContention() throws Exception {
    assertThat(admittedUnderContention(bucket(500, Duration.ofDays(1)), 32, 50)).isEqualTo(500);
  }

  @Test
  void slidingWindowAdmitsExactlyItsQuotaUnderContention() throws Exception {
    assertThat(admittedUnderContention(sliding(500, Duration.ofDays(1)), 32, 50)).isEqualTo(500);
  }

  @Test
  void severalLimitsAdmitExactlyTheSmallestUnderContention() throws Exception {
    QuotaPlan plan = QuotaPlan.of(
        QuotaLimit.tokenBucket("burst", 700, Duration.ofHours(1)),
        QuotaLimit.slidingWindow("daily", 300, Duration.ofDays(1)));
    assertThat(admittedUnderContention(plan, 32, 30)).isEqualTo(300);
  }

  @Test
  void aLimitSharedByTwoPlansStaysExactWhileThreadsAlternateBetweenThem() throws Exception {
    // Principals of one tenant with and without an override claim share the tenant's key.
    QuotaPlan plain = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 400, Duration.ofDays(1)));
    QuotaPlan overridden = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 400, Duration.ofDays(1)),
        QuotaLimit.slidingWindow("daily", 100_000, Duration.ofDays(1)));
    QuotaKey key = key("two-plans");
    ExecutorService pool = Executors.newFixedThreadPool(16);
    CountDownLatch start = new CountDownLatch(1);
    AtomicInteger admitted = new AtomicInteger();
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        QuotaPlan plan = t % 2 == 0 ? plain : overridden;
        futures.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < 60; i++) {
            if (take(key, plan, 1).isAllowed()) {
              admitted.incrementAndGet();
            }
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(admitted.get()).isEqualTo(400);
  }

  private int admittedUnderContention(QuotaPlan plan, int threads, int attemptsEach) throws Exception {
    QuotaKey key = key("contended");
    List<Callable<Integer>> tasks = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      tasks.add(() -> takeUnits(key, plan, attemptsEach));
    }
    int admitted = sumTogether(tasks);
    assertThat(take(key, plan, 1).isAllowed()).as("the quota is used up").isFalse();
    return admitted;
  }

  /** Tries {@code attempts} single units on {@code key}; how many were admitted. */
  private int takeUnits(QuotaKey key, QuotaPlan plan, int attempts) {
    int admitted = 0;
    for (int i = 0; i < attempts; i++) {
      if (take(key, plan, 1).isAllowed()) {
        admitted++;
      }
    }
    return admitted;
  }

  /** Takes {@code n} single units on {@code key}, each of which must be admitted: the reservations. */
  private List<QuotaDecision> reserveUnits(QuotaKey key, QuotaPlan plan, int n) {
    List<QuotaDecision> reservations = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      QuotaDecision d = take(key, plan, 1);
      assertThat(d.isAllowed()).isTrue();
      reservations.add(d);
    }
    return reservations;
  }

  /** A task settling each of {@code reservations} as unused (-1). */
  private Callable<Integer> refundEach(QuotaKey key, QuotaPlan plan, List<QuotaDecision> reservations) {
    return () -> {
      for (QuotaDecision r : reservations) {
        store.settle(key, plan, -1, r);
      }
      return 0;
    };
  }

  /**
   * Runs {@code tasks} on a thread each, released together by one latch, and sums their results:
   * the clock stands still meanwhile, so the sum is exact whatever the interleaving.
   */
  private static int sumTogether(List<Callable<Integer>> tasks) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<Integer>> futures = new ArrayList<>();
      for (Callable<Integer> task : tasks) {
        futures.add(pool.submit(() -> {
          start.await();
          return task.call();
        }));
      }
      start.countDown();
      int sum = 0;
      for (Future<Integer> f : futures) {
        sum += f.get(60, TimeUnit.SECONDS);
      }
      return sum;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void concurrentRefundsOfKReservationsGiveBackExactlyKUnitsWhileOthersTake() throws Exception {
    // A tenant's failed requests are refunded while its other connections keep asking: whatever
    // the interleaving, the refunds make room for exactly as many units as they return.
    refundsUnderContentionGiveBackExactly(bucket(1000, Duration.ofDays(1)), "refund-race-b");
    refundsUnderContentionGiveBackExactly(sliding(1000, Duration.ofDays(1)), "refund-race-s");
  }

  private void refundsUnderContentionGiveBackExactly(QuotaPlan plan, String tenant) throws Exception {
    QuotaKey key = key(tenant);
    List<QuotaDecision> reservations = reserveUnits(key, plan, 1000);
    int refunds = 500;
    List<Callable<Integer>> tasks = new ArrayList<>();
    for (int t = 0; t < 20; t++) {
      tasks.add(refundEach(key, plan, reservations.subList(25 * t, 25 * t + 25)));
      tasks.add(() -> takeUnits(key, plan, 50));
    }
    int admitted = sumTogether(tasks);
    assertThat(admitted).as(tenant + ": never more than the refunds returned").isLessThanOrEqualTo(refunds);
    assertThat(admitted + takeUnits(key, plan, 2 * refunds)).as(tenant + ": exactly what they returned")
        .isEqualTo(refunds);
  }

  @Test
  void tenantsRacingOnTheirKeysNeverShareACounterNorARefund() throws Exception {
    QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 150, Duration.ofDays(1)),
        QuotaLimit.slidingWindow("daily", 100, Duration.ofDays(1)));
    QuotaKey a = key("race-a");
    QuotaKey b = key("race-b");
    QuotaKey aOtherModel = QuotaKey.forTenant(run + "-race-a", "iris");
    List<QuotaKey> keys = List.of(a, b, aOtherModel);
    List<Callable<Integer>> tasks = new ArrayList<>();
    int[] admitted = new int[keys.size()];
    for (int t = 0; t < 24; t++) {
      int k = t % keys.size();
      tasks.add(() -> {
        int n = takeUnits(keys.get(k), plan, 20);
        synchronized (admitted) {
          admitted[k] += n;
        }
        return n;
      });
    }
    assertThat(sumTogether(tasks)).isEqualTo(300);
    assertThat(admitted).as("each key its own 100").containsExactly(100, 100, 100);

    // C's failed requests are refunded while the spent keys keep asking: only C gains.
    QuotaKey c = key("race-c");
    List<QuotaDecision> cCharges = reserveUnits(c, plan, 40);
    tasks.clear();
    for (int t = 0; t < 8; t++) {
      tasks.add(refundEach(c, plan, cCharges.subList(5 * t, 5 * t + 5)));
      tasks.add(() -> takeUnits(b, plan, 10) + takeUnits(aOtherModel, plan, 10) + takeUnits(a, plan, 10));
    }
    assertThat(sumTogether(tasks)).as("C's refunds reach none of the others").isZero();
    assertThat(takeUnits(c, plan, 200)).as("C got its 40 back, and no more").isEqualTo(100);
  }

  @Test
  void refundsRacingWithTakesAfterTheWindowRolledNeverCreditTheNewWindowBeyondItsLimit() throws Exception {
    // Reserved at the very end of one window, refunded at the very start of the next while other
    // connections take: the refunds come off the previous window, which weighs in full there.
    Duration window = Duration.ofMinutes(1);
    QuotaPlan plan = sliding(100, window);
    QuotaKey key = key("refund-roll-race");
    toNextWindow(window, Duration.ofMillis(59_999));
    List<QuotaDecision> reservations = reserveUnits(key, plan, 100);
    toNextWindow(window, Duration.ZERO);
    assertThat(refundsRacingWithTakes(key, plan, reservations)).as("the refunds and no more").isEqualTo(100);

    // A token bucket reserved in full, then a whole window later: refilled, so a refund of that
    // reservation has nothing left to give back, and the racing takes get one bucket, not two.
    QuotaPlan bucket = bucket(100, window);
    QuotaKey bucketKey = key("refund-refill-race");
    List<QuotaDecision> held = reserveUnits(bucketKey, bucket, 100);
    clock.advance(window);
    assertThat(refundsRacingWithTakes(bucketKey, bucket, held)).as("one bucket").isEqualTo(100);

    // A sliding window two windows later: the refunds name a forgotten window and give nothing.
    QuotaKey oldKey = key("refund-old-race");
    List<QuotaDecision> old = reserveUnits(oldKey, plan, 100);
    clock.advance(window.multipliedBy(2));
    assertThat(refundsRacingWithTakes(oldKey, plan, old)).as("one window's quota").isEqualTo(100);
  }

  /**
   * Settles each of {@code reservations} as unused (-1) on 10 threads while 10 others take single
   * units, then takes what is left; every unit admitted in all.
   */
  private int refundsRacingWithTakes(QuotaKey key, QuotaPlan plan, List<QuotaDecision> reservations)
      throws Exception {
    List<Callable<Integer>> tasks = new ArrayList<>();
    int each = reservations.size() / 10;
    for (int t = 0; t < 10; t++) {
      tasks.add(refundEach(key, plan, reservations.subList(each * t, each * t + each)));
      tasks.add(() -> takeUnits(key, plan, 30));
    }
    return sumTogether(tasks) + takeUnits(key, plan, 300);
  }

  // ---------------------------------------------------------------------------------------------
  // Token bucket

  @Test
  void tokenBucketRefillsOneUnitPerInterval() {
    QuotaKey key = key("refill");
    QuotaPlan plan = bucket(10, Duration.ofSeconds(1));
    for (int i = 0; i < 10; i++) {
      assertThat(take(key, plan, 1).isAllowed()).isTrue();
    }
    QuotaDecision denied = take(key, plan, 1);
    assertThat(denied.status()).isEqualTo(QuotaDecision.Status.EXCEEDED);
    assertThat(denied.retryAfterMicros()).isEqualTo(100_000);
    advanceMicros(99_999);
    assertThat(take(key, plan, 1).isAllowed()).isFalse();
    advanceMicros(1);
    QuotaDecision refilled = take(key, plan, 1);
    assertThat(refilled.isAllowed()).isTrue();
    assertThat(refilled.remaining(0)).isZero();
  }

  @Test
  void tokenBucketReportsRemainingAndTimeUntilFull() {
    QuotaKey key = key("report");
    QuotaPlan plan = bucket(10, Duration.ofSeconds(1));
    take(key, plan, 1);
    take(key, plan, 1);
    QuotaDecision d = take(key, plan, 1);
    assertThat(d.remaining(0)).isEqualTo(7);
    assertThat(d.resetAfterMicros(0)).isEqualTo(300_000);
    assertThat(d.decidedAtMicros()).isEqualTo(micros(Duration.between(Instant.EPOCH, START)));
    advanceMicros(150_000);
    QuotaDecision later = take(key, plan, 1);
    assertThat(later.remaining(0)).as("1.5 units refilled, rounded down, minus this one").isEqualTo(7);
    assertThat(later.resetAfterMicros(0)).isEqualTo(250_000);
  }

  @Test
  void aClockSteppedBackAnHourCostsATokenBucketOneWindowNotTheHour() {
    // A wall clock corrected by NTP, a virtual machine restored from a snapshot. No decision leaves
    // a bucket more than 2 s (twice its size) ahead: what lies beyond is the step, forgiven.
    QuotaKey key = key("stepped-back");
    QuotaPlan plan = bucket(10, Duration.ofSeconds(1));
    for (int i = 0; i < 3; i++) {
      assertThat(take(key, plan, 1).isAllowed()).isTrue();
    }
    clock.advance(Duration.ofHours(-1));
    QuotaDecision denied = take(key, plan, 1);
    assertThat(denied.isAllowed()).isFalse();
    // Capped at 2 s ahead, the most a bucket can owe: 1 s to drain to a full bucket's debt, 0.1 s for the unit.
    assertThat(denied.retryAfterMicros()).isEqualTo(1_100_000);
    advanceMicros(1_099_999);
    QuotaDecision early = take(key, plan, 1);
    assertThat(early.isAllowed()).as("1 µs early").isFalse();
    assertThat(early.retryAfterMicros()).as("the cap was kept, not moved with the clock").isEqualTo(1);
    advanceMicros(1);
    assertThat(take(key, plan, 1).isAllowed()).as("at Retry-After").isTrue();
  }

  @Test
  void aClockSteppingForwardThenBackAdmitsNoMoreThanASteadyClockOnceTheBucketPaidTheExtraBack() {
    QuotaKey key = key("forward-back");
    QuotaPlan plan = bucket(10, Duration.ofSeconds(1));
    Instant start = clock.instant();
    assertThat(takeAll(key, plan)).isEqualTo(10);
    clock.advance(Duration.ofHours(1));
    assertThat(takeAll(key, plan)).as("the step forward refilled the bucket: one quota extra").isEqualTo(10);
    clock.set(start);
    int after = 0;
    for (int step = 0; step <= 300; step++) { // to 3 s after the start, in 10 ms steps
      after += takeAll(key, plan);
      if (step == 110) {
        assertThat(after).as("admitted again within 1.1 s of the step back").isPositive();
      }
      clock.advance(Duration.ofMillis(10));
    }
    // A steady clock admits quota + t / T over these 3 s: 10 + 30. The bucket owes 2 s after the
    // step back (1 s beyond empty), which takes the extra 10 back within 1 s.
    assertThat(10 + 10 + after).isLessThanOrEqualTo(40);
  }

  /** Takes single units until refused; how many were admitted. */
  private int takeAll(QuotaKey key, QuotaPlan plan) {
    int n = 0;
    while (take(key, plan, 1).isAllowed()) {
      n++;
    }
    return n;
  }

  @Test
  void aRefundAfterTheClockSteppedBackComesOffWhatTheBucketOwesNotOffTheStep() {
    QuotaKey key = key("refund-stepped-back");
    QuotaPlan plan = bucket(10, Duration.ofSeconds(1));
    QuotaDecision reservation = take(key, plan, 10);
    clock.advance(Duration.ofHours(-1));
    store.adjust(key, plan, -5, reservation.decidedAtMicros());
    // Capped at 2 s ahead, then 5 units (0.5 s) back: 1.5 s ahead, so a unit waits 0.6 s.
    QuotaDecision denied = take(key, plan, 1);
    assertThat(denied.isAllowed()).isFalse();
    assertThat(denied.retryAfterMicros()).isEqualTo(600_000);
  }

  // ---------------------------------------------------------------------------------------------
  // Sliding window

  @Test
  void slidingWindowWeighsThePreviousWindowByItsUnelapsedShare() {
    QuotaKey key = key("weighted");
    QuotaPlan plan = sliding(100, Duration.ofMinutes(1));
    toNextWindow(Duration.ofMinutes(1), Duration.ZERO);
    assertThat(take(key, plan, 80).isAllowed()).isTrue();
    toNextWindow(Duration.ofMinutes(1), Duration.ofSeconds(15));
    // A quarter into the window: 80 × 3/4 = 60 of the previous window still count.
    QuotaDecision d = take(key, plan, 40);
    assertThat(d.isAllowed()).isTrue();
    assertThat(d.remaining(0)).isZero();
    assertThat(d.resetAfterMicros(0)).isEqualTo(45_000_000);
    QuotaDecision denied = take(key, plan, 1);
    assertThat(denied.isAllowed()).isFalse();
    // 80 × (1 − s) ≤ 59 first holds at s = 17204/65536 of the window, i.e. at 15.751 s.
    assertThat(denied.retryAfterMicros()).isEqualTo(751_000);
    advanceMicros(750_999);
    assertThat(take(key, plan, 1).isAllowed()).isFalse();
    advanceMicros(1);
    assertThat(take(key, plan, 1).isAllowed()).isTrue();
  }

  @Test
  void slidingWindowForgetsEverythingTwoWindowsLater() {
    QuotaKey key = key("forget");
    QuotaPlan plan = sliding(100, Duration.ofMinutes(1));
    assertThat(take(key, plan, 100).isAllowed()).isTrue();
    assertThat(take(key, plan, 1).isAllowed()).isFalse();
    clock.advance(Duration.ofMinutes(2));
    QuotaDecision d = take(key, plan, 1);
    assertThat(d.isAllowed()).isTrue();
    assertThat(d.remaining(0)).isEqualTo(99);
  }

  @Test
  void aClockSteppedBackAnHourCostsAFullSlidingWindowWhatASteadyClockWouldNotTheHour() {
    // 5 a minute spent 10 s into a window, the clock back an hour to the same point of an earlier
    // window (NTP, a restored virtual machine): the stored window is moved back to now's.
    QuotaKey key = key("window-stepped-back");
    QuotaPlan plan = sliding(5, Duration.ofMinutes(1));
    toNextWindow(Duration.ofMinutes(1), Duration.ofSeconds(10));
    assertThat(take(key, plan, 5).isAllowed()).isTrue();
    // 50 s to the next window, then 5 × (1 − s) ≤ 4 from s = 13108/65536 of it: 12.001 s.
    assertThat(take(key, plan, 1).retryAfterMicros()).as("on a steady clock").isEqualTo(62_001_000);
    clock.advance(Duration.ofHours(-1));
    QuotaDecision denied = take(key, plan, 1);
    assertThat(denied.isAllowed()).isFalse();
    assertThat(denied.retryAfterMicros()).isEqualTo(62_001_000);
    advanceMicros(62_000_999);
    QuotaDecision early = take(key, plan, 1);
    assertThat(early.isAllowed()).as("1 µs early").isFalse();
    assertThat(early.retryAfterMicros()).as("the window was moved back once and kept, not moved with the clock")
        .isEqualTo(1);
    advanceMicros(1);
    assertThat(take(key, plan, 1).isAllowed()).as("at Retry-After").isTrue();
  }

  @Test
  void afterAClockStepBackASlidingWindowReportsTheResetOfTheWindowItDecidedIn() {
    QuotaKey key = key("window-stepped-back-reset");
    QuotaPlan plan = sliding(5, Duration.ofMinutes(1));
    toNextWindow(Duration.ofMinutes(1), Duration.ofSeconds(10));
    assertThat(take(key, plan, 2).isAllowed()).isTrue();
    clock.advance(Duration.ofHours(-1));
    // Until a refusal moves it back, the stored window decides (as at its start) and keeps the
    // count until its own end, 50 s after an hour from now: that is the reset reported.
    QuotaDecision ahead = take(key, plan, 1);
    assertThat(ahead.isAllowed()).isTrue();
    assertThat(ahead.remaining(0)).isEqualTo(2);
    assertThat(ahead.resetAfterMicros(0)).isEqualTo(micros(Duration.ofSeconds(3650)));
    assertThat(take(key, plan, 2).resetAfterMicros(0)).isEqualTo(micros(Duration.ofSeconds(3650)));
    QuotaDecision refused = take(key, plan, 1);
    assertThat(refused.isAllowed()).isFalse();
    assertThat(refused.resetAfterMicros(0)).as("moved back to now's window").isEqualTo(50_000_000);
    advanceMicros(refused.retryAfterMicros());
    QuotaDecision after = take(key, plan, 1);
    assertThat(after.isAllowed()).isTrue();
    assertThat(after.resetAfterMicros(0)).as("now's window, 12.001 s in").isEqualTo(47_999_000);
  }

  @Test
  void aClockSteppedBackAdmitsAtMostOneQuotaMoreThanASlidingWindowInAnyWindowLongSpan() {
    // The worst case: spent 10 s into a window, the clock back an hour less 40 s, to 50 s into a
    // window, so the count weighs as it would 40 s later: 4 more units within the first minute.
    QuotaKey key = key("window-stepped-back-bound");
    Duration window = Duration.ofMinutes(1);
    QuotaPlan plan = sliding(5, window);
    toNextWindow(window, Duration.ofSeconds(10));
    List<Long> admitted = new ArrayList<>(); // in milliseconds of real time since the first unit
    for (int i = 0; i < 5; i++) {
      assertThat(take(key, plan, 1).isAllowed()).isTrue();
      admitted.add(0L);
    }
    clock.advance(Duration.ofHours(-1).plusSeconds(40));
    for (long real = 0; real <= 180_000; real += 100) { // three minutes in 100 ms steps
      while (take(key, plan, 1).isAllowed()) {
        admitted.add(real);
      }
      if (real == 60_000) {
        assertThat(admitted).as("admitted again within a window of the step").hasSizeGreaterThan(5);
      }
      clock.advance(Duration.ofMillis(100));
    }
    assertThat(maxInAnySpan(admitted, window.toMillis())).as("quota + one quota").isLessThanOrEqualTo(10);
  }

  @Test
  void slidingWindowEdgeBurstsAdmitAtMostOnePointOneFiveQuotaInAnyWindowLongSpan() {
    QuotaKey key = key("edge");
    long quota = 100;
    Duration window = Duration.ofMinutes(1);
    QuotaPlan plan = sliding(quota, window);
    List<Long> admitted = new ArrayList<>();
    toNextWindow(window, window.minusSeconds(1)); // one second before a boundary
    for (int i = 0; i < quota; i++) {
      if (take(key, plan, 1).isAllowed()) {
        admitted.add(clock.millis());
      }
    }
    clock.advance(Duration.ofSeconds(2)); // one second after it
    for (int i = 0; i < quota; i++) {
      if (take(key, plan, 1).isAllowed()) {
        admitted.add(clock.millis());
      }
    }
    assertThat(admitted.size()).as("the first burst is admitted whole").isGreaterThanOrEqualTo((int) quota);
    assertThat(maxInAnySpan(admitted, window.toMillis())).isLessThanOrEqualTo((long) (quota * 1.15));
  }

  @Test
  void slidingWindowUnderSustainedOverloadAdmitsAtMostOnePointOneFiveQuotaInAnyWindowLongSpan() {
    QuotaKey key = key("overload");
    long quota = 200;
    Duration window = Duration.ofMinutes(1);
    QuotaPlan plan = sliding(quota, window);
    SplittableRandom random = new SplittableRandom(42);
    List<Long> admitted = new ArrayList<>();
    // Three times the allowed rate, at random moments, for five windows.
    int attempts = (int) (3 * quota * 5);
    long meanGapMicros = 5 * micros(window) / attempts;
    for (int i = 0; i < attempts; i++) {
      advanceMicros(random.nextLong(2 * meanGapMicros));
      if (take(key, plan, 1).isAllowed()) {
        admitted.add(clock.millis());
      }
    }
    assertThat(admitted.size()).as("the limit admits steadily").isGreaterThan((int) (quota * 4));
    assertThat(maxInAnySpan(admitted, window.toMillis())).isLessThanOrEqualTo((long) (quota * 1.15));
  }

  /** The most admissions within any half-open span {@code [t, t + length)}. */
  private static long maxInAnySpan(List<Long> times, long length) {
    long max = 0;
    int from = 0;
    for (int to = 0; to < times.size(); to++) {
      while (times.get(to) - times.get(from) >= length) {
        from++;
      }
      max = Math.max(max, to - from + 1);
    }
    return max;
  }

  // ---------------------------------------------------------------------------------------------
  // Several limits, costs, refunds

  @Test
  void everyLimitMustPassAndADenialChargesNothing() {
    QuotaKey key = key("multi");
    QuotaPlan plan = QuotaPlan.of(
        QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("daily", 8, Duration.ofDays(1)));
    for (int i = 0; i < 5; i++) {
      assertThat(take(key, plan, 1).isAllowed()).isTrue();
    }
    QuotaDecision burstDenied = take(key, plan, 1);
    assertThat(burstDenied.isAllowed()).isFalse();
    assertThat(burstDenied.binding().orElseThrow().limit().name()).isEqualTo("burst");
    assertThat(burstDenied.remaining(1)).as("the denial charged nothing to daily").isEqualTo(3);
    clock.advance(Duration.ofSeconds(1));
    for (int i = 0; i < 3; i++) {
      assertThat(take(key, plan, 1).isAllowed()).isTrue();
    }
    QuotaDecision dailyDenied = take(key, plan, 1);
    assertThat(dailyDenied.isAllowed()).isFalse();
    assertThat(dailyDenied.binding().orElseThrow().limit().name()).isEqualTo("daily");
    assertThat(dailyDenied.remaining(0)).as("the denial charged nothing to burst").isEqualTo(2);
  }

  @Test
  void theMostRestrictiveLimitIsTheOneWithFewestUnitsLeft() {
    QuotaKey key = key("binding");
    QuotaPlan plan = QuotaPlan.of(
        QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("daily", 1000, Duration.ofDays(1)));
    assertThat(take(key, plan, 1).binding().orElseThrow().limit().name()).isEqualTo("burst");
    QuotaPlan tightDaily = QuotaPlan.of(
        QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("daily", 5, Duration.ofDays(1)));
    QuotaDecision d = take(key("binding2"), tightDaily, 1);
    assertThat(d.binding().orElseThrow().limit().name()).isEqualTo("daily");
    assertThat(d.binding().orElseThrow().remaining()).isEqualTo(4);
  }

  @Test
  void aRequestCostsItsUnits() {
    QuotaKey key = key("cost");
    QuotaPlan plan = bucket(10, Duration.ofSeconds(10));
    assertThat(take(key, plan, 3).remaining(0)).isEqualTo(7);
    QuotaDecision tooMuch = take(key, plan, 8);
    assertThat(tooMuch.isAllowed()).isFalse();
    assertThat(tooMuch.remaining(0)).isEqualTo(7);
    assertThat(tooMuch.retryAfterMicros()).as("one unit refills per second").isEqualTo(1_000_000);
    assertThat(take(key, plan, 7).isAllowed()).isTrue();
  }

  @Test
  void aCostAboveTheQuotaCanNeverPass() {
    QuotaDecision bucketDenied = take(key("never-b"), bucket(10, Duration.ofSeconds(1)), 11);
    assertThat(bucketDenied.isAllowed()).isFalse();
    assertThat(bucketDenied.retryAfterMicros()).isEqualTo(QuotaDecision.NEVER);
    QuotaDecision slidingDenied = take(key("never-s"), sliding(10, Duration.ofSeconds(1)), 11);
    assertThat(slidingDenied.retryAfterMicros()).isEqualTo(QuotaDecision.NEVER);
    assertThat(take(key("never-b"), bucket(10, Duration.ofSeconds(1)), 10).isAllowed())
        .as("the refused request charged nothing").isTrue();
  }

  @Test
  void aRefundReturnsUnusedUnits() {
    QuotaKey bucketKey = key("refund-b");
    QuotaPlan bucketPlan = bucket(10, Duration.ofSeconds(10));
    QuotaDecision reserved = take(bucketKey, bucketPlan, 10);
    store.adjust(bucketKey, bucketPlan, -4, reserved.decidedAtMicros());
    QuotaDecision after = take(bucketKey, bucketPlan, 4);
    assertThat(after.isAllowed()).isTrue();
    assertThat(after.remaining(0)).isZero();

    QuotaKey slidingKey = key("refund-s");
    QuotaPlan slidingPlan = sliding(100, Duration.ofMinutes(1));
    QuotaDecision r = take(slidingKey, slidingPlan, 50);
    store.adjust(slidingKey, slidingPlan, -30, r.decidedAtMicros());
    assertThat(take(slidingKey, slidingPlan, 1).remaining(0)).isEqualTo(79);
  }

  @Test
  void aRefundOfLongMinValueGivesBackTheWholeBucketLikeAnyRefundAboveItsSize() {
    QuotaKey key = key("refund-min");
    QuotaPlan plan = bucket(10, Duration.ofSeconds(10));
    QuotaDecision reserved = take(key, plan, 10);
    store.adjust(key, plan, Long.MIN_VALUE, reserved.decidedAtMicros());
    QuotaDecision after = take(key, plan, 10);
    assertThat(after.isAllowed()).as("all 10 units are back").isTrue();
    assertThat(after.remaining(0)).isZero();
  }

  @Test
  void settlingAReservationGivesBackNothingTheBucketHasRefilledSince() {
    givesBackOnlyWhatHasNotRefilled("settle-b", (key, plan, reservation) -> store.settle(key, plan, -10, reservation));
  }

  @Test
  void anAdjustmentBoundedByTheReservationsBucketEndsGivesBackNothingRefilledSince() {
    // QuotaStore#adjust with bucket ends: "the built-in stores apply that bound".
    givesBackOnlyWhatHasNotRefilled("adjust-ends", (key, plan, reservation) ->
        store.adjust(key, plan, -10, reservation.decidedAtMicros(), QuotaArithmetic.bucketEnds(plan, reservation)));
  }

  @Test
  void bucketEndsOfAnotherLengthThanThePlanAreRefusedAndChangeNothing() {
    // One end per limit: Redis's script read an extra end as the next decision of its batch.
    QuotaKey key = key("ends-length");
    QuotaPlan plan = bucket(10, Duration.ofSeconds(10));
    take(key, plan, 4);
    for (long[] ends : new long[][] {{}, {0, 0}}) {
      assertThatIllegalArgumentException().isThrownBy(() -> store.adjust(key, plan, -4, 0, ends))
          .withMessageContaining("one element per limit");
    }
    assertThat(take(key, plan, 6).isAllowed()).as("6 of 10 left").isTrue();
    assertThat(take(key, plan, 1).isAllowed()).as("no refund went through").isFalse();
  }

  /** Gives a whole reservation of 10 back, the way a test names. */
  private interface GiveBack {
    void giveBack(QuotaKey key, QuotaPlan plan, QuotaDecision reservation);
  }

  /**
   * Bucket of 10, a unit a second. A long request reserves the bucket at t = 0; by t = 9 s the
   * bucket has refilled 9 units, which the client spends; then the request gives its 10 back
   * ({@code giveBack}), having used nothing. Only the one unit still ahead of now may come back: at
   * most a bucket (10) at t = 9 s.
   */
  private void givesBackOnlyWhatHasNotRefilled(String name, GiveBack giveBack) {
    QuotaKey key = key(name);
    QuotaPlan plan = bucket(10, Duration.ofSeconds(10));
    QuotaDecision reservation = take(key, plan, 10);
    clock.advance(Duration.ofSeconds(9));
    assertThat(take(key, plan, 9).isAllowed()).isTrue();

    giveBack.giveBack(key, plan, reservation);

    assertThat(take(key, plan, 1).isAllowed()).as("the unit not yet refilled comes back").isTrue();
    assertThat(take(key, plan, 1).isAllowed()).as("nothing more at t = 9 s: 10 units already").isFalse();
  }

  @Test
  void reservationsSettledTogetherReleaseNoMoreThanABucket() {
    QuotaKey key = key("settle-banked");
    QuotaPlan plan = bucket(10, Duration.ofSeconds(10));
    List<QuotaDecision> reservations = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      reservations.add(take(key, plan, 10)); // a full bucket each, 10 s apart
      clock.advance(Duration.ofSeconds(10));
    }
    assertThat(take(key, plan, 10).isAllowed()).as("the bucket refilled by t = 30 s").isTrue();
    for (QuotaDecision r : reservations) {
      store.settle(key, plan, -10, r); // each used nothing, and has long refilled
    }
    assertThat(take(key, plan, 1).isAllowed()).as("one bucket at t = 30 s, not up to four").isFalse();
  }

  @Test
  void settlingSoonAfterTheReservationGivesBackTheUnusedUnits() {
    QuotaKey key = key("settle-soon");
    QuotaPlan plan = bucket(10, Duration.ofSeconds(10));
    QuotaDecision reservation = take(key, plan, 10);
    clock.advance(Duration.ofMillis(500));

    store.settle(key, plan, -6, reservation); // used 4 of the 10

    QuotaDecision after = take(key, plan, 6);
    assertThat(after.isAllowed()).isTrue();
    assertThat(take(key, plan, 1).isAllowed()).as("4 used, 6 returned, half a unit refilled").isFalse();
  }

  @Test
  void aRefundAfterTheWindowRolledGoesToThePreviousWindow() {
    QuotaKey key = key("refund-roll");
    QuotaPlan plan = sliding(100, Duration.ofMinutes(1));
    toNextWindow(Duration.ofMinutes(1), Duration.ofSeconds(59));
    QuotaDecision r = take(key, plan, 50);
    toNextWindow(Duration.ofMinutes(1), Duration.ZERO);
    store.adjust(key, plan, -30, r.decidedAtMicros());
    // The previous window now holds 20, counted in full at the start of this one.
    assertThat(take(key, plan, 1).remaining(0)).isEqualTo(79);
  }

  @Test
  void aRefundAfterTheClockSteppedBackAnHourComesOffTheWindowItWasChargedTo() {
    QuotaKey key = key("refund-step-back");
    QuotaPlan plan = sliding(5, Duration.ofMinutes(1));
    toNextWindow(Duration.ofMinutes(1), Duration.ofSeconds(10));
    QuotaDecision r = take(key, plan, 5);
    assertThat(r.isAllowed()).isTrue();
    clock.advance(Duration.ofHours(-1));
    store.adjust(key, plan, -5, r.decidedAtMicros());
    assertThat(take(key, plan, 5).isAllowed()).as("the 5 refunded").isTrue();
    assertThat(take(key, plan, 1).isAllowed()).as("and no more").isFalse();
  }

  @Test
  void aRefundAfterTheClockSteppedBackAWindowComesOffThePreviousWindowItWasChargedTo() {
    QuotaKey key = key("refund-step-back-previous");
    QuotaPlan plan = sliding(5, Duration.ofMinutes(1));
    toNextWindow(Duration.ofMinutes(1), Duration.ofSeconds(50));
    QuotaDecision r = take(key, plan, 3);
    toNextWindow(Duration.ofMinutes(1), Duration.ofSeconds(10));
    assertThat(take(key, plan, 2).isAllowed()).isTrue();
    clock.advance(Duration.ofMinutes(-1));
    store.adjust(key, plan, -3, r.decidedAtMicros());
    // The previous window is empty again; the current one holds the 2.
    assertThat(take(key, plan, 3).isAllowed()).isTrue();
    assertThat(take(key, plan, 1).isAllowed()).isFalse();
  }

  @Test
  void aRefundOfThePreviousWindowAfterARefusalMovedTheWindowBackComesOffThePreviousCount() {
    // 3 reserved 50 s into S - 1, 2 taken 10 s into S; the clock steps back 18 s, to 52 s into
    // S - 1, where a refusal moves S back to S - 1 with its counts: the current count holds S's 2
    // (and then 1 more), the previous one S - 1's 3. Refunding the 3 must empty the previous
    // count; off the current one it would free the 3 units charged since (S's), and S would start
    // with all 5 again.
    QuotaKey key = key("refund-moved-previous");
    QuotaPlan plan = sliding(5, Duration.ofMinutes(1));
    toNextWindow(Duration.ofMinutes(1), Duration.ofSeconds(50));
    QuotaDecision r = take(key, plan, 3);
    assertThat(r.isAllowed()).isTrue();
    toNextWindow(Duration.ofMinutes(1), Duration.ofSeconds(10));
    assertThat(take(key, plan, 2).isAllowed()).isTrue();
    clock.advance(Duration.ofSeconds(-18));
    assertThat(take(key, plan, 3).isAllowed()).as("refused in S, so moved back to S - 1").isFalse();
    assertThat(take(key, plan, 1).isAllowed()).as("S - 1's 3 weigh 13 % at 52 s").isTrue();
    store.adjust(key, plan, -3, r.decidedAtMicros());
    toNextWindow(Duration.ofMinutes(1), Duration.ZERO);
    assertThat(takeAll(key, plan)).as("S's 2 and the 1 since still count, in full at the start of the next window")
        .isEqualTo(2);
  }

  @Test
  void aRefundOfAWindowMovedBackOnceTimeReachedItAgainComesOffThePreviousCount() {
    // 3 reserved 10 s into S; the clock steps back 30 s, to 40 s into S - 1, where a refusal
    // moves S back to S - 1 with its count, and 2 are taken. Time reaches S again: the previous
    // count holds the 5, and 2 are taken 30 s into the new S. Refunding the 3 (charged in S, which
    // the previous count holds) must leave the previous count 2; off the new S's count it would
    // free the 2 taken there, and the next window would start with all 5 again.
    QuotaKey key = key("refund-moved-reached");
    QuotaPlan plan = sliding(5, Duration.ofMinutes(1));
    toNextWindow(Duration.ofMinutes(1), Duration.ofSeconds(10));
    QuotaDecision r = take(key, plan, 3);
    assertThat(r.isAllowed()).isTrue();
    clock.advance(Duration.ofSeconds(-30));
    assertThat(take(key, plan, 3).isAllowed()).as("refused, so moved back to S - 1").isFalse();
    assertThat(take(key, plan, 2).isAllowed()).isTrue();
    toNextWindow(Duration.ofMinutes(1), Duration.ofSeconds(30));
    assertThat(take(key, plan, 2).isAllowed()).as("the previous count's 5 weigh half").isTrue();
    store.adjust(key, plan, -3, r.decidedAtMicros());
    toNextWindow(Duration.ofMinutes(1), Duration.ZERO);
    assertThat(takeAll(key, plan)).as("the 2 taken in S count in full at its end").isEqualTo(3);
  }

  @Test
  void aForcedChargeIsNeverDeniedAndCounts() {
    QuotaKey key = key("force");
    QuotaPlan plan = bucket(10, Duration.ofSeconds(1));
    QuotaDecision first = take(key, plan, 1);
    store.adjust(key, plan, 14, first.decidedAtMicros());
    QuotaDecision denied = take(key, plan, 1);
    assertThat(denied.isAllowed()).isFalse();
    // 15 units are owed: 1.5 s of refill, of which 1 s is the bucket itself.
    assertThat(denied.retryAfterMicros()).isEqualTo(600_000);
  }

  @Test
  void limitsOfTheSameNameKeepTheirCountWhenThePlanChanges() {
    QuotaKey key = key("replan");
    QuotaPlan small = bucket(10, Duration.ofSeconds(10));
    QuotaPlan bigger = QuotaPlan.of(
        QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(10)),
        QuotaLimit.slidingWindow("daily", 1000, Duration.ofDays(1)));
    take(key, small, 4);
    QuotaDecision d = take(key, bigger, 1);
    assertThat(d.remaining(0)).isEqualTo(5);
    assertThat(d.remaining(1)).isEqualTo(999);
  }

  @Test
  void aLimitMissingFromAnotherPlanOnTheSameKeyKeepsItsCount() {
    // Principals of one tenant share its key; one principal's claim may add a limit the others'
    // plans lack. Their calls in between must not wipe that limit's count.
    QuotaKey key = key("parked");
    QuotaPlan tier = bucket(100, Duration.ofSeconds(1));
    QuotaPlan restricted = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 100, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("hourly", 3, Duration.ofHours(1)),
        QuotaLimit.tokenBucket("daily-bucket", 3, Duration.ofDays(1)));
    for (int i = 0; i < 3; i++) {
      assertThat(take(key, restricted, 1).isAllowed()).as("restricted call " + i).isTrue();
      assertThat(take(key, tier, 1).isAllowed()).isTrue();
      advanceMicros(1_000_000);
    }
    QuotaDecision fourth = take(key, restricted, 1);
    assertThat(fourth.isAllowed()).as("the fourth restricted call within the hour").isFalse();
    assertThat(fourth.remaining(1)).isZero();
    assertThat(fourth.remaining(2)).isZero();
  }

  @Test
  void aLimitRedefinedUnderTheSameNameStartsFreshAndNeitherDefinitionWipesTheOther() {
    // An operator turns a tier's "x" from a token bucket into a sliding window on a live
    // deployment, or one principal's override claim defines "x" differently from the tier: the
    // tenant's key is then used under both definitions. Each definition counts on its own, and
    // "daily", defined the same in every plan, keeps one count throughout.
    QuotaKey key = key("redefined");
    QuotaLimit daily = QuotaLimit.slidingWindow("daily", 1000, Duration.ofDays(1));
    QuotaPlan bucket = QuotaPlan.of(QuotaLimit.tokenBucket("x", 10, Duration.ofHours(1)), daily);
    QuotaPlan sliding = QuotaPlan.of(QuotaLimit.slidingWindow("x", 10, Duration.ofHours(1)), daily);
    QuotaPlan longer = QuotaPlan.of(QuotaLimit.slidingWindow("x", 10, Duration.ofHours(2)), daily);

    assertRemaining(take(key, bucket, 3), 7, 997);
    assertRemaining(take(key, sliding, 2), 8, 995);
    assertRemaining(take(key, longer, 4), 6, 991);
    assertRemaining(take(key, bucket, 1), 6, 990);
    assertRemaining(take(key, sliding, 1), 7, 989);
    assertRemaining(take(key, longer, 1), 5, 988);
  }

  private static void assertRemaining(QuotaDecision d, long x, long daily) {
    assertThat(d.status()).as("%s", d).isEqualTo(QuotaDecision.Status.ALLOWED);
    assertThat(d.isDegraded()).as("%s", d).isFalse();
    assertThat(d.remaining(0)).as("x of %s", d.plan()).isEqualTo(x);
    assertThat(d.remaining(1)).as("daily").isEqualTo(daily);
  }

  // ---------------------------------------------------------------------------------------------
  // Retry-After and isolation

  @Test
  void retryingAfterTheRoundedUpRetryAfterSucceedsAndOneSecondEarlierDoesNot() {
    assertRetryAfterIsHonest(bucket(10, Duration.ofMinutes(1)), "retry-b");
    assertRetryAfterIsHonest(sliding(10, Duration.ofMinutes(1)), "retry-s");
    assertRetryAfterIsHonest(QuotaPlan.of(
        QuotaLimit.tokenBucket("burst", 3, Duration.ofSeconds(7)),
        QuotaLimit.slidingWindow("minute", 5, Duration.ofMinutes(1))), "retry-m");
  }

  private void assertRetryAfterIsHonest(QuotaPlan plan, String tenant) {
    QuotaKey key = key(tenant);
    clock.advance(Duration.ofMillis(1234)); // off any whole second
    QuotaDecision denied;
    int used = 0;
    while ((denied = take(key, plan, 1)).isAllowed()) {
      used++;
      clock.advance(Duration.ofMillis(370));
    }
    assertThat(used).isPositive();
    long retryAfterHeader = (denied.retryAfterMicros() + 999_999) / 1_000_000; // what the 429 says
    Instant deniedAt = clock.instant();
    clock.set(deniedAt.plusSeconds(retryAfterHeader - 1));
    assertThat(take(key, plan, 1).isAllowed()).as(tenant + ": one second early").isFalse();
    clock.set(deniedAt.plusSeconds(retryAfterHeader));
    assertThat(take(key, plan, 1).isAllowed()).as(tenant + ": at Retry-After").isTrue();
  }

  @Test
  void keysAreIsolated() {
    QuotaPlan plan = bucket(5, Duration.ofMinutes(1));
    for (int i = 0; i < 5; i++) {
      take(key("a"), plan, 1);
    }
    assertThat(take(key("a"), plan, 1).isAllowed()).isFalse();
    QuotaDecision other = take(key("b"), plan, 1);
    assertThat(other.isAllowed()).isTrue();
    assertThat(other.remaining(0)).isEqualTo(4);
    QuotaDecision otherModel = take(QuotaKey.forTenant(run + "-a", "iris"), plan, 1);
    assertThat(otherModel.remaining(0)).isEqualTo(4);
  }

  @Test
  void aTenantFloodingAtTenTimesItsLimitCausesAnotherTenantAtHalfItsLimitNoRejection() {
    QuotaPlan plan = QuotaPlan.of(
        QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("minute", 300, Duration.ofMinutes(1)));
    QuotaKey a = key("flooder");
    QuotaKey b = key("neighbour");
    int aAdmitted = 0;
    int aRejected = 0;
    int bRejected = 0;
    // Two minutes in 100 ms steps: A sends 10 per step (10× the burst rate of 10/s, 20× the
    // minute's), B sends 1 every 4 steps (2.5/s: half of 5/s, the minute limit's rate).
    for (int step = 0; step < 1200; step++) {
      for (int i = 0; i < 10; i++) {
        if (take(a, plan, 1).isAllowed()) {
          aAdmitted++;
        } else {
          aRejected++;
        }
      }
      if (step % 4 == 0 && !take(b, plan, 1).isAllowed()) {
        bRejected++;
      }
      clock.advance(Duration.ofMillis(100));
    }
    assertThat(bRejected).isZero();
    assertThat(aRejected).isGreaterThan(10_000);
    assertThat(aAdmitted).isBetween(300, 700);
  }
}
