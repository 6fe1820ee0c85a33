package io.modelguard.extraction;

/** The graduated responses to a client's extraction risk, mildest first. */
public enum RiskLevel {
  /** Nothing suspicious: the tier's normal output. */
  OBSERVE,
  /** Some signal: stronger (keyed) perturbation. */
  PERTURB,
  /** Flagged: misinformation (the least likely class, with confidences keyed by the query). */
  MISINFORM,
  /** Persistently flagged: misinformation and at most one request per throttle interval. */
  THROTTLE,
  /** Denied with {@code 403 extraction.blocked} until the risk decays. */
  BLOCK
}
