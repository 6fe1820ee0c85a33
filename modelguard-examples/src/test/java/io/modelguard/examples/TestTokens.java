package io.modelguard.examples;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsonwebtoken.JwtBuilder;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.Jwks;
import io.jsonwebtoken.security.PublicJwk;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.Map;

/** Keys, tokens and PEM text for the bearer-token tests: the test plays the identity provider. */
final class TestTokens {
  static final String ISSUER = "https://idp.test/realms/ml/";
  static final String AUDIENCE = "models";

  private TestTokens() {}

  static KeyPair rsa() {
    return Jwts.SIG.RS256.keyPair().build();
  }

  static KeyPair ec() {
    return Jwts.SIG.ES256.keyPair().build();
  }

  static KeyPair ed25519() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A JWK Set holding the public half of {@code key} under {@code kid}. */
  static String jwks(String kid, KeyPair key) {
    PublicJwk<?> jwk = Jwks.builder().key(key.getPublic()).id(kid).build();
    return "{\"keys\":[" + Jwks.json(jwk) + "]}";
  }

  /** The public key as a PEM {@code PUBLIC KEY} block. */
  static String pem(PublicKey key) {
    return "-----BEGIN PUBLIC KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
        + "\n-----END PUBLIC KEY-----\n";
  }

  /**
   * A token as the test IdP issues it: {@link #ISSUER}, {@link #AUDIENCE}, subject alice, tenant
   * acme, valid for five minutes from now; {@code claims} are added (and override).
   */
  static JwtBuilder idpToken(String kid, Map<String, ?> claims) {
    Instant now = Instant.now();
    return Jwts.builder()
        .header().keyId(kid).and()
        .issuer(ISSUER)
        .audience().add(AUDIENCE).and()
        .subject("alice")
        .claim("tenant", "acme")
        .issuedAt(Date.from(now))
        .expiration(Date.from(now.plus(Duration.ofMinutes(5))))
        .claims(claims);
  }

  static String rs256(KeyPair key, JwtBuilder b) {
    return b.signWith(key.getPrivate(), Jwts.SIG.RS256).compact();
  }

  /** Signs with the algorithm that suits {@code key} (RS256, ES256 or EdDSA). */
  static String sign(KeyPair key, JwtBuilder b) {
    String alg = key.getPublic().getAlgorithm();
    if (alg.equals("RSA")) {
      return b.signWith(key.getPrivate(), Jwts.SIG.RS256).compact();
    }
    if (alg.equals("EC")) {
      return b.signWith(key.getPrivate(), Jwts.SIG.ES256).compact();
    }
    return b.signWith(key.getPrivate(), Jwts.SIG.EdDSA).compact();
  }

  /** Segment {@code index} (0 header, 1 payload) of a compact token, as JSON. */
  static JsonNode part(String token, int index) {
    try {
      return DemoClient.JSON.readTree(Base64.getUrlDecoder().decode(token.split("\\.")[index]));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The signature segment of a compact token. */
  static String signature(String token) {
    return token.substring(token.lastIndexOf('.') + 1);
  }
}
