package io.modelguard.authn.jwt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.spec.ECFieldFp;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.EllipticCurve;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Recognises public key material in the formats keys are published in, so that an HMAC secret
 * which is really the issuer's public key can be refused: whoever has that key could sign tokens
 * with it (the RS256-to-HS256 confusion jjwt prevents by refusing a {@code PublicKey} as an HMAC
 * key, brought back by passing the key's encoding as the secret).
 *
 * <p>Every recognised form is structured enough that random bytes, and the hex or base64 spelling
 * of random bytes, practically never match it (the least structured, an uncompressed EC point,
 * must also lie on its curve). Forms that random bytes do match are deliberately not recognised;
 * see {@link #isPublishedKey(byte[])}.
 */
final class PublishedKeys {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern BASE64 = Pattern.compile("[A-Za-z0-9+/]+={0,2}");
  private static final Pattern BASE64URL = Pattern.compile("[A-Za-z0-9_-]+={0,2}");
  private static final Pattern HEX = Pattern.compile("(?:[0-9A-Fa-f]{2})+");
  private static final Pattern WHITESPACE = Pattern.compile("\\s+");
  private static final Pattern WHITESPACE_OR_COLON = Pattern.compile("[\\s:]+");
  private static final List<String> SSH_KEY_TYPE_PREFIXES = List.of("ssh-", "ecdsa-sha2-", "sk-");
  private static final Pattern SSH_KEY_TYPE = Pattern.compile("[a-z0-9@.-]+");
  private static final int DER_SEQUENCE = 0x30;
  private static final int DER_INTEGER = 0x02;
  private static final int UNCOMPRESSED_POINT = 0x04;

  private PublishedKeys() {}

  /**
   * Whether {@code secret} is a public key, as published, in one of these forms:
   *
   * <ul>
   *   <li>an X.509 SubjectPublicKeyInfo or certificate, or a PKCS#1 {@code RSAPublicKey} (as
   *       {@code openssl rsa -RSAPublicKey_out} writes), as DER bytes or that DER spelled in
   *       base64, base64url (padded or not) or hex (either case, colons and whitespace allowed);
   *   <li>an uncompressed EC point ({@code 0x04 || X || Y}) on P-256, P-384 or P-521, raw or
   *       spelled as above;
   *   <li>an OpenSSH public key: an {@code authorized_keys} line ({@code ssh-rsa AAAA...},
   *       {@code ecdsa-sha2-nistp256 ...}, {@code ssh-ed25519 ...}, comment optional), its base64
   *       body alone, or an RFC 4716 {@code SSH2 PUBLIC KEY} block;
   *   <li>any PEM block, or a JWK or JWK Set (JSON).
   * </ul>
   *
   * <p>Not recognised, because random bytes look the same: a raw Ed25519, Ed448 or X25519 public
   * key (32, 57 or 32 arbitrary bytes), a compressed EC point (about half of all {@code 0x02} or
   * {@code 0x03}-prefixed strings of that length are one) and a bare RSA modulus.
   */
  static boolean isPublishedKey(byte[] secret) {
    if (isKeyEncoding(secret)) {
      return true;
    }
    String text = new String(secret, StandardCharsets.ISO_8859_1).strip();
    if (text.contains("-----BEGIN ") || text.contains("---- BEGIN SSH2 PUBLIC KEY ----")) {
      return true;
    }
    for (byte[] decoded : decodings(text)) {
      if (isKeyEncoding(decoded)) {
        return true;
      }
    }
    if (text.startsWith("{")) {
      try {
        JsonNode json = JSON.readTree(text);
        return json != null && json.isObject() && (json.has("kty") || json.has("keys"));
      } catch (JsonProcessingException | RuntimeException e) {
        return false;
      }
    }
    return false;
  }

  /**
   * The bytes {@code text} spells as a whole in base64, base64url or hex, and, when it has several
   * whitespace-separated words (an OpenSSH line: type, body, comment), what each word spells in
   * base64.
   */
  private static List<byte[]> decodings(String text) {
    List<byte[]> decoded = new ArrayList<>();
    String compact = WHITESPACE.matcher(text).replaceAll("");
    addBase64(decoded, compact, BASE64, Base64.getDecoder());
    addBase64(decoded, compact, BASE64URL, Base64.getUrlDecoder());
    String hex = WHITESPACE_OR_COLON.matcher(text).replaceAll("");
    if (HEX.matcher(hex).matches()) {
      decoded.add(HexFormat.of().parseHex(hex));
    }
    String[] words = WHITESPACE.split(text);
    if (words.length > 1) {
      for (String word : words) {
        addBase64(decoded, word, BASE64, Base64.getDecoder());
      }
    }
    return decoded;
  }

  private static void addBase64(List<byte[]> decoded, String text, Pattern alphabet, Base64.Decoder decoder) {
    if (!alphabet.matcher(text).matches()) {
      return;
    }
    try {
      decoded.add(decoder.decode(text));
    } catch (IllegalArgumentException e) {
      // a length no base64 text has: not base64 after all
    }
  }

  /** Whether {@code bytes} are one public key in a binary encoding. */
  private static boolean isKeyEncoding(byte[] bytes) {
    return isSubjectPublicKeyInfoOrCertificate(bytes)
        || isRsaPublicKey(bytes)
        || isUncompressedEcPoint(bytes)
        || isSshPublicKey(bytes);
  }

  private static boolean isSubjectPublicKeyInfoOrCertificate(byte[] der) {
    // Both are a DER SEQUENCE; checking that first spares random bytes the parsers' exceptions.
    if (Tlv.read(der, 0, DER_SEQUENCE, der.length) == null) {
      return false;
    }
    try {
      KeyMaterial.publicKey(der);
      return true;
    } catch (IllegalArgumentException e) {
      // not a SubjectPublicKeyInfo: perhaps a certificate
    }
    try {
      CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
      return true;
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  /** PKCS#1 {@code RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }}, exactly. */
  private static boolean isRsaPublicKey(byte[] der) {
    Tlv sequence = Tlv.read(der, 0, DER_SEQUENCE, der.length);
    if (sequence == null || sequence.end() != der.length) {
      return false;
    }
    Tlv modulus = Tlv.read(der, sequence.contentStart(), DER_INTEGER, der.length);
    if (modulus == null) {
      return false;
    }
    Tlv exponent = Tlv.read(der, modulus.end(), DER_INTEGER, der.length);
    if (exponent == null || exponent.end() != der.length) {
      return false;
    }
    BigInteger n = modulus.integer(der);
    BigInteger e = exponent.integer(der);
    return n.signum() > 0 && n.testBit(0) && e.signum() > 0 && e.testBit(0) && e.compareTo(n) < 0;
  }

  /**
   * {@code 0x04 || X || Y} of P-256, P-384 or P-521, with the point on the curve. One random
   * string in 256 of each length starts with {@code 0x04}; the curve equation is what tells a
   * point from them. {@code KeyFactory.generatePublic} does not check it (JDK 17 builds an EC
   * public key from any coordinates), so it is checked here.
   */
  private static boolean isUncompressedEcPoint(byte[] bytes) {
    String curve = switch (bytes.length) {
      case 65 -> "secp256r1";
      case 97 -> "secp384r1";
      case 133 -> "secp521r1";
      default -> null;
    };
    if (curve == null || bytes[0] != UNCOMPRESSED_POINT) {
      return false;
    }
    EllipticCurve params;
    try {
      AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
      parameters.init(new ECGenParameterSpec(curve));
      params = parameters.getParameterSpec(ECParameterSpec.class).getCurve();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks the NIST curve " + curve, e);
    }
    BigInteger p = ((ECFieldFp) params.getField()).getP();
    int size = (bytes.length - 1) / 2;
    BigInteger x = new BigInteger(1, Arrays.copyOfRange(bytes, 1, 1 + size));
    BigInteger y = new BigInteger(1, Arrays.copyOfRange(bytes, 1 + size, bytes.length));
    if (x.compareTo(p) >= 0 || y.compareTo(p) >= 0) {
      return false;
    }
    BigInteger left = y.multiply(y).mod(p);
    BigInteger right = x.multiply(x).add(params.getA()).multiply(x).add(params.getB()).mod(p);
    return left.equals(right);
  }

  /**
   * The OpenSSH wire form of a public key (the base64 body of an {@code authorized_keys} line):
   * a 4-byte length, then the key type's name ({@code ssh-rsa}, {@code ecdsa-sha2-nistp256},
   * {@code ssh-ed25519}, ...), then the key.
   */
  private static boolean isSshPublicKey(byte[] blob) {
    if (blob.length < 4) {
      return false;
    }
    long length = ((blob[0] & 0xffL) << 24) | ((blob[1] & 0xff) << 16) | ((blob[2] & 0xff) << 8) | (blob[3] & 0xff);
    if (length < 7 || length > 64 || 4 + length >= blob.length) {
      return false;
    }
    String type = new String(blob, 4, (int) length, StandardCharsets.ISO_8859_1);
    return SSH_KEY_TYPE.matcher(type).matches() && SSH_KEY_TYPE_PREFIXES.stream().anyMatch(type::startsWith);
  }

  /**
   * One DER tag-length-value: where its content starts and where it ends. Only definite, minimal
   * lengths of up to three bytes are read; keys and certificates need no more.
   */
  private record Tlv(int contentStart, int end) {
    static Tlv read(byte[] der, int offset, int tag, int limit) {
      if (offset + 2 > limit || (der[offset] & 0xff) != tag) {
        return null;
      }
      int first = der[offset + 1] & 0xff;
      int start = offset + 2;
      int length;
      if (first < 0x80) {
        length = first;
      } else {
        int octets = first & 0x7f;
        if (octets == 0 || octets > 3 || start + octets > limit || der[start] == 0) {
          return null;
        }
        length = 0;
        for (int i = 0; i < octets; i++) {
          length = (length << 8) | (der[start++] & 0xff);
        }
        if (length < 0x80) {
          return null;
        }
      }
      if (length > limit - start) {
        return null;
      }
      return new Tlv(start, start + length);
    }

    BigInteger integer(byte[] der) {
      return contentStart == end ? BigInteger.ZERO : new BigInteger(der, contentStart, end - contentStart);
    }
  }
}
