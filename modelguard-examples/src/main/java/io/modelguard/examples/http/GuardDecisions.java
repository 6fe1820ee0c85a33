package io.modelguard.examples.http;

import io.modelguard.GuardDecision;
import io.modelguard.Principal;
import io.modelguard.servlet.ModelGuardFilter;
import jakarta.servlet.ServletRequest;
import java.util.Optional;

/**
 * Reads the decision {@link ModelGuardFilter} leaves on an allowed request, under the attribute
 * {@value #ATTRIBUTE}. Defensive: a missing attribute (the servlet deployed without the filter),
 * another type or a denial all read as "no decision", and the handler then fails closed.
 */
public final class GuardDecisions {
  /** The request attribute holding the allowing {@link GuardDecision}. */
  public static final String ATTRIBUTE = ModelGuardFilter.DECISION_ATTRIBUTE;

  private GuardDecisions() {}

  /** The allowing decision on {@code request}, if the filter published one. */
  public static Optional<GuardDecision> of(ServletRequest request) {
    Object value = request.getAttribute(ATTRIBUTE);
    if (value instanceof GuardDecision && ((GuardDecision) value).isAllowed()) {
      return Optional.of((GuardDecision) value);
    }
    return Optional.empty();
  }

  /** The authenticated principal of {@code request}, if the filter published one. */
  public static Optional<Principal> principal(ServletRequest request) {
    return of(request).flatMap(GuardDecision::principal);
  }
}
