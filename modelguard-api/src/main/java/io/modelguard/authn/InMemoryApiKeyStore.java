package io.modelguard.authn;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/** A thread-safe {@link ApiKeyStore} in a concurrent map. Revocation takes effect at once. */
public final class InMemoryApiKeyStore implements ApiKeyStore {
  private final ConcurrentHashMap<String, ApiKeyRecord> records = new ConcurrentHashMap<>();

  /** An empty store. */
  public InMemoryApiKeyStore() {}

  /**
   * Adds a record.
   *
   * @param record the record to store; not null
   * @throws IllegalArgumentException if a record with the same key id exists
   */
  public void add(ApiKeyRecord record) {
    if (records.putIfAbsent(record.keyId(), record) != null) {
      throw new IllegalArgumentException("a key with id " + record.keyId() + " is already stored");
    }
  }

  /**
   * Revokes the key with {@code keyId}; returns whether it existed.
   *
   * @param keyId the key id of the key to revoke
   * @return true if a record with {@code keyId} was stored (and is now revoked)
   */
  public boolean revoke(String keyId) {
    return records.computeIfPresent(keyId, (id, r) -> r.revoke()) != null;
  }

  /**
   * {@return every record of {@code subject} (a client may hold several keys)}
   *
   * @param subject the client, compared exactly
   */
  public List<ApiKeyRecord> keysOf(String subject) {
    return records.values().stream().filter(r -> r.subject().equals(subject)).collect(Collectors.toList());
  }

  @Override
  public Optional<ApiKeyRecord> find(String keyId) {
    return Optional.ofNullable(records.get(keyId));
  }
}
