package io.modelguard.authn;

import io.modelguard.Principal;
import io.modelguard.authn.jwt.JwtAuthenticator;
import io.modelguard.internal.IdentityText;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What the store keeps for one API key: never the key itself, only its keyed hash and whom it
 * belongs to. A client may have several records (rotation). Immutable.
 *
 * @param keyId the public lookup id embedded in the key
 * @param hash the HMAC-SHA-256 of the whole key under the server pepper; the key's environment
 *     prefix included, so the record is bound to the environment it was issued for
 * @param subject the client the key authenticates as (1 to 256 characters, as a token's subject;
 *     not blank; {@linkplain Principal#isDisplaySafe(String) display-safe}: no control, format,
 *     line or paragraph separator, lone surrogate or non-character code point)
 * @param tenant the client's tenant (1 to 256 characters, as a token's tenant claim; not blank;
 *     display-safe; not beginning with {@value JwtAuthenticator#SUBJECT_TENANT_PREFIX} in any
 *     ASCII case or compatibility form, which names the tenants of tokens without a tenant claim
 *     and namespaced tenants: {@link JwtAuthenticator#isReservedTenant(String)})
 * @param tier the client's tier (1 to 256 characters, as a token's tier claim; not blank;
 *     display-safe)
 * @param createdAt when the key was issued
 * @param expiresAt when it stops working, or null for never
 * @param revoked whether it was revoked
 */
public record ApiKeyRecord(
    String keyId, byte[] hash, String subject, String tenant, String tier,
    Instant createdAt, Instant expiresAt, boolean revoked) {
  /** The longest subject, tenant or tier a record may hold: 256 characters, as in a bearer token. */
  private static final int MAX_IDENTITY_LENGTH = 256;

  /**
   * Validates and copies.
   *
   * @param keyId the public lookup id embedded in the key; not null
   * @param hash the HMAC-SHA-256 of the whole key, 32 bytes; copied
   * @param subject the client, 1 to 256 characters, not blank, display-safe
   * @param tenant the client's tenant, 1 to 256 characters, not blank, display-safe and not reserved
   * @param tier the client's tier, 1 to 256 characters, not blank, display-safe
   * @param createdAt when the key was issued; not null
   * @param expiresAt when it stops working, or null for never
   * @param revoked whether it was revoked
   * @throws IllegalArgumentException if a field is blank, too long, not {@linkplain
   *     Principal#isDisplaySafe(String) display-safe} or reserved, or {@code hash} is not 32 bytes;
   *     the message names the field (and the code point refused), never its value
   */
  public ApiKeyRecord {
    Objects.requireNonNull(keyId, "keyId");
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(tier, "tier");
    Objects.requireNonNull(createdAt, "createdAt");
    // The principal needs a non-blank subject and tenant: a blank one would fail every request with
    // this key (and a blank tier names no tier). The bound is a token's (ClaimsMapper): the keys
    // that count and remember a client (quota, extraction defence) and its audit lines stay short.
    // Display-safe, as the principal requires: a name that shows as another in logs and bills is
    // refused when the key is issued, not on every request it makes.
    requireIdentity(subject, "subject");
    requireIdentity(tenant, "tenant");
    requireIdentity(tier, "tier");
    if (JwtAuthenticator.isReservedTenant(tenant)) {
      // Reserved for the tenants of tokens without a tenant claim and for namespaced tenants, so
      // that no API key shares the quota and extraction history of an identity provider's subject
      // or namespaced tenant (or, in another case, is read as one in logs and meters).
      throw new IllegalArgumentException("ApiKeyRecord.tenant must not begin with '"
          + JwtAuthenticator.SUBJECT_TENANT_PREFIX + "' in any case or compatibility form (reserved for tenants of "
          + "bearer tokens without a tenant claim, and namespaced ones)");
    }
    if (hash == null || hash.length != 32) {
      throw new IllegalArgumentException("ApiKeyRecord.hash must be 32 bytes (HMAC-SHA-256)");
    }
    hash = hash.clone();
  }

  private static void requireIdentity(String value, String field) {
    if (value.isBlank()) {
      throw new IllegalArgumentException("ApiKeyRecord." + field + " must not be blank");
    }
    if (value.length() > MAX_IDENTITY_LENGTH) {
      throw new IllegalArgumentException("ApiKeyRecord." + field + " must be 1-" + MAX_IDENTITY_LENGTH
          + " characters, was " + value.length());
    }
    IdentityText.requireDisplaySafe(value, "ApiKeyRecord." + field);
  }

  /** {@return a copy of the hash} */
  @Override
  public byte[] hash() {
    return hash.clone();
  }

  /** {@return the expiry, if any} */
  public Optional<Instant> expiry() {
    return Optional.ofNullable(expiresAt);
  }

  /**
   * {@return whether the key is usable at {@code now}: not revoked and not expired}
   *
   * @param now the instant to check at; the key is expired from {@code expiresAt} on
   */
  public boolean isActiveAt(Instant now) {
    return !revoked && (expiresAt == null || now.isBefore(expiresAt));
  }

  /** {@return a revoked copy} */
  public ApiKeyRecord revoke() {
    return new ApiKeyRecord(keyId, hash, subject, tenant, tier, createdAt, expiresAt, true);
  }

  boolean hashEquals(byte[] candidate) {
    return java.security.MessageDigest.isEqual(hash, candidate);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ApiKeyRecord
        && keyId.equals(((ApiKeyRecord) o).keyId)
        && java.util.Arrays.equals(hash, ((ApiKeyRecord) o).hash)
        && subject.equals(((ApiKeyRecord) o).subject)
        && tenant.equals(((ApiKeyRecord) o).tenant)
        && tier.equals(((ApiKeyRecord) o).tier)
        && createdAt.equals(((ApiKeyRecord) o).createdAt)
        && Objects.equals(expiresAt, ((ApiKeyRecord) o).expiresAt)
        && revoked == ((ApiKeyRecord) o).revoked;
  }

  @Override
  public int hashCode() {
    return Objects.hash(keyId, subject, tenant, tier, createdAt, expiresAt, revoked);
  }

  /** Names the key by id and owner; never prints the hash. */
  @Override
  public String toString() {
    return "ApiKeyRecord[keyId=" + keyId + ", subject=" + subject + ", tenant=" + tenant
        + ", tier=" + tier + ", expiresAt=" + expiresAt + ", revoked=" + revoked + "]";
  }
}
