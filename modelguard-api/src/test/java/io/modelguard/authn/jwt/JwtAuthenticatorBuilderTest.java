package io.modelguard.authn.jwt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jsonwebtoken.security.Jwks;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Tier;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Configuration: defaults, and every mistake reported at {@code build()} with the field it concerns. */
class JwtAuthenticatorBuilderTest {
  private final MutableClock clock = MutableClock.standard();

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  @Test
  void defaultsAreRs256Es256AndEdDsaOnly() {
    JwtAuthenticator jwt = JwtFixtures.rsa().build();

    assertThat(jwt.allowedAlgorithms()).isEqualTo(Set.of("RS256", "ES256", "EdDSA"));
    assertThat(JwtAuthenticator.DEFAULT_CLOCK_SKEW).isEqualTo(Duration.ofSeconds(60));
    assertThat(JwtAuthenticator.DEFAULT_MAX_TOKEN_LENGTH).isEqualTo(8192);
  }

  @Test
  void anIssuerWithoutAnAudienceIsWarnedAbout() {
    // One identity provider, one issuer, many services: without an audience, a token it minted for
    // another service passes here.
    try (io.modelguard.LogCapture logs = io.modelguard.LogCapture.of(JwtAuthenticator.class, ch.qos.logback.classic.Level.WARN)) {
      JwtAuthenticator.builder().publicKey("k1", TestKeys.RSA.getPublic()).issuer(JwtFixtures.ISSUER).build();
      assertThat(logs.messagesAt(ch.qos.logback.classic.Level.WARN)).singleElement().asString()
          .contains("no audience is configured").contains("audience(...)");
    }
    try (io.modelguard.LogCapture logs = io.modelguard.LogCapture.of(JwtAuthenticator.class, ch.qos.logback.classic.Level.WARN)) {
      JwtFixtures.rsa().build();
      assertThat(logs.messagesAt(ch.qos.logback.classic.Level.WARN)).as("issuer and audience set").isEmpty();
    }
  }

