package io.modelguard.test;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsonwebtoken.Jwts;
import io.modelguard.CredentialKind;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Policy;
import io.modelguard.RandomSource;
import io.modelguard.ReasonCode;
import io.modelguard.Tier;
import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.authn.ApiKeyHasher;
import io.modelguard.authn.ApiKeyIssuer;
import io.modelguard.authn.InMemoryApiKeyStore;
import io.modelguard.authn.IssuedApiKey;
import io.modelguard.authn.jwt.JwtAuthenticator;
import io.modelguard.authz.ModelAccessPolicy;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPolicy;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Bearer tokens through the whole engine, as an adapter sees them: the acceptance contract of the
 * JWT issue (200 / 403 naming the scope / 401 with the RFC 6750 challenge and a generic body), and
 * API keys and bearer tokens in one chain, in either order.
 */
class JwtAuthenticationTest {
  private static final String ISSUER = "https://idp.test/realms/ml";
  private static final String AUDIENCE = "modelguard";
  private static final KeyPair IDP = rsa();
  private static final KeyPair STRANGER = rsa();

  private final FakeClock clock = FakeClock.standard();
  private final ApiKeyHasher hasher = ApiKeyHasher.withPepper(pepper());
  private final InMemoryApiKeyStore store = new InMemoryApiKeyStore();
  private final IssuedApiKey apiKey = issueApiKey();
  private final JwtAuthenticator jwt = JwtAuthenticator.builder()
      .publicKey("idp-1", IDP.getPublic())
      .issuer(ISSUER)
      .audience(AUDIENCE)
      .build();

