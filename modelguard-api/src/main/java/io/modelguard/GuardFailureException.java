package io.modelguard;

/**
 * Thrown by {@link ModelGuard#onResponse(InferenceRequest, GuardDecision, int, ModelOutput)} when a
 * fail-closed output policy failed: the adapter must
 * not send the model's output and answers with {@link ReasonCode#INTERNAL_ERROR} instead. The cause
 * has already been logged; the message names only the chain and policy.
 */
public final class GuardFailureException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  GuardFailureException(String message) {
    super(message, null, false, false);
  }
}
