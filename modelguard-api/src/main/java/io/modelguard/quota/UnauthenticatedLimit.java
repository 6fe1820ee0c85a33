package io.modelguard.quota;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.Phase;
import io.modelguard.Policy;
import io.modelguard.PolicyChain;
import io.modelguard.input.RequestAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
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
 * <h2>IPv6: per /64, and per network</h2>
 *
 * IPv6 addresses are limited per /64 ({@link QuotaKey#forAddress(String)}). But one customer
 * routinely holds a /48, 65,536 /64s: per /64 alone, it could guess 65,536 times as fast as an
 * IPv4 client. So an IPv6 request is also charged to its network, by default its /48 ({@link
 * QuotaKey#forIpv6Network(String, int)}, a key of its own), on a plan of the per-address limits
 * with {@value #DEFAULT_IPV6_NETWORK_FACTOR} times their quotas; it passes only if both have room.
 * Why 16: a /60, a common residential delegation, holds 16 /64s, so a household guessing wrong on
 * all of them at once still has the full per-address budget on each; and a /48 holder gains at
 * most 16 times an IPv4 client's budget, not 65,536 times. A guesser within one /64 uses at most
 * a sixteenth of its network's budget, since a request its /64 refuses is never charged to the
 * network. The cost: everyone in one network is refused once the network is out of units, as
 * behind one IPv4 address shared by carrier-grade NAT. Where many subscribers share a /48 (an ISP
 * delegating a /56 or /60 to each), give a longer prefix or explicit limits ({@link #builder}), or
 * turn it off.
 *
 * <p>The network's unit is charged after the /64's, and a refusal by the network gives the /64's
 * unit back at once, so a refused request leaves neither charged (unless the store fails the
 * refund, which is best effort like {@link #refund()}'s: the /64 then keeps its unit). A
 * concurrent request from that /64 may meanwhile be refused because of that unit: never
 * admitted where a plan has no room. A successful authentication refunds both. Each charge and
 * refund is one store call per key (two script calls on Redis, each key in its own slot), so this
 * works with any {@link QuotaStore}; IPv4 requests, IPv6 ones standing for an IPv4 host
 * (IPv4-mapped, NAT64's well-known prefix, 6to4, Teredo: each charged to its IPv4
 * address, see {@link QuotaKey#forAddress}) and requests without an address pay nothing for it:
 * they have no IPv6 network. A 429 of the network reports the
 * network's plan ({@code RateLimit-Policy}, {@code RateLimit}, {@code Retry-After}).
 *
 * <p>Requests with no known address share one counter. Thread-safe.
 */
public final class UnauthenticatedLimit {
  /** The default policy name used by {@link #addTo(PolicyChain.Builder)}. */
  public static final String DEFAULT_NAME = "unauthenticated-limit";
  /** The default prefix length of the IPv6 network limited as a whole: 48. */
  public static final int DEFAULT_IPV6_NETWORK_PREFIX = 48;
  /** The default factor of the network's quotas over the per-address ones: 16. */
  public static final int DEFAULT_IPV6_NETWORK_FACTOR = 16;

  private final QuotaStore store;
  private final QuotaPlan plan;
  /** The plan of an IPv6 address's network, or null if networks are not limited. */
  private final QuotaPlan networkPlan;
  private final int networkPrefix;
  /** The prefix of the request attribute holding a limit's charge on a request that carries attributes. */
  private static final String CHARGE_ATTRIBUTE = "io.modelguard.quota.unauthenticated-charge.";
  private static final AtomicLong INSTANCES = new AtomicLong();

  /** This limit's own attribute name: two limits in one chain never take each other's charge. */
  private final String chargeAttribute = CHARGE_ATTRIBUTE + INSTANCES.incrementAndGet();

  /**
   * Charges of requests without attributes, until their refund (weak keys: dropped with the
   * request). Its maintenance runs on the caller's thread: with Caffeine's default executor each
   * write (two a request) handed a task to {@code ForkJoinPool.commonPool()}, waking a thread.
   */
  private final Cache<InferenceRequest, Charge> charged = Caffeine.newBuilder().weakKeys()
      .executor(Runnable::run).build();

  private UnauthenticatedLimit(QuotaStore store, QuotaPlan plan, QuotaPlan networkPlan, int networkPrefix) {
    this.store = store;
    this.plan = plan;
    this.networkPlan = networkPlan;
    this.networkPrefix = networkPrefix;
  }

  /**
   * A limit of {@code limits} per client address, kept in {@code store}, and on each IPv6
   * address's /48 of 16 times their quotas (see the class documentation; {@link #builder} changes
   * or turns off the network limit). For example {@code tokenBucket("unauthenticated", 20,
   * Duration.ofMinutes(1))}: a burst of 20, then one every 3 s, per address; a burst of 320, then
   * 16 every 3 s, per /48.
   *
   * @param store where the counts are kept; not null
   * @param limits the per-address limits, at least one, each named differently
   * @return the limit
   * @throws IllegalArgumentException if there is no limit, two share a name, or a limit's quota
   *     16 times over is no valid limit (see {@link Builder#build()})
   */
  public static UnauthenticatedLimit of(QuotaStore store, QuotaLimit... limits) {
    return builder(store, limits).build();
  }

  /**
   * Starts a builder of a limit of {@code limits} per client address, kept in {@code store}; by
   * default IPv6 networks are limited as by {@link #of}.
   *
   * @param store where the counts are kept; not null
   * @param limits the per-address limits, at least one, each named differently
   * @return a new builder
   * @throws IllegalArgumentException if there is no limit or two share a name
   */
  public static Builder builder(QuotaStore store, QuotaLimit... limits) {
    return new Builder(Objects.requireNonNull(store, "store"), QuotaPlan.of(limits));
  }

  /** {@return the plan applied per address} */
  public QuotaPlan plan() {
    return plan;
  }

  /** {@return the plan applied per IPv6 network of {@link #ipv6NetworkPrefix()} bits; empty if turned off} */
  public Optional<QuotaPlan> ipv6NetworkPlan() {
    return Optional.ofNullable(networkPlan);
  }

  /** {@return the prefix length of the IPv6 networks limited as a whole; empty if turned off} */
  public OptionalInt ipv6NetworkPrefix() {
    return networkPlan == null ? OptionalInt.empty() : OptionalInt.of(networkPrefix);
  }

  /**
   * Adds {@link #charge()} to {@link Phase#AUTHENTICATE} and {@link #refund()} to {@link
   * Phase#AUTHORIZE} under the names {@value #DEFAULT_NAME} and {@value #DEFAULT_NAME}{@code
   * -refund}. Call it before adding the chain's authenticators: within a phase, policies run in
   * the order they were added.
   *
   * @param chain the chain being built, before its authenticators are added
   * @return {@code chain}
   */
  public PolicyChain.Builder addTo(PolicyChain.Builder chain) {
    return chain.policy(Phase.AUTHENTICATE, DEFAULT_NAME, charge())
        .policy(Phase.AUTHORIZE, DEFAULT_NAME + "-refund", refund());
  }

  /**
   * The charging step, for {@link Phase#AUTHENTICATE}, before any authenticator: charges the
   * address and, for an IPv6 address, its network. A {@link QuotaStoreException} of the network's
   * charge propagates (the engine's failure handling applies) after the address's unit is given
   * back.
   *
   * @return the charging policy, sharing this limit's store and plans
   */
  public Policy charge() {
    return context -> {
      InferenceRequest request = context.request();
      String address = request.remoteAddress().orElse(null);
      QuotaKey key = QuotaKey.forAddress(address);
      QuotaDecision d = store.acquire(key, plan, 1);
      if (!d.isAllowed()) {
        return QuotaResponses.toGuardDecision(d, false);
      }
      Optional<QuotaKey> network = networkPlan == null
          ? Optional.empty() : QuotaKey.forIpv6Network(address, networkPrefix);
      QuotaDecision n = null;
      if (network.isPresent()) {
        try {
          n = store.acquire(network.get(), networkPlan, 1);
        } catch (RuntimeException e) {
          giveBack(key, plan, d);
          throw e;
        }
        if (!n.isAllowed()) {
          // Nothing of a refused request stays charged: the /64 gets its unit back.
          giveBack(key, plan, d);
          return QuotaResponses.toGuardDecision(n, false);
        }
      }
      if (d.isMetered() || (n != null && n.isMetered())) {
        Charge charge = new Charge(this, key, d, network.orElse(null), n);
        if (request instanceof RequestAttributes) {
          // The request carries its own charge: no shared map, nothing for the GC to clear.
          ((RequestAttributes) request).setAttribute(chargeAttribute, charge);
        } else {
          charged.put(request, charge);
        }
      }
      return GuardDecision.allow();
    };
  }

  /**
   * The refunding step, for {@link Phase#AUTHORIZE}: gives back the units {@link #charge()} took
   * from this request (its address's and its IPv6 network's), since the request did authenticate.
   * A store failure here is not a reason to deny: the unit then stays charged.
   *
   * @return the refunding policy, sharing this limit's store and plans
   */
  public Policy refund() {
    return context -> {
      Charge charge = take(context.request());
      if (charge != null && context.principal().isPresent()) {
        giveBack(charge.key(), plan, charge.decision());
        if (charge.networkKey() != null) {
          giveBack(charge.networkKey(), networkPlan, charge.networkDecision());
        }
      }
      return GuardDecision.allow();
    };
  }

  /** Returns one unit of {@code reservation} to {@code key}, if it charged one; best effort. */
  private void giveBack(QuotaKey key, QuotaPlan keyPlan, QuotaDecision reservation) {
    if (!reservation.isMetered()) {
      return;
    }
    try {
      store.settle(key, keyPlan, -1, reservation);
    } catch (QuotaStoreException e) {
      // Best effort by design: the key keeps one unit charged.
    }
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
   * The units charged by {@code limit}: one to {@code key} with {@code decision} and, for an IPv6
   * address, one to {@code networkKey} with {@code networkDecision} (else both null), which the
   * refund settles in the store that decided them ({@link QuotaStore#settle}).
   */
  private record Charge(UnauthenticatedLimit limit, QuotaKey key, QuotaDecision decision, QuotaKey networkKey,
      QuotaDecision networkDecision) {}

  /**
   * Builds an {@link UnauthenticatedLimit}: its per-address plan, given to {@link
   * UnauthenticatedLimit#builder}, and how IPv6 networks are limited as a whole (by default each
   * /48, at {@value UnauthenticatedLimit#DEFAULT_IPV6_NETWORK_FACTOR} times the per-address quotas).
   * Not thread-safe; {@link #build()} validates and may be called more than once.
   */
  public static final class Builder {
    private final QuotaStore store;
    private final QuotaPlan plan;
    private int networkPrefix = DEFAULT_IPV6_NETWORK_PREFIX;
    private boolean prefixSet;
    /** 0: not set (the default factor applies unless explicit limits are given). */
    private int factor;
    /** Null: not set. */
    private QuotaPlan networkLimits;
    private boolean off;

    private Builder(QuotaStore store, QuotaPlan plan) {
      this.store = store;
      this.plan = plan;
    }

    /**
     * The prefix length of the IPv6 network limited as a whole. Default {@value
     * UnauthenticatedLimit#DEFAULT_IPV6_NETWORK_PREFIX}. Shorter than 32 would put whole ISPs'
     * subscribers behind one budget; 64 is the per-address key itself.
     *
     * @param prefixLength the prefix length in bits, 32 to 63
     * @return this builder
     * @throws IllegalArgumentException if not from 32 to 63
     */
    public Builder ipv6NetworkPrefix(int prefixLength) {
      if (prefixLength < 32 || prefixLength > 63) {
        throw new IllegalArgumentException(
            "UnauthenticatedLimit.ipv6NetworkPrefix must be from 32 to 63, was " + prefixLength);
      }
      this.networkPrefix = prefixLength;
      this.prefixSet = true;
      return this;
    }

    /**
     * The network's plan: the per-address limits (same names, windows and algorithms) with {@code
     * factor} times their quotas. Default {@value UnauthenticatedLimit#DEFAULT_IPV6_NETWORK_FACTOR};
     * {@link #build()} refuses a factor of at least the number of /64s in the network (it would
     * never refuse anything the per-address limit would not).
     *
     * @param factor the multiplier, at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder ipv6NetworkFactor(int factor) {
      if (factor < 1) {
        throw new IllegalArgumentException("UnauthenticatedLimit.ipv6NetworkFactor must be at least 1, was " + factor);
      }
      this.factor = factor;
      return this;
    }

    /**
     * The network's plan, given explicitly instead of by {@link #ipv6NetworkFactor}.
     *
     * @param limits the network's limits, at least one, each named differently
     * @return this builder
     * @throws IllegalArgumentException if there is no limit or two share a name
     */
    public Builder ipv6NetworkLimits(QuotaLimit... limits) {
      this.networkLimits = QuotaPlan.of(limits);
      return this;
    }

    /**
     * Turns the IPv6 network limit off: IPv6 addresses are then limited per /64 only, and a holder
     * of a /48 has 65,536 budgets. For deployments whose clients are known (a private network), or
     * that limit networks elsewhere.
     *
     * @return this builder
     */
    public Builder noIpv6NetworkLimit() {
      this.off = true;
      return this;
    }

    /**
     * The limit.
     *
     * @return the limit, immutable
     * @throws IllegalArgumentException naming the setting, if {@link #noIpv6NetworkLimit()} is
     *     combined with another network setting, {@link #ipv6NetworkFactor} with {@link
     *     #ipv6NetworkLimits}, if the factor is at least the number of /64s in the network, or if
     *     a per-address limit with its quota so multiplied is no valid {@link QuotaLimit} (a token
     *     bucket of more than one unit per microsecond, a sliding window above {@link
     *     QuotaLimit#MAX_SLIDING_QUOTA})
     */
    public UnauthenticatedLimit build() {
      if (off) {
        if (prefixSet || factor != 0 || networkLimits != null) {
          throw new IllegalArgumentException("UnauthenticatedLimit: noIpv6NetworkLimit() turns the IPv6 network "
              + "limit off, so ipv6NetworkPrefix, ipv6NetworkFactor and ipv6NetworkLimits must not be set");
        }
        return new UnauthenticatedLimit(store, plan, null, 0);
      }
      if (factor != 0 && networkLimits != null) {
        throw new IllegalArgumentException(
            "UnauthenticatedLimit: set ipv6NetworkFactor or ipv6NetworkLimits, not both");
      }
      QuotaPlan network = networkLimits != null ? networkLimits
          : scaled(plan, factor != 0 ? factor : DEFAULT_IPV6_NETWORK_FACTOR, factor == 0, networkPrefix);
      return new UnauthenticatedLimit(store, plan, network, networkPrefix);
    }

    private static QuotaPlan scaled(QuotaPlan plan, int factor, boolean byDefault, int prefixLength) {
      long slash64s = 1L << (64 - prefixLength);
      if (factor >= slash64s) {
        throw new IllegalArgumentException("UnauthenticatedLimit.ipv6NetworkFactor must be below " + slash64s
            + " (the /64s in a /" + prefixLength + "), was " + factor + (byDefault ? " (the default)" : "")
            + ": the network limit would never bind; call noIpv6NetworkLimit() to turn it off");
      }
      List<QuotaLimit> limits = new ArrayList<>(plan.size());
      for (QuotaLimit l : plan.limits()) {
        try {
          limits.add(l.withQuota(Math.multiplyExact(l.quota(), factor)));
        } catch (ArithmeticException | IllegalArgumentException e) {
          throw new IllegalArgumentException("UnauthenticatedLimit.ipv6NetworkFactor " + factor
              + (byDefault ? " (the default)" : "") + " times the quota "
              + l.quota() + " of '" + l.name() + "' is no valid limit; set a smaller factor or ipv6NetworkLimits", e);
        }
      }
      return QuotaPlan.of(limits);
    }
  }
}
