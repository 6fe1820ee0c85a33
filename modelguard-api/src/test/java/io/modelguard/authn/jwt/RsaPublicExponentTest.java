package io.modelguard.authn.jwt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.modelguard.LogCapture;
import java.math.BigInteger;
import java.security.interfaces.RSAPublicKey;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * RSA public exponents are bounded as moduli are: a verification costs about one modular
 * multiplication per bit of the exponent, and the JDK accepts, for moduli up to 3072 bits, an
 * exponent as long as the modulus, which would make every verification cost as much as signing.
 * Exponents of 2^256 or more (FIPS 186-5: {@code e < 2^256}) are refused wherever keys are
 * accepted; 65537 and small ones such as 3 are not. The keys are public keys only (no one can sign
 * with them): refusing needs none.
 */
class RsaPublicExponentTest {
  /** The smallest exponent refused that an RSA key could have (odd, 257 bits). */
  private static final BigInteger TWO_TO_256_PLUS_1 = BigInteger.ONE.shiftLeft(256).add(BigInteger.ONE);
  /** The largest exponent accepted (256 bits). */
  private static final BigInteger TWO_TO_256_MINUS_1 = BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE);

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
}
