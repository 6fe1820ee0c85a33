package io.modelguard;

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
    this.tier = b.tier;
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
   * @param subject the caller's stable identifier, not blank
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
    return value;
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
     * @param tenant the tenant, not blank; null for the subject
     * @return this builder
     */
    public Builder tenant(String tenant) {
      this.tenant = tenant;
      return this;
    }

    /**
     * The tier name; no default (a principal without a tier may invoke no model).
     *
     * @param tier the tier name, or null for none
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
     * Builds the principal; fails if the subject or a given tenant is blank.
     *
     * @return the principal, immutable
     */
    public Principal build() {
      return new Principal(this);
    }
  }
}
