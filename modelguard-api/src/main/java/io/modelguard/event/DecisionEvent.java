package io.modelguard.event;

import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One per {@link io.modelguard.ModelGuard#check} call: the outcome of one request. Carries no
 * credential material: only the subject and tenant of an authenticated caller.
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
    String policy)
    implements GuardEvent {

  /** Validates the required fields. */
  public DecisionEvent {
    Objects.requireNonNull(timestamp, "timestamp");
    Objects.requireNonNull(chain, "chain");
    if (!allowed) {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** The reason of a denial, if denied. */
  public Optional<ReasonCode> reasonCode() {
    return Optional.ofNullable(reason);
  }
}
