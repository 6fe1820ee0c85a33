package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The ticked time and the in-memory store's use of it, driven tick by tick: a fake exact clock and
 * a starter that only counts, so no test waits on the ticker thread but the last.
 */
class TickedTimeTest {
  private static final long T0 = 1_800_000_000_000_000L;
  private static final QuotaKey KEY = QuotaKey.forTenant("acme", "digits");

  /** An exact clock that counts its reads, and a ticked time over it whose starts are counted. */
  private static final class Fixture {
    final AtomicLong exact = new AtomicLong(T0);
    final AtomicInteger exactReads = new AtomicInteger();
    final AtomicInteger starts = new AtomicInteger();
    final TickedTime time;

    Fixture(boolean startable) {
      time = new TickedTime(() -> {
        exactReads.incrementAndGet();
        return exact.get();
      }, t -> {
        starts.incrementAndGet();
        return startable;
      });
    }

    /** An in-memory store on this ticked time. */
    InMemoryQuotaStore store() {
      return InMemoryQuotaStore.builder().tickedTime(time).build();
    }

    /** Ticks from tick {@code from} to tick {@code to}, both included; the last tick's answer. */
    boolean ticks(long from, long to) {
      boolean going = true;
      for (long n = from; n <= to; n++) {
        going = time.tick(n);
      }
      return going;
    }
  }

  @Test
  void aReadWithNoTickerRunningIsExactAndStartsOneAfterwhichReadsLeaveTheClockAlone() {
    Fixture f = new Fixture(true);
    assertThat(f.time.micros()).isEqualTo(T0);
    assertThat(f.starts).hasValue(1);

    f.exact.set(T0 + 700);
    int reads = f.exactReads.get();
    for (int i = 0; i < 100; i++) {
      assertThat(f.time.micros()).isEqualTo(T0);
    }
    assertThat(f.exactReads).hasValue(reads);

    f.time.tick(1);
    assertThat(f.time.micros()).isEqualTo(T0 + 700);
    assertThat(f.starts).hasValue(1);
  }

  @Test
  void theTickerStopsAfterACheckPeriodWithoutReadsAndTheNextReadStartsAnother() {
    Fixture f = new Fixture(true);
    f.time.micros();
    // Read during the first period: the check at its end keeps the ticker going.
    assertThat(f.ticks(1, TickedTime.TICKS_PER_CHECK)).isTrue();
    // Read during the second period too.
    f.time.micros();
    assertThat(f.ticks(TickedTime.TICKS_PER_CHECK + 1, 2 * TickedTime.TICKS_PER_CHECK)).isTrue();
    // No read in the third: it stops.
    assertThat(f.ticks(2 * TickedTime.TICKS_PER_CHECK + 1, 3 * TickedTime.TICKS_PER_CHECK)).isFalse();
    assertThat(f.starts).hasValue(1);

    f.exact.set(T0 + 5_000_000);
    assertThat(f.time.micros()).isEqualTo(T0 + 5_000_000);
    assertThat(f.starts).hasValue(2);
    // The restarted ticker has not ticked yet; the time it reads is the one the restart left.
    f.exact.set(T0 + 5_000_900);
    assertThat(f.time.micros()).isEqualTo(T0 + 5_000_000);
  }

