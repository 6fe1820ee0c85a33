package io.modelguard;

import java.util.List;

/**
 * A request-side policy: one method, returning a {@link GuardDecision}. Implementations must be
 * thread-safe. A policy that throws is treated as a failure: the request is denied with
 * {@link ReasonCode#INTERNAL_ERROR} (unless the policy was registered fail-open) and the exception
 * is logged (at ERROR with its stack trace at most once a minute per chain, policy and exception
 * class, at DEBUG otherwise; see {@link ModelGuard#check}); it never reaches the client. A {@link io.modelguard.quota.QuotaStoreException}
 * (its quota store is down) is denied with {@link ReasonCode#QUOTA_UNAVAILABLE} instead.
 */
@FunctionalInterface
public interface Policy {

  /**
   * Decides on one request. Return {@link GuardDecision#allow()} to let later policies run.
   *
   * @param context the request, its endpoint and what earlier policies decided; not null
   * @return the decision; never null: allow to go on, deny to stop the chain
   */
  GuardDecision evaluate(GuardContext context);

  /**
   * What is wrong with this policy in the engine being built: each problem one line naming the
   * unknown model or tier and how to fix it (the engine prefixes the chain and the policy's name).
   * {@link ModelGuard.Builder#build()} calls it once for every policy of every chain and refuses to
   * build if any policy reports a problem, so a name that would make the policy silently never apply
   * fails start-up instead. A name can only be checked against what the engine declares: a policy
   * reports an unknown model only if the engine registers models, and an unknown tier only if it
   * registers tiers ({@link ModelGuard.Configuration}). A policy wrapping another reports the
   * wrapped one's problems too.
   *
   * <p>Default: none.
   *
   * @param configuration the models and tiers the engine being built registers
   * @return one line per problem; empty if there is none
   */
  default List<String> configurationProblems(ModelGuard.Configuration configuration) {
    return List.of();
  }

  /**
   * Whether a failure of this policy must deny the request: true for a check whose exception,
   * were the policy skipped, would let through exactly the requests it exists to refuse (an
   * authorization check, an input validation). {@link PolicyChain.Builder#policy(Phase, String,
   * Policy, FailureMode)} refuses to register such a policy with {@link FailureMode#OPEN} in any
   * phase (any policy of {@link Phase#AUTHORIZE} is refused so, whatever it answers). Return true
   * from a check of your own that must never be skipped, wherever it is registered; a policy
   * wrapping another should return the wrapped one's answer. Called once, at registration.
   *
   * <p>Default: false. The library's {@link io.modelguard.authz.ModelAccessPolicy}, {@link
   * io.modelguard.input.ModelInputPolicy} and authenticators ({@link
   * io.modelguard.authn.ApiKeyAuthenticator}, {@link io.modelguard.authn.jwt.JwtAuthenticator})
   * return true, and {@link #forModels} the wrapped policy's answer.
   *
   * @return true if a failure of this policy must deny the request whatever its failure mode
   */
  default boolean mustFailClosed() {
    return false;
  }

  /**
   * Whether this policy decides for authenticated requests only, allowing a request without a
   * principal untouched (as {@link io.modelguard.quota.QuotaPolicy} does: unauthenticated traffic
   * is {@link io.modelguard.quota.UnauthenticatedLimit}'s), so that it needs the chain's
   * authenticators to have run before it: {@link PolicyChain.Builder#policy(Phase, String, Policy,
   * FailureMode)} refuses such a policy in {@link Phase#AUTHENTICATE} (it would run before or
   * among the authenticators and count nothing), and {@link ModelGuard.Builder#build()} refuses a
   * chain that has one but no {@code AUTHENTICATE} policy (only those set the principal: every
   * request would pass it uncounted). Return true from a check of your own that does nothing
   * without a principal; a policy wrapping another should return the wrapped one's answer. Called
   * at registration and at build.
   *
   * <p>Default: false. The library's {@link io.modelguard.quota.QuotaPolicy} returns true, and
   * {@link #forModels} the wrapped policy's answer.
   *
   * @return true if this policy does nothing without a principal and must run after authentication
   */
  default boolean requiresPrincipal() {
    return false;
  }

  /**
   * Undoes what {@link #evaluate} set aside for a request that a later policy of the chain then
   * denied (or the engine did, for a missing principal or an unresolved model): the request never
   * reaches the application, so a hold taken for its call, such as a quota reservation, is released.
   * Called once per denial, on every policy that ran before the denying one (latest first),
   * including one that allowed nothing or failed open, so an implementation must tolerate a
   * request it holds nothing for. It cannot change the decision: an exception it throws is logged
   * and the denial stands.
   *
   * <p>Default: nothing.
   *
   * @param context the context of the denied request, as {@link #evaluate} saw it
   */
  default void release(GuardContext context) {}

  /**
   * This policy for the requests of {@code models} only (the endpoint's resolved model): any other
   * request, and one without a model, it allows untouched. For a policy of particular models in a
   * chain that serves others as well: an extraction defence or an input specification of one model.
   * {@link #release} reaches this policy for the requests it evaluated.
   * If the engine registers models, a model of {@code models} it does not register is refused at
   * its {@link ModelGuard.Builder#build()} ({@link #configurationProblems}), as are the wrapped
   * policy's own problems. It must fail closed if the wrapped policy must ({@link #mustFailClosed}), and needs a principal
   * if the wrapped policy does ({@link #requiresPrincipal}).
   *
   * @param models the model ids the policy applies to: at least one, each once, none null
   * @return a new policy that evaluates this one for those models only
   * @throws IllegalArgumentException if {@code models} is empty or names a model twice
   * @throws NullPointerException if a model is null
   */
  default Policy forModels(String... models) {
    ModelScope scope = ModelScope.of(models);
    Policy policy = this;
    return new Policy() {
      @Override
      public GuardDecision evaluate(GuardContext context) {
        return scope.covers(context.endpoint()) ? policy.evaluate(context) : GuardDecision.allow();
      }

      @Override
      public void release(GuardContext context) {
        if (scope.covers(context.endpoint())) {
          policy.release(context);
        }
      }

      @Override
      public List<String> configurationProblems(ModelGuard.Configuration configuration) {
        return scope.problems(configuration, policy.configurationProblems(configuration));
      }

      @Override
      public boolean mustFailClosed() {
        return policy.mustFailClosed();
      }

      @Override
      public boolean requiresPrincipal() {
        return policy.requiresPrincipal();
      }

      @Override
      public String toString() {
        return scope.describe(policy);
      }
    };
  }
}
