package io.modelguard.authn.jwt;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static io.modelguard.authn.jwt.JwtFixtures.check;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.Jwks;
import io.jsonwebtoken.security.PublicJwk;
import io.modelguard.GuardDecision;
import io.modelguard.LogCapture;
import io.modelguard.ModelGuard;
import io.modelguard.MutableClock;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.authn.TestRequest;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The hardening checklist of {@code shared/reference/authn.md}, one attack per test: each builds
 * the attack token and sees it refused with {@code auth.invalid_token}. Every test also has a
 * control (the same token without the attack passes) where that is what makes it meaningful.
 */
class JwtHardeningTest {
  private final MutableClock clock = MutableClock.standard();
  private final Instant now = clock.instant();
  private final ModelGuard guard = JwtFixtures.guard(JwtFixtures.rsa().build(), clock);

  private GuardDecision call(String token) {
    return check(guard, token);
  }

  private static void assertRefused(GuardDecision d) {
    assertThat(d.isAllowed()).isFalse();
    assertThat(d.reason()).contains(ReasonCode.AUTH_INVALID_TOKEN);
  }

  private String valid() {
    return Tokens.rs256(Tokens.claims(now).with("tier", "pro"));
  }

  @Test
  void controlAValidTokenIsAccepted() {
    GuardDecision d = call(valid());

    assertThat(d.isAllowed()).isTrue();
    assertThat(d.principal()).map(Principal::subject).contains("alice");
  }

  @Nested
  class OnlySignedTokensWithAnAllowedAlgorithm {
    @ParameterizedTest
    @ValueSource(strings = {"none", "None", "NONE", "nOnE"})
    void refusesAlgNoneInEveryCasing(String none) {
      String header = Tokens.json().with("alg", none).with("kid", "k1").text();
      String payload = Tokens.claims(now).text();
      String unsigned = Tokens.b64(header) + "." + Tokens.b64(payload) + ".";
      String withJunkSignature = unsigned + "c2lnbmF0dXJl";
      String withRealSignature = Tokens.b64(header) + "." + Tokens.b64(payload) + "."
          + Tokens.parts(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header, payload))[2];

      assertRefused(call(unsigned));
      assertRefused(call(withJunkSignature));
      assertRefused(call(withRealSignature));
    }

    @Test
    void refusesAnUnsignedToken() {
      String[] p = Tokens.parts(valid());

      assertRefused(call(p[0] + "." + p[1] + "."));
      assertRefused(call(p[0] + "." + p[1]));
    }

    @Test
    void refusesHs256SignedWithTheRsaPublicKeyAsSecret() {
      PublicKey pub = TestKeys.RSA.getPublic();
      String pem = "-----BEGIN PUBLIC KEY-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pub.getEncoded())
          + "\n-----END PUBLIC KEY-----\n";
      Tokens.Json claims = Tokens.claims(now).with("tier", "pro");
      for (byte[] secret : List.of(pub.getEncoded(), pem.getBytes(StandardCharsets.US_ASCII))) {
        String forged = Tokens.sign("HS256", new SecretKeySpec(secret, "HmacSHA256"), Tokens.header("HS256", "k1"), claims);
        assertRefused(call(forged));
      }
    }

    @Test
    void refusesRsaKeyConfusionEvenWhenHmacIsEnabledForAnotherSecret() {
      byte[] secret = TestKeys.secret(32);
      ModelGuard mixed = JwtFixtures.guard(JwtFixtures.rsa().hmacSecret("HS256", secret).build(), clock);
      String forged = Tokens.sign("HS256", new SecretKeySpec(TestKeys.RSA.getPublic().getEncoded(), "HmacSHA256"),
          Tokens.header("HS256", "k1"), Tokens.claims(now).with("tier", "pro"));
      String genuine = Tokens.sign("HS256", new SecretKeySpec(secret, "HmacSHA256"),
          Tokens.header("HS256", null), Tokens.claims(now).with("tier", "pro"));

      assertRefused(check(mixed, forged));
      assertThat(check(mixed, genuine).isAllowed()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"RS384", "RS512", "PS256", "ES256"})
    void refusesAlgorithmsOutsideTheAllowList(String alg) {
      ModelGuard onlyRs256 = JwtFixtures.guard(JwtFixtures.rsa().allowedAlgorithms("RS256").build(), clock);
      java.security.Key key = alg.startsWith("ES") ? TestKeys.EC_P256.getPrivate() : TestKeys.RSA.getPrivate();

      assertRefused(check(onlyRs256, Tokens.sign(alg, key, Tokens.header(alg, "k1"), Tokens.claims(now))));
    }

