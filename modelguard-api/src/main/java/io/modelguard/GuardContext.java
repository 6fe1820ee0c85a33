package io.modelguard;

import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.BitSet;
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
  /** The rate-limit items of the policies that allowed the request so far, and their steps. */
  private RateLimitItems[] rateLimits;
  private int[] rateLimitSteps;
  private int rateLimitCount;
  /** Whether the engine released the request's holds (it is being denied), and whose release failed. */
  private boolean released;
  private BitSet releaseFailures;
  /** The index of the rate-limit items whose policy's legacy {@code X-RateLimit-*} headers the request keeps, or -1. */
  private int legacyRateLimitOwner = -1;

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

  /** Records the rate-limit items request step {@code step} allowed the request with. */
  void rateLimit(RateLimitItems items, int step) {
    if (rateLimits == null) {
      rateLimits = new RateLimitItems[2];
      rateLimitSteps = new int[2];
    } else if (rateLimitCount == rateLimits.length) {
      rateLimits = Arrays.copyOf(rateLimits, rateLimitCount * 2);
      rateLimitSteps = Arrays.copyOf(rateLimitSteps, rateLimitCount * 2);
    }
    rateLimits[rateLimitCount] = items;
    rateLimitSteps[rateLimitCount++] = step;
  }

  int rateLimitCount() {
    return rateLimitCount;
  }

  /** The {@code i}-th recorded items, as they stand after the engine's releases. */
  RateLimitItems rateLimit(int i) {
    RateLimitItems items = rateLimits[i];
    return released && (releaseFailures == null || !releaseFailures.get(rateLimitSteps[i])) ? items.released() : items;
  }

  /** The {@code i}-th recorded items as the policy charged them, whatever the releases. */
  RateLimitItems rateLimitAsCharged(int i) {
    return rateLimits[i];
  }

  /** Notes that the legacy rate-limit headers the request keeps are those of the next recorded items' policy. */
  void legacyRateLimitOwnerIsNext() {
    legacyRateLimitOwner = rateLimitCount;
  }

  /** Notes that the legacy rate-limit headers the request keeps belong to no recorded items. */
  void legacyRateLimitOwnerUnknown() {
    legacyRateLimitOwner = -1;
  }

  int legacyRateLimitOwner() {
    return legacyRateLimitOwner;
  }

  /** Whether the {@code i}-th recorded items change once released (and were released). */
  boolean rateLimitReleased(int i) {
    return rateLimit(i) != rateLimits[i];
  }

  /** Notes that the engine released the holds of the request's policies. */
  void released() {
    released = true;
  }

  /** Notes that the release of request step {@code step} threw: its holds may stand. */
  void releaseFailed(int step) {
    if (releaseFailures == null) {
      releaseFailures = new BitSet();
    }
    releaseFailures.set(step);
  }
}
