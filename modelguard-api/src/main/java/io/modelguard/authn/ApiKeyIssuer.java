package io.modelguard.authn;

import io.modelguard.RandomSource;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;

/**
 * Issues API keys: generates a key in {@link ApiKeyFormat}, and the record (keyed hash, owner,
 * expiry) to store. The plaintext is returned once and never kept. Thread-safe.
 */
public final class ApiKeyIssuer {
  private final ApiKeyHasher hasher;
  private final RandomSource random;
  private final Clock clock;

  /**
   * An issuer hashing with {@code hasher}, drawing from {@code random}, dating with {@code clock}.
   * Outside tests {@code random} must be {@link RandomSource#secure()}: keys drawn from {@link
   * RandomSource#seeded(long)} are as predictable as its seed.
   *
   * @param hasher hashes each new key for its record; not null
   * @param random the source of new keys; not null
   * @param clock dates each record's {@code createdAt}; not null
   */
  public ApiKeyIssuer(ApiKeyHasher hasher, RandomSource random, Clock clock) {
    this.hasher = Objects.requireNonNull(hasher, "hasher");
    this.random = Objects.requireNonNull(random, "random");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Issues a new key.
   *
   * @param env live or test
   * @param subject the client, 1 to 256 characters, not blank, {@linkplain
   *     io.modelguard.Principal#isDisplaySafe(String) display-safe}
   * @param tenant the client's tenant, 1 to 256 characters, not blank, display-safe and not
   *     reserved ({@link ApiKeyRecord})
   * @param tier the client's tier, 1 to 256 characters, not blank, display-safe
   * @param expiresAt when it expires, or null for never
   * @return the key, to hand to the client once, and its record, to store
   * @throws IllegalArgumentException if the subject, tenant or tier is refused; the message names
   *     the field
   */
  public IssuedApiKey issue(ApiKeyFormat.Environment env, String subject, String tenant, String tier, Instant expiresAt) {
    String key = ApiKeyFormat.generate(env, random);
    return new IssuedApiKey(key, register(key, subject, tenant, tier, expiresAt));
  }

  /**
   * The record for an existing key (for example one an operator supplies in configuration).
   *
   * @param key the existing key, well-formed (prefix, length, checksum)
   * @param subject the client the key authenticates as, 1 to 256 characters, not blank, {@linkplain
   *     io.modelguard.Principal#isDisplaySafe(String) display-safe}
   * @param tenant the client's tenant, 1 to 256 characters, not blank, display-safe and not
   *     reserved ({@link ApiKeyRecord})
   * @param tier the client's tier, 1 to 256 characters, not blank, display-safe
   * @param expiresAt when the key stops working, or null for never
   * @return the record to store, dated now by the issuer's clock; the key itself is not in it
   * @throws IllegalArgumentException if {@code key} is not a well-formed key (the message does not
   *     repeat the key), or the subject, tenant or tier is refused (the message names the field)
   */
  public ApiKeyRecord register(String key, String subject, String tenant, String tier, Instant expiresAt) {
    ApiKeyFormat.Parsed parsed = ApiKeyFormat.parse(key)
        .orElseThrow(() -> new IllegalArgumentException(
            "not a well-formed ModelGuard API key (mg_live_/mg_test_ prefix, "
                + ApiKeyFormat.LENGTH + " characters, valid checksum)"));
    return new ApiKeyRecord(parsed.keyId(), hasher.hash(key), subject, tenant, tier, clock.instant(), expiresAt, false);
  }
}
