package io.modelguard.extraction;

/**
 * The randomness a {@link Perturbation} may use. Both streams are <em>keyed</em>: {@link
 * #perQuery()} is derived from an HMAC of (client, input), so a repeated query gets exactly the
 * same noise and averaging repeats gains nothing; {@link #perClient()} is derived from the client
 * alone, for a perturbation that must stay the same across a client's queries. Not thread-safe.
 */
public interface NoiseSource {

  /** The stream keyed by (client, input). */
  KeyedRandom perQuery();

  /** The stream keyed by the client alone. */
  KeyedRandom perClient();
}