  @Test
  void aReaderHeldUpWhileStartingTheTickerNeverPublishesATimeOlderThanOneHandedOutMeanwhile()
      throws Exception {
    // The starting reader reads the clock, is held up, and writes its time late. It used to write
    // the time before claiming the start, so another reader started the ticker meanwhile, and the
    // late write took the published time five seconds back.
    AtomicLong exact = new AtomicLong(T0);
    AtomicBoolean holdNextRead = new AtomicBoolean(true);
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger starts = new AtomicInteger();
    TickedTime time = new TickedTime(() -> {
      long now = exact.get();
      if (holdNextRead.compareAndSet(true, false)) {
        held.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return now;
    }, t -> {
      starts.incrementAndGet();
      return true;
    });
    AtomicLong first = new AtomicLong();
    Thread starter = new Thread(() -> first.set(time.micros()));
    starter.start();
    assertThat(held.await(30, TimeUnit.SECONDS)).isTrue();

    exact.set(T0 + 5_000_000);
    long meanwhile = time.micros();
    assertThat(meanwhile).isEqualTo(T0 + 5_000_000);
    release.countDown();
    starter.join(30_000);

    assertThat(first.get()).isEqualTo(T0);
    assertThat(starts).hasValue(1);
    assertThat(time.micros()).as("the published time after the start").isGreaterThanOrEqualTo(meanwhile);
    // A tick that read the clock before a later time was published does not take it back either.
    exact.set(T0 + 4_000_000);
    time.tick(1);
    assertThat(time.micros()).isEqualTo(T0 + 5_000_000);
  }

  @Test
  void anAbandonedTickerRacingAReaderNeverLeavesTheTimeWithoutATicker() throws Exception {
    // abandon() tried READ -> STOPPED, then UNREAD -> STOPPED: a reader moving UNREAD to READ
    // between the two left READ with no ticker, and no read ever started one again. Raced many
    // times: after each race either the reader started a ticker or the next read does.
    AtomicLong exact = new AtomicLong(T0);
    AtomicInteger starts = new AtomicInteger();
    TickedTime time = new TickedTime(exact::get, t -> {
      starts.incrementAndGet();
      return true;
    });
    CyclicBarrier race = new CyclicBarrier(2);
    AtomicBoolean done = new AtomicBoolean();
    Thread reader = new Thread(() -> {
      try {
        while (true) {
          race.await();
          if (done.get()) {
            return;
          }
          time.micros();
          race.await();
        }
      } catch (InterruptedException | BrokenBarrierException e) {
        Thread.currentThread().interrupt();
      }
    });
    reader.start();
    try {
      for (int i = 0; i < 300_000; i++) {
        time.micros(); // starts a ticker if none runs: READ
        time.tick(TickedTime.TICKS_PER_CHECK); // READ -> UNREAD
        int before = starts.get();
        race.await();
        time.abandon();
        race.await();
        if (starts.get() == before) {
          exact.incrementAndGet();
          assertThat(time.micros()).as("race %d", i).isEqualTo(exact.get());
          assertThat(starts.get()).as("race %d", i).isEqualTo(before + 1);
        }
      }
    } finally {
      done.set(true);
      race.await(10, TimeUnit.SECONDS);
      reader.join(10_000);
    }
  }

  @Test
  void aTickerThatCannotBeStartedLeavesEveryReadExact() {
    Fixture f = new Fixture(false);
    for (int i = 0; i < 5; i++) {
      f.exact.set(T0 + i);
      assertThat(f.time.micros()).isEqualTo(T0 + i);
    }
    assertThat(f.starts).hasValue(1);
  }

  @Test
  void anAbandonedTickerIsReplacedByTheNextRead() {
    Fixture f = new Fixture(true);
    f.time.micros();
    f.time.abandon();
    f.exact.set(T0 + 42);
    assertThat(f.time.micros()).isEqualTo(T0 + 42);
    assertThat(f.starts).hasValue(2);
  }

  @Test
  void grantsGoByTheTickedTimeDenialsByTheExactTime() {
    Fixture f = new Fixture(true);
    InMemoryQuotaStore store = f.store();
    QuotaPlan perSecond = QuotaPlan.of(QuotaLimit.tokenBucket("rate", 1, Duration.ofSeconds(1)));

    assertThat(store.acquire(KEY, perSecond, 1).isAllowed()).isTrue();
    // A second later by the exact clock, with no tick since: the ticked time says the bucket is
    // still empty, the exact time that it has refilled.
    f.exact.set(T0 + 1_000_000);
    QuotaDecision refilled = store.acquire(KEY, perSecond, 1);
    assertThat(refilled.isAllowed()).isTrue();
    assertThat(refilled.decidedAtMicros()).isEqualTo(T0 + 1_000_000);

    // A denial's wait is counted from the exact time: one second, not two.
    QuotaDecision denied = store.acquire(KEY, perSecond, 1);
    assertThat(denied.isAllowed()).isFalse();
    assertThat(denied.retryAfterMicros()).isEqualTo(1_000_000);

    // Grants read no clock: a roomy plan, a thousand grants, no exact read.
    QuotaPlan roomy = QuotaPlan.of(QuotaLimit.tokenBucket("roomy", 1_000_000, Duration.ofSeconds(1)));
    int reads = f.exactReads.get();
    for (int i = 0; i < 1000; i++) {
      assertThat(store.acquire(QuotaKey.forTenant("t" + i, "digits"), roomy, 1).isAllowed()).isTrue();
    }
    assertThat(f.exactReads).hasValue(reads);
  }

  @Test
  void aDenialOnTheExactTimeStaysADenial() {
    Fixture f = new Fixture(true);
    InMemoryQuotaStore store = f.store();
    QuotaPlan perSecond = QuotaPlan.of(QuotaLimit.slidingWindow("volume", 2, Duration.ofSeconds(1)));
    f.exact.set(T0 + 1);
    f.time.micros();
    f.exact.set(T0 + 400_000);
    f.time.tick(1);
    assertThat(store.acquire(KEY, perSecond, 1).isAllowed()).isTrue();
    assertThat(store.acquire(KEY, perSecond, 1).isAllowed()).isTrue();
    f.exact.set(T0 + 900_000);
    QuotaDecision denied = store.acquire(KEY, perSecond, 1);
    assertThat(denied.isAllowed()).isFalse();
    assertThat(denied.decidedAtMicros()).isEqualTo(T0 + 900_000);
  }

  @Test
  void theSystemTickerRunsOnADaemonThreadAndNeverAheadOfTheSystemClock() throws InterruptedException {
    TickedTime system = TickedTime.SYSTEM;
    long first = system.micros();
    assertThat(first).isLessThanOrEqualTo(system.exactMicros());
    // Wait for the ticker to tick at least once (it ticks every millisecond; a generous bound).
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    long later = system.micros();
    while (later == first && System.nanoTime() < deadline) {
      Thread.sleep(5);
      later = system.micros();
    }
    assertThat(later).isGreaterThan(first).isLessThanOrEqualTo(system.exactMicros());
    assertThat(Thread.getAllStackTraces().keySet())
        .filteredOn(t -> t.getName().equals("modelguard-quota-clock"))
        .isNotEmpty()
        .allSatisfy(t -> {
          assertThat(t.isDaemon()).isTrue();
          assertThat(t.getContextClassLoader()).isNull();
        });
  }
}
