package io.modelguard.quota;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.Phase;
import io.modelguard.Policy;
import io.modelguard.PolicyChain;
import io.modelguard.input.RequestAttributes;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Throttles unauthenticated traffic per client address, so that guessing API keys or tokens is
 * slow: after {@code quota} failed or missing credentials in a window, an address gets {@code
 * quota.exceeded} (429, with {@code Retry-After}) before any credential is even checked.
 *
 * <h2>Why it runs in the AUTHENTICATE phase, in two steps</h2>
 *
 * A {@link io.modelguard.Phase#QUOTA QUOTA}-phase policy never sees a guessing client: the engine
 * stops an invalid credential in AUTHENTICATE and a missing one right after it. So the limit is a
 * pre-limit in two steps sharing one counter per address:
 *
 * <ol>
 *   <li>{@link #charge()}, registered in {@link Phase#AUTHENTICATE} <em>before</em> the
 *       authenticators, charges one unit to the address and denies once the address is out of
 *       units — without running the authenticators, so an exhausted address learns nothing about
 *       its guesses and costs no hashing;
 *   <li>{@link #refund()}, registered in {@link Phase#AUTHORIZE} (which runs only once a principal
 *       is established), gives the unit back. Only requests whose credentials failed or were
 *       missing keep their charge.
 * </ol>
 *
 * Charging first and refunding on success keeps the count exact under concurrency (a peek
 * followed by a charge on failure would let every in-flight guess through). Its cost: a
 * legitimate client behind the same address as an exhausted guesser is refused too, until the
 * address recovers — inherent to any per-address limit. Register both with {@link
 * #addTo(PolicyChain.Builder)} before adding the authenticators.
 *
 * <p>IPv6 addresses are limited per /64 ({@link QuotaKey#forAddress(String)}). Requests with
 * no known address share one counter. Thread-safe.
 */
public final class UnauthenticatedLimit {
  /** The default policy name used by {@link #addTo(PolicyChain.Builder)}. */
  public static final String DEFAULT_NAME = "unauthenticated-limit";

  private final QuotaStore store;
  private final QuotaPlan plan;
  /** The prefix of the request attribute holding a limit's charge on a request that carries attributes. */
  private static final String CHARGE_ATTRIBUTE = "io.modelguard.quota.unauthenticated-charge.";
  private static final AtomicLong INSTANCES = new AtomicLong();

  /** This limit's own attribute name: two limits in one chain never take each other's charge. */
  private final String chargeAttribute = CHARGE_ATTRIBUTE + INSTANCES.incrementAndGet();

  /** Charges of requests without attributes, until their refund (weak keys: dropped with the request). */
  private final Cache<InferenceRequest, Charge> charged = Caffeine.newBuilder().weakKeys().build();

  private UnauthenticatedLimit(QuotaStore store, QuotaPlan plan) {
    this.store = store;
    this.plan = plan;
  }

  /**
   * A limit of {@code limits} per client address, kept in {@code store}. For example {@code
   * tokenBucket("unauthenticated", 20, Duration.ofMinutes(1))}: a burst of 20, then one every 3
   * s.
   *
   * @throws IllegalArgumentException if there is no limit or two share a name
   */
  public static UnauthenticatedLimit of(QuotaStore store, QuotaLimit... limits) {
    return new UnauthenticatedLimit(Objects.requireNonNull(store, "store"), QuotaPlan.of(limits));
  }

  /** The plan applied per address. */
  public QuotaPlan plan() {
    return plan;
  }

  /**
   * Adds {@link #charge()} to {@link Phase#AUTHENTICATE} and {@link #refund()} to {@link
   * Phase#AUTHORIZE} under the names {@value #DEFAULT_NAME} and {@value #DEFAULT_NAME}{@code
   * -refund}. Call it before adding the chain's authenticators: within a phase, policies run in
   * the order they were added.
   */
  public PolicyChain.Builder addTo(PolicyChain.Builder chain) {
    return chain.policy(Phase.AUTHENTICATE, DEFAULT_NAME, charge())
        .policy(Phase.AUTHORIZE, DEFAULT_NAME + "-refund", refund());
  }

  /** The charging step, for {@link Phase#AUTHENTICATE}, before any authenticator. */
  public Policy charge() {
    return context -> {
      InferenceRequest request = context.request();
      QuotaKey key = QuotaKey.forAddress(request.remoteAddress().orElse(null));
      QuotaDecision d = store.acquire(key, plan, 1);
      if (d.isAllowed()) {
        if (d.isMetered()) {
          Charge charge = new Charge(this, key, d);
          if (request instanceof RequestAttributes) {
            // The request carries its own charge: no shared map, nothing for the GC to clear.
            ((RequestAttributes) request).setAttribute(chargeAttribute, charge);
          } else {
            charged.put(request, charge);
          }
        }
        return GuardDecision.allow();
      }
      return QuotaResponses.toGuardDecision(d, false);
    };
  }

  /**
   * The refunding step, for {@link Phase#AUTHORIZE}: gives back the unit {@link #charge()} took
   * from this request, since the request did authenticate. A store failure here is not a reason
   * to deny: the unit then stays charged.
   */
  public Policy refund() {
    return context -> {
      Charge charge = take(context.request());
      if (charge != null && context.principal().isPresent()) {
        try {
          store.settle(charge.key(), plan, -1, charge.decision());
        } catch (QuotaStoreException e) {
          // Best effort by design: the address keeps one unit charged.
        }
      }
      return GuardDecision.allow();
    };
  }

  /** Removes and returns this limit's charge on {@code request}, if it has one. */
  private Charge take(InferenceRequest request) {
    if (request instanceof RequestAttributes) {
      RequestAttributes attributes = (RequestAttributes) request;
      Optional<Object> found = attributes.attribute(chargeAttribute);
      if (found.isPresent() && found.get() instanceof Charge c && c.limit() == this) {
        attributes.setAttribute(chargeAttribute, null);
        return c;
      }
      return null;
    }
    return charged.asMap().remove(request);
  }

  /**
   * One unit charged to {@code key} by {@code limit} with {@code decision}, which the refund settles
   * in the store that decided it ({@link QuotaStore#settle}).
   */
  private record Charge(UnauthenticatedLimit limit, QuotaKey key, QuotaDecision decision) {}
}
