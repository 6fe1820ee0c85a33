package io.modelguard.redis;

import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.ResilientQuotaStore.CircuitState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Drives steady load at a store while a test kills and restarts Redis, recording the duration,
 * circuit state and outcome of every decision. Bounded: the load stops when the test says so, and
 * never runs longer than 60 s.
 */
final class OutageDrill implements AutoCloseable {
  /** One decision as a load thread saw it. */
  record Sample(long startNanos, long nanos, CircuitState before, CircuitState after, QuotaDecision decision) {
    boolean fromRedis() {
      return !decision.isDegraded();
    }
  }

  private final RedisQuotaStore store;
  private final QuotaKey key;
  private final QuotaPlan plan;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<List<Sample>> perThread = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final long startedAt = System.nanoTime();
  private final AtomicLong firstFromRedisSince = new AtomicLong(-1);
  private volatile long watchFrom = Long.MAX_VALUE;

  OutageDrill(RedisQuotaStore store, QuotaKey key, QuotaPlan plan, int threadCount) {
    this.store = store;
    this.key = key;
    this.plan = plan;
    for (int t = 0; t < threadCount; t++) {
      List<Sample> samples = new ArrayList<>();
      perThread.add(samples);
      Thread thread = new Thread(() -> load(samples), "outage-load-" + t);
      thread.setDaemon(true);
      threads.add(thread);
    }
    threads.forEach(Thread::start);
  }

  private void load(List<Sample> samples) {
    long deadline = startedAt + TimeUnit.SECONDS.toNanos(60);
    while (!stop.get() && System.nanoTime() < deadline) {
      CircuitState before = store.circuitState();
      long t0 = System.nanoTime();
      QuotaDecision d = store.acquire(key, plan, 1);
      long dt = System.nanoTime() - t0;
      samples.add(new Sample(t0, dt, before, store.circuitState(), d));
      if (!d.isDegraded() && t0 >= watchFrom) {
        firstFromRedisSince.compareAndSet(-1, t0);
      }
      LockSupport.parkNanos(400_000); // about 2,500 decisions per second per thread
    }
  }

  /** Waits until a decision that started after {@code sinceNanos} came from Redis; returns its start, or -1. */
  long awaitRedisDecisionAfter(long sinceNanos, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (System.nanoTime() < deadline) {
      long first = firstFromRedisSince.get();
      if (first >= sinceNanos) {
        return first;
      }
      Thread.sleep(10);
    }
    return -1;
  }

  /** Starts watching for the first decision from Redis that starts after {@code sinceNanos}. */
  void watchFrom(long sinceNanos) {
    // Cleared first: a decision a load thread records once it sees the new start must stay.
    firstFromRedisSince.set(-1);
    watchFrom = sinceNanos;
  }

  /** Stops the load and returns every sample, in no particular order. */
  List<Sample> stop() throws InterruptedException {
    stop.set(true);
    for (Thread t : threads) {
      t.join(10_000);
    }
    List<Sample> all = new ArrayList<>();
    perThread.forEach(all::addAll);
    return all;
  }

  /**
   * Lets an open circuit probe, on {@code key}, until a probe reaches a restarted Redis: moves the
   * circuit's ticker {@code nanos} by {@code open} before each try. Lettuce reconnects in the
   * background within half a second; the deadline is generous.
   */
  static void awaitRedis(RedisQuotaStore store, AtomicLong nanos, Duration open, QuotaKey key, QuotaPlan plan) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      nanos.addAndGet(open.toNanos());
      if (!store.acquire(key, plan, 1).isDegraded()) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("Lettuce did not reconnect to the restarted Redis in 30 s");
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
  }

  static long percentile(List<Sample> samples, double p) {
    if (samples.isEmpty()) {
      return 0;
    }
    long[] v = samples.stream().mapToLong(Sample::nanos).toArray();
    Arrays.sort(v);
    return v[Math.min(v.length - 1, (int) Math.ceil(p * v.length) - 1)];
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
