package io.modelguard.event;

import io.modelguard.extraction.RiskLevel;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The extraction defence flagged a client: one event per observed query on which at least one
 * detector fired, published by the defence's OBSERVE policy to the engine's listeners. Carries
 * identifiers, levels and the score only — never the query's features, the model's output or any
 * key — and is never shown to the client.
 *
 * @param timestamp when the query was observed, by the defence's clock
 * @param client the key the defence tracks the client by: {@code p:<tenant>:<subject>} for an
 *     authenticated principal ({@code t:<tenant>} when the defence's client scope is the tenant),
 *     {@code a:<remote address>} otherwise (an IPv6 address as its /64, as quota keys have it);
 *     parts escaped as in quota keys
 * @param subject the authenticated subject of the flagged query (in tenant scope, the one of the
 *     tenant's subjects that sent it), or null
 * @param tenant the authenticated tenant, or null
 * @param model the model id, or null if unresolved
 * @param previousLevel the client's risk level before this query
 * @param level the client's risk level after it (equal to {@code previousLevel} if unchanged)
 * @param detectors the names of the detectors that fired on this query (for example {@code prada},
 *     {@code hashing}, {@code coverage}), in the defence's order; never empty
 * @param score the client's decayed risk score after this query
 * @param query the number of distinct queries the defence has seen from the client, this one
 *     included
 */
public record ExtractionDetectionEvent(
    Instant timestamp,
    String client,
    String subject,
    String tenant,
    String model,
    RiskLevel previousLevel,
    RiskLevel level,
    List<String> detectors,
    double score,
    long query)
    implements GuardEvent {

  /**
   * Validates the required fields and copies {@code detectors}.
   *
   * @param timestamp when the query was observed; not null
   * @param client the key the defence tracks the client by; not null
   * @param subject the authenticated subject, or null
   * @param tenant the authenticated tenant, or null
   * @param model the model id, or null if unresolved
   * @param previousLevel the client's level before the query; not null
   * @param level the client's level after it; not null
   * @param detectors the detectors that fired, at least one; copied
   * @param score the client's decayed risk score after the query
   * @param query how many distinct queries the defence has seen from the client, this one included
   * @throws IllegalArgumentException if {@code detectors} is empty
   */
  public ExtractionDetectionEvent {
    Objects.requireNonNull(timestamp, "timestamp");
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(previousLevel, "previousLevel");
    Objects.requireNonNull(level, "level");
    detectors = List.copyOf(detectors);
    if (detectors.isEmpty()) {
      throw new IllegalArgumentException("detectors must name at least one detector");
    }
  }

  /** {@return whether this query moved the client to a higher level} */
  public boolean escalated() {
    return level.compareTo(previousLevel) > 0;
  }
}
