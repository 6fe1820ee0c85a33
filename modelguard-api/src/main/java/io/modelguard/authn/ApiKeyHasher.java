package io.modelguard.authn;

import io.modelguard.internal.Secrets;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Computes the keyed hash under which API keys are stored: HMAC-SHA-256 with a server-side secret
 * (the "pepper"), so a leaked key table cannot be brute-forced offline without the pepper. Keep the
 * pepper outside the key store (environment, secret manager). Thread-safe.
 */
public final class ApiKeyHasher {
  /** The minimum pepper length in bytes (256 bits, the HMAC-SHA-256 block-size sweet spot). */
  public static final int MIN_PEPPER_BYTES = 32;

  private static final String ALGORITHM = "HmacSHA256";

  private final Mac prototype;
  private final ThreadLocal<Mac> macs;

  private ApiKeyHasher(byte[] pepper) {
    try {
      prototype = Mac.getInstance(ALGORITHM);
      prototype.init(new SecretKeySpec(pepper, ALGORITHM));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable in this JVM", e);
    }
    macs = ThreadLocal.withInitial(this::copy);
  }

  /**
   * A hasher with {@code pepper}.
   *
   * @param pepper the server-side secret key of the HMAC, at least {@value #MIN_PEPPER_BYTES} bytes
   * @return a new hasher, safe to share between threads
   * @throws IllegalArgumentException if the pepper is shorter than {@value #MIN_PEPPER_BYTES} bytes
   *     or has no variety (all bytes equal)
   */
  public static ApiKeyHasher withPepper(byte[] pepper) {
    if (pepper == null || pepper.length < MIN_PEPPER_BYTES) {
      throw new IllegalArgumentException(
          "ApiKeyHasher.pepper must be at least " + MIN_PEPPER_BYTES + " bytes, was "
              + (pepper == null ? "null" : pepper.length + " bytes"));
    }
    if (Secrets.isOneRepeatedByte(pepper)) {
      throw new IllegalArgumentException("ApiKeyHasher.pepper must be random, not one repeated byte");
    }
    return new ApiKeyHasher(pepper.clone());
  }

  /**
   * {@return the keyed hash of {@code key}}
   *
   * @param key the whole key, ASCII
   */
  public byte[] hash(String key) {
    return macs.get().doFinal(key.getBytes(StandardCharsets.US_ASCII));
  }

  /**
   * {@return whether {@code key} hashes to {@code expected}, compared in constant time}
   *
   * @param key the presented key, ASCII
   * @param expected the hash stored in the key's record
   */
  public boolean matches(String key, byte[] expected) {
    return MessageDigest.isEqual(hash(key), expected);
  }

  private Mac copy() {
    try {
      return (Mac) prototype.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("HmacSHA256 Mac cannot be cloned", e);
    }
  }
}
