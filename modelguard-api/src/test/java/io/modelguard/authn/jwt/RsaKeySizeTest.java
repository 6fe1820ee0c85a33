package io.modelguard.authn.jwt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.modelguard.LogCapture;
import io.modelguard.MutableClock;
import java.security.interfaces.RSAPublicKey;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * RSA keys have an upper bound as well as a lower one: every verification with a 16,384-bit
 * modulus (the largest the JDK builds) is many times slower than with a usual key, so a key set
 * holding one would let its tokens cost each request that much. Keys over 8192 bits are refused
 * wherever keys are accepted. The keys here are public keys only (no one can sign with them):
 * generating real 8,193-bit key pairs would take the test minutes, and refusing needs none.
 */
class RsaKeySizeTest {
  private final MutableClock clock = MutableClock.standard();

  @Test
  void anRsaKeyOver8192BitsFailsAtBuildHoweverItIsGiven() {
    RSAPublicKey huge = TestKeys.rsaPublicKey(8193);

    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKey("big", huge).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("publicKey: key 'big' has a 8193-bit modulus; at most 8192 bits are accepted");
    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKeyPem(TestKeys.pem(huge)).build())
        .hasMessageContaining("publicKeyPem: RSA key has a 8193-bit modulus; at most 8192");
    assertThatThrownBy(() -> JwtAuthenticator.builder().jwk(TestKeys.jwk("big", huge)).build())
        .hasMessageContaining("jwk: key 'big' has a 8193-bit modulus");
    assertThatThrownBy(() -> JwtAuthenticator.builder()
        .jwkSet("{\"keys\":[" + TestKeys.jwk("k1", (RSAPublicKey) TestKeys.RSA.getPublic()) + "," + TestKeys.jwk("big", huge) + "]}")
        .build())
        .hasMessageContaining("jwkSet: keys[1]: key 'big' has a 8193-bit modulus");
    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKey(TestKeys.rsaPublicKey(16_384)).build())
        .hasMessageContaining("16384-bit modulus");
  }

  @Test
  void an8192BitKeyIsStillAccepted() {
    RSAPublicKey largest = TestKeys.rsaPublicKey(8192);

    assertThat(JwtAuthenticator.builder().publicKey("k", largest).build()).isNotNull();
    assertThat(JwtAuthenticator.builder().jwk(TestKeys.jwk("k", largest)).build()).isNotNull();
    assertThat(SignatureAlgorithm.RS256.accepts(largest)).isTrue();
    assertThat(SignatureAlgorithm.PS512.accepts(largest)).isTrue();
  }

  @Test
  void anOversizedKeyFromAnApplicationsKeySourceRefusesTheTokenBeforeAnyVerification() {
    // A JwtKeySource of the application's own is not checked at build(): the key it returns is,
    // before jjwt verifies with it.
    RSAPublicKey huge = TestKeys.rsaPublicKey(8193);
    JwtAuthenticator jwt = JwtAuthenticator.builder().keySource((alg, kid) -> Optional.of(huge))
        .issuer(JwtFixtures.ISSUER).audience(JwtFixtures.AUDIENCE).build();
    String token = Tokens.rs256(Tokens.claims(clock.instant()));

    try (LogCapture log = LogCapture.of(JwtAuthenticator.class, Level.DEBUG)) {
      assertThat(jwt.authenticate(token, clock.instant())).isEmpty();

      assertThat(log.messages()).containsExactly("JWT refused: " + Refusal.NO_KEY);
    }
    assertThat(SignatureAlgorithm.RS256.accepts(huge)).isFalse();
    assertThat(SignatureAlgorithm.PS256.accepts(huge)).isFalse();
  }
}
