package io.modelguard;

/**
 * A request-side policy: one method, returning a {@link GuardDecision}. Implementations must be
 * thread-safe. A policy that throws is treated as a failure: the request is denied with
 * {@link ReasonCode#INTERNAL_ERROR} (unless the policy was registered fail-open) and the exception
 * is logged once; it never reaches the client.
 */
@FunctionalInterface
public interface Policy {

  /** Decides on one request. Return {@link GuardDecision#allow()} to let later policies run. */
  GuardDecision evaluate(GuardContext context);

  /**
   * Undoes what {@link #evaluate} set aside for a request that a later policy of the chain then
   * denied (or the engine did, for a missing principal or an unresolved model): the request never
   * reaches the application, so a hold taken for its call, such as a quota reservation, is released.
   * Called once per denial, on every policy that ran before the denying one (latest first),
   * including one that allowed nothing or failed open, so an implementation must tolerate a
   * request it holds nothing for. It cannot change the decision: an exception it throws is logged
   * and the denial stands.
   *
   * <p>Default: nothing.
   */
  default void release(GuardContext context) {}
}
