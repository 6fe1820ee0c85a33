package io.modelguard.authn.jwt;

import io.jsonwebtoken.Claims;
import io.jsonwebtoken.JwsHeader;
import io.jsonwebtoken.JwtParser;
import io.jsonwebtoken.JwtParserBuilder;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.LocatorAdapter;
import io.modelguard.GuardContext;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Policy;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.internal.IdentityText;
import io.modelguard.internal.LogText;
import io.modelguard.internal.Secrets;
import java.security.Key;
import java.security.PublicKey;
import java.text.Normalizer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates requests by a signed JWT bearer token ({@link io.modelguard.Phase#AUTHENTICATE}),
 * verified with jjwt's {@code parseSignedClaims} only, so unsecured, encrypted (JWE) and
 * content-only tokens can never pass.
 *
 * <h2>The request</h2>
 *
 * <ul>
 *   <li>The token is read only from the {@code Authorization: Bearer <token>} header (scheme
 *       case-insensitive), never from the query string or a body.
 *   <li>No {@code Authorization} header, or one with another scheme: this policy abstains (another
 *       authenticator may apply; if none does, the engine answers {@code auth.missing_credentials}).
 *   <li>Two {@code Authorization} headers, or a bearer token together with another credential
 *       header ({@link Builder#otherCredentialHeaders(String...)}, default {@value
 *       ApiKeyAuthenticator#DEFAULT_HEADER}): refused, even if this chain does not accept API keys.
 *   <li>Every other refusal: {@code auth.invalid_token} with the generic detail; the reason goes
 *       to the DEBUG log only, never to the client.
 * </ul>
 *
 * <h2>The token, in the order checked</h2>
 *
 * <ol>
 *   <li>At most {@link Builder#maxTokenLength(int) maxTokenLength} characters (default 8 KiB),
 *       checked before anything is decoded, so a 1 MiB token costs a length comparison.
 *   <li>The identical string verified before and still valid: answered from the verified-token
 *       cache (below), skipping the rest.
 *   <li>Three non-empty segments of unpadded base64url, each spelled canonically (no {@code =},
 *       no stray padding bits).
 *   <li>{@code alg} in the allow-list (default RS256, ES256, EdDSA; HS256/384/512 only through
 *       {@link Builder#hmacSecret(String, byte[])}); no {@code zip} header; {@code typ} as
 *       configured ({@link Builder#requireType(String...)}, off by default); unknown {@code crit}
 *       entries refused (jjwt), and so is a {@code crit} that is an empty list or not a list (RFC
 *       7515 section 4.1.11; checked on the token's text once the signature has been verified).
 *   <li>The key: found by {@code alg} and {@code kid} only, in the configured keys or key source.
 *       The {@code jku}, {@code x5u}, {@code jwk} and {@code x5c} header parameters are never used
 *       to find a key and never cause a fetch.
 *   <li>The signature (jjwt).
 *   <li>The header and the payload each exactly one JSON object: anything but whitespace after
 *       it (which jjwt ignores) refuses the token. Read from the verified token's text, in the same
 *       pass as the {@code crit} and time checks.
 *   <li>{@code exp} required: valid while {@code now < exp + clockSkew} (default skew 60 s);
 *       {@code nbf}, if present, {@code <= now + clockSkew}; {@code iat}, if present, {@code <= now
 *       + clockSkew}; with {@link Builder#maxTokenAge(Duration) maxTokenAge}, {@code iat} is
 *       required and {@code now <= iat + maxTokenAge + clockSkew}. "now" is the engine's clock.
 *       Each of the three, where present, must be a JSON number of seconds from 0 to 253402300799
 *       (the end of the year 9999): a string (jjwt would read an ISO-8601 date) or a larger number
 *       (which jjwt's conversion to milliseconds would wrap round to another date) refuses the token.
 *   <li>{@code iss} equal to one of {@link Builder#issuer(String...)} and {@code aud} (a string or
 *       an array) containing one of {@link Builder#audience(String...)}, each when configured.
 *   <li>The claims map to a principal (below); a mapped claim of the wrong type refuses the token
 *       (JSON {@code null} included: it is not read as an absent claim).
 * </ol>
 *
 * <h2>The principal</h2>
 *
 * <ul>
 *   <li>subject from {@code sub} (required, a non-blank string); tenant from {@code tenant}; tier
 *       from {@code tier} (default: {@link Builder#defaultTier(String)}, none unless set; without a
 *       tier no model is allowed); all claim names configurable;
 *   <li>a subject, tenant or tier (or the {@code iss} a tenant is named after, below) holding a
 *       control, format (bidirectional, zero-width), line or paragraph separator, lone surrogate
 *       or non-character code point refuses the token ({@link Principal#isDisplaySafe(String)}):
 *       such a name displays as another one, or not at all, in logs, meters and bills;
 *   <li>a token without the tenant claim is a tenant of its own, named after its issuer and
 *       subject: {@code jwt:<iss>#<sub>} ({@link #SUBJECT_TENANT_PREFIX}), with {@code %} and
 *       {@code #} in {@code <iss>} percent-encoded, or {@code jwt:#<sub>} for a token without
 *       {@code iss} (or with a blank one); an {@code iss} that is not a string of at most 256
 *       characters then refuses the token, and so does a name longer than 256 characters (the
 *       bound of a tenant claim and of an API key's tenant; so the encoded {@code iss} and {@code
 *       sub} together have at most 251). Not the bare subject: an identity provider's subject
 *       {@code acme} would share the quota and extraction history of the API-key tenant {@code
 *       acme}, or of another issuer's subject {@code acme}. API keys are never issued for a tenant
 *       with this prefix, and a token whose tenant claim begins with it is refused, so that no
 *       issuer's tenant claim can name (and share the quota of) another issuer's subject; either
 *       in any ASCII case ({@code JWT:} too) and in any compatibility form NFKC folds to it
 *       (fullwidth {@code ｊwt:}), since readers of logs and meters would take such a name for a
 *       derived tenant. ({@link Builder#tenantClaim(String) tenantClaim("sub")} makes the bare
 *       subject the tenant, where subjects are known not to collide; a subject beginning {@code
 *       jwt:}, in any case or form, is then refused.)
 *   <li>tenants are one namespace across authenticators: a tenant claim {@code acme} is the same
 *       tenant (the same quota buckets, the same extraction state) whichever authenticator accepted
 *       the token, and the same as the API-key tenant {@code acme}. {@link
 *       Builder#tenantNamespace(String) tenantNamespace("idp-a")} gives this authenticator's
 *       tenants, claimed and derived, a namespace of their own: {@code jwt:idp-a/acme}, {@code
 *       jwt:idp-a/jwt:<iss>%23<sub>}, which no API key, no tenant claim and no other authenticator's
 *       token can name.
 *   <li>scopes from {@code scope} (a space-separated string) and {@code scp} (an array or a
 *       string), united;
 *   <li>allowed models: claims narrow the tier, never widen it. The {@code models} claim (an array
 *       or a space-separated string), if present, restricts the principal to the models it names
 *       (an empty array allows none); {@code model:<id>:invoke} scopes, if any are present,
 *       restrict it to those models; with both, only models named by both remain. Neither: the
 *       tier alone decides. ({@link io.modelguard.authz.ModelAccessPolicy} then allows tier ∩
 *       these.)
 *   <li>the claims named by {@link Builder#copiedClaims(String...)} (default {@value #QUOTA_CLAIM},
 *       the per-principal quota override) are copied, deeply immutable, into {@link
 *       Principal#claims()}; this policy does not interpret them;
 *   <li>credential kind {@link io.modelguard.CredentialKind#BEARER_TOKEN}.
 * </ul>
 *
 * <h2>The verified-token cache</h2>
 *
 * A repeat of a token verified before skips the signature check. Bounded ({@link
 * Builder#verifiedTokenCacheSize(int)}, default 10,000; 0 disables), keyed on the whole token
 * string compared exactly (only canonical, fully verified tokens are stored, so another spelling of
 * a cached token never matches), and an entry is used only until the token's {@code exp} (without
 * skew; earlier with {@code maxTokenAge}) by the engine's clock: the cache never extends a token's
 * life. Entries die when the key source withdraws a key ({@link JwtKeySource#generation()}). It
 * holds the token strings in memory: about 10 MiB for 10,000 tokens of 1 KiB.
 *
 * <p>Thread-safe and immutable; build once with {@link #builder()}.
 *
 * <pre>{@code
 * JwksKeySource idp = JwksKeySource.builder(URI.create("https://idp.example/realms/ml/protocol/openid-connect/certs")).build();
 * JwtAuthenticator jwt = JwtAuthenticator.builder()
 *     .keySource(idp)
 *     .issuer("https://idp.example/realms/ml")
 *     .audience("modelguard")
 *     .build();
 * }</pre>
 */
public final class JwtAuthenticator implements Policy {
  /** The default {@link Builder#clockSkew(Duration)}: 60 seconds. */
  public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);
  /** The default {@link Builder#maxTokenLength(int)}: 8 KiB (8,192 characters). */
  public static final int DEFAULT_MAX_TOKEN_LENGTH = 8 * 1024;
  /** The default {@link Builder#allowedAlgorithms(String...)}: RS256, ES256 and EdDSA. */
  public static final Set<String> DEFAULT_ALGORITHMS = Set.of("RS256", "ES256", "EdDSA");
  /**
   * The longest {@link Builder#maxTokenAge(Duration)}: 3,650 days. Longer limits are the same as
   * none, and far longer ones cannot be added to an instant.
   */
  public static final Duration MAX_TOKEN_AGE_LIMIT = Duration.ofDays(3650);
  /** The default {@link Builder#verifiedTokenCacheSize(int)}: 10,000 tokens. */
  public static final int DEFAULT_CACHE_SIZE = 10_000;
  /**
   * The claim carrying a per-principal quota override, copied into {@link Principal#claims()} by
   * default for the quota policies. Its shape is theirs to define and validate.
   */
  public static final String QUOTA_CLAIM = "mg_quota";
  /**
   * How the tenant of a token without a tenant claim begins: {@code jwt:<iss>#<sub>} (see the class
   * comment). {@link io.modelguard.authn.ApiKeyRecord} refuses API-key tenants that begin so, and
   * a token whose tenant claim begins so is refused, so a tenant derived from a token's subject is
   * never an API key's, nor named by another token's tenant claim. Both refuse the prefix in any
   * ASCII case and compatibility form ({@link #isReservedTenant(String)}). Tenants in a {@link
   * Builder#tenantNamespace(String) tenantNamespace} begin so too.
   */
  public static final String SUBJECT_TENANT_PREFIX = "jwt:";
  /** The longest {@link Builder#tenantNamespace(String)}: 32 characters. */
  public static final int MAX_TENANT_NAMESPACE_LENGTH = 32;

  private static final Logger log = LoggerFactory.getLogger(JwtAuthenticator.class);
  /**
   * The longest parser text logged; the rest is cut. The text quotes the token's header and claims,
   * which the client wrote, so it is logged as one line ({@link LogText#oneLine}).
   */
  private static final int MAX_LOGGED = 300;
  private static final String BEARER = "Bearer";
  private static final GuardDecision INVALID = GuardDecision.deny(ReasonCode.AUTH_INVALID_TOKEN);
  /**
   * jjwt checks exp and nbf against a clock fixed when the parser is built, but the time that
   * counts is the engine's clock at each call. So jjwt's own time checks are neutralised (a clock
   * at the epoch, a skew of ~290,000 years) and {@link #checkTimes} does them all, with the
   * engine's "now".
   */
  private static final Date EPOCH = new Date(0);
  private static final long NEUTRAL_SKEW_SECONDS = Long.MAX_VALUE / 1000 / 1000;

  private final JwtParser parser;
  private final JwtKeySource keys;
  private final Set<String> algorithms;
  private final Set<String> types;
  private final Set<String> issuers;
  private final Set<String> audiences;
  private final Duration clockSkew;
  private final Duration maxTokenAge;
  private final int maxTokenLength;
  private final ClaimsMapper claims;
  /** The tier of tokens without a tier claim; null if none. */
  private final String defaultTier;
  private final VerifiedTokenCache cache;
  private final List<String> otherCredentialHeaders;

  private JwtAuthenticator(Builder b, JwtKeySource keys, Set<String> algorithms) {
    this.keys = keys;
    this.algorithms = Set.copyOf(algorithms);
    this.types = Set.copyOf(b.types);
    this.issuers = Set.copyOf(b.issuers);
    this.audiences = Set.copyOf(b.audiences);
    this.clockSkew = b.clockSkew;
    this.maxTokenAge = b.maxTokenAge;
    this.maxTokenLength = b.maxTokenLength;
    this.claims = new ClaimsMapper(b.subjectClaim, b.tenantClaim, b.tierClaim, b.defaultTier, b.modelsClaim,
        b.scopeClaims, b.copiedClaims, b.tenantNamespace);
    this.defaultTier = b.defaultTier;
    this.cache = b.cacheSize > 0 ? new VerifiedTokenCache(b.cacheSize) : null;
    this.otherCredentialHeaders = List.copyOf(b.otherCredentialHeaders);

    JwtParserBuilder pb = Jwts.parser()
        .keyLocator(new Locator())
        .clock(() -> EPOCH)
        .clockSkewSeconds(NEUTRAL_SKEW_SECONDS);
    // Only the allowed signature algorithms exist for this parser; no compression, no JWE at all.
    pb.sig().clear();
    for (String alg : this.algorithms) {
      pb.sig().add(Jwts.SIG.get().forKey(alg));
    }
    pb.zip().clear();
    pb.enc().clear();
    pb.key().clear();
    this.parser = pb.build();
  }

  /**
   * Starts a builder. A key (or key source) is required; everything else has a default.
   *
   * @return a new builder with the defaults and no key
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * True: skipped when it throws (its key source failing, say), this authenticator would leave the
   * request to the chain's other authenticators, so a request carrying its credential and another
   * would pass on the other one, where the engine refuses two credentials; and an outage would read
   * to the client as {@code 401 auth.missing_credentials} rather than a server error. It fails
   * closed in whatever phase it is registered.
   */
  @Override
  public boolean mustFailClosed() {
    return true;
  }

  /**
   * Authenticates the request's bearer token, as described in the class comment: abstains without
   * one, returns the principal for a valid one, and denies with {@code auth.invalid_token}
   * otherwise. Never throws for a bad token.
   */
  @Override
  public GuardDecision evaluate(GuardContext context) {
    List<String> values = context.request().headers("Authorization");
    if (values.isEmpty()) {
      return GuardDecision.allow();
    }
    if (values.size() != 1) {
      log.debug("JWT refused: {} Authorization headers", values.size());
      return GuardDecision.moreThanOneCredential();
    }
    String value = values.get(0);
    if (!value.regionMatches(true, 0, BEARER, 0, BEARER.length())
        || (value.length() > BEARER.length() && value.charAt(BEARER.length()) != ' ')) {
      return GuardDecision.allow(); // another scheme: not ours
    }
    for (String header : otherCredentialHeaders) {
      if (!context.request().headers(header).isEmpty()) {
        log.debug("JWT refused: the request also carries {}", header);
        return GuardDecision.moreThanOneCredential();
      }
    }
    // Bound the token before copying it out of the header: a 1 MiB header costs a comparison.
    int start = BEARER.length();
    int end = value.length();
    while (start < end && value.charAt(start) == ' ') {
      start++;
    }
    while (end > start && value.charAt(end - 1) == ' ') {
      end--;
    }
    if (end - start > maxTokenLength) {
      log.debug("JWT refused: {}", Refusal.TOO_LONG);
      return INVALID;
    }
    return authenticate(value.substring(start, end), context.now())
        .map(GuardDecision::authenticated)
        .orElse(INVALID);
  }

  /**
   * Verifies a bare token (without the {@code Bearer} prefix) at {@code now}, exactly as {@link
   * #evaluate} does for a request: for other transports (a WebSocket handshake, a message header)
   * and for benchmarks.
   *
   * @param token the compact JWS, or null (refused)
   * @param now the instant to check expiry and not-before against; not null
   * @return the principal, or empty if the token is refused for any reason (logged at DEBUG)
   */
  public Optional<Principal> authenticate(String token, Instant now) {
    Objects.requireNonNull(now, "now");
    if (token == null || token.length() > maxTokenLength) {
      log.debug("JWT refused: {}", Refusal.TOO_LONG);
      return Optional.empty();
    }
    // The shape check comes before the key source is asked anything: its generation() may wait
    // for a refresh of an expired key set, which a token refused without a key must not cost.
    if (!TokenShape.isCanonicalCompactJws(token)) {
      log.debug("JWT refused: {}", Refusal.MALFORMED);
      return Optional.empty();
    }
    JwksKeySource jwks = keys instanceof JwksKeySource j ? j : null;
    try {
      return verify(token, now, jwks == null ? keys.generation() : jwks.generationBeforeFind());
    } finally {
      if (jwks != null) {
        jwks.forgetAwaitedFetch(); // find() may not have run: a cached token, a refusal before it
      }
    }
  }

  private Optional<Principal> verify(String token, Instant now, long generation) {
    VerifiedTokenCache.Key key = null;
    if (cache != null) {
      key = cache.key(token);
      Principal cached = cache.get(key, now, generation);
      if (cached != null) {
        return Optional.of(cached);
      }
    }
    try {
      Claims c = parse(token);
      if (!CriticalHeader.isAbsentOrNonEmpty(token)) {
        throw Refusal.EMPTY_CRITICAL.exception();
      }
      NumericDates.Times times = NumericDates.read(token);
      if (times == null) {
        throw Refusal.TIME_CLAIM.exception();
      }
      Window window = checkTimes(times, now);
      checkIssuerAndAudience(c);
      Principal principal = claims.map(c, times.nulls());
      if (cache != null) {
        cache.put(key, principal, window.validFrom, window.cacheUntil, generation, now);
      }
      return Optional.of(principal);
    } catch (Refusal.RefusedToken e) {
      log.debug("JWT refused: {}", e.refusal());
      return Optional.empty();
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: a {@link Builder#defaultTier} the engine does not register (if it registers tiers),
   * which would give every token without a tier claim a tier that grants no model.
   */
  @Override
  public List<String> configurationProblems(ModelGuard.Configuration configuration) {
    if (defaultTier == null || configuration.unknownTiers(List.of(defaultTier)).isEmpty()) {
      return List.of();
    }
    return List.of("JwtAuthenticator defaultTier names unknown tier '" + defaultTier
        + "'; register it with tier(...) or correct the name");
  }

  /**
   * Whether {@code tenant} begins with {@link #SUBJECT_TENANT_PREFIX} in any ASCII case ({@code
   * jwt:}, {@code JWT:}, {@code Jwt:}...), or does once its compatibility characters are folded
   * (Unicode NFKC: fullwidth {@code ｊwt:}, {@code ＪＷＴ：}, mathematical or circled letters): a
   * name that only tenants derived from a token's {@code iss} and {@code sub}, and tenants in a
   * {@link Builder#tenantNamespace(String) tenantNamespace}, may have. Tenants are compared
   * exactly, so {@code JWT:x} or {@code ｊwt:x} never shares the quota of {@code jwt:x}; but
   * operators, log searches and metric or billing stores that fold case or width would read it as
   * that derived tenant, so no tenant claim or API key may be named so. Look-alike letters of other
   * scripts (a Cyrillic {@code ј}) are not folded by NFKC and not caught.
   *
   * @param tenant a tenant name, not null
   * @return true if the name is reserved for derived and namespaced tenants
   */
  public static boolean isReservedTenant(String tenant) {
    if (beginsWithPrefix(tenant)) {
      return true;
    }
    for (int i = 0; i < tenant.length(); i++) {
      if (tenant.charAt(i) >= 0x80) {
        // Only non-ASCII text has compatibility forms to fold (and costs the normalisation).
        return beginsWithPrefix(Normalizer.normalize(tenant, Normalizer.Form.NFKC));
      }
    }
    return false;
  }

  /** Whether {@code name} begins with {@link #SUBJECT_TENANT_PREFIX} in any ASCII case. */
  private static boolean beginsWithPrefix(String name) {
    if (name.length() < SUBJECT_TENANT_PREFIX.length()) {
      return false;
    }
    for (int i = 0; i < SUBJECT_TENANT_PREFIX.length(); i++) {
      char c = name.charAt(i);
      // ASCII only: String's own case folding also maps letters that NFKC leaves apart.
      char lower = c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
      if (lower != SUBJECT_TENANT_PREFIX.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** {@return the algorithms this authenticator accepts (the configured list plus those of HMAC secrets)} */
  public Set<String> allowedAlgorithms() {
    return algorithms;
  }

  private Claims parse(String token) {
    try {
      return parser.parseSignedClaims(token).getPayload();
    } catch (Refusal.RefusedToken e) {
      throw e;
    } catch (RuntimeException e) {
      // Parser text is for the operator's DEBUG log only; the client gets the generic detail.
      if (log.isDebugEnabled()) {
        log.debug("JWT refused: {}: {}", Refusal.INVALID, LogText.oneLine(e.toString(), MAX_LOGGED));
      }
      throw Refusal.INVALID.exception();
    }
  }

  /** The instants between which a cached verification of these claims may be reused. */
  private static final class Window {
    final Instant validFrom;
    final Instant cacheUntil;

    Window(Instant validFrom, Instant cacheUntil) {
      this.validFrom = validFrom;
      this.cacheUntil = cacheUntil;
    }
  }

  /**
   * The time checks, on the claims as the token spells them ({@link NumericDates}): jjwt's dates
   * drop a NumericDate's fraction, which made a fractional {@code nbf} or {@code iat} up to a
   * second more lenient than written.
   */
  private Window checkTimes(NumericDates.Times t, Instant now) {
    Instant exp = t.exp();
    if (exp == null) {
      throw Refusal.NO_EXPIRY.exception();
    }
    if (!now.isBefore(exp.plus(clockSkew))) {
      throw Refusal.EXPIRED.exception();
    }
    Instant validFrom = Instant.MIN;
    Instant cacheUntil = exp;
    Instant nbf = t.nbf();
    if (nbf != null) {
      Instant earliest = nbf.minus(clockSkew);
      if (now.isBefore(earliest)) {
        throw Refusal.NOT_YET_VALID.exception();
      }
      validFrom = earliest;
    }
    Instant iat = t.iat();
    if (iat != null) {
      Instant earliest = iat.minus(clockSkew);
      if (now.isBefore(earliest)) {
        throw Refusal.ISSUED_IN_FUTURE.exception();
      }
      if (earliest.isAfter(validFrom)) {
        validFrom = earliest;
      }
    }
    if (maxTokenAge != null) {
      if (iat == null) {
        throw Refusal.NO_ISSUED_AT.exception();
      }
      Instant oldest = iat.plus(maxTokenAge);
      if (now.isAfter(oldest.plus(clockSkew))) {
        throw Refusal.TOO_OLD.exception();
      }
      if (oldest.isBefore(cacheUntil)) {
        cacheUntil = oldest;
      }
    }
    return new Window(validFrom, cacheUntil);
  }

  private void checkIssuerAndAudience(Claims c) {
    if (!issuers.isEmpty() && (c.getIssuer() == null || !issuers.contains(c.getIssuer()))) {
      throw Refusal.ISSUER.exception();
    }
    if (!audiences.isEmpty()) {
      Set<String> aud = c.getAudience();
      if (aud == null || aud.stream().noneMatch(audiences::contains)) {
        throw Refusal.AUDIENCE.exception();
      }
    }
  }

  /** Normalises a {@code typ} value: media types compare case-insensitively, "application/" optional (RFC 7515 §4.1.9). */
  private static String normaliseType(String typ) {
    String t = typ.trim().toLowerCase(Locale.ROOT);
    return t.startsWith("application/") ? t.substring("application/".length()) : t;
  }

  /** Finds the verification key from {@code alg} and {@code kid} only, after the header checks. */
  private final class Locator extends LocatorAdapter<Key> {
    @Override
    protected Key locate(JwsHeader header) {
      String alg = header.getAlgorithm();
      if (alg == null || !algorithms.contains(alg)) {
        throw Refusal.ALGORITHM.exception();
      }
      if (header.getCompressionAlgorithm() != null) {
        throw Refusal.COMPRESSED.exception();
      }
      if (!types.isEmpty()) {
        String typ = header.getType();
        if (typ == null || !types.contains(normaliseType(typ))) {
          throw Refusal.TYPE.exception();
        }
      }
      // Deliberately not header.getJwkSetUrl(), getX509Url(), getJwk() or getX509Chain().
      Key key = keys.find(alg, header.getKeyId()).orElseThrow(Refusal.NO_KEY::exception);
      SignatureAlgorithm a = SignatureAlgorithm.named(alg);
      if (a == null || !a.accepts(key)) {
        throw Refusal.NO_KEY.exception();
      }
      return key;
    }
  }

  /**
   * Builds a {@link JwtAuthenticator}. Setters reject a null or out-of-range argument at once
   * ({@link IllegalArgumentException} naming the field); key problems (a weak HMAC secret, an
   * unparsable PEM, an RSA key under 2048 or over 8192 bits or with a public exponent that is even,
   * below 3, or 2^256 or more) and combinations are reported together by {@link #build()}.
   */
  public static final class Builder {
    private final List<KeyMaterial.Entry> staticKeys = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final Set<String> hmacAlgorithms = new LinkedHashSet<>();
    private JwtKeySource keySource;
    private Set<String> algorithms = DEFAULT_ALGORITHMS;
    private boolean algorithmsListed;
    private final Set<String> types = new LinkedHashSet<>();
    private final Set<String> issuers = new LinkedHashSet<>();
    private final Set<String> audiences = new LinkedHashSet<>();
    private Duration clockSkew = DEFAULT_CLOCK_SKEW;
    private Duration maxTokenAge;
    private int maxTokenLength = DEFAULT_MAX_TOKEN_LENGTH;
    private String subjectClaim = "sub";
    private String tenantClaim = "tenant";
    private String tierClaim = "tier";
    private String defaultTier;
    private String modelsClaim = "models";
    private List<String> scopeClaims = List.of("scope", "scp");
    private List<String> copiedClaims = List.of(QUOTA_CLAIM);
    private int cacheSize = DEFAULT_CACHE_SIZE;
    private List<String> otherCredentialHeaders = List.of(ApiKeyAuthenticator.DEFAULT_HEADER);
    private String tenantNamespace;

    private Builder() {}

    // ---- keys ----

    /**
     * Trusts {@code key} (RSA of 2048 to 8192 bits with an odd public exponent from 3 to below
     * 2^256, EC P-256/384/521, Ed25519/Ed448) for tokens with any or no {@code kid}.
     *
     * @param key the public key; not null
     * @return this builder
     */
    public Builder publicKey(PublicKey key) {
      return publicKey(null, key);
    }

    /**
     * Trusts {@code key} for tokens whose {@code kid} is {@code keyId} (and, if it is the only suitable key, for tokens without one).
     *
     * @param keyId the {@code kid} the key is for, or null for any
     * @param key the public key; not null
     * @return this builder
     */
    public Builder publicKey(String keyId, PublicKey key) {
      Objects.requireNonNull(key, "JwtAuthenticator.publicKey");
      addKey("publicKey", new KeyMaterial.Entry(keyId, key, null));
      return this;
    }

    /**
     * Trusts every {@code PUBLIC KEY} and {@code CERTIFICATE} block in {@code pem} (as {@link
     * #publicKey(PublicKey)} does). Problems are reported by {@link #build()}.
     *
     * @param pem PEM text holding one or more public keys or certificates; not null
     * @return this builder
     */
    public Builder publicKeyPem(String pem) {
      return publicKeyPem(null, pem);
    }

    /**
     * Trusts the single key in {@code pem} under {@code keyId}.
     *
     * @param keyId the {@code kid} the key is for, or null for any (then the PEM may hold several
     *     keys)
     * @param pem PEM text holding exactly one public key or certificate; not null
     * @return this builder
     */
    public Builder publicKeyPem(String keyId, String pem) {
      Objects.requireNonNull(pem, "JwtAuthenticator.publicKeyPem");
      try {
        List<PublicKey> parsed = KeyMaterial.parsePem(pem);
        if (keyId != null && parsed.size() != 1) {
          problems.add("publicKeyPem: a kid names one key, but the PEM holds " + parsed.size());
          return this;
        }
        for (PublicKey k : parsed) {
          addKey("publicKeyPem", new KeyMaterial.Entry(keyId, k, null));
        }
      } catch (IllegalArgumentException e) {
        problems.add("publicKeyPem: " + e.getMessage());
      }
      return this;
    }

    /**
     * Trusts one public JWK (JSON); its {@code kid} and {@code alg}, if present, are honoured.
     *
     * @param json a JWK holding a public key; not null (a malformed one is reported by {@link
     *     #build()})
     * @return this builder
     */
    public Builder jwk(String json) {
      Objects.requireNonNull(json, "JwtAuthenticator.jwk");
      try {
        staticKeys.add(KeyMaterial.parseJwk(json));
      } catch (IllegalArgumentException e) {
        problems.add("jwk: " + e.getMessage());
      }
      return this;
    }

    /**
     * Trusts every key of a JWK Set (JSON); every key in it must be a usable public key.
     *
     * @param json a JWK Set of public keys; not null (a malformed one is reported by {@link
     *     #build()})
     * @return this builder
     */
    public Builder jwkSet(String json) {
      Objects.requireNonNull(json, "JwtAuthenticator.jwkSet");
      try {
        staticKeys.addAll(KeyMaterial.parseJwkSet(json));
      } catch (IllegalArgumentException e) {
        problems.add("jwkSet: " + e.getMessage());
      }
      return this;
    }

    /**
     * Trusts an HMAC secret for {@code algorithm} (HS256, HS384 or HS512) and allows that
     * algorithm, for this secret only. The secret must have at least as many bits as the
     * algorithm's hash (32, 48 or 64 bytes), or {@link #build()} fails: a shorter secret can be
     * brute-forced from one token. It must not be one repeated byte either (an unfilled, all-zero
     * buffer; a repeated character): such a secret is known to everyone. Nor may it be a public
     * key in a format keys are published in, since anyone who has that public key could then sign
     * tokens: an X.509 public key or certificate or a PKCS#1 RSA public key, as DER or that DER in base64,
     * base64url or hex; an uncompressed EC point on P-256, P-384 or P-521; an OpenSSH public key
     * ({@code ssh-rsa AAAA...}, or its base64 body alone); a PEM block; a JWK or JWK Set. These are
     * recognised by their structure, so random bytes, and their hex or base64 spelling, are not
     * refused. For the same reason a raw Ed25519 public key (32 bytes that look random) or a
     * compressed EC point cannot be told from a random secret and is not refused: take the secret
     * from a random source, not from any key. HMAC is off unless configured here.
     *
     * @param algorithm {@code HS256}, {@code HS384} or {@code HS512}
     * @param secret the shared secret, at least 32, 48 or 64 bytes; copied
     * @return this builder
     * @throws IllegalArgumentException if {@code algorithm} is not one of the three
     */
    public Builder hmacSecret(String algorithm, byte[] secret) {
      Objects.requireNonNull(secret, "JwtAuthenticator.hmacSecret");
      SignatureAlgorithm alg = SignatureAlgorithm.named(algorithm);
      if (alg == null || !alg.isHmac()) {
        throw new IllegalArgumentException("JwtAuthenticator.hmacSecret algorithm must be HS256, HS384 or HS512, was '"
            + algorithm + "'");
      }
      if (secret.length * 8 < alg.minimumKeyBits()) {
        problems.add("hmacSecret: a " + algorithm + " secret needs at least " + alg.minimumKeyBits() / 8
            + " bytes (" + alg.minimumKeyBits() + " bits), got " + secret.length);
        return this;
      }
      if (Secrets.isOneRepeatedByte(secret)) {
        problems.add("hmacSecret: the " + algorithm + " secret is one repeated byte (an unfilled buffer?); "
            + "use random bytes, for example from SecureRandom");
        return this;
      }
      if (PublishedKeys.isPublishedKey(secret)) {
        problems.add("hmacSecret: the " + algorithm + " secret is a public key, certificate, PEM block or JWK, "
            + "which whoever has the issuer's public key could sign tokens with; use the random secret bytes");
        return this;
      }
      String jca = "Hmac" + "SHA" + algorithm.substring(2);
      staticKeys.add(new KeyMaterial.Entry(null, new SecretKeySpec(secret.clone(), jca), algorithm));
      hmacAlgorithms.add(algorithm);
      return this;
    }

    /**
     * Uses {@code source} for every key, for example a {@link JwksKeySource}. Cannot be combined
     * with configured keys. HMAC secrets it returns are never accepted (HS* is allowed only
     * through {@link #hmacSecret(String, byte[])}).
     *
     * @param source the source every key is looked up in; not null
     * @return this builder
     */
    public Builder keySource(JwtKeySource source) {
      this.keySource = Objects.requireNonNull(source, "JwtAuthenticator.keySource");
      return this;
    }

    private void addKey(String field, KeyMaterial.Entry e) {
      try {
        staticKeys.add(KeyMaterial.checkStrength(e));
      } catch (IllegalArgumentException ex) {
        problems.add(field + ": " + ex.getMessage());
      }
    }

    // ---- token rules ----

    /**
     * The asymmetric algorithms accepted. Default: {@link #DEFAULT_ALGORITHMS RS256, ES256,
     * EdDSA}. Any of RS256/384/512, PS256/384/512, ES256/384/512, EdDSA; names are exact. HS*
     * cannot be listed here: configure {@link #hmacSecret(String, byte[])} instead. {@link #build()}
     * logs, at INFO, each algorithm listed here that no configured key suits (tokens signed with it
     * are refused); the default list is not reported so, since it names every algorithm a key might
     * be given for, and an authenticator with HMAC secrets only could not silence it. Whatever the
     * list, {@link #build()} logs at WARN when no configured key suits any allowed algorithm (a P-384
     * key under the default list): the authenticator would refuse every token.
     *
     * @param names the algorithm names, at least one, each an asymmetric algorithm above
     * @return this builder
     * @throws IllegalArgumentException if no name is given, or one is unknown or an HMAC algorithm
     */
    public Builder allowedAlgorithms(String... names) {
      Set<String> set = new LinkedHashSet<>();
      for (String name : names) {
        SignatureAlgorithm alg = SignatureAlgorithm.named(name);
        if (alg == null || alg.isHmac()) {
          throw new IllegalArgumentException("JwtAuthenticator.allowedAlgorithms: '" + name + "' is not one of "
              + "RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA"
              + (alg != null ? " (HMAC is enabled only by hmacSecret(...))" : ""));
        }
        set.add(name);
      }
      if (set.isEmpty()) {
        throw new IllegalArgumentException("JwtAuthenticator.allowedAlgorithms must name at least one algorithm");
      }
      this.algorithms = set;
      this.algorithmsListed = true;
      return this;
    }

    /**
     * The accepted {@code iss} values; when set, a token must carry one of them. Default: not
     * checked. Several issuers given here are one trust domain: any key this authenticator trusts
     * may sign a token naming any of them, and the tenants their tenant claims name share one
     * namespace (the same quota buckets and extraction state). (Tokens without a tenant claim are
     * tenants named after {@code iss} and {@code sub}, but a trusted key may write any {@code
     * iss}.) For issuers that do not trust each other, build one authenticator per issuer, each with
     * its own keys and its own {@link #tenantNamespace(String)}, and pick it by the token's {@code
     * iss}: without namespaces, separate authenticators still share every tenant their claims name
     * alike.
     *
     * @param issuers the accepted issuers, at least one, none blank; added to those given before
     * @return this builder
     */
    public Builder issuer(String... issuers) {
      this.issuers.addAll(nonBlank(issuers, "issuer"));
      return this;
    }

    /**
     * The accepted audiences; when set, the token's {@code aud} (string or array) must contain one.
     * Default: not checked, with a WARN at {@link #build()}: an identity provider issues tokens for
     * several services under one issuer, and without an audience a token meant for another of them
     * passes.
     *
     * @param audiences the accepted audiences, at least one, none blank; added to those given
     *     before
     * @return this builder
     */
    public Builder audience(String... audiences) {
      this.audiences.addAll(nonBlank(audiences, "audience"));
      return this;
    }

    /**
     * Requires the header {@code typ} to be one of {@code types}, for example {@code at+jwt}
     * (RFC 9068 access tokens) so that ID tokens are refused. Compared case-insensitively, with or
     * without {@code application/}. Default: any or no {@code typ}.
     *
     * @param types the accepted types, at least one, none blank; added to those given before
     * @return this builder
     */
    public Builder requireType(String... types) {
      for (String t : nonBlank(types, "requireType")) {
        this.types.add(normaliseType(t));
      }
      return this;
    }

    /**
     * The tolerance for clock differences with the issuer. Default: 60 s; 0 to 5 min.
     *
     * @param skew the tolerance, 0 to 5 minutes
     * @return this builder
     */
    public Builder clockSkew(Duration skew) {
      if (skew == null || skew.isNegative() || skew.compareTo(Duration.ofMinutes(5)) > 0) {
        throw new IllegalArgumentException("JwtAuthenticator.clockSkew must be 0..5 minutes, was " + skew);
      }
      this.clockSkew = skew;
      return this;
    }

    /**
     * Refuses tokens issued ({@code iat}) longer ago than {@code age}, and tokens without {@code
     * iat}. Default: off; positive and at most {@link #MAX_TOKEN_AGE_LIMIT 3,650 days}.
     *
     * @param age the oldest accepted age, positive and at most 3,650 days
     * @return this builder
     */
    public Builder maxTokenAge(Duration age) {
      if (age == null || age.isNegative() || age.isZero() || age.compareTo(MAX_TOKEN_AGE_LIMIT) > 0) {
        throw new IllegalArgumentException("JwtAuthenticator.maxTokenAge must be positive and at most "
            + MAX_TOKEN_AGE_LIMIT.toDays() + " days, was " + age);
      }
      this.maxTokenAge = age;
      return this;
    }

    /**
     * The longest token accepted, in characters, checked before any decoding. Default: 8192; 256 to 65,536.
     *
     * @param length the limit in characters, 256 to 65,536
     * @return this builder
     */
    public Builder maxTokenLength(int length) {
      if (length < 256 || length > 65_536) {
        throw new IllegalArgumentException("JwtAuthenticator.maxTokenLength must be 256..65536, was " + length);
      }
      this.maxTokenLength = length;
      return this;
    }

    // ---- claims ----

    /**
     * The claim holding the subject (required in every token). Default: {@code sub}.
     *
     * @param name the claim name, not blank
     * @return this builder
     */
    public Builder subjectClaim(String name) {
      this.subjectClaim = claimName(name, "subjectClaim");
      return this;
    }

    /**
     * The claim holding the tenant. Default: {@code tenant}. A token without it is a tenant of its
     * own, {@code jwt:<iss>#<sub>} ({@link #SUBJECT_TENANT_PREFIX}), never the bare subject, which
     * could name an API key's tenant; a token without it whose derived name would be longer than
     * 256 characters is refused (401 {@code auth.invalid_token}). {@code tenantClaim("sub")} makes
     * the subject itself the tenant: only where no subject can be named like another credential's
     * tenant. Whichever claim it is, a value beginning {@link #SUBJECT_TENANT_PREFIX}, in any ASCII
     * case, refuses the token (401 {@code auth.invalid_token}): that prefix names only tenants
     * derived from {@code iss} and {@code sub}, and namespaced tenants ({@link
     * #tenantNamespace(String)}).
     *
     * @param name the claim name, not blank
     * @return this builder
     */
    public Builder tenantClaim(String name) {
      this.tenantClaim = claimName(name, "tenantClaim");
      return this;
    }

    /**
     * Puts every tenant this authenticator names in a namespace of its own: the tenant {@code t}
     * (from the tenant claim, or {@code jwt:<iss>#<sub>} without one) becomes {@code
     * jwt:<namespace>/t}, with {@code %} and {@code #} in {@code t} percent-encoded: {@code acme} in
     * namespace {@code idp-a} is {@code jwt:idp-a/acme}, and a token of {@code
     * https://idp.example/} without a tenant claim is {@code
     * jwt:idp-a/jwt:https://idp.example/%23alice}. Quotas, extraction state and events see that
     * name.
     *
     * <p>Default: none, and then a tenant claim {@code acme} is the same tenant as every other
     * authenticator's {@code acme} and as the API-key tenant {@code acme}: their quota, their
     * extraction history. Set one per authenticator for identity providers that do not trust each
     * other (or whose tenants are not the API keys'): no API key, no tenant claim (both refuse
     * names beginning {@code jwt:}) and no authenticator with another namespace or none can name a
     * namespaced tenant. Two authenticators given the same namespace share it. Changing it renames
     * every tenant (fresh quota buckets and extraction state).
     *
     * <p>1 to {@value #MAX_TENANT_NAMESPACE_LENGTH} characters of lowercase ASCII letters, digits,
     * {@code .}, {@code _} and {@code -}, beginning with a letter or digit: no {@code /}, which ends
     * it, and no upper case, which case-folding log searches and stores would merge. The name it
     * makes counts towards the 256-character bound of every tenant: with namespace {@code idp-a}
     * (10 characters with {@code jwt:} and {@code /}), a tenant claim may have 246 (each {@code %}
     * or {@code #} counting 3); a token whose namespaced tenant would be longer is refused (401
     * {@code auth.invalid_token}).
     *
     * @param namespace the namespace, of the form above
     * @return this builder
     * @throws IllegalArgumentException if {@code namespace} is null or not of that form
     */
    public Builder tenantNamespace(String namespace) {
      if (!isValidNamespace(namespace)) {
        throw new IllegalArgumentException("JwtAuthenticator.tenantNamespace must be 1 to "
            + MAX_TENANT_NAMESPACE_LENGTH + " lowercase ASCII letters, digits, '.', '_' or '-', beginning with a "
            + "letter or digit, was " + (namespace == null ? "null" : "'" + LogText.oneLine(namespace, 64) + "'"));
      }
      this.tenantNamespace = namespace;
      return this;
    }

    private static boolean isValidNamespace(String namespace) {
      if (namespace == null || namespace.isEmpty() || namespace.length() > MAX_TENANT_NAMESPACE_LENGTH) {
        return false;
      }
      for (int i = 0; i < namespace.length(); i++) {
        char c = namespace.charAt(i);
        boolean alphanumeric = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alphanumeric && (i == 0 || (c != '.' && c != '_' && c != '-'))) {
          return false;
        }
      }
      return true;
    }

    /**
     * The claim holding the tier name. Default: {@code tier}.
     *
     * @param name the claim name, not blank
     * @return this builder
     */
    public Builder tierClaim(String name) {
      this.tierClaim = claimName(name, "tierClaim");
      return this;
    }

    /**
     * The tier of tokens without a tier claim. Default: none (such tokens may invoke no model). If
     * the engine registers tiers, one it does not register is refused at the engine's {@code build()}
     * ({@link JwtAuthenticator#configurationProblems}).
     *
     * @param tier the tier name, not blank and {@linkplain Principal#isDisplaySafe(String)
     *     display-safe}
     * @return this builder
     * @throws IllegalArgumentException if {@code tier} is blank or not display-safe
     */
    public Builder defaultTier(String tier) {
      this.defaultTier = IdentityText.requireDisplaySafe(claimName(tier, "defaultTier"),
          "JwtAuthenticator.defaultTier");
      return this;
    }

    /**
     * The claim listing the models the token is restricted to. Default: {@code models}.
     *
     * @param name the claim name, not blank
     * @return this builder
     */
    public Builder modelsClaim(String name) {
      this.modelsClaim = claimName(name, "modelsClaim");
      return this;
    }

    /**
     * The claims holding scopes (space-separated strings or arrays), united. Default: {@code scope}, {@code scp}.
     *
     * @param names the claim names, at least one, none blank; they replace the default
     * @return this builder
     */
    public Builder scopeClaims(String... names) {
      this.scopeClaims = List.copyOf(nonBlank(names, "scopeClaims"));
      return this;
    }

    /**
     * Claims copied verbatim (deeply immutable) into {@link Principal#claims()} for later
     * policies. Default: {@value #QUOTA_CLAIM}. Replaces the default; call with no names to copy
     * none.
     *
     * @param names the claim names, none blank; none to copy no claim
     * @return this builder
     */
    public Builder copiedClaims(String... names) {
      List<String> list = new ArrayList<>();
      for (String n : names) {
        list.add(claimName(n, "copiedClaims"));
      }
      this.copiedClaims = List.copyOf(list);
      return this;
    }

    // ---- request and cache ----

    /**
     * Headers that carry another kind of credential: a request with a bearer token and any of
     * these is refused. Default: {@value ApiKeyAuthenticator#DEFAULT_HEADER}. Call with no names to
     * turn the check off (the engine still refuses two successful authentications).
     *
     * @param headers the header names, none blank or {@code Authorization}; none to turn the check
     *     off
     * @return this builder
     * @throws IllegalArgumentException if a name is null, blank or {@code Authorization}
     */
    public Builder otherCredentialHeaders(String... headers) {
      List<String> list = new ArrayList<>();
      for (String h : headers) {
        if (h == null || h.isBlank() || h.equalsIgnoreCase("Authorization")) {
          throw new IllegalArgumentException("JwtAuthenticator.otherCredentialHeaders: '" + h
              + "' must be a non-blank header other than Authorization");
        }
        list.add(h);
      }
      this.otherCredentialHeaders = List.copyOf(list);
      return this;
    }

    /**
     * How many verified tokens to remember. Default: 10,000; 0 disables the cache; at most 10,000,000.
     *
     * @param size the most tokens held, 0 to 10,000,000
     * @return this builder
     */
    public Builder verifiedTokenCacheSize(int size) {
      if (size < 0 || size > 10_000_000) {
        throw new IllegalArgumentException("JwtAuthenticator.verifiedTokenCacheSize must be 0..10000000, was " + size);
      }
      this.cacheSize = size;
      return this;
    }

    /**
     * Builds the authenticator.
     *
     * @return the authenticator, immutable and safe to share between threads
     * @throws IllegalStateException listing every configuration problem, each naming its field
     */
    public JwtAuthenticator build() {
      List<String> all = new ArrayList<>(problems);
      if (keySource == null && staticKeys.isEmpty() && problems.isEmpty()) {
        all.add("keys: configure publicKey/publicKeyPem/jwk/jwkSet/hmacSecret, or a keySource (for example a JwksKeySource)");
      }
      if (keySource != null && !staticKeys.isEmpty()) {
        all.add("keys: configure either keys (publicKey/publicKeyPem/jwk/jwkSet/hmacSecret) or one keySource, not both");
      }
      Set<String> effective = new LinkedHashSet<>(algorithms);
      effective.addAll(hmacAlgorithms);
      if (keySource == null && all.isEmpty() && algorithmsListed) {
        // Only a list the application chose: the default one names algorithms no key may be meant
        // for (an RSA-only or HMAC-only configuration), and HMAC secrets always suit their own.
        for (String alg : algorithms) {
          SignatureAlgorithm a = SignatureAlgorithm.named(alg);
          if (staticKeys.stream().noneMatch(e -> e.suits(a))) {
            log.info("JwtAuthenticator: no configured key suits algorithm {} named in allowedAlgorithms(...); "
                + "tokens signed with it will be refused: configure a key for it or leave it out of the list", alg);
          }
        }
      }
      if (keySource == null && all.isEmpty() && staticKeys.stream().noneMatch(
          e -> effective.stream().anyMatch(alg -> e.suits(SignatureAlgorithm.named(alg))))) {
        // Whatever the list, default or not: such an authenticator verifies no token at all.
        log.warn("JwtAuthenticator: no configured key suits any allowed algorithm ({}), so every token will be "
            + "refused: name the keys' algorithm in allowedAlgorithms(...) (ES384 for a P-384 key, say)",
            String.join(", ", effective));
      }
      if (!all.isEmpty()) {
        throw new IllegalStateException("Invalid JwtAuthenticator configuration:\n - " + String.join("\n - ", all));
      }
      if (issuers.isEmpty() && audiences.isEmpty()) {
        log.warn("JwtAuthenticator: neither issuer nor audience is configured; any unexpired token signed by a "
            + "trusted key is accepted, including tokens meant for other services");
      } else if (audiences.isEmpty()) {
        // An identity provider issues tokens for many services under one issuer: without an
        // audience, a token it minted for another of them (its audience set to that service) passes.
        log.warn("JwtAuthenticator: no audience is configured; tokens the issuer minted for other services are "
            + "accepted too: set audience(...) to this service's");
      }
      JwtKeySource source = keySource != null ? keySource : new StaticKeySource(staticKeys);
      return new JwtAuthenticator(this, source, effective);
    }

    private static List<String> nonBlank(String[] values, String field) {
      List<String> out = new ArrayList<>();
      for (String v : values) {
        if (v == null || v.isBlank()) {
          throw new IllegalArgumentException("JwtAuthenticator." + field + " values must not be blank");
        }
        out.add(v);
      }
      if (out.isEmpty()) {
        throw new IllegalArgumentException("JwtAuthenticator." + field + " needs at least one value");
      }
      return out;
    }

    private static String claimName(String name, String field) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("JwtAuthenticator." + field + " must not be blank");
      }
      return name;
    }
  }
}
