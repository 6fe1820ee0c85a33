package io.modelguard.event;

import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One per {@link io.modelguard.ModelGuard#check} call: the outcome of one request. Carries no
 * credential material: only the subject and tenant of an authenticated caller. For the operator's
 * channels (audit lines, metrics), never for the client: {@link #operatorNote} in particular may
 * say what the client's answer conceals on purpose.
 *
 * @param timestamp when the decision was taken
 * @param method the HTTP method
 * @param path the request path
 * @param chain the chain that ran
 * @param model the model id, or null if unresolved
 * @param subject the authenticated subject, or null
 * @param tenant the authenticated tenant, or null
 * @param allowed whether the request was allowed
 * @param reason the reason of a denial, or null
 * @param phase the phase of the denying policy, or null
 * @param policy the name of the denying policy, or null
 * @param operatorNote the {@linkplain io.modelguard.GuardDecision#operatorNote() operator note} of
 *     the denial, or null: a token such as {@code ssrf_refused:DENIED_ADDRESS} ({@link
 *     io.modelguard.input.UrlRefusal#operatorNote()}) telling what the reason code conceals from
 *     the client; never sent to it
 */
public record DecisionEvent(
    Instant timestamp,
    String method,
    String path,
    String chain,
    String model,
    String subject,
    String tenant,
    boolean allowed,
    ReasonCode reason,
    Phase phase,
    String policy,
    String operatorNote)
    implements GuardEvent {

  /**
   * Validates the required fields.
   *
   * @param timestamp when the decision was taken; not null
   * @param method the HTTP method
   * @param path the request path
   * @param chain the chain that ran; not null
   * @param model the model id, or null if unresolved
   * @param subject the authenticated subject, or null
   * @param tenant the authenticated tenant, or null
   * @param allowed whether the request was allowed
   * @param reason the reason of a denial; not null if {@code allowed} is false, else null
   * @param phase the phase of the denying policy, or null
   * @param policy the name of the denying policy, or null
   * @param operatorNote the denial's operator note, or null; must be null if {@code allowed}
   * @throws IllegalArgumentException if an allowed request has an operator note (only denials do)
   */
  public DecisionEvent {
    Objects.requireNonNull(timestamp, "timestamp");
    Objects.requireNonNull(chain, "chain");
    if (!allowed) {
      Objects.requireNonNull(reason, "reason");
    } else if (operatorNote != null) {
      throw new IllegalArgumentException("operatorNote is for denials only");
    }
  }

  /**
   * An event without an operator note: the form of this record before it had one.
   *
   * @param timestamp when the decision was taken; not null
   * @param method the HTTP method
   * @param path the request path
   * @param chain the chain that ran; not null
   * @param model the model id, or null if unresolved
   * @param subject the authenticated subject, or null
   * @param tenant the authenticated tenant, or null
   * @param allowed whether the request was allowed
   * @param reason the reason of a denial; not null if {@code allowed} is false
   * @param phase the phase of the denying policy, or null
   * @param policy the name of the denying policy, or null
   */
  public DecisionEvent(
      Instant timestamp,
      String method,
      String path,
      String chain,
      String model,
      String subject,
      String tenant,
      boolean allowed,
      ReasonCode reason,
      Phase phase,
      String policy) {
    this(timestamp, method, path, chain, model, subject, tenant, allowed, reason, phase, policy, null);
  }

  /** {@return the reason of a denial, if denied} */
  public Optional<ReasonCode> reasonCode() {
    return Optional.ofNullable(reason);
  }
}
