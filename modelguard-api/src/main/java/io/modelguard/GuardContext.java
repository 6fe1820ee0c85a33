package io.modelguard;

import java.time.Clock;
import java.time.Instant;
import java.util.Optional;

/**
 * What a request-side {@link Policy} sees: the request, its endpoint, the principal established so
 * far, the engine's tiers and models, and the injected clock and random source. Created by the
 * engine, one per request; not thread-safe.
 */
public final class GuardContext {
  private final ModelGuard guard;
  private final InferenceRequest request;
  private Principal principal;

  GuardContext(ModelGuard guard, InferenceRequest request) {
    this.guard = guard;
    this.request = request;
  }

  /** The request being checked. */
  public InferenceRequest request() {
    return request;
  }

  /** The endpoint the request is for. */
  public Endpoint endpoint() {
    return request.endpoint();
  }

  /** The principal, once a policy of the {@link Phase#AUTHENTICATE} phase has established one. */
  public Optional<Principal> principal() {
    return Optional.ofNullable(principal);
  }

  /** The tier registered under {@code name}, if any. */
  public Optional<Tier> tier(String name) {
    return guard.tier(name);
  }

  /** Whether {@code model} is registered with the engine. */
  public boolean isRegisteredModel(String model) {
    return guard.isRegisteredModel(model);
  }

  /** The engine's clock. */
  public Clock clock() {
    return guard.clock();
  }

  /** The current instant of the engine's clock. */
  public Instant now() {
    return guard.clock().instant();
  }

  /** The engine's random source. */
  public RandomSource random() {
    return guard.random();
  }

  void principal(Principal p) {
    this.principal = p;
  }

  Principal principalOrNull() {
    return principal;
  }
}
