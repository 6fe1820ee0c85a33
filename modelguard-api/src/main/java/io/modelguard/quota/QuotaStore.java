package io.modelguard.quota;

/**
 * Where quota state lives: {@link InMemoryQuotaStore} for one JVM, {@code RedisQuotaStore} (module
 * {@code modelguard-redis}) for many. Every implementation must be thread-safe and exact under
 * contention (concurrent requests on one key never admit more than the plan allows), must use
 * {@link QuotaArithmetic}'s semantics, and passes the store-compatibility suite in {@code
 * modelguard-test} ({@code io.modelguard.test.quota.QuotaStoreCompatibilitySuite}).
 */
public interface QuotaStore {

  /**
   * Charges {@code cost} units to every limit of {@code plan} for {@code key} if all of them have
   * room, and to none otherwise.
   *
   * @param key whose counters to charge; not null
   * @param plan the limits to charge, in order; not null
   * @param cost units, at least 1; a cost above a limit's quota is never allowed ({@link
   *     QuotaDecision#NEVER})
   * @return the decision; never null
   * @throws QuotaStoreException if a remote store failed or timed out (a {@link
   *     ResilientQuotaStore} turns that into its failure policy's answer)
   */
  QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost);

  /**
   * Settles a reservation: a negative {@code delta} returns unused units, a positive one charges
   * units that turned out to be used beyond the reservation (never denied). Best effort: a remote
   * store may apply it asynchronously and drop it if it fails.
   *
   * @param key whose counters to settle; not null
   * @param plan the plan the reservation was charged under; not null
   * @param delta units to return (negative) or charge (positive); 0 changes nothing
   * @param decidedAtMicros {@link QuotaDecision#decidedAtMicros()} of the reservation, so a refund
   *     returns units to the window they were charged in
   * @throws QuotaStoreException if a remote store failed synchronously
   */
  void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros);

  /**
   * As {@link #adjust(QuotaKey, QuotaPlan, long, long)}, settling a reservation that left token
   * bucket {@code i} at {@code bucketEnds[i]} ({@link QuotaArithmetic#bucketEnds}): a refund moves
   * a bucket back no further than that end less the time since, so it gives back nothing the
   * bucket has refilled meanwhile. The built-in stores apply that bound.
   *
   * <p>Default: {@code adjust(key, plan, delta, decidedAtMicros)}, without the bound.
   *
   * @param key whose counters to settle; not null
   * @param plan the plan the reservation was charged under; not null
   * @param delta units to return (negative) or charge (positive); 0 changes nothing
   * @param decidedAtMicros {@link QuotaDecision#decidedAtMicros()} of the reservation
   * @param bucketEnds where the reservation left each token bucket, one per limit of {@code plan},
   *     or null for no bound
   * @throws IllegalArgumentException in the built-in stores, if {@code bucketEnds} is not null and
   *     does not hold one end per limit of {@code plan}
   * @throws QuotaStoreException if a remote store failed synchronously
   */
  default void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros, long[] bucketEnds) {
    adjust(key, plan, delta, decidedAtMicros);
  }

  /**
   * Settles {@code reservation}, a decision this store returned for {@code key} and {@code plan}:
   * {@link #adjust} by {@code delta}, in the store that charged the reservation. A store that
   * decides in more than one place ({@link ResilientQuotaStore}) sends it where the reservation
   * was decided, or drops it; a decision that charged nothing (not {@linkplain
   * QuotaDecision#isMetered() metered}) has nothing to settle. Best effort, like {@link #adjust}.
   *
   * <p>Default: for a metered reservation, {@code adjust(key, plan, delta,
   * reservation.decidedAtMicros(), QuotaArithmetic.bucketEnds(plan, reservation))}; nothing
   * otherwise.
   *
   * @param key the key the reservation was charged to; not null
   * @param plan the plan the reservation was charged under; not null
   * @param delta units to return (negative) or charge (positive)
   * @param reservation the decision this store returned for the reservation; not null
   * @throws QuotaStoreException if a remote store failed synchronously
   */
  default void settle(QuotaKey key, QuotaPlan plan, long delta, QuotaDecision reservation) {
    if (reservation.isMetered()) {
      adjust(key, plan, delta, reservation.decidedAtMicros(), QuotaArithmetic.bucketEnds(plan, reservation));
    }
  }

  /**
   * {@link #settle}, saying whether the store took the settlement: false if it dropped it instead
   * (as {@link ResilientQuotaStore} does while the store that decided the reservation is
   * unavailable), so that a caller reporting a refund does not report one that never happened. A
   * store that applies settlements asynchronously took one it accepted, even if applying it fails
   * later.
   *
   * <p>Default: {@code settle(key, plan, delta, reservation)}, then true.
   *
   * @param key the key the reservation was charged to; not null
   * @param plan the plan the reservation was charged under; not null
   * @param delta units to return (negative) or charge (positive)
   * @param reservation the decision this store returned for the reservation; not null
   * @return true if the store took the settlement, false if it dropped it
   * @throws QuotaStoreException if a remote store failed synchronously
   */
  default boolean trySettle(QuotaKey key, QuotaPlan plan, long delta, QuotaDecision reservation) {
    settle(key, plan, delta, reservation);
    return true;
  }
}
