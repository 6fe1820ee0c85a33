package io.modelguard.quota;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a {@link QuotaStore} decided for one request: allowed or not, and for every limit of the
 * plan how many units remain and when it resets, plus how long to wait before a retry can
 * succeed. A value, like Bucket4j's {@code ConsumptionProbe}: stores never throw to deny.
 * Immutable.
 *
 * <p>{@link #remaining(int)} is exact: a request costing at most that many units would be allowed
 * now. {@link #retryAfter()} is the shortest wait after which the same request would be allowed if
 * nobody else used the key meanwhile; waiting any less is not enough.
 */
public final class QuotaDecision {
  /** The three outcomes. */
  public enum Status {
    /** Every limit had room; the cost was charged to all of them. */
    ALLOWED,
    /** At least one limit had no room; nothing was charged. */
    EXCEEDED,
    /** The store could not decide and the failure policy is fail-closed. */
    UNAVAILABLE
  }

  /** {@link #retryAfterMicros()} of a request whose cost exceeds a limit's quota: it can never pass. */
  public static final long NEVER = Long.MAX_VALUE;

  private static final long[] NONE = new long[0];

  private final Status status;
  private final QuotaPlan plan;
  /** Per limit, or null for a one-limit decision, whose figures are {@link #remaining0} and {@link #reset0}. */
  private final long[] remaining;
  private final long[] resetMicros;
  private final long remaining0;
  private final long reset0;
  /** How many limits have figures: the plan's size if metered, else 0. */
  private final int metered;
  private final long retryAfterMicros;
  private final long decidedAtMicros;
  private final boolean degraded;
  private final int binding;

  private QuotaDecision(Status status, QuotaPlan plan, long[] remaining, long[] resetMicros, long remaining0,
      long reset0, int metered, long retryAfterMicros, long decidedAtMicros, boolean degraded, int binding) {
    this.status = status;
    this.plan = plan;
    this.remaining = remaining;
    this.resetMicros = resetMicros;
    this.remaining0 = remaining0;
    this.reset0 = reset0;
    this.metered = metered;
    this.retryAfterMicros = retryAfterMicros;
    this.decidedAtMicros = decidedAtMicros;
    this.degraded = degraded;
    this.binding = binding;
  }

  /**
   * A metered decision, for store implementations ({@link QuotaArithmetic#decision} builds them).
   * The arrays are owned by the decision from now on.
   *
   * @param allowed whether the cost was charged
   * @param plan the plan decided on
   * @param remaining per limit: units still available now
   * @param resetMicros per limit: microseconds until the limit is back to its full quota (token
   *     bucket) or until its current window ends (sliding window)
   * @param retryAfterMicros for a denial: microseconds until the request could pass, or {@link
   *     #NEVER}; ignored when allowed
   * @param decidedAtMicros the store's time of the decision, microseconds since the epoch
   * @param binding the index of the limit that determines the {@code RateLimit} header
   * @return the decision, allowed or exceeded
   */
  public static QuotaDecision metered(boolean allowed, QuotaPlan plan, long[] remaining, long[] resetMicros,
      long retryAfterMicros, long decidedAtMicros, int binding) {
    Objects.requireNonNull(plan, "plan");
    if (remaining.length != plan.size() || resetMicros.length != plan.size()) {
      throw new IllegalArgumentException("one remaining and one reset per limit are required");
    }
    return new QuotaDecision(allowed ? Status.ALLOWED : Status.EXCEEDED, plan, remaining, resetMicros, 0, 0,
        plan.size(), allowed ? 0 : Math.max(1, retryAfterMicros), decidedAtMicros, false, binding);
  }

  /**
   * A metered decision on a one-limit plan, its figures held without arrays: what {@link
   * #metered} gives for one-element arrays.
   */
  static QuotaDecision meteredOne(boolean allowed, QuotaPlan plan, long remaining, long resetMicros,
      long retryAfterMicros, long decidedAtMicros) {
    return new QuotaDecision(allowed ? Status.ALLOWED : Status.EXCEEDED, plan, null, null, remaining, resetMicros,
        1, allowed ? 0 : Math.max(1, retryAfterMicros), decidedAtMicros, false, 0);
  }

  /**
   * Allowed without counting: the fail-open answer while the store is unavailable. Carries no
   * per-limit figures.
   *
   * @param plan the plan that would have been charged; not null
   * @param decidedAtMicros the time of the answer, in microseconds since the epoch
   * @return an allowed, degraded decision with no per-limit figures
   */
  public static QuotaDecision unmetered(QuotaPlan plan, long decidedAtMicros) {
    return new QuotaDecision(Status.ALLOWED, Objects.requireNonNull(plan, "plan"), NONE, NONE, 0, 0, 0, 0,
        decidedAtMicros, true, -1);
  }

  /**
   * Not decided: the fail-closed answer while the store is unavailable; retry after the given wait.
   *
   * @param plan the plan that would have been charged; not null
   * @param retryAfterMicros the wait before retrying, in microseconds; raised to 1 if lower
   * @param decidedAtMicros the time of the answer, in microseconds since the epoch
   * @return an unavailable, degraded decision with no per-limit figures
   */
  public static QuotaDecision unavailable(QuotaPlan plan, long retryAfterMicros, long decidedAtMicros) {
    return new QuotaDecision(Status.UNAVAILABLE, Objects.requireNonNull(plan, "plan"), NONE, NONE, 0, 0, 0,
        Math.max(1, retryAfterMicros), decidedAtMicros, true, -1);
  }

  /** {@return the same decision marked as made without the shared store (local fallback)} */
  public QuotaDecision asDegraded() {
    return degraded ? this
        : new QuotaDecision(status, plan, remaining, resetMicros, remaining0, reset0, metered, retryAfterMicros,
            decidedAtMicros, true, binding);
  }

  /** {@return the outcome} */
  public Status status() {
    return status;
  }

  /** {@return whether the request may proceed} */
  public boolean isAllowed() {
    return status == Status.ALLOWED;
  }

  /**
   * Whether the decision was made without the shared store (fail-open, fail-closed or local
   * fallback while it is unavailable).
   *
   * @return true for a fail-open, fail-closed or local-fallback answer
   */
  public boolean isDegraded() {
    return degraded;
  }

  /** {@return the plan decided on (for a local fallback, the per-node share)} */
  public QuotaPlan plan() {
    return plan;
  }

  /** {@return whether per-limit figures are known: true for every metered decision, false for fail-open and fail-closed answers} */
  public boolean isMetered() {
    return metered > 0;
  }

  /**
   * Units of limit {@code i} available now.
   *
   * @param i the limit's index in {@link #plan()}
   * @return the units left, at least 0
   * @throws IndexOutOfBoundsException if the decision is not {@linkplain #isMetered() metered}
   */
  public long remaining(int i) {
    return remaining != null ? remaining[i] : remaining0 + at(i);
  }

  /**
   * Microseconds until limit {@code i} resets: until a token bucket is full again, or until a
   * sliding window's current window ends.
   *
   * @param i the limit's index in {@link #plan()}
   * @return the time to the reset in microseconds, at least 0
   * @throws IndexOutOfBoundsException if the decision is not {@linkplain #isMetered() metered}
   */
  public long resetAfterMicros(int i) {
    return resetMicros != null ? resetMicros[i] : reset0 + at(i);
  }

  /** {@return the index of the most restrictive limit (the one the {@code RateLimit} header reports), or -1 if not metered} */
  public int bindingIndex() {
    return binding;
  }

  /** {@return the most restrictive limit's status: the fewest units remaining, or on a denial the longest wait} */
  public Optional<LimitStatus> binding() {
    return binding < 0 ? Optional.empty() : Optional.of(status(binding));
  }

  /** {@return every limit's status, in plan order; empty if not metered} */
  public List<LimitStatus> limits() {
    List<LimitStatus> out = new ArrayList<>(metered);
    for (int i = 0; i < metered; i++) {
      out.add(status(i));
    }
    return out;
  }

  /**
   * Microseconds until a retry can succeed: 0 when allowed, {@link #NEVER} if the cost exceeds a quota.
   *
   * @return the wait in microseconds: 0, a positive wait or {@link #NEVER}
   */
  public long retryAfterMicros() {
    return retryAfterMicros;
  }

  /**
   * {@link #retryAfterMicros()} as a duration; empty when allowed or when a retry can never succeed.
   *
   * @return the wait, or empty
   */
  public Optional<Duration> retryAfter() {
    return status == Status.ALLOWED || retryAfterMicros == NEVER
        ? Optional.empty() : Optional.of(Duration.of(retryAfterMicros, ChronoUnit.MICROS));
  }

  /** {@return the store's time of the decision in microseconds since the epoch (Redis {@code TIME} on Redis)} */
  public long decidedAtMicros() {
    return decidedAtMicros;
  }

  private LimitStatus status(int i) {
    return new LimitStatus(plan.limit(i), remaining(i), Duration.of(resetAfterMicros(i), ChronoUnit.MICROS));
  }

  /** 0 for the one limit of a one-limit decision; throws for any other index. */
  private static int at(int i) {
    if (i != 0) {
      throw new IndexOutOfBoundsException("Index " + i + " out of bounds for length 1");
    }
    return 0;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("QuotaDecision[").append(status);
    if (degraded) {
      sb.append(", degraded");
    }
    for (int i = 0; i < metered; i++) {
      sb.append(", ").append(plan.limit(i).name()).append(": r=").append(remaining(i))
          .append(" reset=").append(resetAfterMicros(i)).append("us");
    }
    if (status != Status.ALLOWED) {
      sb.append(", retryAfter=").append(retryAfterMicros == NEVER ? "never" : retryAfterMicros + "us");
    }
    return sb.append(']').toString();
  }

  /**
   * One limit's state after a decision.
   *
   * @param limit the limit
   * @param remaining units available now
   * @param resetAfter time until the limit resets (see {@link QuotaDecision#resetAfterMicros(int)})
   */
  public record LimitStatus(QuotaLimit limit, long remaining, Duration resetAfter) {}
}
