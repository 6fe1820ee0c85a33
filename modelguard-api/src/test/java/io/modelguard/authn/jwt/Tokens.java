package io.modelguard.authn.jwt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Hand-made tokens, signed with the JDK rather than jjwt, so that tests can build exactly the
 * attack they mean (any header, any alg, any spelling) and do not trust the library under test to
 * produce its own inputs.
 */
final class Tokens {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Tokens() {}

  /** A mutable claims/header map with a fluent API. */
  static final class Json extends LinkedHashMap<String, Object> {
    private static final long serialVersionUID = 1L;

    Json with(String name, Object value) {
      if (value == null) {
        remove(name);
      } else {
        put(name, value instanceof Instant ? ((Instant) value).getEpochSecond() : value);
      }
      return this;
    }

    Json without(String name) {
      remove(name);
      return this;
    }

    String text() {
      try {
        return JSON.writeValueAsString(this);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  static Json json() {
    return new Json();
  }

  /** Typical valid claims at {@code now}: sub alice, iss/aud as configured by {@link JwtFixtures}, exp in 5 min. */
  static Json claims(Instant now) {
    return json()
        .with("iss", JwtFixtures.ISSUER)
        .with("aud", JwtFixtures.AUDIENCE)
        .with("sub", "alice")
        .with("iat", now)
        .with("exp", now.plusSeconds(300));
  }

  static Json header(String alg, String kid) {
    return json().with("alg", alg).with("kid", kid);
  }

  static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  static String b64(String text) {
    return b64(text.getBytes(StandardCharsets.UTF_8));
  }

  /** Signs raw header and payload texts with {@code key} under JWS algorithm {@code alg}. */
  static String sign(String alg, Key key, String header, String payload) {
    String input = b64(header) + "." + b64(payload);
    return input + "." + b64(signature(alg, key, input.getBytes(StandardCharsets.US_ASCII)));
  }

  static String sign(String alg, Key key, Json header, Json payload) {
    return sign(alg, key, header.text(), payload.text());
  }

  /** A token signed by {@link TestKeys#RSA} with RS256 and kid {@code k1}. */
  static String rs256(Json claims) {
    return sign("RS256", TestKeys.RSA.getPrivate(), header("RS256", "k1"), claims);
  }

  static byte[] signature(String alg, Key key, byte[] input) {
    try {
      switch (alg) {
        case "HS256":
        case "HS384":
        case "HS512": {
          Mac mac = Mac.getInstance("HmacSHA" + alg.substring(2));
          mac.init(key instanceof SecretKeySpec ? key : new SecretKeySpec(key.getEncoded(), "HmacSHA" + alg.substring(2)));
          return mac.doFinal(input);
        }
        case "RS256":
        case "RS384":
        case "RS512":
          return jca("SHA" + alg.substring(2) + "withRSA", (PrivateKey) key, input);
        case "PS256":
        case "PS384":
        case "PS512": {
          int bits = Integer.parseInt(alg.substring(2));
          Signature s = Signature.getInstance("RSASSA-PSS");
          s.setParameter(new PSSParameterSpec("SHA-" + bits, "MGF1", new MGF1ParameterSpec("SHA-" + bits), bits / 8, 1));
          s.initSign((PrivateKey) key);
          s.update(input);
          return s.sign();
        }
        case "ES256":
        case "ES384":
        case "ES512":
          return jca("SHA" + alg.substring(2) + "withECDSAinP1363Format", (PrivateKey) key, input);
        case "EdDSA":
          return jca("Ed25519", (PrivateKey) key, input);
        default:
          throw new IllegalArgumentException("no signer for " + alg);
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] jca(String name, PrivateKey key, byte[] input) throws GeneralSecurityException {
    Signature s = Signature.getInstance(name);
    s.initSign(key);
    s.update(input);
    return s.sign();
  }

  /** Splits a compact token into its three segments. */
  static String[] parts(String token) {
    return token.split("\\.", -1);
  }

  /** Parses a map back from the claims segment, to build variants of a token. */
  static Map<String, Object> payload(String token) {
    try {
      @SuppressWarnings("unchecked")
      Map<String, Object> m = JSON.readValue(Base64.getUrlDecoder().decode(parts(token)[1]), Map.class);
      return m;
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
