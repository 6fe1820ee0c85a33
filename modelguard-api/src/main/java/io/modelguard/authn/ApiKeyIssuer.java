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
   * @param subject the client
   * @param tenant the client's tenant
   * @param tier the client's tier
   * @param expiresAt when it expires, or null for never
   */
  public IssuedApiKey issue(ApiKeyFormat.Environment env, String subject, String tenant, String tier, Instant expiresAt) {
    String key = ApiKeyFormat.generate(env, random);
    return new IssuedApiKey(key, register(key, subject, tenant, tier, expiresAt));
  }

  /**
   * The record for an existing key (for example one an operator supplies in configuration).
   *
   * @throws IllegalArgumentException if {@code key} is not a well-formed key (the message does not
   *     repeat the key)
   */
  public ApiKeyRecord register(String key, String subject, String tenant, String tier, Instant expiresAt) {
    ApiKeyFormat.Parsed parsed = ApiKeyFormat.parse(key)
        .orElseThrow(() -> new IllegalArgumentException(
            "not a well-formed ModelGuard API key (mg_live_/mg_test_ prefix, "
                + ApiKeyFormat.LENGTH + " characters, valid checksum)"));
    return new ApiKeyRecord(parsed.keyId(), hasher.hash(key), subject, tenant, tier, clock.instant(), expiresAt, false);
  }
}
