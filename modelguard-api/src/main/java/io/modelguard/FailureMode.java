package io.modelguard;

/** What happens when a policy throws instead of returning a decision. */
public enum FailureMode {
  /**
   * Deny the request with {@link ReasonCode#INTERNAL_ERROR}, or with {@link
   * ReasonCode#QUOTA_UNAVAILABLE} if the policy threw a {@link
   * io.modelguard.quota.QuotaStoreException} (its quota store is down). The default.
   */
  CLOSED,
  /**
   * Log the failure and continue as if the policy had allowed the request (an output policy's step
   * is skipped); a {@link StackOverflowError} (deep recursion a client may provoke), and an output
   * policy's {@link OutputWithheldException} (its decision to withhold the output), deny as {@link
   * #CLOSED} does. Not for an {@link Phase#AUTHORIZE} policy, nor in any phase for one whose {@link
   * Policy#mustFailClosed()} is true ({@link PolicyChain.Builder#policy(Phase, String, Policy,
   * FailureMode)} refuses both): skipped, a failed authorization or input check would let through
   * the requests it exists to refuse.
   */
  OPEN
}
