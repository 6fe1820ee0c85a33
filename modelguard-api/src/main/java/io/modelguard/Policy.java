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
}
