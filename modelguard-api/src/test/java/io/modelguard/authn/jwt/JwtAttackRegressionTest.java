package io.modelguard.authn.jwt;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import io.jsonwebtoken.security.Jwks;
import io.modelguard.GuardDecision;
import io.modelguard.LogCapture;
import io.modelguard.ModelGuard;
import io.modelguard.MutableClock;
import io.modelguard.ReasonCode;
import java.net.URI;
import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Attacks from the authentication review that {@link JwtHardeningTest} and {@link
 * JwksKeySourceTest} did not try yet, each refused: claims and header parameters of another JSON
 * type than the one checked, a nested token, and key sets that point elsewhere or hold keys no
 * algorithm may use.
 */
class JwtAttackRegressionTest {
  private final MutableClock clock = MutableClock.standard();
  private final Instant now = clock.instant();

  private Tokens.Json claims() {
    return Tokens.claims(now).with("tier", "pro");
  }

  @Nested
  class ForgedTokens {
    private final ModelGuard guard = JwtFixtures.guard(JwtFixtures.rsa().build(), clock);

    private GuardDecision call(String token) {
      return JwtFixtures.check(guard, token);
    }

    private void assertRefused(String token) {
      GuardDecision d = call(token);
      assertThat(d.isAllowed()).as(token).isFalse();
      assertThat(d.reason()).contains(ReasonCode.AUTH_INVALID_TOKEN);
    }

    @Test
    void refusesAnIssuerArrayEvenIfItHoldsOnlyTheTrustedIssuer() {
      // An array is not a StringOrURI: read as its one element it would pass the issuer check.
      assertRefused(Tokens.rs256(claims().with("iss", List.of(JwtFixtures.ISSUER))));
      assertRefused(Tokens.rs256(claims().with("iss", List.of(JwtFixtures.ISSUER, "https://evil.test"))));
      assertThat(call(Tokens.rs256(claims())).isAllowed()).as("control").isTrue();
    }

    @Test
    void refusesANestedTokenWhoseInnerTokenIsValid() {
      // RFC 7519 section 5.2: cty JWT means the payload is another JWT. Verifying only the outer
      // signature and then trusting the inner claims would accept an inner token no key signed.
      String inner = Tokens.rs256(claims());
      String unsignedInner = inner.substring(0, inner.lastIndexOf('.') + 1) + Tokens.b64(new byte[256]);

      for (String payload : List.of(inner, unsignedInner)) {
        assertRefused(Tokens.sign("RS256", TestKeys.RSA.getPrivate(),
            Tokens.header("RS256", "k1").with("cty", "JWT").text(), payload));
      }
      assertThat(call(inner).isAllowed()).as("control").isTrue();
    }

