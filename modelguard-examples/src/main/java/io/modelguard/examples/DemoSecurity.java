package io.modelguard.examples;

import io.modelguard.ModelGuard;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.Policy;
import io.modelguard.RandomSource;
import io.modelguard.ResponseContext;
import io.modelguard.Tier;
import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.authn.ApiKeyHasher;
import io.modelguard.authn.ApiKeyIssuer;
import io.modelguard.authn.ApiKeyRecord;
import io.modelguard.authn.InMemoryApiKeyStore;
import io.modelguard.authn.IssuedApiKey;
import io.modelguard.authz.ModelAccessPolicy;
import io.modelguard.event.GuardListener;
import io.modelguard.examples.issuer.DemoIssuer;
import io.modelguard.input.ModelInputPolicy;
import io.modelguard.input.RequestAttributes;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPolicy;
import io.modelguard.quota.QuotaStore;
import io.modelguard.quota.UnauthenticatedLimit;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the demo's {@link ModelGuard}: the tiers of the configuration (with their quota limits), an
 * in-memory API key store
 * hashed with the pepper, bearer-token authentication if any issuer is trusted ({@link
 * BearerTokens}), and two chains:
 *
 * <ul>
 *   <li>{@value ModelGuard#DEFAULT_CHAIN}: API-key and bearer-token authentication (a request
 *       presents one or the other; both at once are refused), then {@link ModelAccessPolicy}
 *       (the caller's tier must grant the model in the path), the tier's {@link QuotaPolicy}
 *       ({@link Phase#QUOTA}; each request is charged its endpoint's cost, which the gateway's
 *       endpoints have settled at {@link OutputPhase#RECORD} to nothing for a prediction they
 *       refused unserved: see {@link ModelServingApp#UNSERVED_ATTRIBUTE}), then, in {@link Phase#VALIDATE}, the
 *       {@link ModelInputPolicy} of every model (body cap, media type, JSON limits, the model's
 *       fields; image URLs fetched through the SSRF-safe fetcher), then the extraction defence
 *       ({@link DemoExtraction}: {@link Phase#DETECT} before the model, OBSERVE and PERTURB after
 *       it), then {@link TierFidelity} (tier {@code free} sees the top three probabilities) — for
 *       the predict endpoints;
 *   <li>{@value #CATALOG_CHAIN}: the same authentication only — for {@code GET /v1/models}, which
 *       names no model and lists what the caller may use.
 * </ul>
 *
 * <p>An {@link UnauthenticatedLimit} per client address runs first in both chains (one allowance
 * for both), before the authenticators: once an address has spent its failed or missing credentials, it gets 429
 * {@code quota.exceeded} without its credential being checked.
 *
 * <p>Plaintext keys exist only in the returned {@link DemoKey}s (for the start-up banner); the
 * store keeps keyed hashes and nothing here logs a key or the pepper.
 */
final class DemoSecurity {
  /** The chain of the model catalogue endpoint: authenticate, do not authorize a model. */
  static final String CATALOG_CHAIN = io.modelguard.examples.http.ModelListServlet.CHAIN;

  /** The subject and tenant of the demo's free key. */
  static final String DEMO_FREE = "demo-free";
  /** The subject and tenant of the demo's pro key (the revoked and expired keys share the tenant). */
  static final String DEMO_PRO = "demo-pro";
  /** The subject and tenant of the demo's enterprise key. */
  static final String DEMO_ENTERPRISE = "demo-enterprise";

  private static final Logger log = LoggerFactory.getLogger(DemoSecurity.class);

  private final ModelGuard guard;
  private final List<DemoKey> keys;

  private DemoSecurity(ModelGuard guard, List<DemoKey> keys) {
    this.guard = guard;
    this.keys = List.copyOf(keys);
  }

  /**
   * Builds the guard for {@code config} over {@code models}, hashing keys with {@code pepper},
   * accepting bearer tokens with {@code bearer} (if present) and validating predict requests with
   * {@code input}, and defending the models against extraction with {@code extraction}.
   *
   * @throws StartupException if the engine rejects the configuration (the message names the field)
   */
  static DemoSecurity create(DemoConfig config, Set<String> models, ModelInputPolicy input, byte[] pepper,
      Optional<Policy> bearer, Clock clock, RandomSource random, QuotaStore quotaStore,
      List<QuotaLimit> unauthenticated, DemoExtraction extraction) throws StartupException {
    return create(config, models, input, pepper, bearer, clock, random, quotaStore, unauthenticated, extraction,
        List.of(), true, false);
  }

  /**
   * As {@link #create(DemoConfig, Set, ModelInputPolicy, byte[], Optional, Clock, RandomSource,
   * QuotaStore, List, DemoExtraction)}, with {@code listeners} receiving the engine's events (in
   * order), the engine's own key=value audit log ({@code io.modelguard.audit}) on or off, and, with
   * {@code settleUnserved} (endpoints that may refuse a prediction unserved: the gateway's), each
   * prediction's quota charge settled after the answer ({@link #answeredCost}).
   *
   * @throws StartupException if the engine rejects the configuration (the message names the field)
   */
  static DemoSecurity create(DemoConfig config, Set<String> models, ModelInputPolicy input, byte[] pepper,
      Optional<Policy> bearer, Clock clock, RandomSource random, QuotaStore quotaStore,
      List<QuotaLimit> unauthenticated, DemoExtraction extraction, List<GuardListener> listeners,
      boolean engineAuditLog, boolean settleUnserved) throws StartupException {
    ApiKeyHasher hasher;
    try {
      hasher = ApiKeyHasher.withPepper(pepper);
    } catch (IllegalArgumentException e) {
      throw new StartupException("pepper: " + e.getMessage(), e);
    }
    ApiKeyIssuer issuer = new ApiKeyIssuer(hasher, random, clock);
    InMemoryApiKeyStore store = new InMemoryApiKeyStore();
    List<DemoKey> keys = config.demoKeys()
        ? issueDemoKeys(issuer, store, clock)
        : registerConfiguredKeys(config, issuer, store, clock, bearer.isPresent());

    ApiKeyAuthenticator apiKeys = ApiKeyAuthenticator.builder(store, hasher).build();
    // Settled, where endpoints may refuse a prediction unserved: a charge, not a reservation, so a
    // request the input policy or the extraction defence refuses stays charged and a flood of
    // invalid requests is still limited. Elsewhere a plain charge, with no settlement step.
    QuotaPolicy.Builder quotaBuilder = QuotaPolicy.builder(quotaStore);
    if (settleUnserved) {
      quotaBuilder.charge(context -> context.endpoint().cost(), DemoSecurity::answeredCost);
    }
    QuotaPolicy quota = quotaBuilder.build();
    UnauthenticatedLimit perAddress;
    try {
      // Each IPv6 /48 gets 16 times these limits too: a limit too large for that is refused here.
      perAddress = UnauthenticatedLimit.of(quotaStore, unauthenticated.toArray(new QuotaLimit[0]));
    } catch (IllegalArgumentException e) {
      throw new StartupException("quota.unauthenticated: " + e.getMessage(), e);
    }
    ModelGuard.Builder builder = ModelGuard.builder()
        .clock(clock)
        .random(random)
        .auditLog(engineAuditLog)
        .models(models.toArray(new String[0]))
        .chain(ModelGuard.DEFAULT_CHAIN, chain -> {
          // Before the authenticators: an address out of guesses is refused before any key is checked.
          perAddress.addTo(chain);
          chain.policy(Phase.AUTHENTICATE, "api-key", apiKeys);
          bearer.ifPresent(b -> chain.policy(Phase.AUTHENTICATE, "bearer-token", b));
          chain.policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy())
              .policy(Phase.QUOTA, "quota", quota)
              .policy(Phase.VALIDATE, "input", input);
          extraction.addTo(chain);
          TierFidelity.addTo(chain);
          if (settleUnserved) {
            chain.output(OutputPhase.RECORD, "quota-settlement", quota.settlement());
          }
        })
        .chain(CATALOG_CHAIN, chain -> {
          // The catalog authenticates too, so guesses there count against the same allowance.
          perAddress.addTo(chain);
          chain.policy(Phase.AUTHENTICATE, "api-key", apiKeys);
          bearer.ifPresent(b -> chain.policy(Phase.AUTHENTICATE, "bearer-token", b));
        });
    listeners.forEach(builder::listener);
    config.tiers().forEach((name, granted) -> {
      Tier.Builder tier = Tier.builder(name).models(granted);
      List<QuotaLimit> limits = config.tierLimits().get(name);
      if (limits != null) {
        tier.limits(limits.toArray(new QuotaLimit[0]));
      }
      builder.tier(tier.build());
    });
    try {
      return new DemoSecurity(builder.build(), keys);
    } catch (IllegalStateException | IllegalArgumentException e) {
      throw new StartupException(e.getMessage().replace("\n", " "), e);
    }
  }

  /**
   * What an answered prediction cost: nothing if its endpoint refused it unserved ({@link
   * ModelServingApp#UNSERVED_ATTRIBUTE}), else the endpoint's cost, as charged.
   */
  static long answeredCost(ResponseContext context) {
    boolean unserved = context.request() instanceof RequestAttributes attributes
        && Boolean.TRUE.equals(attributes.attribute(ModelServingApp.UNSERVED_ATTRIBUTE).orElse(null));
    return unserved ? 0 : context.endpoint().cost();
  }

  /**
   * The tenants {@code config} knows: those of its keys (or of the demo keys) and the demo issuer's.
   * Metrics tag these by name and any other tenant as {@code other}.
   */
  static Set<String> tenants(DemoConfig config) {
    Set<String> tenants = new LinkedHashSet<>();
    if (config.demoKeys()) {
      tenants.addAll(List.of(DEMO_FREE, DEMO_PRO, DEMO_ENTERPRISE));
    }
    config.keys().forEach(k -> tenants.add(k.tenant()));
    tenants.add(DemoIssuer.TENANT);
    return tenants;
  }

  /**
   * Refuses, while the demo issuer runs, a configured key of its tenant ({@value DemoIssuer#TENANT}):
   * anyone who can reach the demo mints tokens of that tenant, for any subject, so the key would
   * share its quota with every holder of a demo token, and, under the same subject, its extraction
   * history, risk level and noise.
   *
   * @param source where the keys were configured ({@code config FILE}), for the message
   * @throws StartupException naming {@code source} and the key's field
   */
  static void checkDemoIssuerTenant(DemoConfig config, boolean demoIssuer, String source) throws StartupException {
    if (!demoIssuer) {
      return;
    }
    for (DemoConfig.KeyEntry k : config.keys()) {
      if (k.tenant().equals(DemoIssuer.TENANT)) {
        throw new StartupException(source + ": " + k.field() + ".tenant: '" + DemoIssuer.TENANT + "' is the tenant of "
            + "every demo-issuer token, which anyone who can reach the demo may mint; give the key another tenant, or "
            + "turn the demo issuer off (--no-demo-issuer)");
      }
    }
  }

  private static List<DemoKey> issueDemoKeys(ApiKeyIssuer issuer, InMemoryApiKeyStore store, Clock clock) {
    List<DemoKey> keys = new ArrayList<>();
    // Quotas are per tenant and model: each active key has a tenant of its own.
    keys.add(issue(issuer, store, "free", DEMO_FREE, DEMO_FREE, "free", null, DemoKey.Status.ACTIVE));
    keys.add(issue(issuer, store, "pro", DEMO_PRO, DEMO_PRO, "pro", null, DemoKey.Status.ACTIVE));
    keys.add(issue(issuer, store, "enterprise", DEMO_ENTERPRISE, DEMO_ENTERPRISE, "enterprise", null,
        DemoKey.Status.ACTIVE));
    keys.add(issue(issuer, store, "revoked", "demo-revoked", DEMO_PRO, "pro", null, DemoKey.Status.REVOKED));
    keys.add(issue(issuer, store, "expired", "demo-expired", DEMO_PRO, "pro",
        clock.instant().minus(Duration.ofHours(1)), DemoKey.Status.EXPIRED));
    log.info("Issued {} demo API keys (free, pro, enterprise, revoked, expired); they are printed once on stdout, "
        + "never logged",
        keys.size());
    return keys;
  }

  private static DemoKey issue(ApiKeyIssuer issuer, InMemoryApiKeyStore store, String label, String subject,
      String tenant, String tier, Instant expiresAt, DemoKey.Status status) {
    IssuedApiKey issued = issuer.issue(ApiKeyFormat.Environment.TEST, subject, tenant, tier, expiresAt);
    ApiKeyRecord record = status == DemoKey.Status.REVOKED ? issued.record().revoke() : issued.record();
    store.add(record);
    return new DemoKey(label, subject, tenant, tier, Optional.of(issued.key()), status);
  }

  private static List<DemoKey> registerConfiguredKeys(
      DemoConfig config, ApiKeyIssuer issuer, InMemoryApiKeyStore store, Clock clock, boolean bearerTokens)
      throws StartupException {
    List<DemoKey> keys = new ArrayList<>();
    Instant now = clock.instant();
    for (DemoConfig.KeyEntry entry : config.keys()) {
      Instant expiresAt = entry.expiresAt().orElse(null);
      String plaintext;
      ApiKeyRecord record;
      if (entry.key().isPresent()) {
        plaintext = null;
        try {
          record = issuer.register(entry.key().get(), entry.subject(), entry.tenant(), entry.tier(), expiresAt);
        } catch (IllegalArgumentException e) {
          throw new StartupException(entry.field() + ".key: " + e.getMessage(), e);
        }
      } else {
        IssuedApiKey issued = issuer.issue(ApiKeyFormat.Environment.TEST, entry.subject(), entry.tenant(),
            entry.tier(), expiresAt);
        plaintext = issued.key();
        record = issued.record();
      }
      if (entry.revoked()) {
        record = record.revoke();
      }
      try {
        store.add(record);
      } catch (IllegalArgumentException e) {
        throw new StartupException(entry.field() + ".key: the same key id is configured twice", e);
      }
      DemoKey.Status status = entry.revoked() ? DemoKey.Status.REVOKED
          : record.isActiveAt(now) ? DemoKey.Status.ACTIVE : DemoKey.Status.EXPIRED;
      keys.add(new DemoKey(entry.subject(), entry.subject(), entry.tenant(), entry.tier(),
          Optional.ofNullable(plaintext), status));
    }
    long generated = keys.stream().filter(k -> k.key().isPresent()).count();
    log.info("Registered {} API keys from the configuration ({} generated at start-up and printed on stdout)",
        keys.size(), generated);
    if (keys.stream().noneMatch(k -> k.status() == DemoKey.Status.ACTIVE)) {
      if (bearerTokens) {
        log.info("No active API key is configured: only bearer tokens are accepted");
      } else {
        log.warn("No active API key is configured and no bearer tokens are trusted: every guarded request "
            + "will be refused");
      }
    }
    return keys;
  }

  /**
   * The pepper: from {@code --pepper-file}, else {@value AppOptions#PEPPER_ENV}, else 32 random
   * bytes for this run. Base64 (standard or URL-safe alphabet), at least {@value
   * ApiKeyHasher#MIN_PEPPER_BYTES} bytes once decoded. Never logged.
   *
   * @throws StartupException naming the flag or variable if the pepper cannot be read or is too short
   */
  static byte[] loadPepper(AppOptions options, RandomSource random) throws StartupException {
    Optional<Path> file = options.pepperFile();
    if (file.isPresent()) {
      String text;
      try {
        text = Files.readString(file.get(), StandardCharsets.US_ASCII);
      } catch (IOException e) {
        throw new StartupException("--pepper-file " + file.get() + ": cannot read ("
            + e.getClass().getSimpleName() + ")", e);
      }
      byte[] pepper = decode(text, "--pepper-file " + file.get());
      log.info("Using the API-key pepper from --pepper-file");
      return pepper;
    }
    Optional<String> env = options.pepperFromEnv();
    if (env.isPresent()) {
      byte[] pepper = decode(env.get(), AppOptions.PEPPER_ENV);
      log.info("Using the API-key pepper from ${}", AppOptions.PEPPER_ENV);
      return pepper;
    }
    byte[] pepper = new byte[ApiKeyHasher.MIN_PEPPER_BYTES];
    random.nextBytes(pepper);
    log.info("No --pepper-file or ${} given: generated a random API-key pepper for this run "
        + "(key hashes will not match after a restart)", AppOptions.PEPPER_ENV);
    return pepper;
  }

  private static byte[] decode(String text, String source) throws StartupException {
    String trimmed = text.strip();
    byte[] pepper;
    try {
      pepper = trimmed.indexOf('-') >= 0 || trimmed.indexOf('_') >= 0
          ? Base64.getUrlDecoder().decode(trimmed)
          : Base64.getDecoder().decode(trimmed);
    } catch (IllegalArgumentException e) {
      // The decoder's message quotes an offending character: leave it out.
      throw new StartupException(source + ": the pepper must be base64");
    }
    if (pepper.length < ApiKeyHasher.MIN_PEPPER_BYTES) {
      throw new StartupException(source + ": the pepper must decode to at least " + ApiKeyHasher.MIN_PEPPER_BYTES
          + " bytes, got " + pepper.length);
    }
    return pepper;
  }

  /** The engine. */
  ModelGuard guard() {
    return guard;
  }

  /** The keys to show in the start-up banner. */
  List<DemoKey> keys() {
    return keys;
  }
}
