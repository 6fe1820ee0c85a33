package io.modelguard.authn.jwt;

import java.security.Key;
import java.util.Optional;

/**
 * Where {@link JwtAuthenticator} finds the key that verifies a token: configured keys (built by
 * {@link JwtAuthenticator.Builder}), a {@link JwksKeySource}, or an application's own source (a
 * vault, a database).
 *
 * <p>A source sees only the token's {@code alg} and {@code kid} header values. It must never use
 * any other header parameter ({@code jku}, {@code x5u}, {@code jwk}, {@code x5c}) to find or fetch
 * a key: those are chosen by whoever wrote the token. The authenticator checks that the returned key
 * suits the algorithm (kind and strength; an RSA key of 2048 to 8192 bits with an odd public
 * exponent from 3 to below 2^256) before verifying with it, and refuses the token otherwise.
 * Implementations must be thread-safe and should not block for long: they are called on request
 * threads.
 */
public interface JwtKeySource {

  /**
   * The key that verifies a token signed with {@code algorithm} whose header names {@code keyId}.
   *
   * @param algorithm the token's {@code alg}, already checked against the authenticator's allow-list
   * @param keyId the token's {@code kid}, an opaque string; null if the token has none
   * @return the key, or empty if this source has none for the token (the token is then refused)
   */
  Optional<Key> find(String algorithm, String keyId);

  /**
   * A number that changes whenever a key this source returned before is withdrawn (for example
   * rotated out of a JWKS). The authenticator stamps each cached verification with it and stops
   * trusting cached verifications as soon as it changes. The authenticator reads it before it
   * looks a key up, so a source must change it only after {@link #find} no longer returns the
   * withdrawn key: a verification that saw the new number then cannot have used the old key. It is
   * also the only call a source sees for a token answered from the verified-token cache, so a
   * source whose keys can expire (a JWKS) must notice a withdrawal here as well, not only in {@link
   * #find}. Default: 0, for sources whose keys never change.
   *
   * @return the current generation; a new value means a key was withdrawn
   */
  default long generation() {
    return 0;
  }
}
