package io.modelguard.extraction;

/**
 * The randomness a {@link Perturbation} may use. Both streams are <em>keyed</em>: {@link
 * #perQuery()} is derived from an HMAC of (client, input), so a repeated query gets exactly the
 * same noise and averaging repeats gains nothing — and, as {@link ExtractionDefence} keys it, of
 * (client, the input's neighbourhood), so slight variations of an input share at most 16 streams
 * and averaging them gains little either ({@link ExtractionDefence.Builder#noiseRadius}); {@link
 * #perClient()} is derived from the client alone, for a perturbation that must stay the same
 * across a client's queries. Not thread-safe.
 */
public interface NoiseSource {

  /** The stream keyed by (client, input), or (client, input's neighbourhood) in {@link ExtractionDefence}. */
  KeyedRandom perQuery();

  /** The stream keyed by the client alone. */
  KeyedRandom perClient();
}
