package io.modelguard.extraction;

import java.time.Instant;
import java.util.Objects;

/**
 * One client's raised risk as an {@link ExtractionDefence} shares it through a {@link
 * RiskExchange}: under the defence's {@code label} (one per model), the client's key, its score
 * and the instant of that score by the publishing defence's clock. A receiving defence of the same
 * label decays the score from that instant to its own now and raises the client to at least that
 * (see {@link ExtractionDefence.Builder#exchange}). Immutable; validated on construction, so an
 * exchange that decodes raises from the wire gets a refusal, never a raise that could harm the
 * receiver.
 *
 * <p>The {@code scope} says what the client key means: the publishing defence's {@link
 * ExtractionDefence.Builder#clientScope}. A receiving defence of another scope drops the raise (its
 * keys of the same client differ, so the raise could never match one, and would only take room),
 * counts it ({@link ExtractionDefence#raisesOfAnotherScope}) and logs it at most once a minute, so
 * that instances configured apart are seen; a raise of an address's key ({@code a:<address>}, the
 * same in every scope) is taken whatever its scope. A raise without a scope (null: from a publisher that
 * does not say, such as an older instance or a hand-written message) is taken whatever the
 * receiver's scope, as before scopes were shared.
 *
 * @param label the defence's label: 1 to {@value #MAX_LABEL_LENGTH} printable ASCII characters
 * @param client the client key ({@code p:<tenant>:<subject>}, {@code t:<tenant>} or {@code
 *     a:<address>}): 1 to {@value #MAX_CLIENT_LENGTH} characters
 * @param score the client's risk score at {@code at}: finite and positive
 * @param at when the client had that score, by the publisher's clock
 * @param scope the publisher's client scope, or null if it does not say
 */
public record RiskRaise(String label, String client, double score, Instant at, ClientScope scope) {
  /** The longest label, in characters: a {@link NoiseKeys#derive} label's bound. */
  public static final int MAX_LABEL_LENGTH = NoiseKeys.MAX_DOMAIN_LENGTH;
  /**
   * The longest client key, in characters. A principal's key from identities of 256 characters
   * (the bound of a token's and an API key's subject and tenant), each character percent-encoded,
   * takes 3,075; a defence does not share a client whose key is longer, and logs that it does not.
   */
  public static final int MAX_CLIENT_LENGTH = 4_096;

  /**
   * Validates.
   *
   * @param label the defence's label, 1 to {@value #MAX_LABEL_LENGTH} printable ASCII characters
   * @param client the client's key, 1 to {@value #MAX_CLIENT_LENGTH} characters
   * @param score the client's risk score at {@code at}, finite and positive
   * @param at when the client had that score; not null
   * @param scope the publisher's client scope, or null if it does not say
   * @throws IllegalArgumentException naming the field, for a label or client out of bounds, a
   *     score that is not finite and positive, or a null instant
   */
  public RiskRaise {
    if (!NoiseKeys.isValidLabel(label)) {
      throw new IllegalArgumentException("RiskRaise.label must be 1 to " + MAX_LABEL_LENGTH
          + " printable ASCII characters, got " + (label == null ? "null" : label.length() + " characters"));
    }
    if (client == null || client.isEmpty() || client.length() > MAX_CLIENT_LENGTH) {
      throw new IllegalArgumentException("RiskRaise.client must be 1 to " + MAX_CLIENT_LENGTH + " characters, got "
          + (client == null ? "null" : client.length() + " characters"));
    }
    if (!(score > 0 && score <= Double.MAX_VALUE)) {
      throw new IllegalArgumentException("RiskRaise.score must be finite and positive, got " + score);
    }
    Objects.requireNonNull(at, "RiskRaise.at");
  }

  /**
   * A raise that does not say its publisher's scope (taken by a receiver of any scope).
   *
   * @param label the defence's label, 1 to {@value #MAX_LABEL_LENGTH} printable ASCII characters
   * @param client the client's key, 1 to {@value #MAX_CLIENT_LENGTH} characters
   * @param score the client's risk score at {@code at}, finite and positive
   * @param at when the client had that score; not null
   * @throws IllegalArgumentException as the canonical constructor
   */
  public RiskRaise(String label, String client, double score, Instant at) {
    this(label, client, score, at, null);
  }
}
