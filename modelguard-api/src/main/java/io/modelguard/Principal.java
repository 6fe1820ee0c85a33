package io.modelguard;

import io.modelguard.internal.IdentityText;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Who is calling: established in the {@link Phase#AUTHENTICATE} phase and read by every later
 * policy. Immutable.
 *
 * <p>{@link #allowedModels()} and {@link #scopes()} come from the credential (for example token
 * claims) and can only <em>narrow</em> what the principal's {@link Tier} grants, never widen it.
 *
 * <p>The subject, tenant and tier are names people read, in logs, meters, dashboards and bills, so
 * none may hold a code point that would make it display as another name or not at all ({@link
 * #isDisplaySafe(String)}): {@link Builder#build()} refuses one with an {@link
 * IllegalArgumentException}, whichever authenticator built it. The built-in authenticators check
 * first and refuse such a credential as invalid ({@code 401}); an authenticator of your own should
 * do the same with {@link #isDisplaySafe(String)}, since a policy that throws answers {@code 500}.
 * Names are compared exactly, never normalised: {@code josé} composed (NFC) and decomposed (NFD)
 * are both accepted, and are two names.
 */
public final class Principal {
  private final String subject;
  private final String tenant;
  private final String tier;
  private final Set<String> scopes;
  private final Set<String> allowedModels;
  private final CredentialKind credentialKind;
  private final Map<String, Object> claims;

  private Principal(Builder b) {
    this.subject = requireText(b.subject, "subject");
    this.tenant = b.tenant == null ? subject : requireText(b.tenant, "tenant");
    this.tier = b.tier == null ? null : requireDisplaySafe(b.tier, "tier");
    // The empty cases skip copyOf's temporary HashSet/array: an authenticator builds a principal
    // per request, usually without scopes or claims (an API key has neither).
    this.scopes = b.scopes.isEmpty() ? Set.of() : Set.copyOf(b.scopes);
    this.allowedModels = b.allowedModels == null ? null : Set.copyOf(b.allowedModels);
    this.credentialKind = Objects.requireNonNull(b.credentialKind, "credentialKind");
    this.claims = b.claims.isEmpty() ? Map.of() : Map.copyOf(b.claims);
  }

  /**
   * Starts a principal for {@code subject} (required, non-blank).
   *
   * @param subject the caller's stable identifier, not blank and {@linkplain #isDisplaySafe(String)
   *     display-safe} (checked by {@link Builder#build()})
   * @return a new builder with no tier, scopes, models or claims
   */
  public static Builder builder(String subject) {
    return new Builder(subject);
  }

  /** {@return the stable identifier of the caller (a client id, a user id)} */
  public String subject() {
    return subject;
  }

  /** {@return the tenant the caller belongs to; defaults to the subject. Quotas are kept per tenant} */
  public String tenant() {
    return tenant;
  }

  /** {@return the name of the caller's subscription tier, if it has one. Without a tier, no model is allowed} */
  public Optional<String> tier() {
    return Optional.ofNullable(tier);
  }

  /**
   * Scopes granted by the credential, for example {@code model:digits:invoke}. Empty by default.
   *
   * @return the scopes, unmodifiable; empty if none was granted
   */
  public Set<String> scopes() {
    return scopes;
  }

  /**
   * Models the credential itself restricts the caller to. Empty means the credential does not
   * narrow the tier; a present set narrows it (the intersection is allowed).
   *
   * @return the models the credential allows, unmodifiable, or empty if it does not narrow the tier
   */
  public Optional<Set<String>> allowedModels() {
    return Optional.ofNullable(allowedModels);
  }

  /** {@return how the caller authenticated} */
  public CredentialKind credentialKind() {
    return credentialKind;
  }

  /**
   * Further claims of the credential (never the credential itself).
   *
   * @return claim name to value, unmodifiable; empty if none
   */
  public Map<String, Object> claims() {
    return claims;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Principal)) {
      return false;
    }
    Principal p = (Principal) o;
    return subject.equals(p.subject)
        && tenant.equals(p.tenant)
        && Objects.equals(tier, p.tier)
        && scopes.equals(p.scopes)
        && Objects.equals(allowedModels, p.allowedModels)
        && credentialKind == p.credentialKind
        && claims.equals(p.claims);
  }

  @Override
  public int hashCode() {
    return Objects.hash(subject, tenant, tier, scopes, allowedModels, credentialKind, claims);
  }

  @Override
  public String toString() {
    return "Principal[subject=" + subject + ", tenant=" + tenant + ", tier=" + tier
        + ", credential=" + credentialKind + "]";
  }

  private static String requireText(String value, String field) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("Principal." + field + " must not be blank");
    }
    return requireDisplaySafe(value, field);
  }

  private static String requireDisplaySafe(String value, String field) {
    return IdentityText.requireDisplaySafe(value, "Principal." + field);
  }

  /**
   * Whether {@code name} may be a principal's subject, tenant or tier as far as its characters go:
   * it holds no code point of Unicode category Cc (C0 and C1 controls, DEL), Cf (format characters:
   * bidirectional controls such as U+202E, zero-width ones such as U+200B, U+200C and U+200D, the
   * soft hyphen U+00AD, tag characters), Cs (a surrogate outside a pair), Zl or Zp (U+2028 and
   * U+2029, line breaks to many log viewers), and no non-character (U+FDD0 to U+FDEF, U+FFFE,
   * U+FFFF and the last two code points of every other plane). Every sink escapes these, so they
   * never merge two names; but {@code acme} followed by U+200B displays as {@code acme}, and
   * U+202E followed by {@code emca} as {@code acme}, to whoever reads a log line, a meter or a bill.
   *
   * <p>Other text passes, letters of any script and combining marks included ({@code müller},
   * {@code 山田}, {@code josé} in NFC or NFD). A consequence of refusing every Cf character: names
   * that need a zero-width joiner or non-joiner (some Persian and Indic spellings, emoji sequences)
   * are refused too. Look-alike letters of other scripts (Cyrillic {@code а} for Latin {@code a})
   * are not detected; see {@link io.modelguard.authn.jwt.JwtAuthenticator#isReservedTenant(String)}
   * for the one prefix checked in its compatibility forms.
   *
   * @param name a subject, tenant or tier name; not null
   * @return true if it holds none of these code points
   */
  public static boolean isDisplaySafe(String name) {
    return IdentityText.firstMisleadingCodePoint(name) < 0;
  }

  /** Builds a {@link Principal}. */
  public static final class Builder {
    private final String subject;
    private String tenant;
    private String tier;
    private final Set<String> scopes = new LinkedHashSet<>();
    private Set<String> allowedModels;
    private CredentialKind credentialKind = CredentialKind.OTHER;
    private final Map<String, Object> claims = new LinkedHashMap<>();

    private Builder(String subject) {
      this.subject = subject;
    }

    /**
     * The tenant; defaults to the subject.
     *
     * @param tenant the tenant, not blank and {@linkplain #isDisplaySafe(String) display-safe}
     *     (checked by {@link #build()}); null for the subject
     * @return this builder
     */
    public Builder tenant(String tenant) {
      this.tenant = tenant;
      return this;
    }

    /**
     * The tier name; no default (a principal without a tier may invoke no model).
     *
     * @param tier the tier name, {@linkplain #isDisplaySafe(String) display-safe} (checked by
     *     {@link #build()}), or null for none
     * @return this builder
     */
    public Builder tier(String tier) {
      this.tier = tier;
      return this;
    }

    /**
     * Adds scopes granted by the credential.
     *
     * @param scopes the scopes to add to those already given; not null
     * @return this builder
     */
    public Builder scopes(Set<String> scopes) {
      this.scopes.addAll(scopes);
      return this;
    }

    /**
     * Restricts the principal to these models (intersected with the tier's).
     *
     * @param models the models the credential allows; copied, replacing an earlier set
     * @return this builder
     */
    public Builder allowedModels(Set<String> models) {
      this.allowedModels = new LinkedHashSet<>(models);
      return this;
    }

    /**
     * How the caller authenticated; defaults to {@link CredentialKind#OTHER}.
     *
     * @param kind how the credential was presented, such as {@link CredentialKind#API_KEY}; not
     *     null (checked by {@link #build()})
     * @return this builder
     */
    public Builder credentialKind(CredentialKind kind) {
      this.credentialKind = kind;
      return this;
    }

    /**
     * Adds a claim (must not be the credential itself).
     *
     * @param name the claim name; not null
     * @param value the claim value; not null
     * @return this builder
     */
    public Builder claim(String name, Object value) {
      this.claims.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /**
     * Builds the principal.
     *
     * @return the principal, immutable
     * @throws IllegalArgumentException if the subject or a given tenant is blank, or the subject,
     *     tenant or tier is not {@linkplain #isDisplaySafe(String) display-safe} (the message names
     *     the field and the code point, not the value)
     */
    public Principal build() {
      return new Principal(this);
    }
  }
}