    @Test
    void refusesAJweEncryptedToOurPublicKey() {
      String jwe = Jwts.builder()
          .claims(Map.of("iss", JwtFixtures.ISSUER, "aud", JwtFixtures.AUDIENCE, "sub", "alice",
              "exp", now.plusSeconds(300).getEpochSecond()))
          .encryptWith(TestKeys.RSA.getPublic(), Jwts.KEY.RSA_OAEP_256, Jwts.ENC.A256GCM)
          .compact();

      assertThat(Tokens.parts(jwe)).hasSize(5);
      assertRefused(call(jwe));
    }

    @Test
    void refusesAContentOnlyJws() {
      String content = Tokens.sign("RS256", TestKeys.RSA.getPrivate(), Tokens.header("RS256", "k1").text(), "hello");

      assertRefused(call(content));
    }

    @Test
    void refusesDuplicateClaimNames() {
      String payload = "{\"iss\":\"" + JwtFixtures.ISSUER + "\",\"aud\":\"" + JwtFixtures.AUDIENCE
          + "\",\"sub\":\"alice\",\"sub\":\"admin\",\"exp\":" + now.plusSeconds(300).getEpochSecond() + "}";

      assertRefused(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), Tokens.header("RS256", "k1").text(), payload)));
    }

    @Test
    void refusesAHeaderOrPayloadThatGoesOnAfterItsJsonObject() {
      // jjwt reads the first JSON value of each segment and ignored what follows it.
      String header = Tokens.header("RS256", "k1").text();
      String claims = Tokens.claims(now).with("tier", "pro").text();

      assertRefused(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header + "{\"x\":1}", claims)));
      assertRefused(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header, claims + "{\"x\":1}")));
      assertRefused(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header, claims + "{\"sub\":\"admin\"}")));
      assertRefused(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header, claims + "]")));
      assertRefused(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header, claims + "garbage")));
      assertRefused(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header + " 1", claims)));
      assertThat(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header + " \r\n", claims + "\t \n")).isAllowed())
          .as("JSON whitespace around the object is allowed").isTrue();
      assertThat(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header, claims)).isAllowed()).as("control").isTrue();
      JwtAuthenticator jwt = JwtFixtures.rsa().build();
      try (LogCapture log = LogCapture.of(JwtAuthenticator.class, Level.DEBUG)) {
        jwt.authenticate(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header + "{}", claims), now);
        jwt.authenticate(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header, claims + "{}"), now);

        assertThat(log.messages()).containsExactly("JWT refused: " + Refusal.TRAILING_CONTENT,
            "JWT refused: " + Refusal.TRAILING_CONTENT);
      }
    }

    @Test
    void refusesUnknownCriticalHeaders() {
      Tokens.Json header = Tokens.header("RS256", "k1").with("crit", List.of("b64")).with("b64", false);

      assertRefused(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header, Tokens.claims(now))));
    }

    @Test
    void refusesAnEmptyOrNullCriticalList() {
      // RFC 7515 4.1.11: crit, when present, must be a list and not an empty one. jjwt reads both
      // of these as an absent crit.
      Tokens.Json claims = Tokens.claims(now).with("tier", "pro");

      assertRefused(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(),
          Tokens.header("RS256", "k1").with("crit", List.of()), claims)));
      assertRefused(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(),
          "{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":null}", claims.text())));
      assertThat(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), Tokens.header("RS256", "k1"), claims))
          .isAllowed()).as("control").isTrue();
    }

    @Test
    void refusesACompressedPayload() {
      Tokens.Json header = Tokens.header("RS256", "k1").with("zip", "DEF");

      assertRefused(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header, Tokens.claims(now))));
    }

    @Test
    void refusesAKeyOfTheWrongKindForTheAlgorithm() {
      // ES256 is allowed, but kid k1 is an RSA key: the key must suit the algorithm.
      String es = Tokens.sign("ES256", TestKeys.EC_P256.getPrivate(), Tokens.header("ES256", "k1"), Tokens.claims(now));

      assertRefused(call(es));
    }

    @Test
    void aKeyConfiguredWithAKidVerifiesOnlyTokensNamingItOrNoKid() {
      // The builder's promise: publicKey("k1", key) serves kid k1, and tokens without a kid.
      Tokens.Json claims = Tokens.claims(now).with("tier", "pro");
      assertRefused(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), Tokens.header("RS256", "zzz"), claims)));
      assertThat(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), Tokens.header("RS256", "k1"), claims)).isAllowed())
          .as("control").isTrue();
      assertThat(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(),
          Tokens.header("RS256", "k1").without("kid"), claims)).isAllowed()).isTrue();
      // A key configured without an id serves any kid.
      ModelGuard anyKid = JwtFixtures.guard(JwtAuthenticator.builder()
          .publicKey(TestKeys.RSA.getPublic()).issuer(JwtFixtures.ISSUER).audience(JwtFixtures.AUDIENCE).build(), clock);
      assertThat(check(anyKid, Tokens.sign("RS256", TestKeys.RSA.getPrivate(), Tokens.header("RS256", "zzz"),
          claims)).isAllowed()).isTrue();
    }

    @Test
    void refusesTheEcdsaZeroSignature() {
      ModelGuard ec = JwtFixtures.guard(JwtAuthenticator.builder().publicKey("e1", TestKeys.EC_P256.getPublic())
          .issuer(JwtFixtures.ISSUER).audience(JwtFixtures.AUDIENCE).build(), clock);
      String genuine = Tokens.sign("ES256", TestKeys.EC_P256.getPrivate(), Tokens.header("ES256", "e1"),
          Tokens.claims(now).with("tier", "pro"));
      String[] p = Tokens.parts(genuine);

      assertThat(check(ec, genuine).isAllowed()).isTrue();
      assertRefused(check(ec, p[0] + "." + p[1] + "." + Tokens.b64(new byte[64])));
    }
  }

  @Nested
  class KeysComeOnlyFromConfiguration {
    private WireMockServer attacker;
    private String base;

    @BeforeEach
    void startAttackerServer() {
      attacker = new WireMockServer(WireMockConfiguration.options().bindAddress("127.0.0.1").dynamicPort());
      attacker.start();
      base = "http://127.0.0.1:" + attacker.port();
      PublicJwk<?> jwk = Jwks.builder().key(TestKeys.RSA_ATTACKER.getPublic()).id("evil").build();
      attacker.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200)
          .withHeader("Content-Type", "application/json")
          .withBody("{\"keys\":[" + Jwks.json(jwk) + "]}")));
    }

    @AfterEach
    void stop() {
      attacker.stop();
    }

    private String signedByAttacker(Tokens.Json header) {
      return Tokens.sign("RS256", TestKeys.RSA_ATTACKER.getPrivate(), header, Tokens.claims(now).with("tier", "pro"));
    }

    @Test
    void neverFetchesFromJkuOrX5u() {
      for (String kid : new String[] {"evil", "k1", null}) {
        assertRefused(call(signedByAttacker(Tokens.header("RS256", kid).with("jku", base + "/jwks.json"))));
        assertRefused(call(signedByAttacker(Tokens.header("RS256", kid).with("x5u", base + "/cert.pem"))));
      }

      assertThat(attacker.findAll(anyRequestedFor(anyUrl()))).isEmpty();
    }

    @Test
    void neverFetchesAKidThatLooksLikeAUrlEvenWithAJwksSource() {
      JwksKeySource jwks = JwksKeySource.builder(URI.create(base + "/trusted/jwks.json")).clock(clock).build();
      jwks.lastFetch().join();
      ModelGuard withJwks = JwtFixtures.guard(JwtAuthenticator.builder().keySource(jwks)
          .issuer(JwtFixtures.ISSUER).audience(JwtFixtures.AUDIENCE).build(), clock);
      clock.advance(Duration.ofMinutes(1)); // past the refresh rate limit: unknown kids may fetch again

      assertRefused(check(withJwks, signedByAttacker(Tokens.header("RS256", base + "/evil/jwks.json")
          .with("jku", base + "/evil/jwks.json"))));
      jwks.lastFetch().join();

      // Only the configured URL was ever asked, never a URL from the token.
      assertThat(attacker.findAll(anyRequestedFor(anyUrl())))
          .extracting(r -> r.getUrl())
          .isNotEmpty()
          .allMatch("/trusted/jwks.json"::equals);
    }

    @Test
    void neverUsesAnEmbeddedJwk() {
      PublicJwk<?> jwk = Jwks.builder().key(TestKeys.RSA_ATTACKER.getPublic()).build();
      Map<String, Object> embedded = new com.fasterxml.jackson.databind.ObjectMapper().convertValue(jwk, Map.class);

      assertRefused(call(signedByAttacker(Tokens.header("RS256", "k1").with("jwk", embedded))));
      assertRefused(call(signedByAttacker(Tokens.header("RS256", null).with("jwk", embedded))));
    }

    @Test
    void neverUsesAnX5cCertificateChain() throws Exception {
      X509Certificate cert;
      try (InputStream in = resource("attacker-cert.pem")) {
        cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      }
      PrivateKey key = privateKey("attacker-key.pem");
      Tokens.Json header = Tokens.header("RS256", "k1")
          .with("x5c", List.of(Base64.getEncoder().encodeToString(cert.getEncoded())));
      String token = Tokens.sign("RS256", key, header, Tokens.claims(now).with("tier", "pro"));

      assertRefused(call(token));
      assertRefused(call(Tokens.sign("RS256", key, header.without("kid"), Tokens.claims(now))));
    }

    private InputStream resource(String name) {
      InputStream in = JwtHardeningTest.class.getResourceAsStream(name);
      assertThat(in).as(name).isNotNull();
      return in;
    }

    private PrivateKey privateKey(String name) throws Exception {
      String pem;
      try (InputStream in = resource(name)) {
        pem = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      }
      String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
      return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
    }
  }

  @Nested
  class TimeClaims {
    @Test
    void refusesATokenWithoutExpiry() {
      assertRefused(call(Tokens.rs256(Tokens.claims(now).with("tier", "pro").without("exp"))));
    }

    @Test
    void refusesAnExpiredTokenOnceTheSkewIsUsedUp() {
      Tokens.Json claims = Tokens.claims(now.minusSeconds(600)).with("tier", "pro").with("exp", now.minusSeconds(60));

      assertRefused(call(Tokens.rs256(claims)));
      assertThat(call(Tokens.rs256(claims.with("exp", now.minusSeconds(59)))).isAllowed())
          .as("within the default 60 s skew").isTrue();
    }

    @Test
    void refusesATokenNotValidYet() {
      Tokens.Json claims = Tokens.claims(now).with("tier", "pro");

      assertRefused(call(Tokens.rs256(claims.with("nbf", now.plusSeconds(61)))));
      assertThat(call(Tokens.rs256(claims.with("nbf", now.plusSeconds(60)))).isAllowed()).isTrue();
    }

    @Test
    void refusesATokenIssuedInTheFutureBeyondTheSkew() {
      Tokens.Json claims = Tokens.claims(now).with("tier", "pro").with("exp", now.plus(Duration.ofDays(3660)));

      assertRefused(call(Tokens.rs256(claims.with("iat", now.plus(Duration.ofDays(3650))))));
      assertRefused(call(Tokens.rs256(claims.with("iat", now.plusSeconds(61)))));
      assertThat(call(Tokens.rs256(claims.with("iat", now.plusSeconds(60)))).isAllowed()).isTrue();
    }

    @Test
    void refusesTimeClaimsThatAreNotNumbersOfSecondsInRange() {
      long wrap = 1L << 61; // times 1000 is 125 * 2^64: a date this far out, read as milliseconds, wraps to itself
      long in5min = now.getEpochSecond() + 300;
      assertThat(call(Tokens.rs256(claimsWith("exp", in5min))).isAllowed()).as("control").isTrue();

      assertRefused(call(Tokens.rs256(claimsWith("exp", in5min + wrap))));
      assertRefused(call(Tokens.rs256(claimsWith("iat", Long.MAX_VALUE))));
      assertRefused(call(Tokens.rs256(claimsWith("iat", now.getEpochSecond() + wrap))));
      assertRefused(call(Tokens.rs256(claimsWith("nbf", now.getEpochSecond() + wrap))));
      assertRefused(call(Tokens.rs256(claimsWith("iat", -1))));
      assertRefused(call(Tokens.rs256(claimsWith("exp", now.plusSeconds(300).toString()))));
      assertRefused(call(Tokens.rs256(claimsWith("nbf", "0"))));
      assertThat(call(Tokens.rs256(claimsWith("exp", in5min + 0.5))).isAllowed())
          .as("a NumericDate may have a fraction").isTrue();
      assertThat(call(Tokens.rs256(claimsWith("nbf", 0))).isAllowed()).as("1970 is in range").isTrue();
    }

    @Test
    void aFractionalNotBeforeOrIssuedAtCountsToTheInstantNotTheWholeSecond() {
      // jjwt reads a NumericDate's whole seconds only, so nbf or iat up to a second beyond
      // now + clockSkew passed: with no skew at all, a token whose nbf is 0.9 s away was accepted.
      ModelGuard exact = JwtFixtures.guard(JwtFixtures.rsa().clockSkew(Duration.ZERO).build(), clock);
      long s = now.getEpochSecond();

      assertRefused(check(exact, Tokens.rs256(claimsWith("nbf", s + 0.9))));
      assertRefused(check(exact, Tokens.rs256(claimsWith("iat", s + 0.9))));
      assertRefused(call(Tokens.rs256(claimsWith("nbf", s + 60.5))));
      assertRefused(call(Tokens.rs256(claimsWith("iat", s + 60.5))));
      assertThat(check(exact, Tokens.rs256(claimsWith("nbf", s))).isAllowed()).as("control").isTrue();
      assertThat(call(Tokens.rs256(claimsWith("nbf", s + 59.5))).isAllowed()).as("within the skew").isTrue();
      assertThat(check(exact, Tokens.rs256(claimsWith("exp", s + 0.5))).isAllowed())
          .as("exp half a second away: still valid").isTrue();
      assertThat(call(Tokens.rs256(claimsWith("nbf", new java.math.BigDecimal("1e-999999999")))).isAllowed())
          .as("a tiny fraction, read without dividing by ten to the billionth").isTrue();
    }

    /** Valid claims of a pro-tier token with one claim set to {@code value}. */
    private Tokens.Json claimsWith(String name, Object value) {
      return Tokens.claims(now).with("tier", "pro").with(name, value);
    }

    @Test
    void refusesATokenOlderThanTheMaximumAgeOrWithoutIat() {
      ModelGuard young = JwtFixtures.guard(JwtFixtures.rsa().maxTokenAge(Duration.ofHours(1)).build(), clock);
      Tokens.Json claims = Tokens.claims(now).with("tier", "pro").with("exp", now.plus(Duration.ofHours(10)));

      assertRefused(check(young, Tokens.rs256(claims.with("iat", now.minus(Duration.ofHours(2))))));
      assertRefused(check(young, Tokens.rs256(claims.without("iat"))));
      assertThat(check(young, Tokens.rs256(claims.with("iat", now.minus(Duration.ofMinutes(59))))).isAllowed()).isTrue();
    }
  }

  @Nested
  class IssuerAudienceAndType {
    @Test
    void refusesAnotherIssuerOrNone() {
      assertRefused(call(Tokens.rs256(Tokens.claims(now).with("tier", "pro").with("iss", "https://evil.test"))));
      assertRefused(call(Tokens.rs256(Tokens.claims(now).with("tier", "pro").without("iss"))));
    }

    @Test
    void refusesAnotherAudienceAsStringOrArray() {
      Tokens.Json claims = Tokens.claims(now).with("tier", "pro");

      assertRefused(call(Tokens.rs256(claims.with("aud", "billing"))));
      assertRefused(call(Tokens.rs256(claims.with("aud", List.of("billing", "search")))));
      assertRefused(call(Tokens.rs256(claims.without("aud"))));
      assertThat(call(Tokens.rs256(claims.with("aud", List.of("billing", JwtFixtures.AUDIENCE)))).isAllowed())
          .as("an aud array containing ours").isTrue();
    }

    @Test
    void refusesAnIdTokenWhenAccessTokensAreRequired() {
      ModelGuard at = JwtFixtures.guard(JwtFixtures.rsa().requireType("at+jwt").build(), clock);
      Tokens.Json claims = Tokens.claims(now).with("tier", "pro");
      java.util.function.Function<String, String> typed = typ -> Tokens.sign("RS256", TestKeys.RSA.getPrivate(),
          Tokens.header("RS256", "k1").with("typ", typ), claims);

      assertRefused(check(at, typed.apply("JWT")));
      assertRefused(check(at, typed.apply(null)));
      assertThat(check(at, typed.apply("at+jwt")).isAllowed()).isTrue();
      assertThat(check(at, typed.apply("application/AT+JWT")).isAllowed()).isTrue();
    }
  }

  @Nested
  class SizeAndShape {
    /** A correctly signed token padded with a claim to {@code length} characters. */
    private String signedTokenOfLength(int length) {
      Tokens.Json claims = Tokens.claims(now).with("tier", "pro").with("pad", "");
      int base = Tokens.rs256(claims).length();
      // 3 JSON bytes become 4 base64 characters.
      claims.with("pad", "x".repeat((length - base) * 3 / 4));
      String t = Tokens.rs256(claims);
      while (t.length() < length) {
        claims.with("pad", claims.get("pad") + "x");
        t = Tokens.rs256(claims);
      }
      while (t.length() > length) {
        String pad = (String) claims.get("pad");
        claims.with("pad", pad.substring(0, pad.length() - 1));
        t = Tokens.rs256(claims);
      }
      return t;
    }

    @Test
    void acceptsAValidTokenAtTheSizeCap() {
      String atCap = signedTokenOfLength(JwtAuthenticator.DEFAULT_MAX_TOKEN_LENGTH);

      assertThat(atCap).hasSizeLessThanOrEqualTo(JwtAuthenticator.DEFAULT_MAX_TOKEN_LENGTH);
      assertThat(call(atCap).isAllowed()).isTrue();
    }

    @Test
    void refusesAValidlySignedTokenJustOverTheCap() {
      String over = signedTokenOfLength(JwtAuthenticator.DEFAULT_MAX_TOKEN_LENGTH + 4);

      assertThat(over.length()).isGreaterThan(JwtAuthenticator.DEFAULT_MAX_TOKEN_LENGTH);
      assertRefused(call(over));
    }

    @Test
    void refusesAOneMebibyteTokenBeforeDecodingIt() {
      JwtFixtures.CountingKeySource keys = JwtFixtures.CountingKeySource.rsa();
      ModelGuard counted = JwtFixtures.guard(JwtAuthenticator.builder().keySource(keys)
          .issuer(JwtFixtures.ISSUER).audience(JwtFixtures.AUDIENCE).build(), clock);
      String huge = signedTokenOfLength(1024 * 1024); // correctly signed: only the cap can refuse it
      TestRequest request = TestRequest.bearer(huge);
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();

      long cpuBefore = threads.getCurrentThreadCpuTime();
      for (int i = 0; i < 1000; i++) {
        assertRefused(counted.check(request));
      }
      long cpuNanos = threads.getCurrentThreadCpuTime() - cpuBefore;

      assertThat(keys.lookups).hasValue(0);
      // The acceptance bound is "well under 1 ms each"; JMH measures it precisely (JwtBenchmark).
      assertThat(Duration.ofNanos(cpuNanos)).isLessThan(Duration.ofSeconds(1));
    }

    @ParameterizedTest
    @MethodSource("io.modelguard.authn.jwt.JwtHardeningTest#malformed")
    void refusesMalformedTokensWithoutLookingForAKey(String name, String token) {
      JwtFixtures.CountingKeySource keys = JwtFixtures.CountingKeySource.rsa();
      ModelGuard counted = JwtFixtures.guard(JwtAuthenticator.builder().keySource(keys).build(), clock);

      assertRefused(check(counted, token));
      assertThat(keys.lookups).hasValue(0);
    }

    @Test
    void refusesEveryOtherSpellingOfAValidToken() {
      String token = valid();
      String sig = Tokens.parts(token)[2];
      String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      char last = sig.charAt(sig.length() - 1);
      // RS256 signatures are 256 bytes: 342 characters, the last carrying 4 unused bits.
      String strayBits = token.substring(0, token.length() - 1) + alphabet.charAt(alphabet.indexOf(last) ^ 1);

      assertThat(call(token).isAllowed()).isTrue();
      assertRefused(call(token + "="));
      assertRefused(call(token + "=="));
      assertRefused(call(strayBits));
      assertRefused(call(token.replace('-', '+').replace('_', '/')));
    }
  }

  static Stream<Arguments> malformed() {
    String h = Tokens.b64("{\"alg\":\"RS256\",\"kid\":\"k1\"}");
    String p = Tokens.b64("{\"sub\":\"alice\"}");
    return Stream.of(
        Arguments.of("empty", ""),
        Arguments.of("one segment", h),
        Arguments.of("two segments", h + "." + p),
        Arguments.of("four segments", h + "." + p + ".c2ln.c2ln"),
        Arguments.of("empty header", "." + p + ".c2ln"),
        Arguments.of("empty payload", h + "..c2ln"),
        Arguments.of("dots only", ".."),
        Arguments.of("space inside", h + "." + p + ".c2 ln"),
        Arguments.of("standard base64 alphabet", h + "." + p + ".c2l+/w"),
        Arguments.of("padding", h + "=." + p + ".c2ln"),
        Arguments.of("impossible length", h + "." + p + ".c2lnb"),
        Arguments.of("non-ASCII", h + "." + p + ".c2lné"),
        Arguments.of("control character", h + "." + p + ".c2l\u0000"));
  }

  @Nested
  class Credentials {
    @Test
    void refusesTwoAuthorizationHeaders() {
      GuardDecision d = guard.check(TestRequest.bearer(valid()).header("Authorization", "Bearer " + valid()));

      assertRefused(d);
    }

    @Test
    void refusesABearerTokenTogetherWithAnApiKey() {
      assertRefused(guard.check(TestRequest.bearer(valid()).header("X-API-Key", "mg_live_whatever")));
    }

    @Test
    void neverReadsATokenFromTheQueryString() {
      GuardDecision d = guard.check(TestRequest.create().path("/v1/models/digits/predict?access_token=" + valid()));

      assertThat(d.reason()).contains(ReasonCode.AUTH_MISSING_CREDENTIALS);
    }

    @Test
    void abstainsOnOtherSchemesAndRefusesAnEmptyBearer() {
      assertThat(guard.check(TestRequest.create().header("Authorization", "Basic YWxpY2U6cHc=")).reason())
          .contains(ReasonCode.AUTH_MISSING_CREDENTIALS);
      assertRefused(guard.check(TestRequest.create().header("Authorization", "Bearer")));
      assertRefused(guard.check(TestRequest.create().header("Authorization", "Bearer   ")));
      assertThat(guard.check(TestRequest.create().header("Authorization", "bearer " + valid())).isAllowed())
          .as("the scheme is case-insensitive").isTrue();
    }
  }

  /** Every attack above, rendered: 401, the RFC 6750 challenge, the generic detail and nothing else. */
  @Test
  void everyRefusalRendersTheSameGenericProblem() throws IOException {
    List<String> attacks = new ArrayList<>();
    String[] v = Tokens.parts(valid());
    attacks.add(v[0] + "." + v[1] + ".");
    attacks.add(valid() + "=");
    attacks.add(Tokens.rs256(Tokens.claims(now).without("exp")));
    attacks.add(Tokens.rs256(Tokens.claims(now).with("iss", "https://evil.test")));
    attacks.add(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), Tokens.header("RS256", "k1").text(), "hello"));
    attacks.add(Tokens.sign("RS256", TestKeys.RSA_OTHER.getPrivate(), Tokens.header("RS256", "k1"), Tokens.claims(now)));
    attacks.add(Tokens.b64("{\"alg\":\"RS256\"") + "." + v[1] + "." + v[2]);
    attacks.add("x".repeat(1 << 20));
    String generic = ProblemRenderer.genericDetail(ReasonCode.AUTH_INVALID_TOKEN);

    for (String attack : attacks) {
      GuardDecision d = call(attack);
      ProblemResponse problem = ProblemRenderer.render(d);
      Map<?, ?> body = new com.fasterxml.jackson.databind.ObjectMapper()
          .readValue(new ByteArrayInputStream(problem.body()), Map.class);

      assertThat(problem.status()).isEqualTo(401);
      assertThat(problem.headers()).containsEntry("WWW-Authenticate",
          "Bearer realm=\"modelguard\", error=\"invalid_token\"");
      assertThat(body.get("code")).isEqualTo("auth.invalid_token");
      assertThat(body.get("detail")).as("detail for %s", attack.substring(0, Math.min(40, attack.length())))
          .isEqualTo(generic);
    }
  }
}
