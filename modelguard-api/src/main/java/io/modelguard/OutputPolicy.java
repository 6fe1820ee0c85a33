package io.modelguard;

/**
 * A response-side policy: sees (and may rewrite) the body of each response the application produced
 * for an allowed request, whatever its status ({@link ResponseContext#status()}): an error body can
 * carry a prediction as well as a success can. So a policy should pass a body it cannot read (a
 * problem document, say) unchanged rather than fail. Implementations must be thread-safe. A policy
 * that throws is logged once and the engine returns a generic error instead of the output (fail
 * closed), unless registered fail-open, in which case its step is skipped.
 */
@FunctionalInterface
public interface OutputPolicy {

  /** Returns the output to pass on: {@code context.output()} unchanged, or a rewritten one. */
  ModelOutput apply(ResponseContext context);
}
