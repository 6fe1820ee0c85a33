package io.modelguard.test.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.test.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The in-memory store stays bounded: idle keys are evicted, and never more than its maximum size is held. */
class InMemoryQuotaStoreTest {
  private final FakeClock clock = FakeClock.standard();
  private static final QuotaPlan PLAN = QuotaPlan.of(
      QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)),
      QuotaLimit.slidingWindow("minute", 600, Duration.ofMinutes(1)),
      QuotaLimit.slidingWindow("daily", 100_000, Duration.ofDays(1)));

  @Test
  void aMillionTenantsOnThreeModelsStayWithinTheMaximumSize() {
    long maximum = 10_000;
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).maximumSize(maximum).build();
    String[] models = {"digits", "iris", "tabular"};
    for (int tenant = 0; tenant < 1_000_000; tenant++) {
      String t = "tenant-" + tenant;
      for (String model : models) {
        store.acquire(QuotaKey.forTenant(t, model), PLAN, 1);
      }
      if (tenant % 100_000 == 0) {
        store.cleanUp();
        assertThat(store.estimatedSize()).isLessThanOrEqualTo(maximum);
      }
    }
    store.cleanUp();
    assertThat(store.estimatedSize()).isLessThanOrEqualTo(maximum).isGreaterThan(maximum / 2);
  }

  @Test
  void idleKeysAreEvictedOnceTheirCountsNoLongerMatterAndNotBefore() {
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).build();
    for (int i = 0; i < 1000; i++) {
      store.acquire(QuotaKey.forTenant("t" + i, "digits"), PLAN, 1);
    }
    // The daily window's count matters until the end of the next day: two days at most.
    clock.advance(Duration.ofDays(2).minusMinutes(1));
    store.cleanUp();
    assertThat(store.estimatedSize()).as("a daily count still matters").isEqualTo(1000);
    // Evicted after between one and two such horizons of idleness.
    clock.advance(Duration.ofDays(2).plusMinutes(2));
    store.cleanUp();
    assertThat(store.estimatedSize()).isZero();
  }

  @Test
  void aKeyWithAParkedLimitThatStillCountsIsNotEvictedForIdlenessAndForgetsItOnceItIsFull() {
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).build();
    QuotaKey key = QuotaKey.forTenant("acme", "digits");
    QuotaPlan tier = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)));
    QuotaPlan restricted = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("hourly", 2, Duration.ofHours(1)));
    store.acquire(key, restricted, 2);
    store.acquire(key, tier, 1);
    // Idle past the tier plan's horizon (2 s), but "hourly" still counts.
    clock.advance(Duration.ofMinutes(1));
    store.cleanUp();
    assertThat(store.estimatedSize()).isEqualTo(1);
    assertThat(store.acquire(key, restricted, 1).isAllowed()).as("the hourly count survived").isFalse();
    // Once nothing counts any more, the key goes.
    store.acquire(key, tier, 1);
    clock.advance(Duration.ofHours(3));
    store.cleanUp();
    assertThat(store.estimatedSize()).isZero();
  }

  @Test
  void aFloodOfNewKeysCannotPushAnExhaustedKeyOutAndGiveItItsQuotaBack() {
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).maximumSize(64).build();
    QuotaPlan daily = QuotaPlan.of(QuotaLimit.slidingWindow("daily", 5, Duration.ofDays(1)));
    QuotaKey spent = QuotaKey.forTenant("acme", "digits");
    assertThat(store.acquire(spent, daily, 5).isAllowed()).isTrue();
    assertThat(store.acquire(spent, daily, 1).isAllowed()).isFalse();
    // The same client, from 10,000 addresses, one request each, within the same day: the store is
    // full of keys that all still count, and it must drop some of them.
    for (int i = 0; i < 10_000; i++) {
      store.acquire(QuotaKey.forAddress("198.51." + (i >> 8) + "." + (i & 255)), daily, 1);
      clock.advance(Duration.ofSeconds(1));
    }
    assertThat(store.estimatedSize()).isLessThanOrEqualTo(64);
    assertThat(store.lossyEvictions()).as("keys holding one unit each went").isPositive();
    QuotaDecision again = store.acquire(spent, daily, 1);
    assertThat(again.isAllowed()).as("the day's five units are still spent").isFalse();
    assertThat(again.remaining(0)).isZero();
  }

  @Test
  void keysBackToAFullQuotaAreEvictedBeforeAKeyStillCountingHoweverRecentlyTheyWereUsed() {
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).maximumSize(64).build();
    QuotaPlan daily = QuotaPlan.of(QuotaLimit.slidingWindow("daily", 5, Duration.ofDays(1)));
    // One unit back every second, but idle only after 2,000 s: a key used a second ago is full.
    QuotaPlan steady = QuotaPlan.of(QuotaLimit.tokenBucket("steady", 1000, Duration.ofSeconds(1000)));
    QuotaKey counting = QuotaKey.forTenant("acme", "digits");
    store.acquire(counting, daily, 5);
    for (int i = 0; i < 1_000; i++) {
      clock.advance(Duration.ofSeconds(1));
      store.acquire(QuotaKey.forTenant("t" + i, "digits"), steady, 1);
    }
    assertThat(store.estimatedSize()).isLessThanOrEqualTo(64);
    assertThat(store.lossyEvictions()).as("every eviction found a full key").isZero();
    assertThat(store.acquire(counting, daily, 1).isAllowed()).as("the least recently used key kept its count")
        .isFalse();
  }

  @Test
  void whenEveryKeyStillCountsTheOneHoldingTheFewestUnitsGoesFirst() {
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).maximumSize(64).build();
    QuotaPlan daily = QuotaPlan.of(QuotaLimit.slidingWindow("daily", 100, Duration.ofDays(1)));
    List<QuotaKey> heavy = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      QuotaKey k = QuotaKey.forTenant("heavy-" + i, "digits");
      store.acquire(k, daily, 100);
      heavy.add(k);
    }
    // More recent, but lighter: these are the ones to give up when the store is full.
    for (int i = 0; i < 5_000; i++) {
      clock.advance(Duration.ofSeconds(1));
      store.acquire(QuotaKey.forTenant("light-" + i, "digits"), daily, 1);
    }
    for (QuotaKey k : heavy) {
      assertThat(store.acquire(k, daily, 1).isAllowed()).as("%s", k).isFalse();
    }
  }

  @Test
  void aKeyInUseIsNeverEvictedForIdleness() {
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).build();
    QuotaPlan minute = QuotaPlan.of(QuotaLimit.slidingWindow("minute", 600, Duration.ofMinutes(1)));
    QuotaKey key = QuotaKey.forTenant("busy", "digits");
    for (int i = 0; i < 100; i++) {
      store.acquire(key, minute, 5);
      clock.advance(Duration.ofSeconds(30));
      store.cleanUp();
    }
    // 5 every 30 s: the previous window held 10, counted in full at the start of this one, plus
    // this request's 5. A forgotten key would report 595.
    assertThat(store.acquire(key, minute, 5).remaining(0)).isEqualTo(600 - 10 - 5);
  }

  @Test
  void aPlanOfMoreThanThreeLimitsCountsEveryLimitAndKeepsItsCountsAcrossAPlanChange() {
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).build();
    QuotaLimit minute = QuotaLimit.slidingWindow("minute", 5, Duration.ofMinutes(1));
    QuotaPlan one = QuotaPlan.of(minute);
    QuotaPlan four = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 100, Duration.ofSeconds(1)), minute,
        QuotaLimit.slidingWindow("hour", 50, Duration.ofHours(1)),
        QuotaLimit.slidingWindow("daily", 500, Duration.ofDays(1)));
    QuotaKey key = QuotaKey.forTenant("wide", "digits");
    assertThat(store.acquire(key, one, 2).isAllowed()).isTrue();
    // The four-limit plan takes over the "minute" count of 2 and adds three fresh limits.
    assertThat(store.acquire(key, four, 1).remaining(1)).isEqualTo(2);
    assertThat(store.acquire(key, four, 2).isAllowed()).isTrue();
    QuotaDecision denied = store.acquire(key, four, 1);
    assertThat(denied.isAllowed()).isFalse();
    assertThat(denied.remaining(0)).isEqualTo(97);
    assertThat(denied.remaining(2)).isEqualTo(47);
    assertThat(denied.remaining(3)).isEqualTo(497);
    assertThat(store.acquire(key, one, 1).isAllowed()).as("back on the one-limit plan, still 5 used").isFalse();
    assertThat(store.estimatedSize()).isEqualTo(1);
  }

  @Test
  void aHotKeyStaysExactWhileOtherThreadsAddKeysThatGrowAndSweepTheTables() throws Exception {
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).build();
    QuotaPlan hot = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 1000, Duration.ofDays(1)));
    QuotaPlan brief = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 1000, Duration.ofSeconds(1)));
    // Keys idle for their horizon: every addition below sweeps some of them out, shifting entries.
    for (int i = 0; i < 20_000; i++) {
      store.acquire(QuotaKey.forTenant("idle-" + i, "digits"), brief, 1);
    }
    clock.advance(Duration.ofMinutes(1));
    QuotaKey key = QuotaKey.forTenant("hot", "digits");
    AtomicInteger admitted = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int id = t;
      threads.add(new Thread(() -> {
        await(start);
        for (int i = 0; i < 50_000; i++) {
          store.acquire(QuotaKey.forTenant("new-" + id + "-" + i, "digits"), brief, 1);
        }
      }));
      threads.add(new Thread(() -> {
        await(start);
        for (int i = 0; i < 2_000; i++) {
          if (store.acquire(key, hot, 1).isAllowed()) {
            admitted.incrementAndGet();
          }
        }
      }));
    }
    threads.forEach(Thread::start);
    start.countDown();
    for (Thread t : threads) {
      t.join();
    }
    assertThat(admitted.get()).isEqualTo(1000);
    store.cleanUp();
    assertThat(store.estimatedSize()).as("the idle keys are gone, the new ones and the hot one stay")
        .isEqualTo(200_001);
  }

  @Test
  void decisionsRacingTableResizesAndWideningAdmitExactlyTheLimitOfEveryKey() throws Exception {
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).build();
    QuotaPlan hot = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 500, Duration.ofDays(1)));
    QuotaPlan brief = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 1000, Duration.ofSeconds(1)));
    int keys = 64;
    QuotaKey[] hotKeys = new QuotaKey[keys];
    for (int i = 0; i < keys; i++) {
      hotKeys[i] = QuotaKey.forTenant("hot-" + i, "digits");
    }
    AtomicInteger[] admitted = new AtomicInteger[keys];
    for (int i = 0; i < keys; i++) {
      admitted[i] = new AtomicInteger();
    }
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    // Adders: every table grows several times; three-limit keys widen the slots of every segment.
    for (int t = 0; t < 2; t++) {
      int id = t;
      threads.add(new Thread(() -> {
        await(start);
        for (int i = 0; i < 60_000; i++) {
          store.acquire(QuotaKey.forTenant("add-" + id + "-" + i, "digits"), i % 100 == 99 ? PLAN : brief, 1);
        }
      }));
    }
    for (int t = 0; t < 3; t++) {
      int id = t;
      threads.add(new Thread(() -> {
        await(start);
        for (int round = 0; round < 400; round++) {
          for (int i = 0; i < keys; i++) {
            int k = (i + 7 * id) % keys;
            if (store.acquire(hotKeys[k], hot, 1).isAllowed()) {
              admitted[k].incrementAndGet();
            }
          }
        }
      }));
    }
    threads.forEach(Thread::start);
    start.countDown();
    for (Thread t : threads) {
      t.join();
    }
    for (int i = 0; i < keys; i++) {
      assertThat(admitted[i].get()).as("hot-%d", i).isEqualTo(500);
    }
    assertThat(store.estimatedSize()).isEqualTo(120_000 + keys);
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