  private static KeyPair rsa() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] pepper() {
    byte[] p = new byte[32];
    RandomSource.seeded(5).nextBytes(p);
    return p;
  }

  private IssuedApiKey issueApiKey() {
    IssuedApiKey k = new ApiKeyIssuer(hasher, RandomSource.seeded(1), clock)
        .issue(ApiKeyFormat.Environment.LIVE, "svc", "acme", "pro", null);
    store.add(k.record());
    return k;
  }

  private ModelGuard guard(Policy... authenticators) {
    return ModelGuard.builder()
        .clock(clock)
        .auditLog(false)
        .models("digits", "iris")
        .tier(Tier.builder("free").models("digits").build())
        .tier(Tier.builder("pro").models("digits", "iris").build())
        .chain("default", c -> {
          for (int i = 0; i < authenticators.length; i++) {
            c.policy(Phase.AUTHENTICATE, "authn-" + i, authenticators[i]);
          }
          c.policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy());
        })
        .build();
  }

  private ApiKeyAuthenticator apiKeys() {
    return ApiKeyAuthenticator.builder(store, hasher).build();
  }

  private String token(String tier, Map<String, Object> extra) {
    return Jwts.builder()
        .header().keyId("idp-1").and()
        .issuer(ISSUER)
        .audience().add(AUDIENCE).and()
        .subject("alice")
        .claim("tenant", "acme")
        .claim("tier", tier)
        .claims(extra)
        .issuedAt(Date.from(clock.instant()))
        .expiration(Date.from(clock.instant().plus(Duration.ofMinutes(5))))
        .signWith(IDP.getPrivate(), Jwts.SIG.RS256)
        .compact();
  }

  private String token(String tier) {
    return token(tier, Map.of());
  }

  private static FakeRequest.Builder bearer(String token) {
    return FakeRequest.builder().header("Authorization", "Bearer " + token);
  }

  @Test
  void anIdpSubjectNamedLikeAnApiKeyTenantHasAQuotaOfItsOwn() {
    // Without a tenant claim the bare subject was the tenant: the IdP user "acme" spent the quota
    // of the API-key tenant acme (and would have shared its extraction history).
    InMemoryQuotaStore counts = InMemoryQuotaStore.builder().clock(clock).build();
    ModelGuard guard = ModelGuard.builder()
        .clock(clock)
        .auditLog(false)
        .models("digits")
        .tier(Tier.builder("pro").models("digits").limits(QuotaLimit.tokenBucket("burst", 2, Duration.ofMinutes(1)))
            .build())
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "api-key", apiKeys())
            .policy(Phase.AUTHENTICATE, "bearer", jwt)
            .policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy())
            .policy(Phase.QUOTA, "quota", QuotaPolicy.builder(counts).build()))
        .build();
    String subjectAcme = Jwts.builder()
        .header().keyId("idp-1").and()
        .issuer(ISSUER)
        .audience().add(AUDIENCE).and()
        .subject("acme")
        .claim("tier", "pro")
        .expiration(Date.from(clock.instant().plus(Duration.ofMinutes(5))))
        .signWith(IDP.getPrivate(), Jwts.SIG.RS256)
        .compact();

    GuardDecision first = guard.check(bearer(subjectAcme).model("digits").build());
    assertThat(first.principal().orElseThrow().tenant()).isEqualTo("jwt:" + ISSUER + "#acme");
    assertThat(guard.check(bearer(subjectAcme).model("digits").build()).isAllowed()).isTrue();
    assertThat(guard.check(bearer(subjectAcme).model("digits").build()).reason()).contains(ReasonCode.QUOTA_EXCEEDED);

    GuardDecision key = guard.check(FakeRequest.builder().header("X-API-Key", apiKey.key()).model("digits").build());
    assertThat(key.isAllowed()).as("the API-key tenant acme still has its whole quota").isTrue();
    assertThat(key.principal().orElseThrow().tenant()).isEqualTo("acme");
  }

  @Test
  void aValidTokenForAnAllowedModelPasses() {
    GuardDecision d = guard(jwt).check(bearer(token("pro")).model("iris").build());

    assertThat(d.isAllowed()).isTrue();
    assertThat(d.principal()).hasValueSatisfying(p -> {
      assertThat(p.subject()).isEqualTo("alice");
      assertThat(p.tenant()).isEqualTo("acme");
      assertThat(p.credentialKind()).isEqualTo(CredentialKind.BEARER_TOKEN);
    });
  }

  @Test
  void aModelOutsideTierIntersectClaimsIs403NamingTheScope() {
    String narrowed = token("pro", Map.of("scope", "model:digits:invoke"));

    GuardDecision d = guard(jwt).check(bearer(narrowed).model("iris").build());
    ProblemResponse problem = ProblemRenderer.render(d);

    assertThat(guard(jwt).check(bearer(narrowed).model("digits").build()).isAllowed()).isTrue();
    assertThat(problem.status()).isEqualTo(403);
    assertThat(problem.bodyAsString()).contains("\"code\":\"authz.model_forbidden\"");
    assertThat(problem.headers()).containsEntry("WWW-Authenticate",
        "Bearer error=\"insufficient_scope\", scope=\"model:iris:invoke\"");
  }

  @Test
  void aRejectedTokenIs401WithTheChallengeAndAGenericBody() {
    String forged = Jwts.builder().header().keyId("idp-1").and().issuer(ISSUER).audience().add(AUDIENCE).and()
        .subject("alice").claim("tier", "pro").expiration(Date.from(clock.instant().plusSeconds(300)))
        .signWith(STRANGER.getPrivate(), Jwts.SIG.RS256).compact();
    String expired = token("pro");
    clock.advance(Duration.ofMinutes(7));

    for (String t : List.of(forged, expired, "not-a-jwt")) {
      ProblemResponse problem = ProblemRenderer.render(guard(jwt).check(bearer(t).build()));

      assertThat(problem.status()).isEqualTo(401);
      assertThat(problem.headers()).containsEntry("WWW-Authenticate",
          "Bearer realm=\"modelguard\", error=\"invalid_token\"");
      assertThat(problem.bodyAsString()).isEqualTo("{\"type\":\"urn:modelguard:problem:auth.invalid_token\","
          + "\"title\":\"Invalid token\",\"status\":401,\"detail\":\"The bearer token is not valid.\","
          + "\"code\":\"auth.invalid_token\"}");
    }
  }

  @Test
  void oneChainAcceptsEitherCredentialKind() {
    for (ModelGuard g : List.of(guard(apiKeys(), jwt), guard(jwt, apiKeys()))) {
      assertThat(g.check(bearer(token("pro")).build()).principal())
          .hasValueSatisfying(p -> assertThat(p.credentialKind()).isEqualTo(CredentialKind.BEARER_TOKEN));
      assertThat(g.check(FakeRequest.builder().header("X-API-Key", apiKey.key()).build()).principal())
          .hasValueSatisfying(p -> assertThat(p.credentialKind()).isEqualTo(CredentialKind.API_KEY));
      assertThat(g.check(FakeRequest.builder().build()).reason()).contains(ReasonCode.AUTH_MISSING_CREDENTIALS);
    }
  }

  @Test
  void bothCredentialsInOneRequestAreRefusedInEitherChainOrderWhicheverIsValid() {
    String good = token("pro");
    String badToken = good.substring(0, good.length() - 2) + "AA";
    String badKey = ApiKeyFormat.assemble(ApiKeyFormat.Environment.LIVE, apiKey.record().keyId(), "C".repeat(32));
    JwtAuthenticator lenient = JwtAuthenticator.builder().publicKey("idp-1", IDP.getPublic()).issuer(ISSUER)
        .audience(AUDIENCE).otherCredentialHeaders().build(); // leaves the refusal to the engine and the API-key policy

    for (JwtAuthenticator bearerPolicy : List.of(jwt, lenient)) {
      for (ModelGuard g : List.of(guard(apiKeys(), bearerPolicy), guard(bearerPolicy, apiKeys()))) {
        for (String[] pair : new String[][] {{good, apiKey.key()}, {good, badKey}, {badToken, apiKey.key()},
            {badToken, badKey}}) {
          GuardDecision d = g.check(bearer(pair[0]).header("X-API-Key", pair[1]).build());

          assertThat(d.isAllowed()).as("token valid=%s, key valid=%s", pair[0] == good, pair[1] == apiKey.key())
              .isFalse();
          assertThat(ProblemRenderer.render(d).status()).isEqualTo(401);
        }
      }
    }
  }

  @Test
  void theQuotaOverrideClaimReachesThePrincipal() {
    GuardDecision d = guard(jwt).check(bearer(token("pro", Map.of("mg_quota", Map.of("perMinute", 600)))).build());

    assertThat(d.principal()).hasValueSatisfying(p ->
        assertThat(p.claims()).containsEntry(JwtAuthenticator.QUOTA_CLAIM, Map.of("perMinute", 600)));
  }
}
