package io.modelguard;

/**
 * Thrown by an {@link OutputPolicy} that withholds the output as its decision, not because it
 * failed: a response it must not let pass as the model wrote it, such as a query it cannot read
 * (which a client can bring about on purpose, to hide the query from a detector or to get an
 * answer without its perturbation). The engine withholds the output whatever the step's {@link
 * FailureMode}: {@link ModelGuard#onResponse(InferenceRequest, GuardDecision, int, ModelOutput)}
 * throws {@link GuardFailureException}, and the adapter answers {@link ReasonCode#INTERNAL_ERROR}. A
 * fail-open step skips a policy that throws any other exception, so a withholding signalled so
 * would let the very output it refused through. The message, for the log only, says why; no stack
 * trace is kept.
 */
public final class OutputWithheldException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * An exception whose {@code message} says why the output is withheld (logged, never sent).
   *
   * @param message why the output is withheld, for the log
   */
  public OutputWithheldException(String message) {
    super(message, null, false, false);
  }
}