    @Test
    void refusesAKidThatIsNotAString() {
      // (A kid of JSON null reads as no kid: the one suitable key, which the signature must match.)
      for (String kid : List.of("1", "[\"k1\"]", "{\"kid\":\"k1\"}", "true")) {
        assertRefused(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), "{\"alg\":\"RS256\",\"kid\":" + kid + "}",
            claims().text()));
      }
      assertThat(call(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), "{\"alg\":\"RS256\",\"kid\":\"k1\"}",
          claims().text())).isAllowed()).as("control").isTrue();
    }

    @Test
    void refusesAnAlgThatIsNotAString() {
      for (String alg : List.of("[\"RS256\"]", "{\"alg\":\"RS256\"}", "null")) {
        assertRefused(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), "{\"alg\":" + alg + ",\"kid\":\"k1\"}",
            claims().text()));
      }
    }

    @Test
    void refusesAHeaderNestedThousandsDeepWithoutFailingTheRequest() {
      // Parsed before any signature is checked: it must end in a refusal, not a stack overflow.
      String header = "{\"alg\":\"RS256\",\"kid\":\"k1\",\"x\":" + "[".repeat(3000) + "]".repeat(3000) + "}";
      assertRefused(Tokens.sign("RS256", TestKeys.RSA.getPrivate(), header, claims().text()));
    }
  }

  @Nested
  class KeySets {
    private static final String PATH = "/jwks";
    private WireMockServer idp;
    private LogCapture log;

    @BeforeEach
    void start() {
      idp = new WireMockServer(WireMockConfiguration.options().bindAddress("127.0.0.1").dynamicPort());
      idp.start();
      log = LogCapture.of(JwksKeySource.class, Level.INFO);
    }

    @AfterEach
    void stop() {
      log.close();
      idp.stop();
    }

    private URI uri(String path) {
      return URI.create("http://127.0.0.1:" + idp.port() + path);
    }

    private void serve(String path, String... members) {
      idp.stubFor(get(path).willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
          .withBody("{\"keys\":[" + String.join(",", members) + "]}")));
    }

    private JwksKeySource started(String path) {
      // Generous timeouts: on a loaded machine the first fetch of a JVM can take seconds, and a
      // fetch that timed out would pass the refusals below for the wrong reason.
      JwksKeySource source = JwksKeySource.builder(uri(path)).clock(clock)
          .connectTimeout(Duration.ofSeconds(30)).readTimeout(Duration.ofSeconds(30)).build();
      source.lastFetch().join();
      return source;
    }

    private JwtAuthenticator authenticator(JwksKeySource source, String... algorithms) {
      return JwtAuthenticator.builder().keySource(source).allowedAlgorithms(algorithms)
          .issuer(JwtFixtures.ISSUER).audience(JwtFixtures.AUDIENCE).verifiedTokenCacheSize(0).build();
    }

    private static String jwk(String kid, RSAPublicKey key) {
      return Jwks.json(Jwks.builder().key(key).id(kid).build());
    }

    private static String jwk(String kid, ECPublicKey key) {
      return Jwks.json(Jwks.builder().key(key).id(kid).build());
    }

    @Test
    void skipsWeakRsaOffCurveEcAndKeysPinnedToAnotherKindOfAlgorithm() throws Exception {
      KeyPair weak = TestKeys.rsa(1024);
      ObjectMapper json = new ObjectMapper();
      @SuppressWarnings("unchecked")
      Map<String, Object> point = json.readValue(jwk("off", (ECPublicKey) TestKeys.EC_P256.getPublic()), Map.class);
      byte[] y = Base64.getUrlDecoder().decode((String) point.get("y"));
      y[y.length - 1] ^= 1; // now (x, y) is not on P-256
      point.put("y", Tokens.b64(y));
      String pinnedToRsa = jwk("pinned", (ECPublicKey) TestKeys.EC_P256.getPublic())
          .replace("\"kid\":\"pinned\"", "\"kid\":\"pinned\",\"alg\":\"RS256\"");
      serve(PATH, jwk("weak", (RSAPublicKey) weak.getPublic()), json.writeValueAsString(point), pinnedToRsa,
          jwk("k1", (RSAPublicKey) TestKeys.RSA.getPublic()));
      JwksKeySource source = started(PATH);
      JwtAuthenticator jwt = authenticator(source, "RS256", "ES256");

      assertThat(source.keyIds()).containsExactly("k1");
      assertThat(log.messagesAt(Level.WARN)).anyMatch(w -> w.contains("keys[0] skipped"))
          .anyMatch(w -> w.contains("keys[1] skipped")).anyMatch(w -> w.contains("keys[2] skipped"));
      assertThat(jwt.authenticate(Tokens.sign("RS256", weak.getPrivate(), Tokens.header("RS256", "weak"), claims()),
          now)).isEmpty();
      assertThat(jwt.authenticate(Tokens.sign("ES256", TestKeys.EC_P256.getPrivate(),
          Tokens.header("ES256", "pinned"), claims()), now)).isEmpty();
      assertThat(jwt.authenticate(Tokens.rs256(claims()), now)).as("control").isPresent();
    }

    @Test
    void neverFetchesAnX5uOrJkuThatAKeySetMemberNames() {
      String member = jwk("k1", (RSAPublicKey) TestKeys.RSA.getPublic()).replace("\"kid\":\"k1\"",
          "\"kid\":\"k1\",\"x5u\":\"" + uri("/x5u") + "\",\"jku\":\"" + uri("/jku") + "\"");
      serve(PATH, member);
      JwksKeySource source = started(PATH);

      assertThat(authenticator(source, "RS256").authenticate(Tokens.rs256(claims()), now)).isPresent();
      assertThat(idp.countRequestsMatching(getRequestedFor(urlEqualTo("/x5u")).build()).getCount()).isZero();
      assertThat(idp.countRequestsMatching(getRequestedFor(urlEqualTo("/jku")).build()).getCount()).isZero();
    }

    @Test
    void doesNotFollowARedirectToAnotherKeySet() {
      // Whoever can make the IdP's URL redirect (an open redirect, a compromised path) must not
      // choose the key set: the attacker's keys wait at the Location.
      serve("/attacker", jwk("k1", (RSAPublicKey) TestKeys.RSA_ATTACKER.getPublic()));
      idp.stubFor(get(PATH).willReturn(aResponse().withStatus(302).withHeader("Location", "/attacker")));
      JwksKeySource source = started(PATH);

      assertThat(source.hasKeys()).isFalse();
      assertThat(idp.countRequestsMatching(getRequestedFor(urlEqualTo("/attacker")).build()).getCount()).isZero();
      assertThat(authenticator(source, "RS256").authenticate(Tokens.sign("RS256", TestKeys.RSA_ATTACKER.getPrivate(),
          Tokens.header("RS256", "k1"), claims()), now)).isEmpty();
      assertThat(log.messagesAt(Level.WARN)).anyMatch(w -> w.contains("HTTP status 302"));
    }
  }
}
