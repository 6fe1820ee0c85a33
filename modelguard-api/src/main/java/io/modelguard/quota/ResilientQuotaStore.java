package io.modelguard.quota;

import io.modelguard.internal.LogText;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
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
 * <b>Scopes.</b> By default one circuit serves every key. A primary made of independent parts
 * (the masters of a Redis Cluster) gives a {@link Builder#breakerScope(Function) breaker scope}: a
 * function from a call's key to the part that serves it, and each scope has a circuit of its own,
 * which counts only the failures of its keys, opens, probes and closes alone. So a failed part
 * opens its own circuit after {@code failureThreshold} failures on its keys, while the successes
 * of healthy parts (which would keep resetting one shared count) go on being decided by the
 * primary. The circuits live in a map of at most {@link Builder#maxBreakerScopes(int)
 * maxBreakerScopes} (default 1,024); when a new scope finds it full, a circuit closed without
 * failures (which a new one would equal) makes room, else any one (its scope starts again closed).
 *
 * <p>Reservations are settled ({@link #settle}) in the store that decided them: the local fallback's
 * in the local store, the primary's in the primary or not at all, so units one store charged are
 * never returned by the other (a client reserving much during an outage and refunding after it
 * would otherwise gain the refund in the primary). What decides it is the circuit of the
 * reservation's key's scope.
 *
 * <p><b>A key's unusable state is no outage.</b> A {@link QuotaKeyStateException} (the primary
 * answered, but holds something under one key that it cannot decide with, or cannot reach the key
 * for a while, as during a Redis Cluster slot migration) is answered by the
 * failure policy for that call only: it does not count towards opening the circuit, since the
 * circuit holds back every key of its scope, and a key another client broke would otherwise keep
 * opening it for all of them (under {@link FailurePolicy#failClosed()}, 503 for every tenant). The
 * primary did answer, so such a call counts as a success for the circuit, and closes it as a
 * probe. Such failures are logged at WARN at most once a minute, with the key and how many there
 * were.
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
  /** The one scope of a store without a {@link Builder#breakerScope(Function) breaker scope}. */
  private static final Object ALL_KEYS = new Object() {
    @Override
    public String toString() {
      return "all keys";
    }
  };
  /** The least time between two warnings of one kind (dropped settlements, scopes not told). */
  private static final long WARNING_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final QuotaStore primary;
  private final FailurePolicy policy;
  private final int threshold;
  private final long openNanos;
  private final LongSupplier ticker;
  private final Clock clock;
  private final InMemoryQuotaStore local;
  /** The scope of a call's key; null: one scope, {@link #ALL_KEYS}. */
  private final Function<? super QuotaKey, ?> scopeOf;
  private final int maxScopes;
  /** The circuit of each scope seen, at most {@link #maxScopes}; added to under its own lock. */
  private final ConcurrentHashMap<Object, Circuit> circuits = new ConcurrentHashMap<>();
  private final AtomicLong primaryCalls = new AtomicLong();
  private final AtomicLong droppedSettlements = new AtomicLong();
  /** Ticker time from which a dropped settlement is worth a warning again. */
  private final AtomicLong nextDropWarning;
  /** Ticker time from which a scope function's failure is worth a warning again. */
  private final AtomicLong nextScopeWarning;
  private final AtomicLong keyStateFailures = new AtomicLong();
  /** Ticker time from which a key's unusable state is worth a warning again. */
  private final AtomicLong nextKeyStateWarning;

  private ResilientQuotaStore(Builder b) {
    this.primary = b.primary;
    this.policy = b.policy;
    this.threshold = b.threshold;
    this.openNanos = b.openDuration.toNanos();
    this.ticker = b.ticker;
    this.clock = b.clock != null ? b.clock : Clock.systemUTC();
    this.nextDropWarning = new AtomicLong(ticker.getAsLong());
    this.nextScopeWarning = new AtomicLong(ticker.getAsLong());
    this.nextKeyStateWarning = new AtomicLong(ticker.getAsLong());
    this.local = policy.mode() == FailurePolicy.Mode.LOCAL_FALLBACK ? localStore(b) : null;
    this.scopeOf = b.scope;
    this.maxScopes = b.maxScopes;
  }

  /** The local fallback store: on the given clock, else on the in-memory store's default time. */
  private static InMemoryQuotaStore localStore(Builder b) {
    InMemoryQuotaStore.Builder local = InMemoryQuotaStore.builder().maximumSize(b.localMaximumSize);
    return (b.clock != null ? local.clock(b.clock) : local).build();
  }

  /**
   * Starts a builder around {@code primary}, which must bound the duration of its own calls.
   *
   * @param primary the shared store to protect; not null
   * @return a new builder with the defaults
   */
  public static Builder builder(QuotaStore primary) {
    return new Builder(primary);
  }

  @Override
  public QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost) {
    if (cost < 1) {
      throw new IllegalArgumentException("cost must be at least 1, was " + cost);
    }
    Circuit circuit = circuit(key);
    int permit = circuit.permit();
    if (permit == DENIED) {
      return fallback(circuit, key, plan, cost);
    }
    QuotaDecision d;
    try {
      primaryCalls.incrementAndGet();
      d = primary.acquire(key, plan, cost);
    } catch (QuotaKeyStateException e) {
      circuit.onSuccess(); // the primary answered: no outage, whatever the key holds
      keyStateFailure(key, e);
      return fallback(circuit, key, plan, cost);
    } catch (QuotaStoreException e) {
      circuit.onFailure(e);
      return fallback(circuit, key, plan, cost);
    } catch (RuntimeException | Error e) {
      circuit.onBug(permit);
      throw e;
    }
    circuit.onSuccess();
    return d;
  }

  /**
   * Adjusts {@code key} in whichever store answers now: the primary while the circuit (of the
   * key's scope) is closed and the call succeeds, else the local fallback (if the policy has one).
   * An adjustment never takes the open circuit's probe: a remote store may send it without waiting
   * for an answer, so its "success" proves nothing about the store, so it does not reset the count
   * of consecutive failures either (its failure does count). Knowing nothing of who decided the reservation,
   * it may land in a store that never charged it; settle reservations with {@link #settle}, which
   * does know.
   */
  @Override
  public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
    adjust(key, plan, delta, decidedAtMicros, null);
  }

  /**
   * As {@link #adjust(QuotaKey, QuotaPlan, long, long)}, passing the reservation's bucket ends on to
   * the store that takes the adjustment, so that the bound {@link QuotaStore} documents holds
   * through the breaker too.
   */
  @Override
  public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros, long[] bucketEnds) {
    Circuit circuit = circuit(key);
    if (circuit.state.get() == CLOSED) {
      try {
        primaryCalls.incrementAndGet();
        if (bucketEnds == null) {
          primary.adjust(key, plan, delta, decidedAtMicros);
        } else {
          primary.adjust(key, plan, delta, decidedAtMicros, bucketEnds);
        }
        // No onSuccess(): a remote store may only have queued it. Counted as a success, every
        // request's refund would reset the failure count between failed decisions, and the circuit
        // would never open during an outage.
        return;
      } catch (QuotaStoreException e) {
        circuit.onFailure(e);
      }
    }
    adjustLocally(key, plan, delta, decidedAtMicros, bucketEnds);
  }

  /**
   * Settles {@code reservation} in the store that decided it, so that no store returns or charges
   * units another one counted:
   *
   * <ul>
   *   <li>a reservation the local fallback decided ({@linkplain QuotaDecision#isDegraded()
   *       degraded} and metered) is settled in the local store, on the node's share of {@code
   *       plan}, even once the primary is back;
   *   <li>a reservation the primary decided is settled in the primary only, while the circuit (of
   *       the key's scope) is closed; when the circuit is open or half-open, or the primary fails,
   *       it is dropped (the reservation stays charged as reserved, a refund is lost and an excess
   *       goes uncharged).
   *       A settlement never probes the primary and, like an adjustment, never resets the count
   *       of consecutive failures; a failure counts towards opening the circuit.
   * </ul>
   *
   * A fail-open decision charged nothing and is not settled. Dropped settlements are logged at
   * WARN at most once a minute, with how many were dropped.
   */
  @Override
  public void settle(QuotaKey key, QuotaPlan plan, long delta, QuotaDecision reservation) {
    trySettle(key, plan, delta, reservation);
  }

  /**
   * {@link #settle}, returning false if the settlement was dropped (the circuit was not closed, or
   * the primary failed), true otherwise. Never throws {@link QuotaStoreException}.
   */
  @Override
  public boolean trySettle(QuotaKey key, QuotaPlan plan, long delta, QuotaDecision reservation) {
    if (delta == 0 || !reservation.isMetered()) {
      return true;
    }
    if (reservation.isDegraded()) {
      if (local != null) {
        local.settle(key, localPlan(plan), delta, reservation);
      }
      return true;
    }
    // Only a closed circuit: an asynchronous adjustment proves nothing about the primary, so it
    // must not be the probe that closes the circuit.
    Circuit circuit = circuit(key);
    if (circuit.state.get() != CLOSED) {
      dropSettlement(key, delta, "circuit " + circuit.state() + circuit.label());
      return false;
    }
    try {
      primaryCalls.incrementAndGet();
      primary.settle(key, plan, delta, reservation); // no onSuccess(), as in adjust
      return true;
    } catch (QuotaStoreException e) {
      circuit.onFailure(e);
      dropSettlement(key, delta, LogText.message(e, 512));
      return false;
    }
  }

  /** Adjusts the local fallback's count, on the node's share of {@code plan}; nothing without a fallback. */
  private void adjustLocally(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros, long[] bucketEnds) {
    if (local != null) {
      local.adjust(key, localPlan(plan), delta, decidedAtMicros, bucketEnds);
    }
  }

  /** The node's share of {@code plan}, which the local fallback decides with. */
  private QuotaPlan localPlan(QuotaPlan plan) {
    return plan.perNode(policy.expectedNodes());
  }

  /**
   * The circuit's current state; with {@linkplain Builder#breakerScope(Function) scopes}, the
   * worst of their circuits' states ({@code OPEN} if any is open, else {@code HALF_OPEN} if any
   * is, else {@code CLOSED}).
   *
   * @return the state; {@code CLOSED} when no circuit is open or half open
   */
  public CircuitState circuitState() {
    return worstCircuitState(scope -> true);
  }

  /**
   * {@return the state of the circuit {@code key}'s calls go through now: that of its scope}
   *
   * @param key the key whose circuit to report
   */
  public CircuitState circuitState(QuotaKey key) {
    Circuit c = circuits.get(scopeOf(key));
    return c == null ? CircuitState.CLOSED : c.state();
  }

  /**
   * The worst state of the circuits whose {@linkplain Builder#breakerScope(Function) scopes}
   * {@code scopes} accepts ({@code OPEN} before {@code HALF_OPEN} before {@code CLOSED}); {@code
   * CLOSED} if there are none. For a primary that knows which of its parts are current (a
   * Cluster's masters after a failover), so a circuit left open by a part that is gone does not
   * count.
   *
   * @param scopes accepts the scopes to consider
   * @return the worst state among them
   */
  public CircuitState worstCircuitState(Predicate<Object> scopes) {
    CircuitState worst = CircuitState.CLOSED;
    for (Circuit c : circuits.values()) {
      CircuitState s = c.state();
      if (s != CircuitState.CLOSED && scopes.test(c.scope)) {
        if (s == CircuitState.OPEN) {
          return s;
        }
        worst = s;
      }
    }
    return worst;
  }

  /** {@return the failure policy} */
  public FailurePolicy failurePolicy() {
    return policy;
  }

  /** {@return how many calls reached the primary store so far (for monitoring and tests)} */
  public long primaryCalls() {
    return primaryCalls.get();
  }

  /** How many scopes have a circuit now (for tests). */
  int breakerScopes() {
    return circuits.size();
  }

  /**
   * How many settlements of the primary's reservations were dropped so far, with the adjustments the
   * primary accepted and then failed to apply ({@link #primaryDroppedAdjustment}); for monitoring
   * and tests.
   *
   * @return the count since the store was built; it only grows
   */
  public long droppedSettlements() {
    return droppedSettlements.get();
  }

  /**
   * Reports an adjustment or settlement that the primary accepted and then failed to apply: a store
   * that applies them asynchronously (the Redis store does) calls this when one fails after {@link
   * #adjust} or {@link #settle} returned. It is counted in {@link #droppedSettlements()} and logged
   * like a settlement dropped here, at WARN at most once a minute. It does not count towards
   * opening the circuit: a late failure says nothing certain about the primary now.
   *
   * @param key the key the adjustment was for
   * @param delta the units it would have returned (negative) or charged (positive)
   * @param cause why it failed, for the log
   */
  public void primaryDroppedAdjustment(QuotaKey key, long delta, Throwable cause) {
    dropSettlement(key, delta, "the primary failed to apply it: " + LogText.oneLine(String.valueOf(cause), 512));
  }

  /** Counts a dropped settlement; warns at most once per {@link #WARNING_NANOS}, debug otherwise. */
  private void dropSettlement(QuotaKey key, long delta, String why) {
    long dropped = droppedSettlements.incrementAndGet();
    if (warningDue(nextDropWarning)) {
      log.warn("ModelGuard quota store: settlement of {} units on {} dropped ({}); {} dropped so far,"
          + " the next warning at the earliest in a minute", delta, key, why, dropped);
    } else {
      log.debug("ModelGuard quota store: settlement of {} units on {} dropped ({})", delta, key, why);
    }
  }

  /** Counts a decision one key's unusable state failed; warns at most once per {@link #WARNING_NANOS}. */
  private void keyStateFailure(QuotaKey key, QuotaKeyStateException e) {
    long failures = keyStateFailures.incrementAndGet();
    if (warningDue(nextKeyStateWarning)) {
      log.warn("ModelGuard quota store: cannot decide for {}: {}; the failure policy {} answers for it, other keys"
          + " and the circuit are not affected; decisions failed on a key's state so far: {}, the next warning at"
          + " the earliest in a minute", key, LogText.message(e, 512), policy, failures);
    } else {
      log.debug("ModelGuard quota store: cannot decide for {}: {}", key, LogText.message(e, 512));
    }
  }

  /**
   * The scope of {@code key}'s calls: what the breaker scope says, else (no function, null, or a
   * function that throws: logged, at most once a minute) the one scope of the keys without one.
   */
  private Object scopeOf(QuotaKey key) {
    if (scopeOf == null) {
      return ALL_KEYS;
    }
    Object scope;
    try {
      scope = scopeOf.apply(key);
    } catch (RuntimeException e) {
      if (warningDue(nextScopeWarning)) {
        log.warn("ModelGuard quota store: the breaker scope of a key could not be told ({}); its calls go "
            + "through the circuit of the keys without a scope", LogText.oneLine(e.toString(), 512));
      }
      return ALL_KEYS;
    }
    return scope == null ? ALL_KEYS : scope;
  }

  /**
   * Whether a warning whose next one is due at ticker time {@code next} may be logged now; if so,
   * the next one is due {@link #WARNING_NANOS} later (one caller wins).
   */
  private boolean warningDue(AtomicLong next) {
    long now = ticker.getAsLong();
    long due = next.get();
    return now - due >= 0 && next.compareAndSet(due, now + WARNING_NANOS);
  }

  /** The circuit of {@code key}'s scope, made on first use. */
  private Circuit circuit(QuotaKey key) {
    Object scope = scopeOf(key);
    Circuit c = circuits.get(scope);
    return c != null ? c : addCircuit(scope);
  }

  /**
   * Adds the circuit of a scope not in the map. Under its lock, so the map never holds more than
   * {@link #maxScopes}: when full, a circuit closed without failures (which a new one equals) makes
   * room, else the first one found.
   */
  private Circuit addCircuit(Object scope) {
    synchronized (circuits) {
      Circuit c = circuits.get(scope);
      if (c != null) {
        return c;
      }
      if (circuits.size() >= maxScopes) {
        Circuit victim = circuits.values().stream().filter(Circuit::isPristine).findFirst()
            .orElseGet(() -> circuits.values().iterator().next());
        circuits.remove(victim.scope, victim);
        log.debug("ModelGuard quota store: more than {} breaker scopes; {} forgotten, in state {}", maxScopes,
            victim.scope, victim.state());
      }
      c = new Circuit(scope);
      circuits.put(scope, c);
      return c;
    }
  }

  private QuotaDecision fallback(Circuit circuit, QuotaKey key, QuotaPlan plan, long cost) {
    switch (policy.mode()) {
      case FAIL_OPEN:
        return QuotaDecision.unmetered(plan, QuotaArithmetic.micros(clock));
      case FAIL_CLOSED:
        return unavailable(circuit, plan);
      default:
        QuotaDecision d = local.acquire(key, localPlan(plan), cost);
        if (d.retryAfterMicros() == QuotaDecision.NEVER && withinEveryQuota(plan, cost)) {
          // Above the node's share but not above the quota: the request can pass once the primary
          // answers again, so it is not told that it never can (and to wait a whole window).
          return unavailable(circuit, plan);
        }
        return d.asDegraded();
    }
  }

  /** The fail-closed answer: retry when the circuit next probes the primary. */
  private QuotaDecision unavailable(Circuit circuit, QuotaPlan plan) {
    // A closed circuit (a failure below the threshold) sends the next call to the primary at once;
    // it has no opening time to count from (0 is no time at all on a ticker of arbitrary origin).
    long waitNanos = circuit.state.get() == CLOSED ? 0
        : Math.max(0, openNanos - (ticker.getAsLong() - circuit.openedAt));
    return QuotaDecision.unavailable(plan, Math.max(1, waitNanos / 1000), QuotaArithmetic.micros(clock));
  }

  /** Whether {@code cost} is within the quota of every limit of {@code plan}. */
  private static boolean withinEveryQuota(QuotaPlan plan, long cost) {
    for (QuotaLimit l : plan.limits()) {
      if (cost > l.quota()) {
        return false;
      }
    }
    return true;
  }

  /** The circuit breaker of one scope. */
  private final class Circuit {
    final Object scope;
    final AtomicInteger state = new AtomicInteger(CLOSED);
    final AtomicInteger consecutiveFailures = new AtomicInteger();
    volatile long openedAt;

    Circuit(Object scope) {
      this.scope = scope;
    }

    CircuitState state() {
      switch (state.get()) {
        case OPEN:
          return CircuitState.OPEN;
        case HALF_OPEN:
          return CircuitState.HALF_OPEN;
        default:
          return CircuitState.CLOSED;
      }
    }

    /** Closed without failures: as a new circuit would be, so forgetting it loses nothing. */
    boolean isPristine() {
      return state.get() == CLOSED && consecutiveFailures.get() == 0;
    }

    /** How log lines name the scope: nothing for the one scope. */
    String label() {
      return scope == ALL_KEYS ? "" : " for " + scope;
    }

    /** Whether this call may use the primary: {@link #DENIED}, {@link #PERMITTED}, or as the circuit's {@link #PROBE}. */
    int permit() {
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
    void onBug(int permit) {
      if (permit == PROBE) {
        openedAt = ticker.getAsLong();
        state.compareAndSet(HALF_OPEN, OPEN);
      }
    }

    void onSuccess() {
      consecutiveFailures.set(0);
      int s = state.get();
      if (s != CLOSED && state.compareAndSet(s, CLOSED)) {
        log.info("ModelGuard quota store: primary store answers again; circuit{} closed", label());
      }
    }

    /** A failed call: counts towards opening, unless it was one key's state ({@link QuotaKeyStateException}). */
    void onFailure(QuotaStoreException e) {
      if (e instanceof QuotaKeyStateException) {
        return;
      }
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
        log.warn("ModelGuard quota store: primary store unavailable ({}); circuit{} open, failure policy {}",
            LogText.message(e, 512), label(), policy);
      }
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
    /** Null: one scope for every key. */
    private Function<? super QuotaKey, ?> scope;
    private int maxScopes = 1024;

    private Builder(QuotaStore primary) {
      this.primary = Objects.requireNonNull(primary, "primary");
    }

    /**
     * What to answer while the primary is unavailable. Default {@link FailurePolicy#localFallback(int) localFallback(1)}.
     *
     * @param policy the failure policy; not null
     * @return this builder
     */
    public Builder failurePolicy(FailurePolicy policy) {
      this.policy = Objects.requireNonNull(policy, "failurePolicy");
      return this;
    }

    /**
     * Consecutive failures that open the circuit. Default 3.
     *
     * @param threshold the count of failures in a row, at least 1
     * @return this builder
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
     * @param openDuration the open period, positive
     * @return this builder
     * @throws IllegalArgumentException if not positive
     */
    public Builder openDuration(Duration openDuration) {
      if (openDuration == null || openDuration.isNegative() || openDuration.isZero()) {
        throw new IllegalArgumentException("ResilientQuotaStore.openDuration must be positive, was " + openDuration);
      }
      this.openDuration = openDuration;
      return this;
    }

    /**
     * The monotonic time source of the circuit, in nanoseconds. Default {@link System#nanoTime()}.
     *
     * @param ticker returns monotonic nanoseconds; not null
     * @return this builder
     */
    public Builder ticker(LongSupplier ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * The clock of the local fallback store and of degraded decisions. Default: the system clock
     * ({@link Clock#systemUTC()}), which the local store reads as its default time (see {@link
     * InMemoryQuotaStore.Builder#clock}).
     *
     * @param clock the clock; not null
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The most keys the local fallback store holds. Default 100,000.
     *
     * @param size the most keys, at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder localMaximumSize(long size) {
      if (size < 1) {
        throw new IllegalArgumentException("ResilientQuotaStore.localMaximumSize must be at least 1, was " + size);
      }
      this.localMaximumSize = size;
      return this;
    }

    /**
     * A circuit per scope instead of one for the store: {@code scope} maps a call's key to the part
     * of the primary that serves it (a Cluster's master, say), and each part's circuit counts, opens
     * and probes on its own keys' calls only. Called on every call, before it, so it must be fast
     * and must not block; scopes are compared with {@code equals}. A null scope is the scope of a
     * store without this option, and so is the scope of a key for which the function throws (logged
     * at most once a minute). Default: one circuit for every key.
     *
     * @param scope maps a key to its part of the primary; not null
     * @return this builder
     */
    public Builder breakerScope(Function<? super QuotaKey, ?> scope) {
      this.scope = Objects.requireNonNull(scope, "scope");
      return this;
    }

    /**
     * The most scopes whose circuits are kept (see {@link #breakerScope(Function)}). Default 1,024.
     *
     * @param max the most scopes, at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder maxBreakerScopes(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("ResilientQuotaStore.maxBreakerScopes must be at least 1, was " + max);
      }
      this.maxScopes = max;
      return this;
    }

    /**
     * Builds the store.
     *
     * @return the store, circuit closed
     */
    public ResilientQuotaStore build() {
      return new ResilientQuotaStore(this);
    }
  }
}
