package io.modelguard.authn;

import io.modelguard.CredentialKind;
import io.modelguard.GuardContext;
import io.modelguard.GuardDecision;
import io.modelguard.Policy;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

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
 *       never control characters), an unknown key id, a hash mismatch, a revoked or expired key:
 *       {@code auth.invalid_api_key}, all with the same generic detail;
 *   <li>otherwise: the key's subject, tenant and tier as the principal.
 * </ul>
 *
 * <p>The keyed hash is computed for every well-formed key before the lookup, and compared in
 * constant time, so response timing does not tell a known key id from an unknown one. Thread-safe.
 */
public final class ApiKeyAuthenticator implements Policy {
  /** The default header carrying the key. */
  public static final String DEFAULT_HEADER = "X-API-Key";

  private final ApiKeyStore store;
  private final ApiKeyHasher hasher;
  private final String header;
  private final List<String> otherCredentialHeaders;

  private ApiKeyAuthenticator(Builder b) {
    this.store = b.store;
    this.hasher = b.hasher;
    this.header = b.header;
    this.otherCredentialHeaders = b.otherCredentialHeaders;
  }

  /** Starts a builder over {@code store}, hashing with {@code hasher} (both required). */
  public static Builder builder(ApiKeyStore store, ApiKeyHasher hasher) {
    return new Builder(store, hasher);
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
    if (parsed.isEmpty()) {
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

    private Builder(ApiKeyStore store, ApiKeyHasher hasher) {
      this.store = Objects.requireNonNull(store, "ApiKeyAuthenticator.store");
      this.hasher = Objects.requireNonNull(hasher, "ApiKeyAuthenticator.hasher");
    }

    /**
     * The header that carries the key. Default: {@value #DEFAULT_HEADER}. {@code Authorization} is
     * refused: it belongs to bearer tokens.
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

    /** Builds the policy. */
    public ApiKeyAuthenticator build() {
      return new ApiKeyAuthenticator(this);
    }
  }
}
