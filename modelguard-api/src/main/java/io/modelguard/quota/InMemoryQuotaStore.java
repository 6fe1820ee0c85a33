package io.modelguard.quota;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Policy;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * The quota store of a single JVM: lock-free, exact under contention, and bounded.
 *
 * <ul>
 *   <li><b>Lock-free and exact.</b> Each key holds its state as one array that is never modified
 *       in place; a decision reads it, computes the next one with {@link QuotaArithmetic} and
 *       installs it with a single compare-and-set, retrying if another thread got there first.
 *       Denials write nothing.
 *   <li><b>Bounded.</b> Keys live in a Caffeine cache. A key idle for its plan's {@linkplain
 *       QuotaPlan#horizonMicros() horizon} (twice its longest window) is back to a full quota, so
 *       forgetting it changes no decision: it is evicted after between one and two horizons of
 *       idleness. To keep decisions cheap, a key's use is reported to the cache at most once a
 *       second and its expiry rewritten only every other horizon. Beyond {@link
 *       Builder#maximumSize(long) maximumSize} keys (default {@value #DEFAULT_MAXIMUM_SIZE}), the
 *       least valuable keys are evicted even if not idle, and forget their counts: size it above
 *       the number of keys active within a window. A key of a three-limit plan takes about 300
 *       bytes of heap, so the default bound is about 300 MB (measured by {@code
 *       QuotaMemoryFootprint} in the benchmarks).
 *   <li><b>Injected time.</b> Decisions and idle eviction both follow the {@link Clock} given to
 *       the builder, so tests move time with a fake clock and never sleep.
 * </ul>
 *
 * Never throws {@link QuotaStoreException}. Thread-safe.
 */
public final class InMemoryQuotaStore implements QuotaStore {
  /** The default maximum number of keys. */
  public static final long DEFAULT_MAXIMUM_SIZE = 1_000_000;

  private static final VarHandle VALUES;

  static {
    try {
      VALUES = MethodHandles.lookup().findVarHandle(Slot.class, "values", long[].class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The values of a slot being replaced by one laid out for another plan: look the key up again. */
  private static final long[] RETIRED = new long[0];
  /** How often an active key's use is reported to the cache (at most once a second, per key). */
  private static final long TOUCH_MICROS = 1_000_000;

  private final Clock clock;
  private final Cache<String, Slot> slots;
  private final Policy<String, Slot> quiet;
  /**
   * The cache's clock, in nanoseconds of the store clock, advanced by decisions in steps of at
   * least a millisecond: the cache then never reads a clock itself, and the field is written at
   * most a thousand times a second however many threads decide.
   */
  private volatile long cacheTime;

  private InMemoryQuotaStore(Builder b) {
    this.clock = b.clock;
    this.cacheTime = QuotaArithmetic.micros(b.clock) * 1000L;
    Caffeine<Object, Object> caffeine = Caffeine.newBuilder()
        .maximumSize(b.maximumSize)
        .ticker(() -> cacheTime);
    // Maintenance (evictions, expiry) runs on the calling threads, amortised over reads: handing
    // it to a pool costs a thread wake-up every few dozen decisions, which dominated the profile.
    caffeine.executor(b.executor != null ? b.executor : Runnable::run);
    this.slots = caffeine.expireAfter(new IdleExpiry()).build();
    this.quiet = slots.policy();
  }

  /** A store with the defaults: system UTC clock, at most {@value #DEFAULT_MAXIMUM_SIZE} keys. */
  public static InMemoryQuotaStore create() {
    return builder().build();
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost) {
    long now = QuotaArithmetic.micros(clock);
    while (true) {
      Slot slot = slot(key, plan, now);
      long[] current = slot == null ? RETIRED : slot.values;
      if (current == RETIRED) {
        continue;
      }
      long[] next = current.clone();
      if (!QuotaArithmetic.tryAcquire(plan, next, now, cost)) {
        return QuotaArithmetic.decision(plan, next, now, cost, false);
      }
      if (VALUES.compareAndSet(slot, current, next)) {
        return QuotaArithmetic.decision(plan, next, now, cost, true);
      }
    }
  }

  @Override
  public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
    if (delta == 0) {
      return;
    }
    long now = QuotaArithmetic.micros(clock);
    while (true) {
      Slot slot = slot(key, plan, now);
      long[] current = slot == null ? RETIRED : slot.values;
      if (current == RETIRED) {
        continue;
      }
      long[] next = current.clone();
      QuotaArithmetic.adjust(plan, next, now, delta, decidedAtMicros);
      if (VALUES.compareAndSet(slot, current, next)) {
        return;
      }
    }
  }

  /** The approximate number of keys held (see Caffeine's {@code estimatedSize}). */
  public long estimatedSize() {
    return slots.estimatedSize();
  }

  /** Runs pending evictions now, at the clock's current time (otherwise they run as the store is used). */
  public void cleanUp() {
    cacheTime = Math.max(cacheTime, QuotaArithmetic.micros(clock) * 1000L);
    slots.cleanUp();
  }

  /** The key's slot, or null if it was laid out for another plan and is being replaced: look again. */
  private Slot slot(QuotaKey key, QuotaPlan plan, long now) {
    long nanos = now * 1000L;
    if (nanos - cacheTime >= 1_000_000L) {
      cacheTime = nanos;
    }
    String k = key.partition();
    // A quiet lookup skips the cache's per-read bookkeeping (recency, expiry), which costs several
    // cache misses per decision over many keys; a key's use is reported at most once a second,
    // which keeps an active key from expiring (see IdleExpiry) and feeds size-based eviction.
    Slot slot = quiet.getIfPresentQuietly(k);
    if (slot == null) {
      slot = slots.get(k, x -> new Slot(plan, new long[QuotaArithmetic.stateSize(plan)]));
      slot.touchedAt = now;
    } else if (now - slot.touchedAt >= TOUCH_MICROS) {
      slot.touchedAt = now;
      slots.getIfPresent(k);
    }
    if (slot.plan != plan && !slot.plan.equals(plan)) {
      replan(k, slot, plan);
      return null;
    }
    return slot;
  }

  /**
   * Replaces a slot laid out for another plan (a principal with an override shares its tenant's
   * key): retires the old slot's values with one compare-and-set, so that no update can land on
   * it afterwards, and installs a slot whose state is re-laid out by limit name. Threads that
   * meet the retired slot look the key up again.
   */
  private void replan(String k, Slot old, QuotaPlan plan) {
    long[] current = old.values;
    if (current != RETIRED && VALUES.compareAndSet(old, current, RETIRED)) {
      Slot fresh = new Slot(plan, QuotaArithmetic.remap(old.plan, current, plan));
      fresh.touchedAt = old.touchedAt;
      slots.asMap().compute(k, (x, v) -> v == null || v == old ? fresh : v);
    }
  }

  private static final class Slot {
    final QuotaPlan plan;
    volatile long[] values;
    /** When the key's use was last reported to the cache, in store microseconds (racy by design). */
    long touchedAt;

    Slot(QuotaPlan plan, long[] values) {
      this.plan = plan;
      this.values = values;
    }

    /**
     * How long the key must outlive a reported use: its plan's horizon, plus the longest stretch
     * of unreported use (one touch interval), plus a second so it never goes in the very
     * microsecond it turns neutral.
     */
    long horizonNanos() {
      return (plan.horizonMicros() + TOUCH_MICROS + 1_000_000L) * 1000L;
    }
  }

  private static final class IdleExpiry implements Expiry<String, Slot> {
    @Override
    public long expireAfterCreate(String key, Slot value, long currentTime) {
      return 2 * value.horizonNanos();
    }

    @Override
    public long expireAfterUpdate(String key, Slot value, long currentTime, long currentDuration) {
      return 2 * value.horizonNanos();
    }

    @Override
    public long expireAfterRead(String key, Slot value, long currentTime, long currentDuration) {
      // Keep at least one horizon ahead of every reported use, but rewrite the expiry only once
      // the entry has less than that left: most reports then change nothing.
      long horizon = value.horizonNanos();
      return currentDuration >= horizon ? currentDuration : 2 * horizon;
    }
  }

  /** Builds an {@link InMemoryQuotaStore}. */
  public static final class Builder {
    private Clock clock = Clock.systemUTC();
    private long maximumSize = DEFAULT_MAXIMUM_SIZE;
    private Executor executor;

    private Builder() {}

    /** The clock for decisions and idle eviction. Default: {@link Clock#systemUTC()}. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The most keys to hold. Default {@value #DEFAULT_MAXIMUM_SIZE}.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder maximumSize(long maximumSize) {
      if (maximumSize < 1) {
        throw new IllegalArgumentException("InMemoryQuotaStore.maximumSize must be at least 1, was " + maximumSize);
      }
      this.maximumSize = maximumSize;
      return this;
    }

    /** Where Caffeine runs its maintenance (evictions). Default: the calling thread, amortised. */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** Builds the store. */
    public InMemoryQuotaStore build() {
      return new InMemoryQuotaStore(this);
    }
  }
}
