package io.modelguard.authn.jwt;

import java.security.Key;
import java.util.List;
import java.util.Optional;

/**
 * Keys given in configuration. A token whose {@code kid} names a configured key gets that key, or
 * none if it does not suit the token's algorithm. A token without a {@code kid} gets the one
 * configured key that suits its algorithm, if there is exactly one; a token whose {@code kid} no
 * configured key has gets the one suitable key configured without an id, if there is exactly one
 * (a key given with an id is kept to tokens naming it, as the builder promises). With several
 * candidates the token is refused rather than tried against each. Immutable.
 */
final class StaticKeySource implements JwtKeySource {
  private final List<KeyMaterial.Entry> entries;
  /** The entries configured without a {@code kid}: the only candidates for a token naming an unknown one. */
  private final List<KeyMaterial.Entry> withoutId;

  StaticKeySource(List<KeyMaterial.Entry> entries) {
    this.entries = List.copyOf(entries);
    this.withoutId = this.entries.stream().filter(e -> e.keyId() == null).toList();
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
    return onlySuitable(keyId == null ? entries : withoutId, alg);
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
