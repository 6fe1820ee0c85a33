package io.modelguard.authn.jwt;

import java.security.Key;
import java.util.List;
import java.util.Optional;

/**
 * Keys given in configuration. A token whose {@code kid} names a configured key gets that key, or
 * none if it does not suit the token's algorithm; otherwise (no {@code kid}, or one no configured
 * key has) the one configured key that suits the token's
 * algorithm, if there is exactly one; with several candidates the token is refused rather than
 * tried against each. Immutable.
 */
final class StaticKeySource implements JwtKeySource {
  private final List<KeyMaterial.Entry> entries;

  StaticKeySource(List<KeyMaterial.Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  @Override
  public Optional<Key> find(String algorithm, String keyId) {
    SignatureAlgorithm alg = SignatureAlgorithm.named(algorithm);
    if (alg == null) {
      return Optional.empty();
    }
    if (keyId != null && entries.stream().anyMatch(e -> keyId.equals(e.keyId()))) {
      return byKeyId(entries, alg, keyId); // a known kid is binding, even if its key does not suit
    }
    return onlySuitable(entries, alg);
  }

  /** The key whose {@code kid} is {@code keyId} and that suits {@code alg}; empty for a null id. */
  static Optional<Key> byKeyId(List<KeyMaterial.Entry> entries, SignatureAlgorithm alg, String keyId) {
    if (keyId != null) {
      for (KeyMaterial.Entry e : entries) {
        if (keyId.equals(e.keyId()) && e.suits(alg)) {
          return Optional.of(e.key());
        }
      }
    }
    return Optional.empty();
  }

  /** The only key among {@code entries} that suits {@code alg}; empty if none or several do. */
  static Optional<Key> onlySuitable(List<KeyMaterial.Entry> entries, SignatureAlgorithm alg) {
    Key only = null;
    for (KeyMaterial.Entry e : entries) {
      if (e.suits(alg)) {
        if (only != null) {
          return Optional.empty(); // ambiguous: refuse rather than guess
        }
        only = e.key();
      }
    }
    return Optional.ofNullable(only);
  }

  /** How many keys are configured. */
  int size() {
    return entries.size();
  }
}
