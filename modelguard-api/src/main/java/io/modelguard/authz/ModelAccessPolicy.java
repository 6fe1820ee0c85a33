package io.modelguard.authz;

import io.modelguard.GuardContext;
import io.modelguard.GuardDecision;
import io.modelguard.Policy;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.Tier;
import java.util.Optional;

/**
 * Deny-by-default model access ({@link io.modelguard.Phase#AUTHORIZE}). A principal may invoke
 * model {@code m} only if all of these hold:
 *
 * <ol>
 *   <li>{@code m} is registered with the engine (unknown and forbidden models get the same answer,
 *       so callers cannot probe which models exist);
 *   <li>the principal has a tier, the tier is registered, and it allows {@code m};
 *   <li>if the credential restricts the models ({@link Principal#allowedModels()}), that set
 *       contains {@code m} — claims narrow what the tier grants, never widen it.
 * </ol>
 *
 * <p>Otherwise: {@code authz.model_forbidden} with challenge scope {@code model:<m>:invoke}. With
 * no principal at all, {@code auth.missing_credentials}. Stateless and thread-safe.
 */
public final class ModelAccessPolicy implements Policy {

  /** The policy. */
  public ModelAccessPolicy() {}

  /** The OAuth scope that grants invoking {@code model}. */
  public static String scopeFor(String model) {
    return "model:" + model + ":invoke";
  }

  /**
   * True: skipped when it throws, this check would let a request through to a model the caller
   * may not invoke, so it fails closed in whatever phase it is registered.
   */
  @Override
  public boolean mustFailClosed() {
    return true;
  }

  @Override
  public GuardDecision evaluate(GuardContext context) {
    Optional<Principal> principal = context.principal();
    if (principal.isEmpty()) {
      return GuardDecision.deny(ReasonCode.AUTH_MISSING_CREDENTIALS);
    }
    Optional<String> model = context.endpoint().model();
    if (model.isEmpty()) {
      return GuardDecision.deny(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    }
    String m = model.get();
    Principal p = principal.get();
    boolean allowed = context.isRegisteredModel(m)
        && p.tier().flatMap(context::tier).map((Tier t) -> t.allows(m)).orElse(false)
        && p.allowedModels().map(s -> s.contains(m)).orElse(true);
    return allowed
        ? GuardDecision.allow()
        : GuardDecision.deny(ReasonCode.AUTHZ_MODEL_FORBIDDEN).withChallengeScope(scopeFor(m));
  }
}
