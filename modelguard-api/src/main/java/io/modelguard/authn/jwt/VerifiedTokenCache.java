package io.modelguard.authn.jwt;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.modelguard.Principal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;

/**
 * Tokens verified recently, so that a repeat call skips the signature check. Bounded (Caffeine,
 * size-evicted).
 *
 * <p><b>Keyed safely.</b> The key is the SHA-256 of the exact token string: header, payload
 * <em>and</em> signature. Keying on less (the signature alone, or header and payload alone) would
 * let a token with a swapped payload or a garbage signature hit an entry made by a valid one.
 * Several spellings of one token (a trailing {@code =}, non-zero padding bits) would each get
 * their own entry, but they never get that far: {@link TokenShape} refuses every non-canonical
 * spelling before the first lookup, and only tokens that passed full verification are stored.
 * Holding digests rather than tokens also keeps bearer tokens out of heap dumps.
 *
 * <p><b>Never extends a token's life.</b> An entry is valid from the earliest instant the token
 * would pass the time checks to its {@code exp} (without the clock-skew allowance the full check
 * grants, and no later than {@code iat + maxTokenAge}), judged on every hit by the engine's clock;
 * Caffeine's own expiry (on the system ticker) only reclaims memory. An entry also dies with the
 * key-source generation it was verified under, so a withdrawn key takes its tokens with it.
 */
final class VerifiedTokenCache {
  private final Cache<Digest, Entry> cache;
  private final MessageDigest prototype;

  VerifiedTokenCache(int maximumSize) {
    this.cache = Caffeine.newBuilder()
        .maximumSize(maximumSize)
        .expireAfter(Expiry.creating((Digest k, Entry v) -> v.lifetime))
        .build();
    try {
      this.prototype = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }

  /** The cache key of {@code token}, which is canonical ASCII (checked by {@link TokenShape}). */
  Digest digest(String token) {
    MessageDigest md;
    try {
      md = (MessageDigest) prototype.clone();
    } catch (CloneNotSupportedException e) {
      try {
        md = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException impossible) {
        throw new IllegalStateException(impossible);
      }
    }
    return new Digest(md.digest(token.getBytes(StandardCharsets.ISO_8859_1)));
  }

  /** The principal of a token verified before, if its entry is valid at {@code now} under {@code generation}. */
  Principal get(Digest key, Instant now, long generation) {
    Entry e = cache.getIfPresent(key);
    if (e == null) {
      return null;
    }
    if (e.generation != generation || now.isBefore(e.validFrom) || !now.isBefore(e.expiresAt)) {
      cache.invalidate(key);
      return null;
    }
    return e.principal;
  }

  /** Remembers a verified token until {@code expiresAt}; does nothing if that is not after {@code now}. */
  void put(Digest key, Principal principal, Instant validFrom, Instant expiresAt, long generation, Instant now) {
    if (!now.isBefore(expiresAt)) {
      return;
    }
    cache.put(key, new Entry(principal, validFrom, expiresAt, generation, Duration.between(now, expiresAt)));
  }

  /** Runs pending evictions now (Caffeine otherwise does them asynchronously). */
  void cleanUp() {
    cache.cleanUp();
  }

  /** The number of entries (approximate, as Caffeine reports it). */
  long size() {
    return cache.estimatedSize();
  }

  /** A SHA-256 digest as a map key. */
  static final class Digest {
    private final byte[] bytes;
    private final int hash;

    Digest(byte[] bytes) {
      this.bytes = bytes;
      // The digest is uniformly distributed: its first four bytes are as good a hash as any.
      this.hash = (bytes[0] << 24) | ((bytes[1] & 0xff) << 16) | ((bytes[2] & 0xff) << 8) | (bytes[3] & 0xff);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Digest && Arrays.equals(bytes, ((Digest) o).bytes);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  private static final class Entry {
    final Principal principal;
    final Instant validFrom;
    final Instant expiresAt;
    final long generation;
    final Duration lifetime;

    Entry(Principal principal, Instant validFrom, Instant expiresAt, long generation, Duration lifetime) {
      this.principal = principal;
      this.validFrom = validFrom;
      this.expiresAt = expiresAt;
      this.generation = generation;
      this.lifetime = lifetime;
    }
  }
}
