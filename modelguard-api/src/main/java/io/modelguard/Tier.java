package io.modelguard;

import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A named subscription level: which models its principals may invoke, and the quota limits that
 * apply per tenant on each model. Deny by default: a tier grants exactly the models it lists, or
 * every registered model if built with {@link Builder#allModels()}. Limits are optional: a default
 * plan for every model ({@link Builder#limits(QuotaLimit...)}) and per-model plans that replace it
 * ({@link Builder#limits(String, QuotaLimit...)}). Immutable.
 *
 * <pre>{@code
 * Tier.builder("basic").models("digits", "iris")
 *     .limits(QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)),
 *             QuotaLimit.slidingWindow("daily", 100_000, Duration.ofDays(1)))
 *     .limits("iris", QuotaLimit.tokenBucket("burst", 2, Duration.ofSeconds(1)))
 *     .build();
 * }</pre>
 */
public final class Tier {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  private final String name;
  private final Set<String> models;
  private final boolean allModels;
  private final QuotaPlan defaultPlan;
  private final Map<String, QuotaPlan> modelPlans;

  private Tier(Builder b) {
    this.name = b.name;
    this.models = Set.copyOf(b.models);
    this.allModels = b.allModels;
    this.defaultPlan = b.defaultPlan;
    this.modelPlans = Map.copyOf(b.modelPlans);
  }

  /**
   * Starts a tier called {@code name} (1–64 characters of {@code [A-Za-z0-9._-]}).
   *
   * @param name the tier name
   * @return a new builder allowing no model and setting no limit
   * @throws IllegalArgumentException if the name is invalid
   */
  public static Builder builder(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("Tier.name must match " + NAME.pattern() + ", was '" + name + "'");
    }
    return new Builder(name);
  }

  /** {@return the tier's name} */
  public String name() {
    return name;
  }

  /** {@return the models listed for this tier (empty for an all-models tier)} */
  public Set<String> models() {
    return models;
  }

  /** {@return whether the tier grants every registered model} */
  public boolean grantsAllModels() {
    return allModels;
  }

  /**
   * {@return whether this tier allows {@code model}}
   *
   * @param model the model id
   */
  public boolean allows(String model) {
    return allModels || models.contains(model);
  }

  /**
   * The quota plan for {@code model}: its own plan if the tier has one, else the tier's default
   * plan; empty if the tier sets no limits for it (then quotas do not limit it).
   *
   * @param model the model id
   * @return the model's plan, else the default plan, or empty if neither is set
   */
  public Optional<QuotaPlan> quotaPlan(String model) {
    QuotaPlan plan = modelPlans.get(model);
    return Optional.ofNullable(plan != null ? plan : defaultPlan);
  }

  /** {@return the default quota plan for models without their own, if any} */
  public Optional<QuotaPlan> defaultQuotaPlan() {
    return Optional.ofNullable(defaultPlan);
  }

  /** {@return the per-model quota plans (replacing the default for their model)} */
  public Map<String, QuotaPlan> modelQuotaPlans() {
    return modelPlans;
  }

  @Override
  public String toString() {
    return "Tier[" + name + ", models=" + (allModels ? "*" : models)
        + (defaultPlan == null ? "" : ", limits=" + defaultPlan.limits())
        + (modelPlans.isEmpty() ? "" : ", modelLimits=" + modelPlans) + "]";
  }

  /** Builds a {@link Tier}. */
  public static final class Builder {
    private final String name;
    private final Set<String> models = new LinkedHashSet<>();
    private boolean allModels;
    private QuotaPlan defaultPlan;
    private final Map<String, QuotaPlan> modelPlans = new LinkedHashMap<>();

    private Builder(String name) {
      this.name = name;
    }

    /**
     * Allows these models. Each must be registered with the {@link ModelGuard} (checked at build).
     *
     * @param ids the model ids; none null
     * @return this builder
     */
    public Builder models(String... ids) {
      for (String id : ids) {
        models.add(Objects.requireNonNull(id, "model id"));
      }
      return this;
    }

    /**
     * Allows these models.
     *
     * @param ids the model ids; none null
     * @return this builder
     */
    public Builder models(Set<String> ids) {
      return models(ids.toArray(new String[0]));
    }

    /**
     * Allows every model registered with the engine, now and later.
     *
     * @return this builder
     */
    public Builder allModels() {
      this.allModels = true;
      return this;
    }

    /**
     * The limits of every model of this tier without its own (replacing earlier default limits).
     * No default: without limits, quotas do not limit the tier.
     *
     * @param limits the limits, at least one, each named differently
     * @return this builder
     * @throws IllegalArgumentException if there is no limit or two share a name
     */
    public Builder limits(QuotaLimit... limits) {
      this.defaultPlan = QuotaPlan.of(limits);
      return this;
    }

    /**
     * The limits of {@code model}, replacing the default limits for it. The model must be one the
     * tier allows ({@link #build()} checks it) and, for a tier of {@link #allModels()}, one the
     * engine registers: {@link ModelGuard.Builder#build()} refuses a limit for a model it does not
     * register (a misspelt id would leave the model meant under the default limits).
     *
     * @param model the model id; not null
     * @param limits the limits, at least one, each named differently
     * @return this builder
     * @throws IllegalArgumentException if there is no limit or two share a name
     */
    public Builder limits(String model, QuotaLimit... limits) {
      modelPlans.put(Objects.requireNonNull(model, "model id"), QuotaPlan.of(limits));
      return this;
    }

    /**
     * Builds the tier.
     *
     * @return the tier, immutable
     * @throws IllegalArgumentException if limits are given for a model the tier does not allow
     */
    public Tier build() {
      if (!allModels) {
        for (String model : modelPlans.keySet()) {
          if (!models.contains(model)) {
            throw new IllegalArgumentException("Tier '" + name + "': limits are given for model '" + model
                + "', which the tier does not allow; add it with models(...)");
          }
        }
      }
      return new Tier(this);
    }
  }
}
