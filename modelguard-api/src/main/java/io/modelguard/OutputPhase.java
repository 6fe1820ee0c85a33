package io.modelguard;

/** The response-side phases, run in this order on allowed requests only. */
public enum OutputPhase {
  /** Sees the query and the prediction (for example to feed extraction detectors). */
  OBSERVE,
  /** May rewrite the prediction (rounding, top-k, noise) for this client's tier and risk. */
  PERTURB,
  /** Records usage, cost refunds and metrics; sees the final output. */
  RECORD
}
