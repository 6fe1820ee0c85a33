package io.modelguard.authn.jwt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsonwebtoken.security.Jwk;
import io.jsonwebtoken.security.Jwks;
import io.jsonwebtoken.security.PrivateJwk;
import io.jsonwebtoken.security.SecretJwk;
import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns configured key text (PEM, JWK, JWK Set) into verification keys. */
final class KeyMaterial {
  private static final Pattern PEM = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");
  private static final List<String> KEY_FACTORIES = List.of("RSA", "EC", "Ed25519", "Ed448");
  private static final ObjectMapper JSON = new ObjectMapper();

  private KeyMaterial() {}

  /**
   * One verification key with the algorithm its JWK pins, if any.
   *
   * @param keyId the {@code kid}, or null
   * @param key the public (or, for HMAC, secret) key
   * @param algorithm the JWK's {@code alg}, or null when the key does not pin one
   */
  record Entry(String keyId, Key key, String algorithm) {
    /** Whether this key may verify a token signed with {@code alg}. */
    boolean suits(SignatureAlgorithm alg) {
      return (algorithm == null || algorithm.equals(alg.name())) && alg.accepts(key);
    }
  }

  /**
   * Parses every {@code PUBLIC KEY} (X.509 SubjectPublicKeyInfo: RSA, EC, Ed25519, Ed448) and
   * {@code CERTIFICATE} block in {@code pem}.
   *
   * @throws IllegalArgumentException with a message fit for a configuration error
   */
  static List<PublicKey> parsePem(String pem) {
    Matcher m = PEM.matcher(pem);
    List<PublicKey> keys = new ArrayList<>();
    while (m.find()) {
      byte[] der;
      try {
        der = Base64.getMimeDecoder().decode(m.group(2));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("a " + m.group(1) + " block is not valid base64");
      }
      switch (m.group(1)) {
        case "PUBLIC KEY":
          keys.add(publicKey(der));
          break;
        case "CERTIFICATE":
          try {
            keys.add(CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der)).getPublicKey());
          } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("a CERTIFICATE block is not a valid X.509 certificate");
          }
          break;
        default:
          throw new IllegalArgumentException("unsupported PEM block '" + m.group(1)
              + "'; give the issuer's PUBLIC KEY (SubjectPublicKeyInfo) or CERTIFICATE, never a private key");
      }
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("no PEM block found (expected -----BEGIN PUBLIC KEY-----)");
    }
    return keys;
  }

  /**
   * Parses an X.509 SubjectPublicKeyInfo (RSA, EC, Ed25519, Ed448).
   *
   * @throws IllegalArgumentException if it is none of these
   */
  static PublicKey publicKey(byte[] der) {
    for (String algorithm : KEY_FACTORIES) {
      try {
        return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
      } catch (GeneralSecurityException | RuntimeException e) {
        // not this kind of key: try the next
      }
    }
    throw new IllegalArgumentException("a PUBLIC KEY block is not an RSA, EC, Ed25519 or Ed448 public key");
  }

  /**
   * Parses one public JWK.
   *
   * @throws IllegalArgumentException if it is not a usable public signature key
   */
  static Entry parseJwk(String json) {
    Jwk<?> jwk;
    try {
      jwk = Jwks.parser().build().parse(json);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a valid JWK (" + e.getClass().getSimpleName() + ")");
    }
    return entry(jwk);
  }

  /**
   * Parses a JWK Set; every key in it must be usable.
   *
   * @throws IllegalArgumentException if the set or one of its keys is unusable
   */
  static List<Entry> parseJwkSet(String json) {
    List<String> keys = jwkSetMembers(json);
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("a JWK Set needs a non-empty \"keys\" array");
    }
    List<Entry> entries = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      try {
        entries.add(parseJwk(keys.get(i)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("keys[" + i + "]: " + e.getMessage());
      }
    }
    return entries;
  }

  /**
   * The members of a JWK Set's {@code keys} array, each as JSON text, without interpreting them.
   *
   * @throws IllegalArgumentException if {@code json} is not a JSON object with a {@code keys} array
   */
  static List<String> jwkSetMembers(String json) {
    JsonNode keys;
    try {
      keys = JSON.readTree(json).get("keys");
    } catch (JsonProcessingException | RuntimeException e) {
      throw new IllegalArgumentException("not valid JSON");
    }
    if (keys == null || !keys.isArray()) {
      throw new IllegalArgumentException("not a JWK Set: no \"keys\" array");
    }
    List<String> members = new ArrayList<>(keys.size());
    for (JsonNode key : keys) {
      members.add(key.toString());
    }
    return members;
  }

  /**
   * Checks that a parsed JWK is a public signature key and wraps it.
   *
   * @throws IllegalArgumentException naming what is wrong with it
   */
  static Entry entry(Jwk<?> jwk) {
    if (jwk instanceof PrivateJwk || jwk instanceof SecretJwk) {
      throw new IllegalArgumentException("JWK '" + jwk.getId() + "' holds private or secret key material; "
          + "only public keys are accepted here (HMAC secrets go to hmacSecret(...))");
    }
    Object use = jwk.get("use");
    if (use != null && !"sig".equals(use)) {
      throw new IllegalArgumentException("JWK '" + jwk.getId() + "' has use '" + use + "', not 'sig'");
    }
    if (jwk.getOperations() != null && !jwk.getOperations().isEmpty()
        && jwk.getOperations().stream().noneMatch(op -> "verify".equals(op.getId()))) {
      throw new IllegalArgumentException("JWK '" + jwk.getId() + "' key_ops do not include 'verify'");
    }
    Key key = jwk.toKey();
    if (!(key instanceof PublicKey)) {
      throw new IllegalArgumentException("JWK '" + jwk.getId() + "' is not a public key");
    }
    String alg = jwk.getAlgorithm();
    if (alg != null) {
      SignatureAlgorithm pinned = SignatureAlgorithm.named(alg);
      if (pinned == null || pinned.isHmac()) {
        throw new IllegalArgumentException("JWK '" + jwk.getId() + "' pins unsupported algorithm '" + alg + "'");
      }
    }
    return checkStrength(new Entry(jwk.getId(), key, alg));
  }

  /**
   * Refuses keys no allowed algorithm could ever accept (RSA below 2048 or above 8192 bits, or with
   * a public exponent of 2^256 or more, below 3 or even; EC on other curves).
   *
   * @throws IllegalArgumentException naming the key
   */
  static Entry checkStrength(Entry e) {
    if (e.key() instanceof RSAPublicKey rsa) {
      if (rsa.getModulus().bitLength() > SignatureAlgorithm.MAX_RSA_BITS) {
        throw new IllegalArgumentException(name(e) + " has a " + rsa.getModulus().bitLength() + "-bit modulus; at most "
            + SignatureAlgorithm.MAX_RSA_BITS + " bits are accepted, since every verification with a larger one is slow");
      }
      if (rsa.getPublicExponent().bitLength() > SignatureAlgorithm.MAX_RSA_EXPONENT_BITS) {
        throw new IllegalArgumentException(name(e) + " has a " + rsa.getPublicExponent().bitLength()
            + "-bit public exponent; at most " + SignatureAlgorithm.MAX_RSA_EXPONENT_BITS
            + " bits are accepted (e < 2^256, FIPS 186-5), since every verification with a larger one is slow");
      }
      if (!SignatureAlgorithm.isRsaPublicExponent(rsa.getPublicExponent())) {
        // Bounded to 256 bits by the check above, so the number is short enough to print.
        throw new IllegalArgumentException(name(e) + " has public exponent " + rsa.getPublicExponent()
            + ", which no RSA key has: it must be odd and at least 3 (with e = 1 anyone could forge signatures)");
      }
    }
    for (SignatureAlgorithm alg : SignatureAlgorithm.values()) {
      if (!alg.isHmac() && e.suits(alg)) {
        return e;
      }
    }
    throw new IllegalArgumentException(name(e) + " is too weak or of an unsupported kind "
        + "(RSA needs >= 2048 bits; EC must be P-256, P-384 or P-521; or Ed25519/Ed448)");
  }

  private static String name(Entry e) {
    return e.keyId() == null ? e.key().getAlgorithm() + " key" : "key '" + e.keyId() + "'";
  }
}
