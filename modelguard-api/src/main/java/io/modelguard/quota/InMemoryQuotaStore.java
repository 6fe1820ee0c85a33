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
 *   <li><b>Lock-free and exact.</b> Each key holds one immutable snapshot of its state; a decision
 *       reads it, computes the next one with {@link QuotaArithmetic} and installs it with a single
 *       compare-and-set, retrying if another thread got there first. Denials write nothing.
 *   <li><b>Bounded.</b> Keys live in a Caffeine cache. A key idle for its plan's {@linkplain
 *       QuotaPlan#horizonMicros() horizon} (twice its longest window) is back to a full quota, so
 *       forgetting it changes no decision: it is evicted after between one and two horizons of
 *       idleness. To keep decisions cheap, a key's use is reported to the cache at most once a
 *       second and its expiry rewritten only every other horizon. Beyond {@link
 *       Builder#maximumSize(long) maximumSize} keys (default {@value #DEFAULT_MAXIMUM_SIZE}), the
 *       least valuable keys are evicted even if not idle, and forget their counts: size it above
 *       the number of keys active within a window. An entry of a three-limit plan takes about 250
 *       bytes (see {@code QuotaMemoryFootprint} in the benchmarks).
 *   <li><b>Injected time.</b> Decisions and idle eviction both follow the {@link Clock} given to
 *       the builder, so tests move time with a fake clock and never sleep.
 * </ul>
 *
 * Never throws {@link QuotaStoreException}. Thread-safe.
 */
public final class InMemoryQuotaStore implements QuotaStore {
  /** The default maximum number of keys. */
  public static final long DEFAULT_MAXIMUM_SIZE = 1_000_000;

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(Slot.class, "state", State.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

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
    Slot slot = slot(key, plan, now);
    while (true) {
      State current = slot.state;
      long[] next = layout(current, plan).clone();
      boolean allowed = QuotaArithmetic.tryAcquire(plan, next, now, cost);
      if (!allowed) {
        return QuotaArithmetic.decision(plan, next, now, cost, false);
      }
      if (STATE.compareAndSet(slot, current, new State(plan, next))) {
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
    Slot slot = slot(key, plan, now);
    while (true) {
      State current = slot.state;
      long[] next = layout(current, plan).clone();
      QuotaArithmetic.adjust(plan, next, now, delta, decidedAtMicros);
      if (STATE.compareAndSet(slot, current, new State(plan, next))) {
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
      slot = slots.get(k, x -> new Slot(plan));
      slot.touchedAt = now;
    } else if (now - slot.touchedAt >= TOUCH_MICROS) {
      slot.touchedAt = now;
      slots.getIfPresent(k);
    }
    return slot;
  }

  private static long[] layout(State current, QuotaPlan plan) {
    if (current.plan == plan) {
      return current.values;
    }
    if (current.plan == null) {
      return new long[QuotaArithmetic.stateSize(plan)];
    }
    return current.plan.equals(plan) ? current.values : QuotaArithmetic.remap(current.plan, current.values, plan);
  }

  private static final class State {
    static final State EMPTY = new State(null, new long[0]);
    final QuotaPlan plan;
    final long[] values;

    State(QuotaPlan plan, long[] values) {
      this.plan = plan;
      this.values = values;
    }
  }

  private static final class Slot {
    @SuppressWarnings("unused") // written through the VarHandle
    volatile State state = State.EMPTY;
    final QuotaPlan firstPlan;
    /** When the key's use was last reported to the cache, in store microseconds (racy by design). */
    long touchedAt;

    Slot(QuotaPlan firstPlan) {
      this.firstPlan = firstPlan;
    }

    /**
     * How long the key must outlive a reported use: its plan's horizon, plus the longest stretch of
     * unreported use (one touch interval), plus a second so it never goes in the very microsecond
     * it turns neutral.
     */
    long horizonNanos() {
      State s = state;
      QuotaPlan p = s.plan != null ? s.plan : firstPlan;
      return (p.horizonMicros() + TOUCH_MICROS + 1_000_000L) * 1000L;
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
      // Keep at least one horizon ahead of every read, but rewrite the expiry only once the entry
      // has less than that left: most reads then change nothing.
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
