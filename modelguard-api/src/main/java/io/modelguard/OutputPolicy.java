package io.modelguard;

import java.util.List;

/**
 * A response-side policy: sees (and may rewrite) the body of each response the application produced
 * for an allowed request, whatever its status ({@link ResponseContext#status()}): an error body can
 * carry a prediction as well as a success can. So a policy should pass a body it cannot read (a
 * problem document, say) unchanged rather than fail. Implementations must be thread-safe. A policy
 * that throws is logged (paced as a request policy's failure, see {@link Policy}) and the engine returns a generic error instead of the output (fail
 * closed), unless registered fail-open, in which case its step is skipped. A policy that withholds
 * the output on purpose throws {@link OutputWithheldException}, which withholds it in either mode.
 */
@FunctionalInterface
public interface OutputPolicy {

  /**
   * {@return the output to pass on: {@code context.output()} unchanged, or a rewritten one}
   *
   * @param context the response, the request it answers and the output so far; not null
   */
  ModelOutput apply(ResponseContext context);

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
   * This policy for the responses to requests of {@code models} only (the endpoint's resolved
   * model): any other response, and one to a request without a model, passes untouched. For an
   * output policy of particular models in a chain that serves others as well (an extraction
   * defence's OBSERVE and PERTURB policies, which read one model's inputs and answers).
   * If the engine registers models, a model of {@code models} it does not register is refused at
   * its {@link ModelGuard.Builder#build()} ({@link #configurationProblems}), as are the wrapped
   * policy's own problems.
   *
   * @param models the model ids the policy applies to: at least one, each once, none null
   * @return a new output policy that applies this one to those models' responses only
   * @throws IllegalArgumentException if {@code models} is empty or names a model twice
   * @throws NullPointerException if a model is null
   */
  default OutputPolicy forModels(String... models) {
    ModelScope scope = ModelScope.of(models);
    OutputPolicy policy = this;
    return new OutputPolicy() {
      @Override
      public ModelOutput apply(ResponseContext context) {
        return scope.covers(context.endpoint()) ? policy.apply(context) : context.output();
      }

      @Override
      public List<String> configurationProblems(ModelGuard.Configuration configuration) {
        return scope.problems(configuration, policy.configurationProblems(configuration));
      }

      @Override
      public String toString() {
        return scope.describe(policy);
      }
    };
  }
}
