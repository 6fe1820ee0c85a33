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
 *
 * <p>The client gets one answer for every such refusal; the operator is told which condition
 * failed by the denial's {@linkplain GuardDecision#operatorNote() operator note} (in the audit line
 * as {@code operatorNote=}, never in the problem response): {@value #NOTE_UNREGISTERED_MODEL},
 * {@value #NOTE_NO_TIER} (a token without a tier claim, say), {@value #NOTE_UNKNOWN_TIER} (a tier
 * claim the engine does not register: a typo, or another letter case), {@value
 * #NOTE_NOT_IN_TIER} or {@value #NOTE_NOT_IN_CREDENTIAL}; {@value #NOTE_NO_MODEL} when the
 * endpoint names no model.
 */
public final class ModelAccessPolicy implements Policy {

  /**
   * Operator note: the engine registers models, and not this one (the engine sets it too when it
   * refuses such a model itself, in a chain without this policy or with it scoped to other models).
   */
  public static final String NOTE_UNREGISTERED_MODEL = "model_forbidden:UNREGISTERED_MODEL";
  /** Operator note: the principal has no tier (its credential names none, and no default applies). */
  public static final String NOTE_NO_TIER = "model_forbidden:NO_TIER";
  /**
   * Operator note: the principal's tier is not registered with the engine ({@link
   * io.modelguard.quota.QuotaPolicy} sets it too when it refuses such a principal itself, in a
   * chain without this policy).
   */
  public static final String NOTE_UNKNOWN_TIER = "model_forbidden:UNKNOWN_TIER";
  /** Operator note: the principal's tier does not grant the model. */
  public static final String NOTE_NOT_IN_TIER = "model_forbidden:NOT_IN_TIER";
  /** Operator note: the tier grants the model, but the credential's models or scopes leave it out. */
  public static final String NOTE_NOT_IN_CREDENTIAL = "model_forbidden:NOT_IN_CREDENTIAL";
  /**
   * Operator note: the endpoint names no model. This policy sets it for an endpoint without a model
   * by design; the engine, which refuses a path that gives the template's model variable no valid
   * model id before any AUTHORIZE policy runs ({@link io.modelguard.Endpoint#isUnresolved}), sets
   * it on that refusal.
   */
  public static final String NOTE_NO_MODEL = "model_forbidden:NO_MODEL";

  /** The policy. */
  public ModelAccessPolicy() {}

  /**
   * {@return the OAuth scope that grants invoking {@code model}}
   *
   * @param model the model id, put in the scope as it is
   */
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
      return GuardDecision.deny(ReasonCode.AUTHZ_MODEL_FORBIDDEN).withOperatorNote(NOTE_NO_MODEL);
    }
    String m = model.get();
    String refusal = refusal(context, principal.get(), m);
    return refusal == null
        ? GuardDecision.allow()
        : GuardDecision.deny(ReasonCode.AUTHZ_MODEL_FORBIDDEN).withChallengeScope(scopeFor(m))
            .withOperatorNote(refusal);
  }

  /**
   * The check of this policy, for the engine, which applies it itself wherever it registers tiers
   * (see {@link io.modelguard.ModelGuard.Builder#tier}).
   *
   * @param context the request's context, for the engine's models and tiers
   * @param p the principal
   * @param m the model it asks for
   * @return the operator note of the first condition that fails, or null if {@code p} may invoke
   *     {@code m}
   */
  public static String refusal(GuardContext context, Principal p, String m) {
    if (!context.isRegisteredModel(m)) {
      return NOTE_UNREGISTERED_MODEL;
    }
    if (p.tier().isEmpty()) {
      return NOTE_NO_TIER;
    }
    Optional<Tier> tier = context.tier(p.tier().get());
    if (tier.isEmpty()) {
      return NOTE_UNKNOWN_TIER;
    }
    if (!tier.get().allows(m)) {
      return NOTE_NOT_IN_TIER;
    }
    return p.allowedModels().map(s -> s.contains(m)).orElse(true) ? null : NOTE_NOT_IN_CREDENTIAL;
  }
}
