package io.modelguard.quota;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
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
 *       QuotaPlan#horizonMicros() horizon} (twice its longest window) is evicted: by then its state
 *       is back to a full quota, so forgetting it changes no decision. Beyond {@link
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

  private final Clock clock;
  private final Cache<String, Slot> slots;

  private InMemoryQuotaStore(Builder b) {
    this.clock = b.clock;
    Caffeine<Object, Object> caffeine = Caffeine.newBuilder()
        .maximumSize(b.maximumSize)
        .ticker(ticker(b.clock));
    if (b.executor != null) {
      caffeine.executor(b.executor);
    }
    this.slots = caffeine.expireAfter(new IdleExpiry()).build();
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
    Slot slot = slot(key, plan);
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
    Slot slot = slot(key, plan);
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

  /** Runs pending evictions now (otherwise they run as the store is used). */
  public void cleanUp() {
    slots.cleanUp();
  }

  private Slot slot(QuotaKey key, QuotaPlan plan) {
    String k = key.partition();
    Slot slot = slots.getIfPresent(k);
    return slot != null ? slot : slots.get(k, x -> new Slot(plan));
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

  private static Ticker ticker(Clock clock) {
    if (clock.equals(Clock.systemUTC()) || clock.equals(Clock.systemDefaultZone())) {
      return Ticker.systemTicker();
    }
    return () -> QuotaArithmetic.micros(clock) * 1000L;
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

    Slot(QuotaPlan firstPlan) {
      this.firstPlan = firstPlan;
    }

    long horizonNanos() {
      State s = state;
      QuotaPlan p = s.plan != null ? s.plan : firstPlan;
      // One extra second so a key is never dropped in the very microsecond it turns neutral.
      return (p.horizonMicros() + 1_000_000L) * 1000L;
    }
  }

  private static final class IdleExpiry implements Expiry<String, Slot> {
    @Override
    public long expireAfterCreate(String key, Slot value, long currentTime) {
      return value.horizonNanos();
    }

    @Override
    public long expireAfterUpdate(String key, Slot value, long currentTime, long currentDuration) {
      return value.horizonNanos();
    }

    @Override
    public long expireAfterRead(String key, Slot value, long currentTime, long currentDuration) {
      return value.horizonNanos();
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

    /** Where Caffeine runs evictions. Default: its own ({@code ForkJoinPool.commonPool()}). */
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
