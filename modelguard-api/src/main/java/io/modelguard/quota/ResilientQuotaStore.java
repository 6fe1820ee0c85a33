package io.modelguard.quota;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts a circuit breaker and an explicit {@link FailurePolicy} in front of a remote {@link
 * QuotaStore}, so that an outage of the shared store costs each request at most one timeout, and
 * then nothing.
 *
 * <ul>
 *   <li><b>Closed</b> (normal): calls go to the primary store. A call that throws {@link
 *       QuotaStoreException} (failure or timeout: the primary must bound its own calls) is answered
 *       by the failure policy; {@link Builder#failureThreshold(int) failureThreshold} consecutive
 *       failures (default 3) open the circuit.
 *   <li><b>Open</b>: for {@link Builder#openDuration(Duration) openDuration} (default 1 s) every
 *       call is answered by the failure policy at once, without touching the primary (well under a
 *       millisecond).
 *   <li><b>Half-open</b>: then one call probes the primary while the others keep getting the
 *       failure policy; success closes the circuit, failure opens it again, and so does a probe
 *       that ends with any other exception, so the circuit is never left half-open.
 * </ul>
 *
 * Reservations are settled ({@link #settle}) in the store that decided them: the local fallback's
 * in the local store, the primary's in the primary or not at all, so units one store charged are
 * never returned by the other (a client reserving much during an outage and refunding after it
 * would otherwise gain the refund in the primary).
 *
 * <p>The failure policy defaults to {@link FailurePolicy#localFallback(int) localFallback(1)}. Only
 * {@link QuotaStoreException} counts as a failure; any other exception (a bug) propagates. State
 * changes are logged once each at WARN/INFO, never per request. Thread-safe.
 */
public final class ResilientQuotaStore implements QuotaStore {
  /** The circuit's states. */
  public enum CircuitState {
    /** Calls go to the primary store. */
    CLOSED,
    /** Calls are answered by the failure policy without touching the primary store. */
    OPEN,
    /** One probe call is with the primary store; other calls get the failure policy. */
    HALF_OPEN
  }

  private static final Logger log = LoggerFactory.getLogger(ResilientQuotaStore.class);
  private static final int CLOSED = 0;
  private static final int OPEN = 1;
  private static final int HALF_OPEN = 2;
  private static final int DENIED = 0;
  private static final int PERMITTED = 1;
  private static final int PROBE = 2;
  /** The least time between two warnings about dropped settlements. */
  private static final long DROP_WARNING_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final QuotaStore primary;
  private final FailurePolicy policy;
  private final int threshold;
  private final long openNanos;
  private final LongSupplier ticker;
  private final Clock clock;
  private final InMemoryQuotaStore local;
  private final AtomicInteger state = new AtomicInteger(CLOSED);
  private final AtomicInteger consecutiveFailures = new AtomicInteger();
  private final AtomicLong primaryCalls = new AtomicLong();
  private final AtomicLong droppedSettlements = new AtomicLong();
  /** Ticker time from which a dropped settlement is worth a warning again. */
  private final AtomicLong nextDropWarning;
  private volatile long openedAt;

  private ResilientQuotaStore(Builder b) {
    this.primary = b.primary;
    this.policy = b.policy;
    this.threshold = b.threshold;
    this.openNanos = b.openDuration.toNanos();
    this.ticker = b.ticker;
    this.clock = b.clock != null ? b.clock : Clock.systemUTC();
    this.nextDropWarning = new AtomicLong(ticker.getAsLong());
    this.local = policy.mode() == FailurePolicy.Mode.LOCAL_FALLBACK ? localStore(b) : null;
  }

  /** The local fallback store: on the given clock, else on the in-memory store's default time. */
  private static InMemoryQuotaStore localStore(Builder b) {
    InMemoryQuotaStore.Builder local = InMemoryQuotaStore.builder().maximumSize(b.localMaximumSize);
    return (b.clock != null ? local.clock(b.clock) : local).build();
  }

  /** Starts a builder around {@code primary}, which must bound the duration of its own calls. */
  public static Builder builder(QuotaStore primary) {
    return new Builder(primary);
  }

  @Override
  public QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost) {
    if (cost < 1) {
      throw new IllegalArgumentException("cost must be at least 1, was " + cost);
    }
    int permit = permit();
    if (permit == DENIED) {
      return fallback(key, plan, cost);
    }
    QuotaDecision d;
    try {
      primaryCalls.incrementAndGet();
      d = primary.acquire(key, plan, cost);
    } catch (QuotaStoreException e) {
      onFailure(e);
      return fallback(key, plan, cost);
    } catch (RuntimeException | Error e) {
      onBug(permit);
      throw e;
    }
    onSuccess();
    return d;
  }

  /**
   * Adjusts {@code key} in whichever store answers now: the primary while the circuit is closed
   * and the call succeeds, else the local fallback (if the policy has one). An adjustment never
   * takes the open circuit's probe: a remote store may send it without waiting for an answer, so
   * its "success" proves nothing about the store, so it does not reset the count of consecutive
   * failures either (its failure does count). Knowing nothing of who decided the reservation,
   * it may land in a store that never charged it; settle reservations with {@link #settle}, which
   * does know.
   */
  @Override
  public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
    if (state.get() == CLOSED) {
      try {
        primaryCalls.incrementAndGet();
        primary.adjust(key, plan, delta, decidedAtMicros);
        // No onSuccess(): a remote store may only have queued it. Counted as a success, every
        // request's refund would reset the failure count between failed decisions, and the circuit
        // would never open during an outage.
        return;
      } catch (QuotaStoreException e) {
        onFailure(e);
      }
    }
    adjustLocally(key, plan, delta, decidedAtMicros);
  }

  /**
   * Settles {@code reservation} in the store that decided it, so that no store returns or charges
   * units another one counted:
   *
   * <ul>
   *   <li>a reservation the local fallback decided ({@linkplain QuotaDecision#isDegraded()
   *       degraded} and metered) is settled in the local store, on the node's share of {@code
   *       plan}, even once the primary is back;
   *   <li>a reservation the primary decided is settled in the primary only, while the circuit is
   *       closed; when the circuit is open or half-open, or the primary fails, it is dropped (the
   *       reservation stays charged as reserved, a refund is lost and an excess goes uncharged).
   *       A settlement never probes the primary and, like an adjustment, never resets the count
   *       of consecutive failures; a failure counts towards opening the circuit.
   * </ul>
   *
   * A fail-open decision charged nothing and is not settled. Dropped settlements are logged at
   * WARN at most once a minute, with how many were dropped.
   */
  @Override
  public void settle(QuotaKey key, QuotaPlan plan, long delta, QuotaDecision reservation) {
    if (delta == 0 || !reservation.isMetered()) {
      return;
    }
    if (reservation.isDegraded()) {
      if (local != null) {
        local.settle(key, localPlan(plan), delta, reservation);
      }
      return;
    }
    // Only a closed circuit: an asynchronous adjustment proves nothing about the primary, so it
    // must not be the probe that closes the circuit.
    if (state.get() != CLOSED) {
      dropSettlement(key, delta, "circuit " + circuitState());
      return;
    }
    try {
      primaryCalls.incrementAndGet();
      primary.settle(key, plan, delta, reservation); // no onSuccess(), as in adjust
    } catch (QuotaStoreException e) {
      onFailure(e);
      dropSettlement(key, delta, e.getMessage());
    }
  }

  /** Adjusts the local fallback's count, on the node's share of {@code plan}; nothing without a fallback. */
  private void adjustLocally(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
    if (local != null) {
      local.adjust(key, localPlan(plan), delta, decidedAtMicros);
    }
  }

  /** The node's share of {@code plan}, which the local fallback decides with. */
  private QuotaPlan localPlan(QuotaPlan plan) {
    return plan.perNode(policy.expectedNodes());
  }

  /** The circuit's current state. */
  public CircuitState circuitState() {
    switch (state.get()) {
      case OPEN:
        return CircuitState.OPEN;
      case HALF_OPEN:
        return CircuitState.HALF_OPEN;
      default:
        return CircuitState.CLOSED;
    }
  }

  /** The failure policy. */
  public FailurePolicy failurePolicy() {
    return policy;
  }

  /** How many calls reached the primary store so far (for monitoring and tests). */
  public long primaryCalls() {
    return primaryCalls.get();
  }

  /** How many settlements of the primary's reservations were dropped so far (for monitoring and tests). */
  public long droppedSettlements() {
    return droppedSettlements.get();
  }

  /** Counts a dropped settlement; warns at most once per {@link #DROP_WARNING_NANOS}, debug otherwise. */
  private void dropSettlement(QuotaKey key, long delta, String why) {
    long dropped = droppedSettlements.incrementAndGet();
    long now = ticker.getAsLong();
    long next = nextDropWarning.get();
    if (now - next >= 0 && nextDropWarning.compareAndSet(next, now + DROP_WARNING_NANOS)) {
      log.warn("ModelGuard quota store: settlement of {} units on {} dropped ({}); {} dropped so far,"
          + " the next warning at the earliest in a minute", delta, key, why, dropped);
    } else {
      log.debug("ModelGuard quota store: settlement of {} units on {} dropped ({})", delta, key, why);
    }
  }

  /** Whether this call may use the primary: {@link #DENIED}, {@link #PERMITTED}, or as the circuit's {@link #PROBE}. */
  private int permit() {
    int s = state.get();
    if (s == CLOSED) {
      return PERMITTED;
    }
    if (s == OPEN && ticker.getAsLong() - openedAt >= openNanos) {
      // Exactly one caller wins the probe.
      return state.compareAndSet(OPEN, HALF_OPEN) ? PROBE : DENIED;
    }
    return DENIED;
  }

  /**
   * A primary call ended with something other than a {@link QuotaStoreException}: a bug, not an
   * outage, so a closed circuit stays closed. But a probe that ends so must not leave the circuit
   * half-open, where no call would ever reach the primary again and the failure policy (perhaps
   * fail-open) would answer for ever: the circuit opens again and probes after the open duration.
   */
  private void onBug(int permit) {
    if (permit == PROBE) {
      openedAt = ticker.getAsLong();
      state.compareAndSet(HALF_OPEN, OPEN);
    }
  }

  private void onSuccess() {
    consecutiveFailures.set(0);
    int s = state.get();
    if (s != CLOSED && state.compareAndSet(s, CLOSED)) {
      log.info("ModelGuard quota store: primary store answers again; circuit closed");
    }
  }

  private void onFailure(QuotaStoreException e) {
    int s = state.get();
    if (s == HALF_OPEN) {
      open(HALF_OPEN, e);
    } else if (consecutiveFailures.incrementAndGet() >= threshold && s == CLOSED) {
      open(CLOSED, e);
    }
  }

  private void open(int from, QuotaStoreException e) {
    openedAt = ticker.getAsLong();
    if (state.compareAndSet(from, OPEN) && from == CLOSED) {
      log.warn("ModelGuard quota store: primary store unavailable ({}); circuit open, failure policy {}",
          e.getMessage(), policy);
    }
  }

  private QuotaDecision fallback(QuotaKey key, QuotaPlan plan, long cost) {
    switch (policy.mode()) {
      case FAIL_OPEN:
        return QuotaDecision.unmetered(plan, QuotaArithmetic.micros(clock));
      case FAIL_CLOSED:
        long waitNanos = Math.max(0, openNanos - (ticker.getAsLong() - openedAt));
        return QuotaDecision.unavailable(plan, Math.max(1, waitNanos / 1000), QuotaArithmetic.micros(clock));
      default:
        return local.acquire(key, localPlan(plan), cost).asDegraded();
    }
  }

  /** Builds a {@link ResilientQuotaStore}. */
  public static final class Builder {
    private final QuotaStore primary;
    private FailurePolicy policy = FailurePolicy.localFallback(1);
    private int threshold = 3;
    private Duration openDuration = Duration.ofSeconds(1);
    private LongSupplier ticker = System::nanoTime;
    /** Null: the system clock, and the local store's default time. */
    private Clock clock;
    private long localMaximumSize = 100_000;

    private Builder(QuotaStore primary) {
      this.primary = Objects.requireNonNull(primary, "primary");
    }

    /** What to answer while the primary is unavailable. Default {@link FailurePolicy#localFallback(int) localFallback(1)}. */
    public Builder failurePolicy(FailurePolicy policy) {
      this.policy = Objects.requireNonNull(policy, "failurePolicy");
      return this;
    }

    /**
     * Consecutive failures that open the circuit. Default 3.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder failureThreshold(int threshold) {
      if (threshold < 1) {
        throw new IllegalArgumentException("ResilientQuotaStore.failureThreshold must be at least 1, was " + threshold);
      }
      this.threshold = threshold;
      return this;
    }

    /**
     * How long the circuit stays open before one call probes the primary. Default 1 s.
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder openDuration(Duration openDuration) {
      if (openDuration == null || openDuration.isNegative() || openDuration.isZero()) {
        throw new IllegalArgumentException("ResilientQuotaStore.openDuration must be positive, was " + openDuration);
      }
      this.openDuration = openDuration;
      return this;
    }

    /** The monotonic time source of the circuit, in nanoseconds. Default {@link System#nanoTime()}. */
    public Builder ticker(LongSupplier ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * The clock of the local fallback store and of degraded decisions. Default: the system clock
     * ({@link Clock#systemUTC()}), which the local store reads as its default time (see {@link
     * InMemoryQuotaStore.Builder#clock}).
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The most keys the local fallback store holds. Default 100,000.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder localMaximumSize(long size) {
      if (size < 1) {
        throw new IllegalArgumentException("ResilientQuotaStore.localMaximumSize must be at least 1, was " + size);
      }
      this.localMaximumSize = size;
      return this;
    }

    /** Builds the store. */
    public ResilientQuotaStore build() {
      return new ResilientQuotaStore(this);
    }
  }
}
