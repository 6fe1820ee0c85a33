package io.modelguard.jaxrs;

import io.modelguard.ModelGuard;
import jakarta.ws.rs.core.Application;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** An application built in code: resource classes and instances, plus the feature under test. */
public final class TestApplication extends Application {
  private final Set<Class<?>> classes;
  private final Set<Object> singletons;

  private TestApplication(Set<Class<?>> classes, Set<Object> singletons) {
    this.classes = Set.copyOf(classes);
    this.singletons = Set.copyOf(singletons);
  }

  /** The conformance endpoints guarded by {@code guard}. */
  public static TestApplication conformance(ModelGuard guard) {
    return builder(new ModelGuardFeature(guard)).resources(ConformanceResources.ALL).build();
  }

  /** Starts an application around {@code feature}. */
  public static Builder builder(ModelGuardFeature feature) {
    return new Builder(feature);
  }

  /** The per-request resource classes. */
  @Override
  public Set<Class<?>> getClasses() {
    return classes;
  }

  /** The instances: the feature under test and resources that share state with the test. */
  @Override
  public Set<Object> getSingletons() {
    return singletons;
  }

  /** Collects resources. */
  public static final class Builder {
    private final Set<Class<?>> classes = new LinkedHashSet<>();
    private final List<Object> singletons = new ArrayList<>();

    private Builder(ModelGuardFeature feature) {
      singletons.add(feature);
    }

    /** Adds per-request resource classes. */
    public Builder resources(List<Class<?>> resourceClasses) {
      classes.addAll(resourceClasses);
      return this;
    }

    /** Adds resource classes. */
    public Builder resources(Class<?>... resourceClasses) {
      return resources(List.of(resourceClasses));
    }

    /** Adds resource instances (for resources that share state with the test). */
    public Builder instances(Object... resources) {
      singletons.addAll(List.of(resources));
      return this;
    }

    /** The application. */
    public TestApplication build() {
      return new TestApplication(classes, new LinkedHashSet<>(singletons));
    }
  }
}
