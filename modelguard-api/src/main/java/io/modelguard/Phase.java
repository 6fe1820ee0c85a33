package io.modelguard;

/**
 * The request-side phases, in the order the engine runs them. Whatever order policies are
 * registered in, every policy of an earlier phase runs before any policy of a later one; within a
 * phase, policies run in registration order.
 */
public enum Phase {
  /** Establishes who is calling; the first policy here that returns a principal wins. */
  AUTHENTICATE,
  /** Decides whether the principal may invoke the endpoint's model. */
  AUTHORIZE,
  /** Rate, volume and cost limits per tenant and model. */
  QUOTA,
  /** Size, media type, JSON limits, model input specs, SSRF-safe URL fetching. */
  VALIDATE,
  /** Client risk computed from earlier traffic; may throttle or block now. */
  DETECT
}
