package io.modelguard.examples.issuer;

import io.jsonwebtoken.JwtBuilder;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.Jwks;
import io.jsonwebtoken.security.PublicJwk;
import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The demo's own token issuer, a stand-in for an identity provider so that bearer tokens can be
 * tried without one. At start-up it generates an EC P-256 key pair (ES256) that lives only in
 * memory for this run; it publishes the public half as a JWK Set ({@link #jwksJson()}, served at
 * {@value #JWKS_PATH}) and mints short-lived access tokens ({@link #mint}, served at {@value
 * #TOKEN_PATH}) for the demo tenant {@value #TENANT}:
 *
 * <pre>{@code
 * header  {"kid":"<RFC 7638 thumbprint>","typ":"JWT","alg":"ES256"}
 * payload {"iss":"http://127.0.0.1:8080","aud":"modelguard-demo","sub":"alice","tenant":"demo",
 *          "tier":"free","jti":"…","iat":…,"exp":iat+300}          (+ "models":[…] if asked for)
 * }</pre>
 *
 * <p>It mints only for tiers of this demo, and a {@code models} claim only with models of that
 * tier (the claim can narrow the tier, never widen it; ModelGuard would ignore the extra models
 * anyway). The app verifies these tokens like any IdP's: through its JWKS URL, with the JWKS
 * client, the issuer and the audience checked. Thread-safe.
 */
public final class DemoIssuer {
  /** Where the public key is served. */
  public static final String JWKS_PATH = "/.well-known/jwks.json";
  /** Where tokens are minted ({@code POST}). */
  public static final String TOKEN_PATH = "/demo/token";
  /** The audience ({@code aud}) of every demo token. */
  public static final String AUDIENCE = "modelguard-demo";
  /**
   * The tenant of every demo token; a client cannot choose another. Never one beginning {@code
   * jwt:} ({@link io.modelguard.authn.jwt.JwtAuthenticator#SUBJECT_TENANT_PREFIX}): that names the
   * tenants of tokens without a tenant claim, and the authenticator refuses a tenant claim so named.
   */
  public static final String TENANT = "demo";
  /** The signature algorithm. */
  public static final String ALGORITHM = "ES256";
  /** How long a demo token is valid. */
  public static final Duration LIFETIME = Duration.ofMinutes(5);

  private static final Pattern SUBJECT = Pattern.compile("[A-Za-z0-9._@-]{1,64}");

  private final String issuer;
  private final KeyPair keys;
  private final String keyId;
  private final String jwksJson;
  private final Map<String, Set<String>> tiers;
  private final Clock clock;

  private DemoIssuer(String issuer, KeyPair keys, Map<String, Set<String>> tiers, Clock clock) {
    this.issuer = issuer;
    this.keys = keys;
    PublicJwk<ECPublicKey> jwk = Jwks.builder().key((ECPublicKey) keys.getPublic())
        .idFromThumbprint()
        .algorithm(ALGORITHM)
        .publicKeyUse("sig")
        .build();
    this.keyId = jwk.getId();
    this.jwksJson = "{\"keys\":[" + Jwks.json(jwk) + "]}";
    Map<String, Set<String>> copy = new LinkedHashMap<>();
    tiers.forEach((name, models) -> copy.put(name, Collections.unmodifiableSet(new LinkedHashSet<>(models))));
    this.tiers = Collections.unmodifiableMap(copy);
    this.clock = clock;
  }

  /**
   * A new issuer with a fresh ES256 key pair.
   *
   * @param issuer the {@code iss} of its tokens (the demo uses its base URL)
   * @param tiers the tiers it may mint for, each with the models it grants
   * @param clock the time of {@link #mint(String, String, List)}
   */
  public static DemoIssuer generate(String issuer, Map<String, Set<String>> tiers, Clock clock) {
    Objects.requireNonNull(issuer, "issuer");
    Objects.requireNonNull(tiers, "tiers");
    Objects.requireNonNull(clock, "clock");
    return new DemoIssuer(issuer, Jwts.SIG.ES256.keyPair().build(), tiers, clock);
  }

  /** The {@code iss} of its tokens. */
  public String issuer() {
    return issuer;
  }

  /** The {@code kid} of its key: the key's RFC 7638 thumbprint. */
  public String keyId() {
    return keyId;
  }

  /** The JWK Set with the public key only, as served at {@value #JWKS_PATH}. */
  public String jwksJson() {
    return jwksJson;
  }

  /** The tiers it mints for, each with its models. */
  public Map<String, Set<String>> tiers() {
    return tiers;
  }

  /**
   * Mints a token valid from now for {@link #LIFETIME}.
   *
   * @param subject 1-64 characters of {@code A-Z a-z 0-9 . _ @ -}
   * @param tier one of {@link #tiers()}
   * @param models empty for the whole tier; otherwise distinct models of the tier, put in the
   *     {@code models} claim
   * @throws IllegalArgumentException with a client-safe message naming the field, for a request it
   *     will not mint
   */
  public String mint(String subject, String tier, List<String> models) {
    return mint(subject, tier, models, clock.instant());
  }

  /**
   * Mints a token as {@link #mint(String, String, List)} does, as if at {@code issuedAt} (valid
   * until {@code issuedAt + }{@link #LIFETIME}).
   *
   * @throws IllegalArgumentException with a client-safe message naming the field
   */
  public String mint(String subject, String tier, List<String> models, Instant issuedAt) {
    checkSubject(subject);
    Set<String> granted = checkTier(tier);
    checkModels(models, tier, granted);
    JwtBuilder b = Jwts.builder()
        .header().keyId(keyId).type("JWT").and()
        .issuer(issuer)
        .audience().add(AUDIENCE).and()
        .subject(subject)
        .claim("tenant", TENANT)
        .claim("tier", tier)
        .id(UUID.randomUUID().toString())
        .issuedAt(Date.from(issuedAt))
        .expiration(Date.from(issuedAt.plus(LIFETIME)));
    if (!models.isEmpty()) {
      b.claim("models", List.copyOf(models));
    }
    return b.signWith(keys.getPrivate(), Jwts.SIG.ES256).compact();
  }

  /**
   * Checks a requested subject.
   *
   * @throws IllegalArgumentException with a client-safe message
   */
  static void checkSubject(String subject) {
    if (subject == null || !SUBJECT.matcher(subject).matches()) {
      throw new IllegalArgumentException("Field 'subject' must be 1-64 characters of A-Z a-z 0-9 . _ @ -.");
    }
  }

  private Set<String> checkTier(String tier) {
    Set<String> granted = tier == null ? null : tiers.get(tier);
    if (granted == null) {
      throw new IllegalArgumentException("Field 'tier' must be one of: " + String.join(", ", tiers.keySet()) + ".");
    }
    return granted;
  }

  private static void checkModels(List<String> models, String tier, Set<String> granted) {
    Objects.requireNonNull(models, "models");
    if (models.isEmpty()) {
      return;
    }
    if (new LinkedHashSet<>(models).size() != models.size() || !granted.containsAll(models)) {
      throw new IllegalArgumentException("Field 'models' may list only models of tier '" + tier + "' ("
          + String.join(", ", granted) + "), each once: a token never grants more than its tier.");
    }
  }

  /** Describes the issuer; never its private key. */
  @Override
  public String toString() {
    return "DemoIssuer[iss=" + issuer + ", kid=" + keyId + ", alg=" + ALGORITHM + "]";
  }
}
