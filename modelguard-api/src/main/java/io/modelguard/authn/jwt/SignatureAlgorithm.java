package io.modelguard.authn.jwt;

import java.math.BigInteger;
import java.security.Key;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.crypto.SecretKey;

/**
 * The JWS algorithms this package can accept, with the kind and minimum strength of key each one
 * needs. Names are matched exactly, as RFC 7515 requires: {@code none}, {@code None} and every
 * other unknown name are simply absent from this table.
 */
enum SignatureAlgorithm {
  RS256(Family.RSA, 2048),
  RS384(Family.RSA, 2048),
  RS512(Family.RSA, 2048),
  PS256(Family.RSA, 2048),
  PS384(Family.RSA, 2048),
  PS512(Family.RSA, 2048),
  ES256(Family.EC, 256),
  ES384(Family.EC, 384),
  ES512(Family.EC, 521),
  EdDSA(Family.OKP, 0),
  HS256(Family.HMAC, 256),
  HS384(Family.HMAC, 384),
  HS512(Family.HMAC, 512);

  /** What kind of key an algorithm verifies with. */
  enum Family {
    RSA,
    EC,
    OKP,
    HMAC
  }

  /**
   * The largest RSA modulus accepted, in bits. The cost of a verification grows with about the
   * square of the modulus, so a 16,384-bit key (the JDK's limit) in a key set would make every
   * token it signs many times dearer to check than a usual 2,048-bit one. No issuer needs more.
   */
  static final int MAX_RSA_BITS = 8192;

  /**
   * The longest RSA public exponent accepted, in bits: {@code e < 2^256}, the upper bound of NIST
   * FIPS 186-5 (appendix A.1.1) and SP 800-56B. A verification costs about one modular
   * multiplication per bit of {@code e}: 17 for the usual 65537, but the JDK accepts an exponent
   * as long as the modulus (up to 3072 bits), which would make every verification cost as much as
   * a private-key operation. Small exponents such as 3 are not refused: they are valid RSA (RFC
   * 8017), cheap to verify, and their known weakness lies in signature checks that do not compare
   * the whole padding, which the JDK's does. See also {@link #isRsaPublicExponent}.
   */
  static final int MAX_RSA_EXPONENT_BITS = 256;

  private static final BigInteger THREE = BigInteger.valueOf(3);

  private static final Map<String, SignatureAlgorithm> BY_NAME =
      Stream.of(values()).collect(Collectors.toUnmodifiableMap(Enum::name, Function.identity()));

  private final Family family;
  private final int bits;

  SignatureAlgorithm(Family family, int bits) {
    this.family = family;
    this.bits = bits;
  }

  /**
   * Whether {@code e} can be the public exponent of an RSA key: odd and at least 3 (and, to bound
   * the cost of a verification, below 2^256). No RSA key has an even exponent ({@code e} must be
   * coprime to the even {@code lambda(n)}), and with {@code e = 1} a "signature" is the padded
   * message itself, which anyone can write. The JDK's own provider refuses {@code e < 3} but
   * accepts an even exponent; an application's own {@code RSAPublicKey}, or another provider, may
   * accept either. FIPS 186-5 asks a key generator for {@code e > 2^16}, but verification keys
   * with {@code e = 3} exist and are sound, so every odd {@code e >= 3} passes.
   */
  static boolean isRsaPublicExponent(BigInteger e) {
    return e.testBit(0) && e.compareTo(THREE) >= 0 && e.bitLength() <= MAX_RSA_EXPONENT_BITS;
  }

  /** The algorithm with exactly this JWS name, or null. */
  static SignatureAlgorithm named(String name) {
    return name == null ? null : BY_NAME.get(name);
  }

  Family family() {
    return family;
  }

  boolean isHmac() {
    return family == Family.HMAC;
  }

  /** The minimum key size: RSA modulus bits, EC curve field bits, HMAC secret bits; 0 for EdDSA. */
  int minimumKeyBits() {
    return bits;
  }

  /**
   * Whether {@code key} is the right kind of key, of sufficient strength, for this algorithm (and,
   * for RSA, of at most {@link #MAX_RSA_BITS}, with an odd public exponent of at least 3 and at
   * most {@link #MAX_RSA_EXPONENT_BITS} bits: {@link #isRsaPublicExponent}).
   */
  boolean accepts(Key key) {
    switch (family) {
      case RSA:
        return key instanceof RSAPublicKey rsa && rsa.getModulus().bitLength() >= bits
            && rsa.getModulus().bitLength() <= MAX_RSA_BITS
            && isRsaPublicExponent(rsa.getPublicExponent());
      case EC:
        return key instanceof ECPublicKey
            && ((ECPublicKey) key).getParams().getCurve().getField().getFieldSize() == bits;
      case OKP:
        // Signature keys only: Ed25519/Ed448. X25519/X448 ("XDH") keys are for key agreement.
        return key instanceof PublicKey
            && ("EdDSA".equals(key.getAlgorithm()) || "Ed25519".equals(key.getAlgorithm())
                || "Ed448".equals(key.getAlgorithm()));
      case HMAC:
        if (!(key instanceof SecretKey)) {
          return false;
        }
        byte[] encoded = key.getEncoded();
        return encoded != null && encoded.length * 8 >= bits;
      default:
        return false;
    }
  }
}
