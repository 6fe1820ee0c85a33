package io.modelguard.authn.jwt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.modelguard.LogCapture;
import io.modelguard.MutableClock;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.interfaces.RSAPublicKey;
import java.util.HexFormat;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * RSA public exponents are bounded as moduli are: a verification costs about one modular
 * multiplication per bit of the exponent, and the JDK accepts, for moduli up to 3072 bits, an
 * exponent as long as the modulus, which would make every verification cost as much as signing.
 * Exponents of 2^256 or more (FIPS 186-5: {@code e < 2^256}) are refused wherever keys are
 * accepted; 65537 and small ones such as 3 are not. So are exponents no RSA key has: even ones, and
 * 1, with which a "signature" is the padded message itself. The keys are public keys only (no one
 * can sign with them): refusing needs none.
 */
class RsaPublicExponentTest {
  /** The smallest exponent refused that an RSA key could have (odd, 257 bits). */
  private static final BigInteger TWO_TO_256_PLUS_1 = BigInteger.ONE.shiftLeft(256).add(BigInteger.ONE);
  /** The largest exponent accepted (256 bits). */
  private static final BigInteger TWO_TO_256_MINUS_1 = BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE);

  private static final BigInteger EVEN = BigInteger.valueOf(65_536);
  /** The ASN.1 DigestInfo prefix of a SHA-256 hash in an RSASSA-PKCS1-v1_5 signature (RFC 8017 9.2). */
  private static final byte[] SHA256_DIGEST_INFO = HexFormat.of().parseHex("3031300d060960864801650304020105000420");

  private final MutableClock clock = MutableClock.standard();

  @Test
  void anRsaKeyWithAnExponentOf2To256OrMoreFailsAtBuildHoweverItIsGiven() {
    RSAPublicKey slow = TestKeys.rsaPublicKey(2048, TWO_TO_256_PLUS_1);

    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKey("slow", slow).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("publicKey: key 'slow' has a 257-bit public exponent; at most 256 bits are accepted");
    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKeyPem(TestKeys.pem(slow)).build())
        .hasMessageContaining("publicKeyPem: RSA key has a 257-bit public exponent; at most 256");
    assertThatThrownBy(() -> JwtAuthenticator.builder().jwk(TestKeys.jwk("slow", slow)).build())
        .hasMessageContaining("jwk: key 'slow' has a 257-bit public exponent");
    assertThatThrownBy(() -> JwtAuthenticator.builder()
        .jwkSet("{\"keys\":[" + TestKeys.jwk("k1", (RSAPublicKey) TestKeys.RSA.getPublic()) + "," + TestKeys.jwk("slow", slow) + "]}")
        .build())
        .hasMessageContaining("jwkSet: keys[1]: key 'slow' has a 257-bit public exponent");
    // As long as the modulus: each verification as dear as a private-key operation.
    RSAPublicKey modulusLong = TestKeys.rsaPublicKey(2048, BigInteger.ONE.shiftLeft(2047).add(BigInteger.ONE));
    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKey(modulusLong).build())
        .hasMessageContaining("2048-bit public exponent");
  }

  @Test
  void anRsaKeyWithAnEvenExponentFailsAtBuildHoweverItIsGiven() {
    // The JDK's key factory builds such a key (it only refuses e < 3), and jjwt parses its JWK.
    RSAPublicKey even = TestKeys.rsaPublicKey(2048, EVEN);
    String refused = "has public exponent 65536, which no RSA key has: it must be odd and at least 3";

    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKey("even", even).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("publicKey: key 'even' " + refused);
    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKeyPem(TestKeys.pem(even)).build())
        .hasMessageContaining("publicKeyPem: RSA key " + refused);
    assertThatThrownBy(() -> JwtAuthenticator.builder().jwk(TestKeys.jwk("even", even)).build())
        .hasMessageContaining("jwk: key 'even' " + refused);
    assertThatThrownBy(() -> JwtAuthenticator.builder()
        .jwkSet("{\"keys\":[" + TestKeys.jwk("k1", (RSAPublicKey) TestKeys.RSA.getPublic()) + "," + TestKeys.jwk("even", even) + "]}")
        .build())
        .hasMessageContaining("jwkSet: keys[1]: key 'even' " + refused);
    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKey(TestKeys.rsaPublicKey(2048, BigInteger.valueOf(4))).build())
        .hasMessageContaining("has public exponent 4, which no RSA key has");
  }

  @Test
  void anRsaKeyWithExponentOneFailsAtBuild() {
    // With e = 1 the verification s^e mod n returns the signature unchanged: anyone can "sign".
    RSAPublicKey one = TestKeys.ownRsaPublicKey(modulus(), BigInteger.ONE);

    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKey("one", one).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("publicKey: key 'one' has public exponent 1, which no RSA key has: it must be odd and "
            + "at least 3 (with e = 1 anyone could forge signatures)");
    assertThat(SignatureAlgorithm.RS256.accepts(one)).isFalse();
    assertThat(SignatureAlgorithm.PS256.accepts(one)).isFalse();
  }

  @Test
  void exponentsBelow2To256AreAcceptedSmallOnesIncluded() {
    for (BigInteger e : new BigInteger[] {BigInteger.valueOf(3), BigInteger.valueOf(65_537), TWO_TO_256_MINUS_1}) {
      RSAPublicKey key = TestKeys.rsaPublicKey(2048, e);

      assertThat(JwtAuthenticator.builder().publicKey("k", key).build()).as("e = %s", e).isNotNull();
      assertThat(JwtAuthenticator.builder().jwk(TestKeys.jwk("k", key)).build()).as("e = %s", e).isNotNull();
      assertThat(SignatureAlgorithm.RS256.accepts(key)).as("e = %s", e).isTrue();
      assertThat(SignatureAlgorithm.PS512.accepts(key)).as("e = %s", e).isTrue();
    }
  }

  @Test
  void aKeyWithALongExponentFromAnApplicationsKeySourceRefusesTheTokenBeforeAnyVerification() {
    // A JwtKeySource of the application's own is not checked at build(): the key it returns is,
    // before jjwt verifies with it.
    RSAPublicKey slow = TestKeys.rsaPublicKey(2048, TWO_TO_256_PLUS_1);
    JwtAuthenticator jwt = JwtAuthenticator.builder().keySource((alg, kid) -> Optional.of(slow))
        .issuer(JwtFixtures.ISSUER).audience(JwtFixtures.AUDIENCE).build();
    String token = Tokens.rs256(Tokens.claims(clock.instant()));

    try (LogCapture log = LogCapture.of(JwtAuthenticator.class, Level.DEBUG)) {
      assertThat(jwt.authenticate(token, clock.instant())).isEmpty();

      assertThat(log.messages()).containsExactly("JWT refused: " + Refusal.NO_KEY);
    }
    assertThat(SignatureAlgorithm.RS256.accepts(slow)).isFalse();
    assertThat(SignatureAlgorithm.PS256.accepts(slow)).isFalse();
  }

  @Test
  void aTokenForgedForAnExponentOfOneFromAnApplicationsKeySourceIsRefusedBeforeAnyVerification() {
    // An application's own key object may carry e = 1. The JDK's RSA provider happens to refuse
    // such a key when jjwt verifies with it, but another provider need not: the authenticator
    // refuses the key itself, whichever provider would verify.
    RSAPublicKey one = TestKeys.ownRsaPublicKey(modulus(), BigInteger.ONE);
    JwtAuthenticator jwt = JwtAuthenticator.builder().keySource((alg, kid) -> Optional.of(one))
        .issuer(JwtFixtures.ISSUER).audience(JwtFixtures.AUDIENCE).build();
    String forged = forgedForExponentOne(Tokens.claims(clock.instant()).with("sub", "mallory").text());

    try (LogCapture log = LogCapture.of(JwtAuthenticator.class, Level.DEBUG)) {
      assertThat(jwt.authenticate(forged, clock.instant())).isEmpty();

      assertThat(log.messages()).containsExactly("JWT refused: " + Refusal.NO_KEY);
    }
  }

  @Test
  void aKeyWithAnEvenExponentFromAnApplicationsKeySourceRefusesTheTokenBeforeAnyVerification() {
    RSAPublicKey even = TestKeys.rsaPublicKey(2048, EVEN);
    JwtAuthenticator jwt = JwtAuthenticator.builder().keySource((alg, kid) -> Optional.of(even))
        .issuer(JwtFixtures.ISSUER).audience(JwtFixtures.AUDIENCE).build();
    String token = Tokens.rs256(Tokens.claims(clock.instant()));

    try (LogCapture log = LogCapture.of(JwtAuthenticator.class, Level.DEBUG)) {
      assertThat(jwt.authenticate(token, clock.instant())).isEmpty();

      assertThat(log.messages()).containsExactly("JWT refused: " + Refusal.NO_KEY);
    }
    assertThat(SignatureAlgorithm.RS256.accepts(even)).isFalse();
    assertThat(SignatureAlgorithm.PS256.accepts(even)).isFalse();
  }

  private static BigInteger modulus() {
    return ((RSAPublicKey) TestKeys.RSA.getPublic()).getModulus();
  }

  /**
   * An RS256 token over {@code claims} whose signature is the RSASSA-PKCS1-v1_5 encoding of its own
   * SHA-256 (00 01 FF..FF 00 DigestInfo): what {@code s^1 mod n} must equal, so written without any
   * private key.
   */
  private static String forgedForExponentOne(String claims) {
    String input = Tokens.b64(Tokens.header("RS256", "k1").text()) + "." + Tokens.b64(claims);
    byte[] hash;
    try {
      hash = MessageDigest.getInstance("SHA-256").digest(input.getBytes(StandardCharsets.US_ASCII));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    byte[] encoded = new byte[(modulus().bitLength() + 7) / 8];
    int digestAt = encoded.length - SHA256_DIGEST_INFO.length - hash.length;
    encoded[1] = 0x01;
    java.util.Arrays.fill(encoded, 2, digestAt - 1, (byte) 0xff);
    System.arraycopy(SHA256_DIGEST_INFO, 0, encoded, digestAt, SHA256_DIGEST_INFO.length);
    System.arraycopy(hash, 0, encoded, digestAt + SHA256_DIGEST_INFO.length, hash.length);
    return input + "." + Tokens.b64(encoded);
  }
}
