package io.modelguard;

/**
 * A response-side policy: sees (and may rewrite) the model's output of an allowed request.
 * Implementations must be thread-safe. A policy that throws is logged once and the engine returns
 * a generic error instead of the output (fail closed), unless registered fail-open, in which case
 * its step is skipped.
 */
@FunctionalInterface
public interface OutputPolicy {

  /** Returns the output to pass on: {@code context.output()} unchanged, or a rewritten one. */
  ModelOutput apply(ResponseContext context);
}
