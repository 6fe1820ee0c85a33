package io.modelguard.authn;

import io.modelguard.CredentialKind;
import io.modelguard.GuardContext;
import io.modelguard.GuardDecision;
import io.modelguard.Policy;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Authenticates requests by API key ({@link io.modelguard.Phase#AUTHENTICATE}). Reads the key only
 * from one request header (default {@value #DEFAULT_HEADER}), never from the query string.
 *
 * <ul>
 *   <li>no header: this policy abstains (another authenticator may apply; if none does, the engine
 *       answers {@code auth.missing_credentials});
 *   <li>the key together with another credential header ({@link Builder#otherCredentialHeaders(String...)},
 *       default {@code Authorization}, any scheme): refused with {@code auth.invalid_token} and the
 *       detail "Present exactly one credential.", exactly as the bearer-token policy and the engine
 *       refuse two credentials, even if this chain has no other authenticator: the application
 *       behind the guard might act on the other credential while the guard charged the key;
 *   <li>the header repeated, a malformed key (bad prefix, length, alphabet or checksum — refused
 *       without a store lookup; only spaces and tabs around the key are ignored, as HTTP allows,
 *       never control characters), a well-formed key of an environment this policy does not
 *       accept ({@link Builder#acceptedEnvironments}; also refused without a store lookup or
 *       hashing), an unknown key id, a hash mismatch, a revoked or expired key: {@code
 *       auth.invalid_api_key}, all with the same generic detail and headers, so a refused test key
 *       cannot be told from a wrong one;
 *   <li>otherwise: the key's subject, tenant and tier as the principal.
 * </ul>
 *
 * <p>The keyed hash is computed for every well-formed key before the lookup, and compared in
 * constant time, so response timing does not tell a known key id from an unknown one. The hash
 * covers the whole key, environment tag included, so a test key whose prefix is rewritten to
 * {@code mg_live_} (checksum recomputed) does not match its record. Thread-safe.
 */
public final class ApiKeyAuthenticator implements Policy {
  /** The default header carrying the key. */
  public static final String DEFAULT_HEADER = "X-API-Key";

  private final ApiKeyStore store;
  private final ApiKeyHasher hasher;
  private final String header;
  private final List<String> otherCredentialHeaders;
  private final Set<ApiKeyFormat.Environment> acceptedEnvironments;

  private ApiKeyAuthenticator(Builder b) {
    this.store = b.store;
    this.hasher = b.hasher;
    this.header = b.header;
    this.otherCredentialHeaders = b.otherCredentialHeaders;
    this.acceptedEnvironments = b.acceptedEnvironments;
  }

  /**
   * Starts a builder over {@code store}, hashing with {@code hasher} (both required).
   *
   * @param store where the keys' records are looked up by key id; not null
   * @param hasher hashes a presented key with the pepper the records were hashed with; not null
   * @return a new builder with the defaults
   */
  public static Builder builder(ApiKeyStore store, ApiKeyHasher hasher) {
    return new Builder(store, hasher);
  }

  /**
   * True: skipped when it throws (its key store down, say), this authenticator would leave the
   * request to the chain's other authenticators, so a request carrying its credential and another
   * would pass on the other one, where the engine refuses two credentials; and an outage would read
   * to the client as {@code 401 auth.missing_credentials} rather than a server error. It fails
   * closed in whatever phase it is registered.
   */
  @Override
  public boolean mustFailClosed() {
    return true;
  }

  @Override
  public GuardDecision evaluate(GuardContext context) {
    List<String> values = context.request().headers(header);
    if (values.isEmpty()) {
      return GuardDecision.allow();
    }
    if (values.size() != 1) {
      return GuardDecision.deny(ReasonCode.AUTH_INVALID_API_KEY);
    }
    for (String other : otherCredentialHeaders) {
      if (!context.request().headers(other).isEmpty()) {
        return GuardDecision.moreThanOneCredential();
      }
    }
    String key = withoutOptionalWhitespace(values.get(0));
    Optional<ApiKeyFormat.Parsed> parsed = ApiKeyFormat.parse(key);
    if (parsed.isEmpty() || !acceptedEnvironments.contains(parsed.get().environment())) {
      // A refused environment is answered exactly as a malformed key, and before the hash and the
      // lookup: the answer cannot depend on whether the key exists, so it tells nothing about it.
      return GuardDecision.deny(ReasonCode.AUTH_INVALID_API_KEY);
    }
    byte[] candidate = hasher.hash(key);
    Optional<ApiKeyRecord> found = store.find(parsed.get().keyId());
    if (found.isEmpty()) {
      return GuardDecision.deny(ReasonCode.AUTH_INVALID_API_KEY);
    }
    ApiKeyRecord record = found.get();
    if (!record.hashEquals(candidate) || !record.isActiveAt(context.now())) {
      return GuardDecision.deny(ReasonCode.AUTH_INVALID_API_KEY);
    }
    return GuardDecision.authenticated(Principal.builder(record.subject())
        .tenant(record.tenant())
        .tier(record.tier())
        .credentialKind(CredentialKind.API_KEY)
        .build());
  }

  /**
   * {@code value} without the spaces and tabs HTTP allows around a field value (RFC 9110 section
   * 5.5). Not {@link String#trim()}: that also drops NUL and every other control character, so a
   * key with such bytes glued to it would authenticate while the application behind the guard,
   * reading the same header, sees a different value.
   */
  private static String withoutOptionalWhitespace(String value) {
    int start = 0;
    int end = value.length();
    while (start < end && isOptionalWhitespace(value.charAt(start))) {
      start++;
    }
    while (end > start && isOptionalWhitespace(value.charAt(end - 1))) {
      end--;
    }
    return value.substring(start, end);
  }

  private static boolean isOptionalWhitespace(char c) {
    return c == ' ' || c == '\t';
  }

  /** Builds an {@link ApiKeyAuthenticator}. */
  public static final class Builder {
    private final ApiKeyStore store;
    private final ApiKeyHasher hasher;
    private String header = DEFAULT_HEADER;
    private List<String> otherCredentialHeaders = List.of("Authorization");
    private Set<ApiKeyFormat.Environment> acceptedEnvironments =
        Collections.unmodifiableSet(EnumSet.allOf(ApiKeyFormat.Environment.class));

    private Builder(ApiKeyStore store, ApiKeyHasher hasher) {
      this.store = Objects.requireNonNull(store, "ApiKeyAuthenticator.store");
      this.hasher = Objects.requireNonNull(hasher, "ApiKeyAuthenticator.hasher");
    }

    /**
     * The header that carries the key. Default: {@value #DEFAULT_HEADER}. {@code Authorization} is
     * refused: it belongs to bearer tokens.
     *
     * @param name the header name, not blank, not {@code Authorization} nor one of the other
     *     credential headers; matched ignoring case
     * @return this builder
     * @throws IllegalArgumentException if {@code name} is null, blank, {@code Authorization} or one
     *     of {@link #otherCredentialHeaders}
     */
    public Builder header(String name) {
      if (name == null || name.isBlank() || name.equalsIgnoreCase("Authorization")) {
        throw new IllegalArgumentException("ApiKeyAuthenticator.header must be a non-blank header other than Authorization");
      }
      if (otherCredentialHeaders.stream().anyMatch(name::equalsIgnoreCase)) {
        throw new IllegalArgumentException("ApiKeyAuthenticator.header '" + name + "' is one of otherCredentialHeaders");
      }
      this.header = name;
      return this;
    }

    /**
     * Headers that carry another kind of credential: a request with a key and any of these is
     * refused, whatever their value. Default: {@code Authorization}. Replaces the default; call
     * with no names to turn the check off (the engine still refuses two successful
     * authentications).
     *
     * @param headers the header names, none null, blank or the key's own header; none to turn the
     *     check off
     * @return this builder
     * @throws IllegalArgumentException if a name is null, blank or the key's own header
     */
    public Builder otherCredentialHeaders(String... headers) {
      List<String> list = new ArrayList<>();
      for (String h : headers) {
        if (h == null || h.isBlank() || h.equalsIgnoreCase(header)) {
          throw new IllegalArgumentException("ApiKeyAuthenticator.otherCredentialHeaders: '" + h
              + "' must be a non-blank header other than the key's own (" + header + ")");
        }
        list.add(h);
      }
      this.otherCredentialHeaders = List.copyOf(list);
      return this;
    }

    /**
     * The environments whose keys are accepted; a well-formed key of any other environment is
     * refused with {@code auth.invalid_api_key}, the same answer as a wrong key, before any store
     * lookup or hashing. Default: every environment, {@code live} and {@code test}: the guard
     * cannot know which deployment it runs in, and test deployments authenticate with {@code
     * mg_test_} keys. Nothing is logged about the default. In production,
     * call {@code acceptedEnvironments(Environment.LIVE)} if test keys are issued into the same
     * store (a shared database, keys for integration tests), so a test key leaked from a CI log or
     * a laptop does not authenticate there.
     *
     * @param environments the accepted environments, at least one, none null
     * @return this builder
     * @throws IllegalArgumentException if no environment is named or one is null
     */
    public Builder acceptedEnvironments(ApiKeyFormat.Environment... environments) {
      if (environments == null || environments.length == 0) {
        throw new IllegalArgumentException("ApiKeyAuthenticator.acceptedEnvironments must name at least one environment");
      }
      EnumSet<ApiKeyFormat.Environment> set = EnumSet.noneOf(ApiKeyFormat.Environment.class);
      for (ApiKeyFormat.Environment env : environments) {
        if (env == null) {
          throw new IllegalArgumentException("ApiKeyAuthenticator.acceptedEnvironments must not contain null");
        }
        set.add(env);
      }
      this.acceptedEnvironments = Collections.unmodifiableSet(set);
      return this;
    }

    /**
     * Builds the policy.
     *
     * @return the authenticator, immutable
     */
    public ApiKeyAuthenticator build() {
      return new ApiKeyAuthenticator(this);
    }
  }
}
