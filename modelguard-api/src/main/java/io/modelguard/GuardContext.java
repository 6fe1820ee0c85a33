package io.modelguard;

import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Map;
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
  /**
   * The headers of the allowing policies that sent the legacy {@code X-RateLimit-*} headers, in
   * order, and the index of each one's rate-limit items (or -1): a denial's releases may leave
   * another of them the most restrictive.
   */
  private Map<String, String>[] legacyRateLimits;
  private int[] legacyRateLimitItems;
  private int legacyRateLimitCount;

  GuardContext(ModelGuard guard, InferenceRequest request) {
    this.guard = guard;
    this.request = request;
  }

  /** {@return the request being checked} */
  public InferenceRequest request() {
    return request;
  }

  /** {@return the endpoint the request is for} */
  public Endpoint endpoint() {
    return request.endpoint();
  }

  /** {@return the principal, once a policy of the {@link Phase#AUTHENTICATE} phase has established one} */
  public Optional<Principal> principal() {
    return Optional.ofNullable(principal);
  }

  /**
   * {@return the tier registered under {@code name}, if any}
   *
   * @param name the tier name, compared exactly
   */
  public Optional<Tier> tier(String name) {
    return guard.tier(name);
  }

  /**
   * Whether the engine registers any tier ({@link ModelGuard.Builder#tier}). If it registers none,
   * principals' tiers come from their credentials alone, and {@link #tier(String)} is empty for
   * every name: a tier name cannot be checked against the engine then.
   *
   * @return true if at least one tier is registered
   */
  public boolean registersTiers() {
    return !guard.tiers().isEmpty();
  }

  /**
   * {@return whether {@code model} is registered with the engine}
   *
   * @param model the model id, compared exactly
   */
  public boolean isRegisteredModel(String model) {
    return guard.isRegisteredModel(model);
  }

  /** {@return the engine's clock} */
  public Clock clock() {
    return guard.clock();
  }

  /** {@return the current instant of the engine's clock} */
  public Instant now() {
    return guard.clock().instant();
  }

  /** {@return the engine's random source} */
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

  /**
   * Records the headers of an allowing policy that sent the legacy rate-limit headers; {@code
   * withItems} if it also sent rate-limit items, which are recorded next.
   */
  @SuppressWarnings("unchecked")
  void legacyRateLimit(Map<String, String> headers, boolean withItems) {
    if (legacyRateLimits == null) {
      legacyRateLimits = (Map<String, String>[]) new Map<?, ?>[2];
      legacyRateLimitItems = new int[2];
    } else if (legacyRateLimitCount == legacyRateLimits.length) {
      legacyRateLimits = Arrays.copyOf(legacyRateLimits, legacyRateLimitCount * 2);
      legacyRateLimitItems = Arrays.copyOf(legacyRateLimitItems, legacyRateLimitCount * 2);
    }
    legacyRateLimits[legacyRateLimitCount] = headers;
    legacyRateLimitItems[legacyRateLimitCount++] = withItems ? rateLimitCount : -1;
  }

  int legacyRateLimitCount() {
    return legacyRateLimitCount;
  }

  /** The headers of the {@code i}-th allowing policy that sent the legacy rate-limit headers. */
  Map<String, String> legacyRateLimit(int i) {
    return legacyRateLimits[i];
  }

  /** The index of the rate-limit items of the {@code i}-th such policy, or -1 if it sent none. */
  int legacyRateLimitItems(int i) {
    return legacyRateLimitItems[i];
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
