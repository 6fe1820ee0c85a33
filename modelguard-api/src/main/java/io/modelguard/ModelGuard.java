package io.modelguard;

import io.modelguard.authz.ModelAccessPolicy;
import io.modelguard.event.DecisionEvent;
import io.modelguard.event.GuardEvent;
import io.modelguard.event.GuardListener;
import io.modelguard.event.PolicyFailureEvent;
import io.modelguard.event.Slf4jAuditListener;
import io.modelguard.internal.LogPace;
import io.modelguard.quota.QuotaStoreException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The engine: immutable and thread-safe, built once by the application with {@link #builder()} and
 * handed to the adapters. There is no global instance.
 *
 * <p>{@link #check(InferenceRequest)} runs the request's chain in the fixed phase order {@link
 * Phase#AUTHENTICATE} → {@link Phase#AUTHORIZE} → {@link Phase#QUOTA} → {@link Phase#VALIDATE} →
 * {@link Phase#DETECT}; the first denial stops the chain. If the chain has authentication policies
 * and none of them established a principal, the request is denied with {@link
 * ReasonCode#AUTH_MISSING_CREDENTIALS}. {@link #onResponse(InferenceRequest, GuardDecision, int,
 * ModelOutput)} runs the output policies (OBSERVE → PERTURB → RECORD) on allowed requests only, on
 * every response the application produced for them, whatever its status. Every {@code check}
 * publishes exactly one {@link DecisionEvent}.
 *
 * <p>The decision carries the headers of every policy that allowed the request and of the one that
 * denied it; on a conflict a later policy's header replaces an earlier one, and the denying
 * policy's wins. The legacy {@code X-RateLimit-Limit}, {@code -Remaining} and {@code -Reset} (one
 * limit each) are kept together from the allowing policy with the fewest units remaining (the
 * earlier on a tie); on a denial, counted as the policies stand once the engine refunded their
 * holds, and reported so. The rate-limit fields are lists instead: the {@link RateLimitItems} of every
 * policy that decided the request (two quotas, say) are merged into one {@code RateLimit-Policy}
 * and one {@code RateLimit}, each naming a policy once. A name more than one policy uses is
 * reported by the most restrictive of them: the denying policy, else the one with the fewest units
 * left (the first on a tie), whose own {@code RateLimit-Policy} member goes with it (the engine logs
 * the clash once). On a denial, a policy whose hold the engine {@linkplain Policy#release released}
 * reports its figures as released ({@link RateLimitItems#ifReleased}). The denying policy's
 * retry-after is the decision's.
 *
 * <pre>{@code
 * ModelGuard guard = ModelGuard.builder()
 *     .models("digits", "iris")
 *     .tier(Tier.builder("free").models("digits").build())
 *     .chain("default", chain -> chain
 *         .policy(Phase.AUTHENTICATE, "api-key", ApiKeyAuthenticator.builder(store, hasher).build())
 *         .policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy()))
 *     .build();
 * }</pre>
 */
public final class ModelGuard {
  /** The chain name {@link ModelSecured} uses by default. */
  public static final String DEFAULT_CHAIN = "default";

  private static final Logger log = LoggerFactory.getLogger(ModelGuard.class);
  /**
   * The {@code Retry-After} of a {@code quota.unavailable} for a quota store that threw: a store
   * without a circuit breaker cannot say when it answers again, so the client is told to wait what
   * {@link io.modelguard.quota.ResilientQuotaStore}'s circuit waits by default before its next probe.
   */
  private static final Duration STORE_RETRY_AFTER = Duration.ofSeconds(1);

  private final Map<String, PolicyChain> chains;
  private final Map<String, Tier> tiers;
  private final Set<String> models;
  private final Clock clock;
  private final RandomSource random;
  private final GuardListener[] listeners;
  /** Whether the engine has logged that two policies reported rate limits of one name. */
  private final AtomicBoolean warnedNameClash = new AtomicBoolean();
  /**
   * The pace of the lines about policies that threw, keyed by {@link FailureKey}: one of each a
   * minute at ERROR or WARN, with the stack trace; the others at DEBUG.
   */
  private final LogPace<FailureKey> policyFailures =
      new LogPace<>(log, "per chain, policy and exception class");
  /** The pace of the lines about listeners that threw, as {@link #policyFailures}. */
  private final LogPace<FailureKey> listenerFailures =
      new LogPace<>(log, "per listener, event type and exception class");

  private ModelGuard(Builder b) {
    this.chains = Map.copyOf(b.chains);
    this.tiers = Map.copyOf(b.tiers);
    this.models = Set.copyOf(b.models);
    this.clock = b.clock;
    this.random = b.random;
    List<GuardListener> all = new ArrayList<>(b.listeners);
    if (b.auditLog) {
      all.add(0, new Slf4jAuditListener());
    }
    this.listeners = all.toArray(new GuardListener[0]);
  }

  /**
   * Starts a builder. Defaults: system UTC clock, secure random, SLF4J audit log on.
   *
   * @return a new builder with the defaults
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Checks one request against its endpoint's chain. Never throws for a policy failure: a policy
   * that throws yields {@link ReasonCode#INTERNAL_ERROR} (or is skipped if fail-open), publishes a
   * {@link PolicyFailureEvent}, and has its exception logged: at ERROR with the stack trace at most
   * once a minute (by the engine's clock) per chain, policy and exception class, the line saying
   * how many more were logged at DEBUG since, since a policy failing on every request would
   * otherwise write a stack trace per request. A {@link QuotaStoreException} (a quota store that
   * failed, refused or timed out, not wrapped in a {@link io.modelguard.quota.ResilientQuotaStore})
   * yields {@link ReasonCode#QUOTA_UNAVAILABLE} with a {@code Retry-After} of one second instead,
   * as a fail-closed store's answer does; any other exception stays an internal error. A policy or
   * listener that throws {@link InterruptedException} leaves the thread's interrupt status set, as
   * it would be had the engine let the exception through.
   *
   * @param request the request, with its resolved endpoint; not null
   * @return the decision for the adapter to enforce: allow, or a denial to render as a problem
   *     response
   */
  public GuardDecision check(InferenceRequest request) {
    Endpoint endpoint = request.endpoint();
    PolicyChain chain = chains.get(endpoint.chain());
    if (chain == null) {
      // Adapters validate chains at deployment, so this is a programming error: fail closed.
      log.error("ModelGuard: no chain named '{}' (endpoint {})", endpoint.chain(), endpoint);
      return finish(request, null, GuardDecision.deny(ReasonCode.INTERNAL_ERROR), null, null, null);
    }
    GuardContext context = new GuardContext(this, request);
    Map<String, String> headers = null;
    List<PolicyChain.Step<Phase, Policy>> steps = chain.requestSteps();
    int authenticators = chain.authenticatorCount();
    boolean authorized = false;
    for (int i = 0, n = steps.size(); i < n; i++) {
      if (i == authenticators) {
        GuardDecision stop = afterAuthenticators(chain, i, context, headers, authenticators > 0);
        if (stop != null) {
          return stop;
        }
      }
      PolicyChain.Step<Phase, Policy> step = steps.get(i);
      if (!authorized && step.phase().compareTo(Phase.AUTHORIZE) > 0) {
        authorized = true;
        GuardDecision stop = afterAuthorization(chain, i, context, headers);
        if (stop != null) {
          return stop;
        }
      }
      GuardDecision d = evaluate(chain, step, context);
      if (d == null) {
        continue; // failed open
      }
      if (!d.isAllowed()) {
        release(chain, i, context);
        return finish(request, context, d, headers, step.phase(), step.name());
      }
      if (d.principal().isPresent()) {
        if (step.phase() != Phase.AUTHENTICATE) {
          log.warn("ModelGuard: policy '{}' in phase {} returned a principal; ignored", step.name(), step.phase());
        } else if (context.principalOrNull() != null) {
          release(chain, i + 1, context);
          return finish(request, context,
              GuardDecision.moreThanOneCredential(), headers, step.phase(), step.name());
        } else {
          context.principal(d.principal().get());
        }
      }
      if (!d.headers().isEmpty()) {
        if (headers == null) {
          headers = new LinkedHashMap<>();
        }
        LegacyRateLimitHeaders.putAll(headers, d.headers());
        if (d.headers().containsKey(LegacyRateLimitHeaders.REMAINING)) {
          context.legacyRateLimit(d.headers(), d.rateLimit() != null);
        }
        if (d.rateLimit() != null) {
          context.rateLimit(d.rateLimit(), i);
        }
      }
    }
    if (authenticators == steps.size()) {
      GuardDecision stop = afterAuthenticators(chain, authenticators, context, headers, authenticators > 0);
      if (stop != null) {
        return stop;
      }
    }
    if (!authorized) {
      GuardDecision stop = afterAuthorization(chain, steps.size(), context, headers);
      if (stop != null) {
        return stop;
      }
    }
    return finish(request, context, GuardDecision.allow(), headers, null, null);
  }

  /**
   * The denial that ends a request once its chain's authenticators have run (at once if it has
   * none), or null if it goes on: no principal though the chain authenticates; or no model though
   * the request was meant to name one ({@link Endpoint#isUnresolved}), whatever the chain, since
   * then no per-model policy (access, quota, input specification) can apply, while the resource may
   * still serve a model it reads from the path.
   */
  private GuardDecision afterAuthenticators(
      PolicyChain chain, int ran, GuardContext context, Map<String, String> headers, boolean authenticates) {
    InferenceRequest request = context.request();
    if (authenticates && context.principalOrNull() == null) {
      release(chain, ran, context);
      return finish(request, context, GuardDecision.deny(ReasonCode.AUTH_MISSING_CREDENTIALS),
          headers, Phase.AUTHENTICATE, null);
    }
    if (request.endpoint().isUnresolved()) {
      release(chain, ran, context);
      // The same answer as ModelAccessPolicy's for a model the caller may not use: nothing tells a
      // path that names no model from one naming a model the caller is not allowed.
      return finish(request, context, GuardDecision.deny(ReasonCode.AUTHZ_MODEL_FORBIDDEN)
          .withOperatorNote(ModelAccessPolicy.NOTE_NO_MODEL), headers, Phase.AUTHORIZE, null);
    }
    return null;
  }

  /**
   * The denial that ends a request once its chain's AUTHORIZE policies have run, or null if it goes
   * on: a model the engine, registering models, does not register; or, in an engine registering
   * models, a model that the request's principal, of a tier the engine registers, may not invoke
   * as {@code ModelAccessPolicy} decides it (its tier's, narrowed by its credential), so that a
   * chain without that policy does not serve every model to every tier. After the chain's own authorization, so that a {@code
   * ModelAccessPolicy} answers an unregistered model exactly as a forbidden one, and nothing tells
   * the two apart. This answer is that policy's too, its
   * challenge's scope included: a chain may refuse some registered models with it and not others
   * (the policy {@linkplain Policy#forModels scoped} to a few), and an unregistered model's answer
   * must not differ from a forbidden one's there either.
   */
  private GuardDecision afterAuthorization(
      PolicyChain chain, int ran, GuardContext context, Map<String, String> headers) {
    Optional<String> model = context.request().endpoint().model();
    String refusal = null;
    if (isUnregistered(model)) {
      refusal = ModelAccessPolicy.NOTE_UNREGISTERED_MODEL;
    } else if (model.isPresent() && !models.isEmpty() && hasRegisteredTier(context.principalOrNull())) {
      // Tiers grant models, deny by default, whether or not the chain has a ModelAccessPolicy: an
      // authenticated chain without one (forgotten, or scoped to other models) would otherwise serve
      // every model to every tier. A principal without a registered tier is left to the chain
      // (ModelAccessPolicy and QuotaPolicy refuse an unknown one, the latter logging it).
      refusal = ModelAccessPolicy.refusal(context, context.principalOrNull(), model.get());
    }
    if (refusal == null) {
      return null;
    }
    release(chain, ran, context);
    return finish(context.request(), context, GuardDecision.deny(ReasonCode.AUTHZ_MODEL_FORBIDDEN)
        .withChallengeScope(ModelAccessPolicy.scopeFor(model.get()))
        .withOperatorNote(refusal), headers, Phase.AUTHORIZE, null);
  }

  /** Whether {@code principal} is not null and names a tier this engine registers. */
  private boolean hasRegisteredTier(Principal principal) {
    return principal != null && principal.tier().map(tiers::containsKey).orElse(false);
  }

  /**
   * Whether {@code model} is one this engine, which registers models, does not register: a path
   * variable's value, say, that no {@code ModelAccessPolicy}-like check refused because the chain has
   * none. Such a request would be counted, validated and observed as a model of its own, so
   * {@code DIGITS} or {@code Digits} would each get a fresh quota from an application that finds its
   * models ignoring case.
   */
  private boolean isUnregistered(Optional<String> model) {
    return !models.isEmpty() && model.isPresent() && !models.contains(model.get());
  }

  /**
   * Calls {@link Policy#release} on the first {@code ran} request steps of {@code chain}, latest
   * first, for a request that is being denied. A release that throws is logged; the denial stands,
   * and the policy's rate-limit items stay as it charged them.
   */
  private void release(PolicyChain chain, int ran, GuardContext context) {
    List<PolicyChain.Step<Phase, Policy>> steps = chain.requestSteps();
    context.released();
    for (int i = ran - 1; i >= 0; i--) {
      PolicyChain.Step<Phase, Policy> step = steps.get(i);
      try {
        step.policy().release(context);
      } catch (StackOverflowError e) {
        context.releaseFailed(i);
        logFailure(policyFailures, false, paceKey("release", chain.name(), step.name(), e), null,
            "ModelGuard: policy '{}' in chain '{}' overflowed the stack releasing a denied request",
            step.name(), chain.name());
      } catch (VirtualMachineError e) {
        throw e;
      } catch (Throwable e) {
        context.releaseFailed(i);
        logFailure(policyFailures, true, paceKey("release", chain.name(), step.name(), e), e,
            "ModelGuard: policy '{}' in chain '{}' failed to release a denied request", step.name(), chain.name());
        keepInterrupt(e);
      }
    }
  }

  private GuardDecision evaluate(PolicyChain chain, PolicyChain.Step<Phase, Policy> step, GuardContext context) {
    try {
      GuardDecision d = step.policy().evaluate(context);
      if (d == null) {
        throw new NullPointerException("policy returned null instead of a GuardDecision");
      }
      return d;
    } catch (Throwable e) {
      if (e instanceof QuotaStoreException) {
        return failsOpen(chain, step, e, "policy", "; fail-open, request continues",
            "; the quota store is unavailable, request denied with quota.unavailable")
            ? null
            : GuardDecision.deny(ReasonCode.QUOTA_UNAVAILABLE).withRetryAfter(STORE_RETRY_AFTER);
      }
      return failsOpen(chain, step, e, "policy", "; fail-open, request continues", "; request denied")
          ? null
          : GuardDecision.deny(ReasonCode.INTERNAL_ERROR);
    }
  }

  /**
   * Handles a request or output policy's failure: logs it (paced, see {@link #check}) and publishes
   * a {@link PolicyFailureEvent} (every time), and says whether it fails open. A {@link
   * StackOverflowError} (a policy recursing over deeply nested client input, say) fails closed
   * whatever the policy's mode, since the client may cause it on purpose, and so does an {@link
   * OutputWithheldException}, a policy's decision to withhold the output; any other {@link
   * VirtualMachineError} is rethrown.
   *
   * @param kind {@code policy} or {@code output policy}, for the log line
   * @param ifOpen what the log line says happens next when it fails open; {@code ifClosed} otherwise
   */
  private boolean failsOpen(
      PolicyChain chain, PolicyChain.Step<?, ?> step, Throwable e, String kind, String ifOpen, String ifClosed) {
    if (e instanceof VirtualMachineError && !(e instanceof StackOverflowError)) {
      throw (VirtualMachineError) e;
    }
    boolean open = step.failureMode() == FailureMode.OPEN && !(e instanceof StackOverflowError)
        && !(e instanceof OutputWithheldException);
    logFailure(policyFailures, true, paceKey(kind, chain.name(), step.name(), e), e,
        "ModelGuard: {} '{}' in chain '{}' failed{}", kind, step.name(), chain.name(), open ? ifOpen : ifClosed);
    publish(new PolicyFailureEvent(clock.instant(), chain.name(), step.name(), e.getClass().getName(), open));
    keepInterrupt(e); // once logged and published, so that neither is cut short by the interrupt
    return open;
  }

  private GuardDecision finish(
      InferenceRequest request, GuardContext context, GuardDecision decision,
      Map<String, String> headers, Phase phase, String policy) {
    Principal principal = context == null ? null : context.principalOrNull();
    // Headers of earlier allowing policies (rate limits) stay on a later denial; the deciding
    // policy's own headers win on conflict.
    GuardDecision result = headers == null ? decision : decision.withHeadersUnder(headers);
    if (context != null && context.rateLimitCount() > 0) {
      result = withMergedRateLimits(context, decision, result);
      if (!decision.headers().containsKey(LegacyRateLimitHeaders.REMAINING)) {
        result = LegacyRateLimitHeaders.released(context, result);
      }
    }
    if (principal != null && result.principal().isEmpty()) {
      result = result.withPrincipal(principal);
    }
    Endpoint endpoint = request.endpoint();
    publish(new DecisionEvent(
        clock.instant(), request.method(), request.path(), endpoint.chain(), endpoint.model().orElse(null),
        principal == null ? null : principal.subject(), principal == null ? null : principal.tenant(),
        result.isAllowed(), result.reason().orElse(null), result.isAllowed() ? null : phase,
        result.isAllowed() ? null : policy, result.operatorNote().orElse(null)));
    return result;
  }

  /**
   * {@code result} with the rate-limit fields of every policy that reported {@link RateLimitItems}
   * for the request merged into one list each ({@link RateLimitItems#merge}), as they stand after
   * the releases of a denial. A request only one policy reports on, and that no release changed,
   * already carries that policy's fields: nothing is merged or copied then.
   */
  private GuardDecision withMergedRateLimits(GuardContext context, GuardDecision decision, GuardDecision result) {
    int n = context.rateLimitCount();
    RateLimitItems deciding = decision.isAllowed() ? null : decision.rateLimit();
    if (n == 1 && deciding == null && !context.rateLimitReleased(0)) {
      return result;
    }
    List<RateLimitItems> all = new ArrayList<>(n + 1);
    for (int i = 0; i < n; i++) {
      all.add(context.rateLimit(i));
    }
    if (deciding != null) {
      all.add(deciding);
    }
    boolean[] clash = new boolean[1];
    String[] fields = RateLimitItems.merge(all, deciding, clash);
    if (clash[0] && !warnedNameClash.getAndSet(true)) {
      log.warn("ModelGuard: two policies of chain '{}' report rate-limit policies of the same name; each name "
          + "is reported once, by the most restrictive of them (logged once)", context.endpoint().chain());
    }
    return result.withRateLimitFields(fields);
  }

  /**
   * Runs the chain's output policies on the response the application produced for an allowed
   * request, and returns the body to send with that status.
   *
   * <p>Adapters call it for every response the application produced, whatever its status: an error
   * body can carry a prediction too (partial scores in a 422, raw probabilities in a 500's debug
   * body), so it passes the same policies as a success, which see the status as {@link
   * ResponseContext#status()}. Responses the application did not write (a container's error page or
   * redirect, the guard's own problem responses) are not model output and do not come here.
   *
   * @param request the request {@link #check} allowed
   * @param decision the decision {@link #check} returned for it, an allow
   * @param status the response's HTTP status, a three-digit code (100 to 999)
   * @param output the body and media type the application produced
   * @return the output to send: {@code output} itself, or what the output policies replaced it with
   * @throws IllegalArgumentException if {@code decision} is a denial, or {@code status} is not a
   *     three-digit code
   * @throws GuardFailureException if a fail-closed output policy threw, or any output policy threw
   *     {@link OutputWithheldException}: send {@link ReasonCode#INTERNAL_ERROR} instead of the output
   */
  public ModelOutput onResponse(InferenceRequest request, GuardDecision decision, int status, ModelOutput output) {
    if (!decision.isAllowed()) {
      throw new IllegalArgumentException("output policies run only on allowed requests");
    }
    if (status < 100 || status > 999) {
      throw new IllegalArgumentException("status must be a three-digit HTTP status code, was " + status);
    }
    PolicyChain chain = chains.get(request.endpoint().chain());
    if (chain == null || !chain.hasOutputPolicies()) {
      return output;
    }
    ResponseContext context = new ResponseContext(this, request, decision, status, output);
    for (PolicyChain.Step<OutputPhase, OutputPolicy> step : chain.outputSteps()) {
      try {
        ModelOutput next = step.policy().apply(context);
        if (next == null) {
          throw new NullPointerException("output policy returned null instead of a ModelOutput");
        }
        context.output(next);
      } catch (Throwable e) {
        if (!failsOpen(chain, step, e, "output policy", "; fail-open, step skipped", "; output withheld")) {
          throw new GuardFailureException("output policy '" + step.name() + "' in chain '" + chain.name() + "' failed");
        }
      }
    }
    return context.output();
  }

  /**
   * Runs the output policies as on a {@code 200} response: {@code onResponse(request, decision, 200,
   * output)}.
   *
   * @param request the request {@link #check} allowed
   * @param decision the decision {@link #check} returned for it, an allow
   * @param output the body and media type the application produced
   * @return the output to send
   * @throws IllegalArgumentException if {@code decision} is a denial
   * @throws GuardFailureException if a fail-closed output policy threw
   * @deprecated output policies run on error responses too and may act on the status (see {@link
   *     ResponseContext#status()}), so an adapter that calls this for a 4xx or 5xx response makes
   *     them take it for a success. Pass the response's status to {@link #onResponse(InferenceRequest,
   *     GuardDecision, int, ModelOutput)}. Kept so that existing callers compile.
   */
  @Deprecated
  public ModelOutput onResponse(InferenceRequest request, GuardDecision decision, ModelOutput output) {
    return onResponse(request, decision, 200, output);
  }

  /**
   * {@return whether a chain called {@code name} exists}
   *
   * @param name the chain name, compared exactly
   */
  public boolean hasChain(String name) {
    return chains.containsKey(name);
  }

  /**
   * The chain called {@code name}.
   *
   * @param name the chain name, compared exactly
   * @return the chain
   * @throws IllegalArgumentException naming the chain and the chains that exist, if there is none
   */
  public PolicyChain chain(String name) {
    PolicyChain chain = chains.get(name);
    if (chain == null) {
      throw new IllegalArgumentException(
          "No ModelGuard chain named '" + name + "'; known chains: " + new java.util.TreeSet<>(chains.keySet()));
    }
    return chain;
  }

  /**
   * Checks at deployment that an endpoint's chain exists and, in an engine that registers models,
   * that a fixed model is one of them; adapters call it so that a typo in the chain or the model of
   * {@code @ModelSecured} fails start-up rather than every request.
   *
   * @param spec the endpoint's specification
   * @return {@code spec} itself
   * @throws IllegalArgumentException if the chain is unknown, or the fixed model is not registered
   */
  public EndpointSpec validate(EndpointSpec spec) {
    chain(spec.chain());
    Optional<String> model = spec.model();
    if (model.isPresent() && !models.isEmpty() && !models.contains(model.get())) {
      throw new IllegalArgumentException("@ModelSecured.model '" + model.get() + "' is not a registered model, so "
          + "every request would be refused; register it with ModelGuard.builder().models(...) or correct the "
          + "name (registered: " + new java.util.TreeSet<>(models) + ")");
    }
    return spec;
  }

  /**
   * {@return the tier registered as {@code name}}
   *
   * @param name the tier name, compared exactly
   */
  public Optional<Tier> tier(String name) {
    return Optional.ofNullable(tiers.get(name));
  }

  /** {@return every registered tier by name} */
  public Map<String, Tier> tiers() {
    return tiers;
  }

  /**
   * {@return whether {@code model} is registered}
   *
   * @param model the model id, compared exactly
   */
  public boolean isRegisteredModel(String model) {
    return models.contains(model);
  }

  /** {@return the registered model ids} */
  public Set<String> models() {
    return models;
  }

  /**
   * {@return the models {@code principal} may invoke: its tier's, narrowed by its own allowed models}
   *
   * @param principal the caller; one without a tier, or with an unregistered tier, may invoke none
   */
  public Set<String> modelsFor(Principal principal) {
    Tier tier = principal.tier().map(tiers::get).orElse(null);
    if (tier == null) {
      return Set.of();
    }
    Set<String> out = new LinkedHashSet<>();
    for (String m : new java.util.TreeSet<>(models)) {
      if (tier.allows(m) && principal.allowedModels().map(s -> s.contains(m)).orElse(true)) {
        out.add(m);
      }
    }
    return out;
  }

  /** {@return the injected clock} */
  public Clock clock() {
    return clock;
  }

  /** {@return the injected random source} */
  public RandomSource random() {
    return random;
  }

  /**
   * Publishes {@code event} to every listener, in order. A listener that throws is logged at WARN
   * with the stack trace at most once a minute per listener (by its place among the listeners: two
   * instances of one class are two listeners), event type and exception class (at DEBUG otherwise),
   * and the next listener still gets the event.
   */
  void publish(GuardEvent event) {
    for (int i = 0; i < listeners.length; i++) {
      GuardListener l = listeners[i];
      try {
        l.onEvent(event);
      } catch (VirtualMachineError e) {
        if (!(e instanceof StackOverflowError)) {
          throw e;
        }
        // A listener recursing too deeply has unwound its stack by now; as with a policy, the
        // decision stands.
        logFailure(listenerFailures, false,
            paceKey("listener", i + ":" + l.getClass().getName(), event.getClass().getSimpleName(), e), null,
            "ModelGuard: listener {} overflowed the stack on {}", l.getClass().getName(), event.getClass().getSimpleName());
      } catch (Throwable e) {
        // Whatever a listener throws (an Error, a checked exception it did not declare), the
        // decision stands.
        logFailure(listenerFailures, false,
            paceKey("listener", i + ":" + l.getClass().getName(), event.getClass().getSimpleName(), e), e,
            "ModelGuard: listener {} failed on {}", l.getClass().getName(), event.getClass().getSimpleName());
        keepInterrupt(e);
      }
    }
  }

  /**
   * Sets the thread's interrupt status again if a policy or listener threw {@link
   * InterruptedException} (undeclared, or from a policy of another language): throwing it cleared the
   * status, and the engine, which answers rather than rethrows, would otherwise swallow the request
   * to stop that the interrupt was (a container or executor shutting down). Not for {@link
   * java.io.InterruptedIOException}: a socket timeout is one, and it interrupts nothing.
   */
  private static void keepInterrupt(Throwable e) {
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * What failed, where, as a key of {@link #policyFailures} or {@link #listenerFailures}: {@code
   * kind} ({@code policy}, {@code output policy}, {@code release} or {@code listener}), {@code owner}
   * (the chain, or the listener's place and class), {@code name} (the step, or the type of the event the
   * listener failed on) and {@code thrown}, the class name of what was thrown. All come from the
   * configuration and from classes, never from a request, so there are few.
   */
  private record FailureKey(String kind, String owner, String name, String thrown) {}

  /** The pace key of {@code thrown}, thrown by {@code name} of {@code owner} (see {@link FailureKey}). */
  private static FailureKey paceKey(String kind, String owner, String name, Throwable thrown) {
    return new FailureKey(kind, owner, name, thrown.getClass().getName());
  }

  /**
   * Logs a policy's or listener's failure by {@code pace} ({@link LogPace#log}), by the engine's
   * clock: at ERROR (or WARN if not {@code error}) with the stack trace of {@code e} unless it is
   * null (a stack overflow's would be thousands of frames) at most once a minute per {@code key},
   * at DEBUG otherwise.
   */
  private void logFailure(
      LogPace<FailureKey> pace, boolean error, FailureKey key, Throwable e, String format, Object... args) {
    pace.log(error ? Level.ERROR : Level.WARN, key, clock.millis(), e, format, args);
  }

  /**
   * What the engine being built declares, as {@link Policy#configurationProblems} and {@link
   * OutputPolicy#configurationProblems} see it at {@link Builder#build()}: policies are built apart
   * from the engine, so a model or tier they name is checked against the engine only then. An empty
   * set means the engine declares none (models and tiers are optional: a principal's tier can come
   * from an API key record or a token claim alone), so a name cannot be checked against it.
   *
   * @param models the registered model ids ({@link Builder#models}); immutable
   * @param tiers the registered tier names ({@link Builder#tier}); immutable
   */
  public record Configuration(Set<String> models, Set<String> tiers) {
    /**
     * Copies both sets.
     *
     * @param models the registered model ids; copied
     * @param tiers the registered tier names; copied
     */
    public Configuration {
      models = Set.copyOf(models);
      tiers = Set.copyOf(tiers);
    }

    /**
     * The names among {@code names} that are not registered models, sorted; empty if the engine
     * registers no models (nothing to check against).
     *
     * @param names the model ids to check
     * @return the unknown ones, sorted; empty if all are known or no model is registered
     */
    public List<String> unknownModels(Collection<String> names) {
      return models.isEmpty() ? List.of() : names.stream().filter(n -> !models.contains(n)).sorted().toList();
    }

    /**
     * The names among {@code names} that are not registered tiers, sorted; empty if the engine
     * registers no tiers (principals' tiers then come from their credentials alone).
     *
     * @param names the tier names to check
     * @return the unknown ones, sorted; empty if all are known or no tier is registered
     */
    public List<String> unknownTiers(Collection<String> names) {
      return tiers.isEmpty() ? List.of() : names.stream().filter(n -> !tiers.contains(n)).sorted().toList();
    }
  }

  /** Builds a {@link ModelGuard}; every problem is reported at {@link #build()}. */
  public static final class Builder {
    private final Map<String, PolicyChain> chains = new LinkedHashMap<>();
    private final Map<String, Tier> tiers = new LinkedHashMap<>();
    private final Set<String> models = new LinkedHashSet<>();
    private final List<GuardListener> listeners = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();
    private Clock clock = Clock.systemUTC();
    private RandomSource random;
    private boolean auditLog = true;

    private Builder() {}

    /**
     * The clock every policy uses. Default: {@link Clock#systemUTC()}.
     *
     * @param clock the clock; not null
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The random source every policy uses. Default: {@link RandomSource#secure()}.
     *
     * @param random the random source; not null
     * @return this builder
     */
    public Builder random(RandomSource random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * Registers model ids. Tiers may only name registered models, and once any model is registered,
     * a request for a model that is not (a path's {@code {model}} naming another) is refused with
     * {@code 403 authz.model_forbidden} once the chain's AUTHORIZE policies have run (they may
     * refuse it first, as {@code ModelAccessPolicy} does), before any later policy, whatever the
     * chain.
     *
     * @param ids the model ids; an invalid id is reported by {@link #build()}
     * @return this builder
     */
    public Builder models(String... ids) {
      for (String id : ids) {
        if (!Endpoint.isValidModelId(id)) {
          errors.add("models: '" + id + "' is not a valid model id ([A-Za-z0-9][A-Za-z0-9._-]{0,63})");
        } else {
          models.add(id);
        }
      }
      return this;
    }

    /**
     * Registers a tier; its name must be unique.
     *
     * @param tier the tier; not null (a second tier of the same name is reported by {@link
     *     #build()})
     * @return this builder
     */
    public Builder tier(Tier tier) {
      Objects.requireNonNull(tier, "tier");
      if (tiers.putIfAbsent(tier.name(), tier) != null) {
        errors.add("tiers: tier '" + tier.name() + "' is registered twice");
      }
      return this;
    }

    /**
     * Registers a chain built by {@code spec}.
     *
     * @param name the chain name, 1 to 64 characters of {@code [A-Za-z0-9._-]}
     * @param spec adds the chain's policies to the builder it is given
     * @return this builder
     */
    public Builder chain(String name, Consumer<PolicyChain.Builder> spec) {
      PolicyChain.Builder b = PolicyChain.builder(name);
      spec.accept(b);
      return chain(b.build());
    }

    /**
     * Registers a chain; its name must be unique.
     *
     * @param chain the chain; not null (a second chain of the same name is reported by {@link
     *     #build()})
     * @return this builder
     */
    public Builder chain(PolicyChain chain) {
      Objects.requireNonNull(chain, "chain");
      if (chains.putIfAbsent(chain.name(), chain) != null) {
        errors.add("chains: chain '" + chain.name() + "' is registered twice");
      }
      return this;
    }

    /**
     * Adds an event listener (called synchronously, in registration order).
     *
     * @param listener the listener; not null
     * @return this builder
     */
    public Builder listener(GuardListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * Whether to log one audit line per decision through SLF4J. Default: true.
     *
     * @param enabled false to turn the audit line off (listeners still receive every event)
     * @return this builder
     */
    public Builder auditLog(boolean enabled) {
      this.auditLog = enabled;
      return this;
    }

    /**
     * Validates and builds the engine, including what each policy of each chain reports against
     * the engine's models and tiers ({@link Policy#configurationProblems}, {@link
     * OutputPolicy#configurationProblems}; a {@link Policy#forModels} scope naming an unregistered
     * model, say).
     *
     * @return the engine, immutable
     * @throws IllegalStateException listing every configuration problem, each naming its field
     */
    public ModelGuard build() {
      List<String> problems = new ArrayList<>(errors);
      if (chains.isEmpty()) {
        problems.add("chains: at least one chain is required (for example chain(\"default\", ...))");
      }
      Configuration configuration = new Configuration(models, tiers.keySet());
      for (Tier tier : tiers.values()) {
        for (String m : tier.models()) {
          if (!models.contains(m)) {
            problems.add("tiers: tier '" + tier.name() + "' names unknown model '" + m
                + "'; register it with models(...)");
          }
        }
        if (tier.grantsAllModels()) {
          // A tier of every model checks its per-model limits against no list of its own: a
          // misspelt model would leave the model meant under the default limits, silently.
          for (String m : configuration.unknownModels(tier.modelQuotaPlans().keySet())) {
            problems.add("tiers: tier '" + tier.name() + "' gives limits for unknown model '" + m
                + "'; register it with models(...) or correct the name");
          }
        }
      }
      for (PolicyChain chain : chains.values()) {
        for (PolicyChain.Step<Phase, Policy> step : chain.requestSteps()) {
          addProblems(problems, chain, step, step.policy().configurationProblems(configuration));
          if (chain.authenticatorCount() == 0 && step.policy().requiresPrincipal()) {
            addProblems(problems, chain, step, List.of("decides for authenticated requests only, but the chain "
                + "has no AUTHENTICATE policy to set a principal, so every request would pass it uncounted; add "
                + "an authenticator (and UnauthenticatedLimit for anonymous traffic)"));
          }
        }
        for (PolicyChain.Step<OutputPhase, OutputPolicy> step : chain.outputSteps()) {
          addProblems(problems, chain, step, step.policy().configurationProblems(configuration));
        }
      }
      if (!problems.isEmpty()) {
        throw new IllegalStateException("Invalid ModelGuard configuration:\n - " + String.join("\n - ", problems));
      }
      if (random == null) {
        random = RandomSource.secure();
      }
      return new ModelGuard(this);
    }

    /** Adds a policy's own problems, each prefixed with its chain and step so the message says where to look. */
    private static void addProblems(
        List<String> problems, PolicyChain chain, PolicyChain.Step<?, ?> step, List<String> found) {
      Objects.requireNonNull(found, () -> "policy '" + step.name() + "' in chain '" + chain.name()
          + "' returned null from configurationProblems");
      for (String problem : found) {
        problems.add("chains: chain '" + chain.name() + "', policy '" + step.name() + "': " + problem);
      }
    }
  }
}
