package io.modelguard.extraction;

/**
 * The randomness a {@link Perturbation} may use. Both streams are <em>keyed</em>: {@link
 * #perQuery()} is derived from an HMAC of (client, input), so a repeated query gets exactly the
 * same noise and averaging repeats gains nothing — and, as {@link ExtractionDefence} keys it, its
 * Gaussian draws are half keyed by (client, the input's neighbourhood), so slight variations of an
 * input can average away only the other half ({@link ExtractionDefence.Builder#noiseRadius}); {@link
 * #perClient()} is derived from the client alone, for a perturbation that must stay the same
 * across a client's queries. Not thread-safe.
 */
public interface NoiseSource {

  /**
   * The stream keyed by (client, input); in {@link ExtractionDefence}, its uniform draws keyed by
   * (client, input's neighbourhood) and its Gaussian draws mixing that stream's and the input's.
   *
   * @return the stream, starting afresh from its key on every call
   */
  KeyedRandom perQuery();

  /**
   * The stream keyed by the client alone.
   *
   * @return the stream, starting afresh from its key on every call
   */
  KeyedRandom perClient();
}
