package io.modelguard.authn;

import java.util.Optional;

/**
 * Where API key records live: in memory ({@link InMemoryApiKeyStore}), or a database the
 * application implements. Implementations must be thread-safe and fast: {@link #find} runs on every
 * request that presents a well-formed key.
 */
@FunctionalInterface
public interface ApiKeyStore {

  /**
   * {@return the record with {@code keyId}, if any (revoked and expired records included)}
   *
   * @param keyId the key id parsed from a presented key
   */
  Optional<ApiKeyRecord> find(String keyId);
}
