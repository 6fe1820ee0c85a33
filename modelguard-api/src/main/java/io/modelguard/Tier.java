package io.modelguard;

import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A named subscription level: which models its principals may invoke. Deny by default: a tier
 * grants exactly the models it lists, or every registered model if built with {@link
 * Builder#allModels()}. Immutable.
 */
public final class Tier {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  private final String name;
  private final Set<String> models;
  private final boolean allModels;

  private Tier(Builder b) {
    this.name = b.name;
    this.models = Set.copyOf(b.models);
    this.allModels = b.allModels;
  }

  /**
   * Starts a tier called {@code name} (1–64 characters of {@code [A-Za-z0-9._-]}).
   *
   * @throws IllegalArgumentException if the name is invalid
   */
  public static Builder builder(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("Tier.name must match " + NAME.pattern() + ", was '" + name + "'");
    }
    return new Builder(name);
  }

  /** The tier's name. */
  public String name() {
    return name;
  }

  /** The models listed for this tier (empty for an all-models tier). */
  public Set<String> models() {
    return models;
  }

  /** Whether the tier grants every registered model. */
  public boolean grantsAllModels() {
    return allModels;
  }

  /** Whether this tier allows {@code model}. */
  public boolean allows(String model) {
    return allModels || models.contains(model);
  }

  @Override
  public String toString() {
    return "Tier[" + name + ", models=" + (allModels ? "*" : models) + "]";
  }

  /** Builds a {@link Tier}. */
  public static final class Builder {
    private final String name;
    private final Set<String> models = new LinkedHashSet<>();
    private boolean allModels;

    private Builder(String name) {
      this.name = name;
    }

    /** Allows these models. Each must be registered with the {@link ModelGuard} (checked at build). */
    public Builder models(String... ids) {
      for (String id : ids) {
        models.add(Objects.requireNonNull(id, "model id"));
      }
      return this;
    }

    /** Allows these models. */
    public Builder models(Set<String> ids) {
      return models(ids.toArray(new String[0]));
    }

    /** Allows every model registered with the engine, now and later. */
    public Builder allModels() {
      this.allModels = true;
      return this;
    }

    /** Builds the tier. */
    public Tier build() {
      return new Tier(this);
    }
  }
}
