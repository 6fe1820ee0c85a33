package io.modelguard.authn.jwt;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.modelguard.Principal;
import java.time.Duration;
import java.time.Instant;

/**
 * Tokens verified recently, so that a repeat call skips the signature check. Bounded (Caffeine,
 * size-evicted).
 *
 * <p><b>Keyed safely.</b> The key is the exact token string, compared in full: header, payload
 * <em>and</em> signature. Keying on less (the signature alone, or header and payload alone, or a
 * non-cryptographic hash) would let a token with a swapped payload or a garbage signature hit an
 * entry made by a valid one. A token has several spellings in jjwt's eyes (a trailing {@code =},
 * non-zero padding bits), but only strings that passed {@link TokenShape}'s canonical-spelling
 * check <em>and</em> full verification are ever stored, and a lookup matches only an identical
 * string; so a variant spelling always misses and is then refused by the shape check before
 * anything decodes it. Only the hash table's bucket index comes from a few characters at the end
 * of the signature (uniformly random in genuine tokens); it never decides a match.
 *
 * <p>Memory: the cache holds up to {@code maximumSize} token strings (one byte per character)
 * until their {@code exp}; 10,000 tokens of 1 KiB are about 10 MiB plus the principals.
 *
 * <p><b>Never extends a token's life.</b> An entry is valid from the earliest instant the token
 * would pass the time checks to its {@code exp} (without the clock-skew allowance the full check
 * grants, and no later than {@code iat + maxTokenAge}), judged on every hit by the engine's clock;
 * Caffeine's own expiry (on the system ticker) only reclaims memory. An entry also dies with the
 * key-source generation it was verified under, so a withdrawn key takes its tokens with it.
 */
final class VerifiedTokenCache {
  /** How many trailing characters feed the bucket hash. */
  private static final int HASHED_SUFFIX = 16;

  private final Cache<Key, Entry> cache;

  VerifiedTokenCache(int maximumSize) {
    this.cache = Caffeine.newBuilder()
        .maximumSize(maximumSize)
        .expireAfter(Expiry.creating((Key k, Entry v) -> v.lifetime))
        // Maintenance on the caller's thread: the default executor, ForkJoinPool.commonPool(), would
        // be woken from request threads.
        .executor(Runnable::run)
        .build();
  }

  /** The cache key of {@code token}. */
  Key key(String token) {
    return new Key(token);
  }

  /** The principal of a token verified before, if its entry is valid at {@code now} under {@code generation}. */
  Principal get(Key key, Instant now, long generation) {
    Entry e = cache.getIfPresent(key);
    if (e == null) {
      return null;
    }
    if (e.generation != generation || now.isBefore(e.validFrom) || !now.isBefore(e.expiresAt)) {
      // Only this stale entry: another thread may have stored a fresh one for the key meanwhile.
      cache.asMap().remove(key, e);
      return null;
    }
    return e.principal;
  }

  /** Remembers a verified token until {@code expiresAt}; does nothing if that is not after {@code now}. */
  void put(Key key, Principal principal, Instant validFrom, Instant expiresAt, long generation, Instant now) {
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

  /** A token as a map key: equal only to the identical string; hashed cheaply from its end. */
  static final class Key {
    private final String token;
    private final int hash;

    Key(String token) {
      this.token = token;
      int h = token.length();
      for (int i = Math.max(0, token.length() - HASHED_SUFFIX); i < token.length(); i++) {
        h = 31 * h + token.charAt(i);
      }
      this.hash = h;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key && token.equals(((Key) o).token);
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