  @Test
  void aDefaultTierTheEngineDoesNotRegisterFailsTheEnginesBuild() {
    // Tokens without a tier claim would get a tier that grants no model: every one refused, with no
    // hint why.
    JwtAuthenticator jwt = JwtFixtures.rsa().defaultTier("premium").build();
    ModelGuard.Builder engine = ModelGuard.builder().auditLog(false)
        .models("digits")
        .tier(Tier.builder("free").models("digits").build())
        .chain("default", c -> c.policy(Phase.AUTHENTICATE, "jwt", jwt));

    assertThatThrownBy(engine::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("chains: chain 'default', policy 'jwt': JwtAuthenticator defaultTier names unknown "
            + "tier 'premium'; register it with tier(...) or correct the name");
    assertThat(JwtFixtures.rsa().defaultTier("free").build()
        .configurationProblems(new ModelGuard.Configuration(Set.of("digits"), Set.of("free")))).isEmpty();
    assertThat(jwt.configurationProblems(new ModelGuard.Configuration(Set.of(), Set.of())))
        .as("an engine without tiers: nothing to check against").isEmpty();
  }

  @Test
  void weakHmacSecretsFailAtBuildNamingTheField() {
    for (String[] c : new String[][] {{"HS256", "31"}, {"HS384", "47"}, {"HS512", "63"}}) {
      JwtAuthenticator.Builder b = JwtAuthenticator.builder().hmacSecret(c[0], new byte[Integer.parseInt(c[1])]);

      assertThatThrownBy(b::build)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("hmacSecret")
          .hasMessageContaining(c[0]);
    }
  }

  @Test
  void anHmacSecretOfOneRepeatedByteFailsAtBuild() {
    // Long enough, but known to everyone: an unfilled (all-zero) buffer or a repeated character.
    // With it configured, anyone could sign a token that this authenticator accepts.
    for (byte[] secret : new byte[][] {new byte[32], "a".repeat(64).getBytes(StandardCharsets.US_ASCII)}) {
      assertThatThrownBy(() -> JwtAuthenticator.builder().hmacSecret("HS256", secret).build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("hmacSecret")
          .hasMessageContaining("one repeated byte");
    }
  }

  @Test
  void anHmacSecretThatIsAPublishedKeyFailsAtBuild() throws Exception {
    // The RS256-to-HS256 confusion, configured by hand: the issuer's public key bytes (or its PEM,
    // certificate or JWK) as the HS256 secret built fine, and then anyone holding that public key
    // could sign tokens this authenticator accepted.
    PublicKey rsa = TestKeys.RSA.getPublic();
    byte[] certificate;
    try (java.io.InputStream in = getClass().getResourceAsStream("attacker-cert.pem")) {
      certificate = in.readAllBytes();
    }
    String jwk = Jwks.json(Jwks.builder().key((RSAPublicKey) rsa).id("k1").build());
    byte[][] published = {
        rsa.getEncoded(),
        TestKeys.EC_P256.getPublic().getEncoded(),
        Base64.getEncoder().encode(rsa.getEncoded()),
        pem("PUBLIC KEY", rsa.getEncoded()).getBytes(StandardCharsets.US_ASCII),
        certificate,
        jwk.getBytes(StandardCharsets.UTF_8),
        ("{\"keys\":[" + jwk + "]}").getBytes(StandardCharsets.UTF_8)};
    for (byte[] secret : published) {
      JwtAuthenticator.Builder b = JwtAuthenticator.builder().publicKey("k1", rsa).hmacSecret("HS256", secret);

      assertThatThrownBy(b::build).as(new String(secret, StandardCharsets.ISO_8859_1))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("hmacSecret: the HS256 secret is a public key, certificate, PEM block or JWK");
    }
    assertThat(JwtAuthenticator.builder().hmacSecret("HS256", TestKeys.secret(32)).build().allowedAlgorithms())
        .as("random bytes").contains("HS256");
  }

  @Test
  void aStrongHmacSecretEnablesOnlyItsOwnAlgorithm() {
    byte[] secret = TestKeys.secret(64);
    JwtAuthenticator jwt = JwtAuthenticator.builder().hmacSecret("HS384", secret).build();
    Tokens.Json claims = Tokens.claims(clock.instant());

    assertThat(jwt.allowedAlgorithms()).contains("HS384").doesNotContain("HS256", "HS512");
    assertThat(jwt.authenticate(Tokens.sign("HS384", new javax.crypto.spec.SecretKeySpec(secret, "HmacSHA384"),
        Tokens.header("HS384", null), claims), clock.instant())).isPresent();
    assertThat(jwt.authenticate(Tokens.sign("HS512", new javax.crypto.spec.SecretKeySpec(secret, "HmacSHA512"),
        Tokens.header("HS512", null), claims), clock.instant())).as("same secret, other algorithm").isEmpty();
  }

  @Test
  void hmacCannotBeEnabledThroughTheAlgorithmList() {
    assertThatThrownBy(() -> JwtAuthenticator.builder().allowedAlgorithms("HS256"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("allowedAlgorithms").hasMessageContaining("hmacSecret");
    assertThatThrownBy(() -> JwtAuthenticator.builder().allowedAlgorithms("none"))
        .hasMessageContaining("allowedAlgorithms");
    assertThatThrownBy(() -> JwtAuthenticator.builder().hmacSecret("RS256", new byte[64]))
        .hasMessageContaining("hmacSecret");
  }

  @Test
  void weakOrUnusableKeysFailAtBuild() {
    PublicKey rsa1024 = TestKeys.rsa(1024).getPublic();

    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKey(rsa1024).build())
        .hasMessageContaining("publicKey").hasMessageContaining("2048");
    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKeyPem(pem("PUBLIC KEY", rsa1024.getEncoded())).build())
        .hasMessageContaining("publicKeyPem");
    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKeyPem("not a pem").build())
        .hasMessageContaining("publicKeyPem").hasMessageContaining("no PEM block");
    assertThatThrownBy(() -> JwtAuthenticator.builder()
        .publicKeyPem(pem("PRIVATE KEY", TestKeys.RSA.getPrivate().getEncoded())).build())
        .hasMessageContaining("publicKeyPem").hasMessageContaining("never a private key");
    assertThatThrownBy(() -> JwtAuthenticator.builder().jwk("{\"kty\":\"oct\",\"k\":\"" + Tokens.b64(new byte[64]) + "\"}").build())
        .hasMessageContaining("jwk").hasMessageContaining("secret");
    assertThatThrownBy(() -> JwtAuthenticator.builder().jwkSet("{\"keys\":[]}").build())
        .hasMessageContaining("jwkSet");
  }

  @Test
  void reportsEveryProblemAtOnce() {
    assertThatThrownBy(() -> JwtAuthenticator.builder().hmacSecret("HS256", new byte[8]).publicKeyPem("x").build())
        .hasMessageContaining("hmacSecret").hasMessageContaining("publicKeyPem");
  }

  @Test
  void keysAreRequiredAndEitherConfiguredOrFromOneSource() {
    assertThatThrownBy(() -> JwtAuthenticator.builder().build()).hasMessageContaining("keys:");
    assertThatThrownBy(() -> JwtAuthenticator.builder().publicKey(TestKeys.RSA.getPublic())
        .keySource((alg, kid) -> java.util.Optional.empty()).build())
        .hasMessageContaining("not both");
  }

  @Test
  void aMaximumTokenAgeTooLongToAddToAnInstantFailsAtOnceNotOnEveryRequest() {
    // Accepted by the setter, it overflowed on each token with iat: an ArithmeticException out of
    // the policy, so every request became internal.error (500) with a stack trace in the log.
    assertThatThrownBy(() -> JwtAuthenticator.builder().maxTokenAge(Duration.ofSeconds(Long.MAX_VALUE)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("JwtAuthenticator.maxTokenAge");
    JwtAuthenticator longest = JwtFixtures.rsa().maxTokenAge(JwtAuthenticator.MAX_TOKEN_AGE_LIMIT).build();

    assertThat(longest.authenticate(Tokens.rs256(Tokens.claims(clock.instant())), clock.instant())).isPresent();
  }

  @Test
  void settersRejectOutOfRangeValuesAtOnce() {
    JwtAuthenticator.Builder b = JwtAuthenticator.builder();

    assertThatThrownBy(() -> b.clockSkew(Duration.ofMinutes(6))).hasMessageContaining("JwtAuthenticator.clockSkew");
    assertThatThrownBy(() -> b.clockSkew(Duration.ofSeconds(-1))).hasMessageContaining("clockSkew");
    assertThatThrownBy(() -> b.maxTokenLength(100)).hasMessageContaining("maxTokenLength");
    assertThatThrownBy(() -> b.maxTokenAge(Duration.ZERO)).hasMessageContaining("maxTokenAge");
    assertThatThrownBy(() -> b.issuer(" ")).hasMessageContaining("issuer");
    assertThatThrownBy(() -> b.audience()).hasMessageContaining("audience");
    assertThatThrownBy(() -> b.otherCredentialHeaders("Authorization")).hasMessageContaining("otherCredentialHeaders");
    assertThatThrownBy(() -> b.verifiedTokenCacheSize(-1)).hasMessageContaining("verifiedTokenCacheSize");
    assertThatThrownBy(() -> b.subjectClaim("")).hasMessageContaining("subjectClaim");
  }

  @Test
  void acceptsKeysAsPemCertificateJwkAndJwkSet() throws Exception {
    java.security.cert.X509Certificate cert;
    try (java.io.InputStream in = getClass().getResourceAsStream("attacker-cert.pem")) {
      cert = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
          .generateCertificate(in);
    }
    String rsaJwk = Jwks.json(Jwks.builder().key((RSAPublicKey) TestKeys.RSA.getPublic()).id("k1").build());
    String ecJwk = Jwks.json(Jwks.builder().key(TestKeys.EC_P256.getPublic()).id("e1").build());
    Tokens.Json claims = Tokens.claims(clock.instant());
    String rs = Tokens.sign("RS256", TestKeys.RSA.getPrivate(), Tokens.header("RS256", "k1"), claims);
    String es = Tokens.sign("ES256", TestKeys.EC_P256.getPrivate(), Tokens.header("ES256", "e1"), claims);

    assertThat(JwtAuthenticator.builder().publicKeyPem(pem("PUBLIC KEY", TestKeys.RSA.getPublic().getEncoded()))
        .build().authenticate(rs, clock.instant())).isPresent();
    assertThat(JwtAuthenticator.builder().publicKeyPem(pem("PUBLIC KEY", TestKeys.EC_P256.getPublic().getEncoded()))
        .build().authenticate(es, clock.instant())).isPresent();
    assertThat(JwtAuthenticator.builder().publicKeyPem(pem("CERTIFICATE", cert.getEncoded())).build()
        .authenticate(rs, clock.instant())).as("certificate of another key").isEmpty();
    assertThat(JwtAuthenticator.builder().jwk(rsaJwk).build().authenticate(rs, clock.instant())).isPresent();
    assertThat(JwtAuthenticator.builder().jwkSet("{\"keys\":[" + rsaJwk + "," + ecJwk + "]}").build()
        .authenticate(es, clock.instant())).isPresent();
  }

  @Test
  void verifiesEveryAsymmetricAlgorithmWhenAllowed() {
    JwtAuthenticator all = JwtAuthenticator.builder()
        .allowedAlgorithms("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
        .publicKey("rsa", TestKeys.RSA.getPublic())
        .publicKey("p256", TestKeys.EC_P256.getPublic())
        .publicKey("p384", TestKeys.EC_P384.getPublic())
        .publicKey("ed", TestKeys.ED25519.getPublic())
        .build();
    Tokens.Json claims = Tokens.claims(clock.instant());

    for (String alg : new String[] {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}) {
      assertThat(all.authenticate(Tokens.sign(alg, TestKeys.RSA.getPrivate(), Tokens.header(alg, "rsa"), claims),
          clock.instant())).as(alg).isPresent();
    }
    assertThat(all.authenticate(Tokens.sign("ES256", TestKeys.EC_P256.getPrivate(), Tokens.header("ES256", "p256"),
        claims), clock.instant())).isPresent();
    assertThat(all.authenticate(Tokens.sign("ES384", TestKeys.EC_P384.getPrivate(), Tokens.header("ES384", "p384"),
        claims), clock.instant())).isPresent();
    assertThat(all.authenticate(Tokens.sign("EdDSA", TestKeys.ED25519.getPrivate(), Tokens.header("EdDSA", "ed"),
        claims), clock.instant())).isPresent();
    assertThat(all.authenticate(Tokens.sign("ES256", TestKeys.EC_P256.getPrivate(), Tokens.header("ES256", "p384"),
        claims), clock.instant())).as("ES256 with a P-384 key").isEmpty();
  }

  @Test
  void aTokenWithoutKidNeedsExactlyOneSuitableKey() {
    Tokens.Json claims = Tokens.claims(clock.instant());
    String noKid = Tokens.sign("RS256", TestKeys.RSA.getPrivate(), Tokens.header("RS256", null), claims);

    assertThat(JwtAuthenticator.builder().publicKey(TestKeys.RSA.getPublic()).publicKey(TestKeys.EC_P256.getPublic())
        .build().authenticate(noKid, clock.instant())).as("one RSA key").isPresent();
    assertThat(JwtAuthenticator.builder().publicKey("a", TestKeys.RSA.getPublic()).publicKey("b", TestKeys.RSA_OTHER.getPublic())
        .build().authenticate(noKid, clock.instant())).as("two RSA keys: ambiguous").isEmpty();
  }
}
