package io.modelguard;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The models a {@code forModels} policy applies to ({@link Policy#forModels}, {@link
 * OutputPolicy#forModels}): one piece for both wrappers, so a request policy and an output policy
 * scoped to the same models apply to the same requests and report the same problems.
 */
final class ModelScope {
  private final Set<String> models;

  private ModelScope(Set<String> models) {
    this.models = models;
  }

  /**
   * The scope of {@code models}.
   *
   * @throws IllegalArgumentException if {@code models} is empty or names a model twice
   * @throws NullPointerException if a model is null
   */
  static ModelScope of(String... models) {
    Set<String> scope = Set.of(models);
    if (scope.isEmpty()) {
      throw new IllegalArgumentException("forModels needs at least one model");
    }
    return new ModelScope(scope);
  }

  /** Whether {@code endpoint} resolved a model of this scope (an endpoint without one is never covered). */
  boolean covers(Endpoint endpoint) {
    String model = endpoint.model().orElse(null);
    return model != null && models.contains(model);
  }

  /**
   * Each model of this scope the engine does not register ({@link ModelGuard.Configuration}), then
   * the wrapped policy's own problems, {@code wrapped}.
   */
  List<String> problems(ModelGuard.Configuration configuration, List<String> wrapped) {
    List<String> problems = new ArrayList<>();
    for (String model : configuration.unknownModels(models)) {
      problems.add("forModels names unknown model '" + model + "'; register it with models(...) or correct the name");
    }
    problems.addAll(wrapped);
    return problems;
  }

  /** The wrapped policy's description, scoped. */
  String describe(Object policy) {
    return policy + " for models " + models;
  }
}
