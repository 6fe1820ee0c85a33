package io.modelguard.authn.jwt;

import io.jsonwebtoken.security.Jwks;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Base64;

/** Key pairs for tests, generated once per JVM (RSA generation is slow). */
final class TestKeys {
  static final KeyPair RSA = rsa(2048);
  static final KeyPair RSA_OTHER = rsa(2048);
  static final KeyPair RSA_ATTACKER = rsa(2048);
  static final KeyPair EC_P256 = ec("secp256r1");
  static final KeyPair EC_P384 = ec("secp384r1");
  static final KeyPair ED25519 = generate("Ed25519");

  private TestKeys() {}

  /** A random HMAC secret of {@code bytes} bytes. */
  static byte[] secret(int bytes) {
    byte[] secret = new byte[bytes];
    new java.security.SecureRandom().nextBytes(secret);
    return secret;
  }

  static KeyPair rsa(int bits) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(bits);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * An RSA public key whose modulus has exactly {@code bits} bits, without its private key (which
   * for thousands of bits would take long to generate): for tests of keys refused before use.
   */
  static RSAPublicKey rsaPublicKey(int bits) {
    return rsaPublicKey(bits, BigInteger.valueOf(65_537));
  }

  /**
   * An RSA public key whose modulus has exactly {@code bits} bits and whose public exponent is
   * {@code exponent}, without its private key: for tests of keys refused before use.
   */
  static RSAPublicKey rsaPublicKey(int bits, BigInteger exponent) {
    BigInteger modulus = BigInteger.ONE.shiftLeft(bits - 1).add(BigInteger.valueOf(0x1d));
    try {
      return (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(modulus, exponent));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * An RSA public key of an application's own class, not the JDK's: the JDK's key factory refuses
   * an exponent below 3, but a key source may return any {@link RSAPublicKey}.
   */
  static RSAPublicKey ownRsaPublicKey(BigInteger modulus, BigInteger exponent) {
    return new RSAPublicKey() {
      private static final long serialVersionUID = 1L;

      @Override
      public BigInteger getModulus() {
        return modulus;
      }

      @Override
      public BigInteger getPublicExponent() {
        return exponent;
      }

      @Override
      public String getAlgorithm() {
        return "RSA";
      }

      @Override
      public String getFormat() {
        return null;
      }

      @Override
      public byte[] getEncoded() {
        return null;
      }
    };
  }

  static KeyPair ec(String curve) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec(curve));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static KeyPair generate(String algorithm) {
    try {
      return KeyPairGenerator.getInstance(algorithm).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code key} as a PEM {@code PUBLIC KEY} block. */
  static String pem(RSAPublicKey key) {
    return "-----BEGIN PUBLIC KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
        + "\n-----END PUBLIC KEY-----\n";
  }

  /** {@code key} as a JWK with {@code kid}. */
  static String jwk(String kid, RSAPublicKey key) {
    return Jwks.json(Jwks.builder().key(key).id(kid).build());
  }
}
