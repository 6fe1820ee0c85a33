package io.modelguard;

/** What happens when a policy throws instead of returning a decision. */
public enum FailureMode {
  /** Deny the request with {@link ReasonCode#INTERNAL_ERROR}. The default. */
  CLOSED,
  /**
   * Log the failure and continue as if the policy had allowed the request; a {@link
   * StackOverflowError} (deep recursion a client may provoke) denies as {@link #CLOSED} does.
   */
  OPEN
}
