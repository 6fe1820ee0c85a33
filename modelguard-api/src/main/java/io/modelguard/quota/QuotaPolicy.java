package io.modelguard.quota;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.modelguard.GuardContext;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.OutputPolicy;
import io.modelguard.Policy;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.ResponseContext;
import io.modelguard.Tier;
import io.modelguard.authz.ModelAccessPolicy;
import io.modelguard.internal.LogPace;
import io.modelguard.internal.LogText;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Per-tenant × per-model quotas ({@link io.modelguard.Phase#QUOTA}): every request of an
 * authenticated principal is charged its cost against each limit of its plan, and passes only if
 * all of them have room.
 *
 * <h2>Which plan</h2>
 *
 * <ol>
 *   <li>the principal's tier's plan for the model ({@link Tier#quotaPlan(String)}), else the
 *       policy's {@link Builder#defaultLimits default limits}, else none: the request is not
 *       limited. A principal without a tier gets the default limits (or none) too. A principal
 *       whose tier the engine does not register (a typo in a token's tier claim, an API key record
 *       naming a tier since removed) is denied instead, with {@code authz.model_forbidden} (403)
 *       and the challenge {@link ModelAccessPolicy} gives it, so it never gets
 *       the default limits or none in place of its tier's; such a request is logged at ERROR at
 *       most once a minute per tier name (at DEBUG otherwise). This is a decision, like the
 *       denials below, so it holds under a fail-open step too. Only an engine that registers no tier at all ({@link
 *       GuardContext#registersTiers()}) cannot tell an unknown tier: there every principal gets
 *       the default limits (or none);
 *   <li>then the principal's override claim, if present (default claim name {@value
 *       #DEFAULT_OVERRIDE_CLAIM}): a string in {@code RateLimit-Policy} syntax, for example {@code
 *       "daily";q=500;w=86400}, whose limits may only narrow the plan ({@link
 *       QuotaPlan#narrowedBy(String)}): lower the quota of a limit of the same name, or add
 *       limits. {@link Builder#overridesMayRaiseLimits()} lets them replace limits outright,
 *       raising them too. A claim that does not parse, or that would raise a limit without that
 *       option, denies the request with {@code internal.error} (logged at ERROR at most once a minute
 *       per tenant and subject, at DEBUG otherwise): an override may be a
 *       restriction, so it is never silently ignored. This is a decision, not a failure, so it
 *       holds whatever the step's {@link io.modelguard.FailureMode}: a fail-open quota step does
 *       not let such a principal through unlimited.
 * </ol>
 *
 * Usage is kept per tenant ({@link Principal#tenant()}) and model: all principals of a tenant
 * share its quota. Requests without a principal or without a resolved model are not limited here
 * (see {@link UnauthenticatedLimit} for unauthenticated traffic); so it is refused in {@link
 * io.modelguard.Phase#AUTHENTICATE} and in a chain without authenticators ({@link
 * #requiresPrincipal()}), where no request would have one.
 *
 * <h2>Cost</h2>
 *
 * A request costs {@link io.modelguard.Endpoint#cost()} units ({@code @ModelSecured(cost = …)}),
 * or what the {@link Builder#cost(RequestCost) cost function} computes (batch size, image count);
 * a cost function that throws or returns less than 1 denies the request with {@code
 * internal.error} (logged at ERROR at most once a minute per exception class, see {@link
 * Builder#cost}), as a decision that holds under a fail-open step too.
 * For costs known only after the response (tokens generated), {@link Builder#reserve} reserves the
 * maximum up front and {@link #settlement()}, registered at {@link
 * io.modelguard.OutputPhase#RECORD}, refunds the unused part (or charges the excess) once the
 * response is known. Concurrent calls therefore never overshoot by more than one call's excess. A
 * reservation is a hold for the model call: if a policy after this one denies the request, the
 * engine {@linkplain #release releases} it and the whole reservation is refunded. A plain cost is
 * a charge for the request and stays charged whatever a later policy decides, so a flood of
 * requests that fail validation is still limited. {@link Builder#charge} is such a charge that
 * {@link #settlement()} still adjusts once the response is known: for an application that may
 * answer a request without the work it was charged for (a gateway that refuses, before forwarding
 * it, a prediction it has no capacity for), while requests a later policy denies stay charged.
 *
 * <h2>Responses</h2>
 *
 * Every decision the store counted carries {@code RateLimit-Policy} (every limit of the plan) and
 * {@code RateLimit} (the most restrictive limit: fewest units left; on a denial the one with the
 * longest wait, with no units left until the retry can succeed), following
 * draft-ietf-httpapi-ratelimit-headers-11, and optionally the legacy {@code X-RateLimit-Limit},
 * {@code -Remaining} and {@code -Reset}. They are {@link io.modelguard.RateLimitItems}: the engine
 * merges them with those of other quota policies that decide the same request (see {@link
 * io.modelguard.ModelGuard}); the legacy headers hold one limit, so the engine keeps those of the
 * policy with the fewest units remaining (a denying policy's own replace them). A request a
 * later policy denies reports its reservation refunded ({@link #release}). A decision the store
 * did not count (a {@link ResilientQuotaStore} failing open) carries none of them: there is no
 * count to report, and a {@code RateLimit-Policy} alone would let clients assume a full quota. A
 * denial is {@code quota.exceeded} (429) with a retry-after that is exact: retrying after {@code
 * Retry-After} seconds succeeds (if nobody else used the quota meanwhile), one second earlier does
 * not. A store that is down and fails closed yields {@code quota.unavailable} (503).
 *
 * <pre>{@code
 * QuotaPolicy quota = QuotaPolicy.builder(store).build();
 * chain.policy(Phase.QUOTA, "quota", quota);
 * }</pre>
 *
 * Thread-safe.
 */
public final class QuotaPolicy implements Policy {
  /** The default name of the per-principal override claim. */
  public static final String DEFAULT_OVERRIDE_CLAIM = "mg_quota";

  private static final Logger log = LoggerFactory.getLogger(QuotaPolicy.class);
  /** The {@link #costFailures} key of a cost below one unit (no class name has a space). */
  private static final String COST_BELOW_ONE = "below one";

  /** Computes what a request costs, in units of at least 1. Must be thread-safe. */
  @FunctionalInterface
  public interface RequestCost {
    /**
     * {@return the cost of the request in {@code context}; at least 1}
     *
     * @param context the request being checked, with its principal and endpoint
     */
    long cost(GuardContext context);
  }

  /** Computes what an answered request actually cost, in units of at least 0. Must be thread-safe. */
  @FunctionalInterface
  public interface ResponseCost {
    /**
     * {@return the actual cost of the request {@code context} answers; at least 0}
     *
     * @param context the response, with the request it answers
     */
    long cost(ResponseContext context);
  }

  private final QuotaStore store;
  private final RequestCost cost;
  private final ResponseCost actualCost;
  /** Whether a settled charge is a hold ({@link Builder#reserve}) that a later denial releases. */
  private final boolean releasable;
  private final QuotaPlan defaultPlan;
  private final String overrideClaim;
  private final boolean legacyHeaders;
  private final boolean overridesMayRaise;
  private final Cache<OverrideKey, QuotaPlan> overrides;
  private final Cache<InferenceRequest, Reservation> reservations;
  /**
   * The pace of the lines about principals of a tier the engine does not register, keyed by the
   * tier name (cut to its logged form): one a minute each at ERROR, however many requests.
   */
  private final LogPace<String> unknownTiers = new LogPace<>(log, "per tier name");
  /**
   * The pace of the lines about the cost function's failures, keyed by the class name of each
   * exception it threw and by {@link #COST_BELOW_ONE}: one of each a minute at ERROR, so that a
   * client repeating one neither floods the log nor spends the line a later fault of the same
   * class needs.
   */
  private final LogPace<String> costFailures = new LogPace<>(log, "per kind of failure");
  /**
   * The pace of the lines about principals whose override claim is not valid, keyed by their
   * tenant and subject, each cut to its logged form: each such credential is named once a minute
   * at ERROR however often it is used.
   */
  private final LogPace<List<String>> badOverrides = new LogPace<>(log, "per tenant and subject");

  private QuotaPolicy(Builder b) {
    this.store = b.store;
    this.cost = b.cost;
    this.actualCost = b.actualCost;
    this.releasable = b.releasable;
    this.defaultPlan = b.defaultPlan;
    this.overrideClaim = b.overrideClaim;
    this.legacyHeaders = b.legacyHeaders;
    this.overridesMayRaise = b.overridesMayRaise;
    // Maintenance on the caller's thread (here and below): Caffeine's default executor hands it to
    // ForkJoinPool.commonPool(), waking a thread on the request path.
    this.overrides = Caffeine.newBuilder().maximumSize(10_000).executor(Runnable::run).build();
    // Weak keys compare by identity: the engine hands the output policies the request it checked.
    this.reservations = actualCost == null ? null : Caffeine.newBuilder().weakKeys().executor(Runnable::run).build();
  }

  /**
   * Starts a builder over {@code store}.
   *
   * @param store where the counts are kept; not null
   * @return a new builder with the defaults
   */
  public static Builder builder(QuotaStore store) {
    return new Builder(store);
  }

  /**
   * True: it counts authenticated requests only (a request without a principal passes untouched),
   * so it is refused in {@link io.modelguard.Phase#AUTHENTICATE} and in a chain without
   * authenticators, where it would count nothing.
   */
  @Override
  public boolean requiresPrincipal() {
    return true;
  }

  @Override
  public GuardDecision evaluate(GuardContext context) {
    Principal principal = context.principal().orElse(null);
    String model = context.endpoint().model().orElse(null);
    if (principal == null || model == null) {
      return GuardDecision.allow();
    }
    Tier tier = null;
    if (principal.tier().isPresent()) {
      tier = context.tier(principal.tier().get()).orElse(null);
      if (tier == null && context.registersTiers()) {
        logUnknownTier(context, principal, model);
        // ModelAccessPolicy's answer for such a principal: a chain with it has refused the request
        // already, and one without it must not tell the two apart either.
        return GuardDecision.deny(ReasonCode.AUTHZ_MODEL_FORBIDDEN)
            .withChallengeScope(ModelAccessPolicy.scopeFor(model))
            .withOperatorNote(ModelAccessPolicy.NOTE_UNKNOWN_TIER);
      }
    }
    QuotaPlan plan;
    try {
      plan = planFor(tier, principal, model);
    } catch (IllegalArgumentException e) {
      // Denied as a value, not thrown: under a fail-open step a throw would skip the quota, so a
      // principal whose override (a restriction, maybe) does not apply would have no limit at all.
      logBadOverride(context, principal, model, e);
      return GuardDecision.deny(ReasonCode.INTERNAL_ERROR);
    }
    if (plan == null) {
      return GuardDecision.allow();
    }
    long units;
    try {
      units = cost.cost(context);
    } catch (RuntimeException e) {
      // Denied as a value, like a bad override: a cost is usually computed from the client's
      // request, and under a fail-open step a throw would let that client past the quota uncharged.
      // Only the class is logged: an exception whose message throws must not make this throw after all.
      logCostFailure(context, e.getClass().getName(), "QuotaPolicy: the cost function threw {} for subject '{}' on model "
          + "'{}'; request denied", e.getClass().getName(), principal, model);
      return GuardDecision.deny(ReasonCode.INTERNAL_ERROR);
    }
    if (units < 1) {
      logCostFailure(context, COST_BELOW_ONE, "QuotaPolicy: the cost function returned {} for subject '{}' on model '{}'; "
          + "costs are at least 1; request denied", units, principal, model);
      return GuardDecision.deny(ReasonCode.INTERNAL_ERROR);
    }
    QuotaKey key = QuotaKey.forTenant(principal.tenant(), model);
    QuotaDecision decision = store.acquire(key, plan, units);
    if (reservations != null && decision.isAllowed() && decision.isMetered()) {
      reservations.put(context.request(), new Reservation(key, plan, units, decision));
      return QuotaResponses.toGuardDecision(decision, legacyHeaders, releasable ? units : 0);
    }
    return QuotaResponses.toGuardDecision(decision, legacyHeaders);
  }

  /**
   * Logs a request the cost function could not price, {@code failure} being the class name of the
   * exception it threw or {@link #COST_BELOW_ONE} ({@code what} is the line's first argument): at
   * ERROR at most once a minute (by the engine's clock) for each failure, saying how many went to
   * DEBUG since, at DEBUG otherwise. The cost usually comes from the client's request, so a client
   * can repeat the failure at will, and a line each would flood the log; every such denial still
   * has its audit line ({@code internal.error} by this policy).
   */
  private void logCostFailure(
      GuardContext context, String failure, String line, Object what, Principal principal, String model) {
    costFailures.log(Level.ERROR, failure, context.clock().millis(), null, line, what,
        LogText.oneLine(principal.subject(), 256), LogText.oneLine(model, 256));
  }

  /**
   * Logs a principal whose override claim is not a valid override of its plan, {@code e} saying
   * why: at ERROR at most once a minute (by the engine's clock) for each tenant and subject, at
   * DEBUG otherwise. The credential carries the claim into every request it makes, and a line each
   * would flood the log; the paced line names the credential to correct, and every such denial
   * keeps its audit line.
   */
  private void logBadOverride(GuardContext context, Principal principal, String model, IllegalArgumentException e) {
    String tenant = LogText.oneLine(principal.tenant(), 256);
    String subject = LogText.oneLine(principal.subject(), 256);
    badOverrides.log(Level.ERROR, List.of(tenant, subject), context.clock().millis(), null,
        "QuotaPolicy: the override claim '{}' of subject '{}' of tenant '{}' is not a valid override of its plan "
            + "for model '{}': {}; request denied",
        overrideClaim, subject, tenant, LogText.oneLine(model, 256), LogText.message(e, 256));
  }

  /**
   * Logs a principal whose tier the engine does not register: at ERROR at most once a minute (by
   * the engine's clock) for each tier name, at DEBUG otherwise.
   */
  private void logUnknownTier(GuardContext context, Principal principal, String model) {
    String tier = LogText.oneLine(principal.tier().orElseThrow(), 256);
    unknownTiers.log(Level.ERROR, tier, context.clock().millis(), null,
        "QuotaPolicy: subject '{}' of tenant '{}' has tier '{}', which the engine does not register; request for "
            + "model '{}' denied with authz.model_forbidden, as every request of that tier will be (register the "
            + "tier with tier(...) or correct the principal's tier)",
        LogText.oneLine(principal.subject(), 256), LogText.oneLine(principal.tenant(), 256), tier,
        LogText.oneLine(model, 256));
  }

  /**
   * The plan that applies to {@code principal}, of {@code tier} (null: none, or one the engine
   * does not register), on {@code model}, or null if none does.
   *
   * @throws IllegalArgumentException if the principal's override claim is not a valid plan
   */
  QuotaPlan planFor(Tier tier, Principal principal, String model) {
    QuotaPlan base = tier == null ? defaultPlan : tier.quotaPlan(model).orElse(defaultPlan);
    Object claim = overrideClaim == null ? null : principal.claims().get(overrideClaim);
    if (claim == null) {
      return base;
    }
    if (!(claim instanceof String)) {
      throw new IllegalArgumentException("QuotaPolicy: claim '" + overrideClaim
          + "' must be a string in RateLimit-Policy syntax");
    }
    return overrides.get(new OverrideKey(base, (String) claim),
        k -> k.base == null ? QuotaPlan.parse(k.claim)
            : overridesMayRaise ? k.base.withOverrides(k.claim) : k.base.narrowedBy(k.claim));
  }

  /**
   * The output policy that settles reservations (and {@linkplain Builder#charge settled charges}),
   * to register at {@link io.modelguard.OutputPhase#RECORD}: refunds {@code reserved − actual}
   * units (or charges the excess) for each allowed request, in the store that decided the
   * reservation ({@link QuotaStore#settle}): with a {@link ResilientQuotaStore}, a reservation its local fallback made
   * is settled there, and one the shared store made is dropped while that store is unavailable.
   * It never changes the output; if the store fails, the settlement is dropped and logged (the
   * reservation stays charged). It runs on every response with a body the application produced,
   * error statuses included (the actual-cost function can tell them apart by {@link
   * ResponseContext#status()}); a response without a body (a 204), a request answered instead by
   * the container, or one whose handler threw an exception the application did not turn into a
   * response never reaches it, so its reservation stays charged in full. A request a later policy
   * of the chain denies (invalid input, say) never reaches the model: its reservation is refunded
   * in full then ({@link #release}), without this policy; a {@linkplain Builder#charge settled
   * charge} stays charged in full then. The settlement reports nothing to the client: the response's
   * {@code RateLimit} fields were decided with the request and show the units as charged.
   *
   * @return the settling output policy, sharing this policy's reservations
   * @throws IllegalStateException if the policy was built without {@link Builder#reserve} or {@link
   *     Builder#charge}
   */
  public OutputPolicy settlement() {
    if (reservations == null) {
      throw new IllegalStateException("QuotaPolicy.settlement() needs reserve(maxCost, actualCost) or "
          + "charge(cost, actualCost) on the builder");
    }
    return this::settle;
  }

  private io.modelguard.ModelOutput settle(ResponseContext context) {
    Reservation r = reservations.asMap().remove(context.request());
    if (r == null) {
      return context.output();
    }
    long actual = actualCost.cost(context);
    if (actual < 0) {
      throw new IllegalStateException("QuotaPolicy: the actual cost function returned " + actual);
    }
    settle(r, actual - r.reserved);
    return context.output();
  }

  /**
   * Releases the reservation of a request a later policy denied: it never reaches the model, so the
   * whole reservation is refunded, and the denial's {@code RateLimit} reports the limit with the
   * refund. A plain cost ({@link Builder#cost}) is a charge for the request, not a hold, and stays
   * charged, and so does a {@linkplain Builder#charge settled charge} (its settlement is dropped:
   * the request never reaches the application).
   *
   * @throws QuotaStoreException if the store failed to take the refund back synchronously or
   *     dropped it ({@link QuotaStore#trySettle}): the engine logs it and reports the limit as
   *     charged
   */
  @Override
  public void release(GuardContext context) {
    Reservation r = reservations == null ? null : reservations.asMap().remove(context.request());
    if (r != null && releasable && !store.trySettle(r.key, r.plan, -r.reserved, r.decision)) {
      throw new QuotaStoreException("QuotaPolicy: the store dropped the refund of " + r.reserved + " units");
    }
  }

  private void settle(Reservation r, long delta) {
    if (delta != 0) {
      try {
        store.settle(r.key, r.plan, delta, r.decision);
      } catch (QuotaStoreException e) {
        log.warn("QuotaPolicy: could not settle a reservation of {} for {}: {}", r.reserved, r.key,
            LogText.message(e, 512));
      }
    }
  }

  private static final class OverrideKey {
    final QuotaPlan base;
    final String claim;

    OverrideKey(QuotaPlan base, String claim) {
      this.base = base;
      this.claim = claim;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof OverrideKey && Objects.equals(base, ((OverrideKey) o).base)
          && claim.equals(((OverrideKey) o).claim);
    }

    @Override
    public int hashCode() {
      return Objects.hashCode(base) * 31 + claim.hashCode();
    }
  }

  /** An allowed request's charge, with the decision that made it: its settlement goes where it was decided. */
  private static final class Reservation {
    final QuotaKey key;
    final QuotaPlan plan;
    final long reserved;
    final QuotaDecision decision;

    Reservation(QuotaKey key, QuotaPlan plan, long reserved, QuotaDecision decision) {
      this.key = key;
      this.plan = plan;
      this.reserved = reserved;
      this.decision = decision;
    }
  }

  /** Builds a {@link QuotaPolicy}. */
  public static final class Builder {
    private final QuotaStore store;
    private RequestCost cost = context -> context.endpoint().cost();
    private ResponseCost actualCost;
    private boolean releasable;
    private QuotaPlan defaultPlan;
    private String overrideClaim = DEFAULT_OVERRIDE_CLAIM;
    private boolean legacyHeaders;
    private boolean overridesMayRaise;

    private Builder(QuotaStore store) {
      this.store = Objects.requireNonNull(store, "store");
    }

    /**
     * How much a request costs. Default: {@link io.modelguard.Endpoint#cost()}. A function that
     * throws a {@link RuntimeException} or returns less than 1 fails the request closed ({@code
     * internal.error}) whatever the step's {@link io.modelguard.FailureMode}: the cost usually
     * comes from the client's request, and a fail-open step must not let a request its function
     * cannot price past the quota uncharged. For the same reason the failure is logged at ERROR at
     * most once a minute per exception class (and for a cost below 1), by the engine's clock, the
     * line saying how many went to DEBUG since: a client can repeat it at will; each such denial
     * has its audit line.
     *
     * @param cost prices a request, at least 1; not null
     * @return this builder
     */
    public Builder cost(RequestCost cost) {
      this.cost = Objects.requireNonNull(cost, "cost");
      return this;
    }

    /**
     * Reserve-then-settle for costs known only after the response: {@code maxCost} is charged up
     * front, and {@link QuotaPolicy#settlement()} later refunds {@code maxCost − actualCost} (or
     * charges the excess); a request a later policy denies gets the whole reservation back.
     * Replaces {@link #cost(RequestCost)} and {@link #charge}. Default: no reservations.
     *
     * @param maxCost the units to reserve for a request, at least 1; not null
     * @param actualCost the units the response actually used, at least 0; not null
     * @return this builder
     */
    public Builder reserve(RequestCost maxCost, ResponseCost actualCost) {
      this.cost = Objects.requireNonNull(maxCost, "maxCost");
      this.actualCost = Objects.requireNonNull(actualCost, "actualCost");
      this.releasable = true;
      return this;
    }

    /**
     * Charge-then-settle: {@code cost} is charged up front as by {@link #cost(RequestCost)}, a charge
     * for the request that stays charged whatever a later policy decides (so a flood of requests
     * that fail validation is still limited), and {@link QuotaPolicy#settlement()} later refunds
     * {@code cost − actualCost} (or charges the excess) once the response is known: for an
     * application that may answer a request without the work it was charged for, a gateway
     * refusing one it has no capacity to forward, say. The {@code RateLimit} fields report the
     * charge. Replaces {@link #cost(RequestCost)} and {@link #reserve}. Default: no settlement.
     *
     * @param cost the units to charge for a request, at least 1; not null
     * @param actualCost the units the response actually used, at least 0; not null
     * @return this builder
     */
    public Builder charge(RequestCost cost, ResponseCost actualCost) {
      this.cost = Objects.requireNonNull(cost, "cost");
      this.actualCost = Objects.requireNonNull(actualCost, "actualCost");
      this.releasable = false;
      return this;
    }

    /**
     * Limits for principals whose tier sets none for the model, and for principals without a tier.
     * Default: none (such requests are not limited). Never for a principal whose tier the engine
     * does not register: it is denied (see the class comment).
     *
     * @param limits the limits, at least one, each named differently
     * @return this builder
     * @throws IllegalArgumentException if there is no limit or two share a name
     */
    public Builder defaultLimits(QuotaLimit... limits) {
      this.defaultPlan = QuotaPlan.of(limits);
      return this;
    }

    /**
     * The principal claim holding a per-principal override. Default {@value QuotaPolicy#DEFAULT_OVERRIDE_CLAIM}.
     *
     * @param claim the claim name, not blank
     * @return this builder
     * @throws IllegalArgumentException if {@code claim} is null or blank
     */
    public Builder overrideClaim(String claim) {
      if (claim == null || claim.isBlank()) {
        throw new IllegalArgumentException("QuotaPolicy.overrideClaim must not be blank");
      }
      this.overrideClaim = claim;
      return this;
    }

    /**
     * Let a principal's override claim raise limits too: a member naming a tier limit replaces it
     * whatever its quota, window and algorithm. Only for claims that clients cannot influence in
     * any way (issued by your own authorization server from your own records). Default: an
     * override may only narrow (see {@link QuotaPlan#narrowedBy(String)}).
     *
     * @return this builder
     */
    public Builder overridesMayRaiseLimits() {
      this.overridesMayRaise = true;
      return this;
    }

    /**
     * Ignore per-principal overrides altogether.
     *
     * @return this builder
     */
    public Builder ignoreOverrides() {
      this.overrideClaim = null;
      return this;
    }

    /**
     * Also send {@code X-RateLimit-Limit}, {@code -Remaining} and {@code -Reset} (seconds). Default false.
     *
     * @param enabled true to send the legacy headers too
     * @return this builder
     */
    public Builder legacyHeaders(boolean enabled) {
      this.legacyHeaders = enabled;
      return this;
    }

    /**
     * Builds the policy.
     *
     * @return the policy, immutable
     */
    public QuotaPolicy build() {
      return new QuotaPolicy(this);
    }
  }
}
