package io.modelguard.examples;

import io.modelguard.Policy;
import io.modelguard.authn.jwt.JwksKeySource;
import io.modelguard.authn.jwt.JwtAuthenticator;
import io.modelguard.authn.jwt.JwtKeySource;
import io.modelguard.examples.issuer.DemoIssuer;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.Key;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's bearer-token authentication: the {@link JwtAuthenticator}s for an external IdP and
 * for the demo issuer, as {@link JwtSettings} ask, combined into the one policy that goes into
 * {@link io.modelguard.Phase#AUTHENTICATE} next to the API-key authenticator.
 *
 * <ul>
 *   <li><b>External IdP</b>: keys from its JWKS URL ({@link JwksKeySource}: fetched in the
 *       background, so the demo starts even while the IdP is down and refuses tokens until keys
 *       arrive) or from a PEM file; its issuer and audience required; tier, tenant and default tier
 *       claims as configured, the library's defaults otherwise ({@code sub}, {@code tenant}, {@code
 *       tier}, {@code models}, {@code scope}/{@code scp}). Beside the demo issuer its tenants are
 *       in namespace {@value #EXTERNAL_TENANT_NAMESPACE} ({@code jwt:idp/<tenant>}, {@link
 *       JwtAuthenticator.Builder#tenantNamespace}): anyone who can reach the demo mints tokens of
 *       tenant {@value DemoIssuer#TENANT}, which without it would be the IdP's tenant of that name
 *       too (its quota, its extraction state).
 *   <li><b>Demo issuer</b>: a {@link DemoIssuer} whose {@code iss} is the app's base URL, verified
 *       like any IdP: through a {@link JwksKeySource} on the app's own {@value
 *       DemoIssuer#JWKS_PATH} over loopback, ES256 only, issuer and audience checked. That JWKS
 *       client can only be built once the server answers, so the authenticator starts with no keys
 *       and {@link #connectDemoIssuer} hands it the client right after start-up.
 *   <li><b>Both</b>: a token goes to the authenticator of the issuer its (unverified) {@code iss}
 *       names, which then verifies everything; see {@link IssuerRouter}.
 * </ul>
 */
final class BearerTokens {
  private static final Logger log = LoggerFactory.getLogger(BearerTokens.class);
  private static final long MAX_PEM_BYTES = 64 * 1024;
  /** The external IdP's tenant namespace while the demo issuer runs beside it. */
  static final String EXTERNAL_TENANT_NAMESPACE = "idp";

  private final Policy policy;
  private final DemoIssuer demo;
  private final DeferredKeySource demoKeys;
  private final List<String> summary;

  private BearerTokens(Policy policy, DemoIssuer demo, DeferredKeySource demoKeys, List<String> summary) {
    this.policy = policy;
    this.demo = demo;
    this.demoKeys = demoKeys;
    this.summary = List.copyOf(summary);
  }

  /**
   * Builds the authenticators for {@code settings} (already {@linkplain JwtSettings#validate
   * validated}); {@code base} is the app's base URL, the demo issuer's {@code iss}.
   *
   * @throws StartupException naming the flag or field, for an unreadable or unusable key file or
   *     JWKS URL
   */
  static BearerTokens create(JwtSettings settings, Map<String, Set<String>> tiers, URI base, Clock clock)
      throws StartupException {
    Map<String, JwtAuthenticator> byIssuer = new LinkedHashMap<>();
    List<String> summary = new ArrayList<>();
    DemoIssuer demo = null;
    DeferredKeySource demoKeys = null;
    if (settings.externalIdp()) {
      String issuer = settings.issuer().orElseThrow();
      byIssuer.put(issuer, external(settings, settings.demoIssuer()));
      summary.add("external IdP: iss " + issuer + ", aud " + settings.audience().orElseThrow() + ", keys from "
          + settings.jwksUrl().map(URI::toString).orElseGet(() -> settings.publicKeyFile().orElseThrow().toString()));
      summary.add("  claims: subject sub; tenant " + settings.tenantClaim().orElse("tenant") + " (else jwt:<iss>#<sub>); tier "
          + settings.tierClaim().orElse("tier")
          + settings.defaultTier().map(t -> " (else tier " + t + ")").orElse(" (no default: no model without it)")
          + "; 'models' and 'model:<id>:invoke' scopes narrow the tier");
      if (settings.demoIssuer()) {
        summary.add("  tenants in namespace " + EXTERNAL_TENANT_NAMESPACE + ": jwt:" + EXTERNAL_TENANT_NAMESPACE
            + "/<tenant>, never the demo issuer's '" + DemoIssuer.TENANT + "'");
      }
    }
    if (settings.demoIssuer()) {
      demo = DemoIssuer.generate(base.toString(), tiers, clock);
      if (byIssuer.containsKey(demo.issuer())) {
        throw new StartupException(settings.source(JwtSettings.Field.ISSUER).orElseThrow() + ": '" + demo.issuer()
            + "' is the demo issuer's own issuer; give the external IdP's, or --no-demo-issuer");
      }
      demoKeys = new DeferredKeySource();
      byIssuer.put(demo.issuer(), JwtAuthenticator.builder()
          .keySource(demoKeys)
          .allowedAlgorithms(DemoIssuer.ALGORITHM)
          .issuer(demo.issuer())
          .audience(DemoIssuer.AUDIENCE)
          .build());
      summary.add("demo issuer: iss " + demo.issuer() + ", aud " + DemoIssuer.AUDIENCE + ", " + DemoIssuer.ALGORITHM
          + " key " + demo.keyId() + " (new every run)");
      summary.add("  POST " + base + DemoIssuer.TOKEN_PATH + " mints " + DemoIssuer.LIFETIME.toMinutes()
          + "-minute tokens; keys at " + base + DemoIssuer.JWKS_PATH);
    }
    Policy policy;
    if (byIssuer.isEmpty()) {
      policy = null;
    } else if (byIssuer.size() == 1) {
      policy = byIssuer.values().iterator().next();
    } else {
      policy = new IssuerRouter(byIssuer);
    }
    return new BearerTokens(policy, demo, demoKeys, summary);
  }

  /**
   * The external IdP's authenticator; with {@code besideDemoIssuer}, its tenants in namespace
   * {@value #EXTERNAL_TENANT_NAMESPACE}, so that none is the demo issuer's.
   */
  private static JwtAuthenticator external(JwtSettings settings, boolean besideDemoIssuer) throws StartupException {
    JwtAuthenticator.Builder b = JwtAuthenticator.builder()
        .issuer(settings.issuer().orElseThrow())
        .audience(settings.audience().orElseThrow());
    if (besideDemoIssuer) {
      b.tenantNamespace(EXTERNAL_TENANT_NAMESPACE);
    }
    settings.tierClaim().ifPresent(b::tierClaim);
    settings.tenantClaim().ifPresent(b::tenantClaim);
    settings.defaultTier().ifPresent(b::defaultTier);
    String source = settings.keySource();
    Optional<URI> jwks = settings.jwksUrl();
    if (jwks.isPresent()) {
      try {
        b.keySource(JwksKeySource.builder(jwks.get()).build());
      } catch (IllegalStateException e) {
        throw new StartupException(source + ": " + problems(e), e);
      }
    } else {
      b.publicKeyPem(readPem(settings.publicKeyFile().orElseThrow(), source));
    }
    try {
      return b.build();
    } catch (IllegalStateException e) {
      throw new StartupException(source + ": " + problems(e).replace("publicKeyPem: ", ""), e);
    }
  }

  private static String readPem(Path file, String source) throws StartupException {
    try {
      if (Files.size(file) > MAX_PEM_BYTES) {
        throw new StartupException(source + ": " + file + " is larger than " + MAX_PEM_BYTES + " bytes");
      }
      return new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new StartupException(source + ": " + file + ": no such file", e);
    } catch (IOException e) {
      throw new StartupException(source + ": " + file + ": cannot read (" + e.getClass().getSimpleName() + ")", e);
    }
  }

  /** The library's "Invalid ... configuration:\n - a\n - b" as "a; b". */
  private static String problems(IllegalStateException e) {
    String message = String.valueOf(e.getMessage());
    int firstItem = message.indexOf("\n - ");
    String items = firstItem < 0 ? message : message.substring(firstItem + 4);
    return items.replace("\n - ", "; ").replace("\n", " ");
  }

  /** The policy for {@link io.modelguard.Phase#AUTHENTICATE}, if any bearer tokens are trusted. */
  Optional<Policy> policy() {
    return Optional.ofNullable(policy);
  }

  /** The demo issuer, if it runs. */
  Optional<DemoIssuer> demoIssuer() {
    return Optional.ofNullable(demo);
  }

  /** What is trusted, for the banner and the log: one or two lines per issuer. */
  List<String> summary() {
    return summary;
  }

  /**
   * Points the demo issuer's authenticator at the JWKS the running server now serves at {@code
   * jwksUrl}, waiting for the first fetch. {@code sameHost} allows plain http to a non-loopback
   * address: the app's own listener, so the request never leaves this machine.
   *
   * @throws IllegalStateException if the key set cannot be fetched (a bug, not a configuration
   *     problem)
   */
  void connectDemoIssuer(URI jwksUrl, boolean sameHost) {
    if (demoKeys == null) {
      return;
    }
    JwksKeySource.Builder b = JwksKeySource.builder(jwksUrl).failFast(true);
    if (sameHost && !JwtSettings.isLoopbackLiteral(jwksUrl.getHost())) {
      b.allowPlainHttp();
    }
    demoKeys.connect(b.build());
    log.info("Demo issuer: tokens are verified with the key set fetched from {}", jwksUrl);
  }

  /**
   * A key source that has no keys until {@link #connect} gives it its real source. Lets the demo
   * issuer's authenticator be built before the server that serves its JWKS is up.
   */
  static final class DeferredKeySource implements JwtKeySource {
    private volatile JwtKeySource target;

    void connect(JwtKeySource source) {
      this.target = source;
    }

    @Override
    public Optional<Key> find(String algorithm, String keyId) {
      JwtKeySource t = target;
      return t == null ? Optional.empty() : t.find(algorithm, keyId);
    }

    @Override
    public long generation() {
      JwtKeySource t = target;
      return t == null ? 0 : t.generation();
    }
  }
}
