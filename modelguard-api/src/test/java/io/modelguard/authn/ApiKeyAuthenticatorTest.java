package io.modelguard.authn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.CredentialKind;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.RandomSource;
import io.modelguard.ReasonCode;
import io.modelguard.authn.jwt.JwtAuthenticator;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The API-key policy alone in a chain (modelguard-test covers it together with the JWT policy):
 * one credential per request, whichever authenticators the chain holds.
 */
class ApiKeyAuthenticatorTest {
  private final Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
  private final ApiKeyHasher hasher = ApiKeyHasher.withPepper(pepper());
  private final InMemoryApiKeyStore store = new InMemoryApiKeyStore();
  private final IssuedApiKey key = new ApiKeyIssuer(hasher, RandomSource.seeded(3), clock)
      .issue(ApiKeyFormat.Environment.LIVE, "alice", "acme", "free", null);

  ApiKeyAuthenticatorTest() {
    store.add(key.record());
  }

  private static byte[] pepper() {
    byte[] p = new byte[32];
    RandomSource.seeded(5).nextBytes(p);
    return p;
  }

  private ModelGuard guard(ApiKeyAuthenticator apiKeys) {
    return ModelGuard.builder().clock(clock).auditLog(false)
        .chain("default", c -> c.policy(Phase.AUTHENTICATE, "api-key", apiKeys))
        .build();
  }

  @Test
  void aKeyIsNotIssuedForATenantAQuotaCannotCount() {
    ApiKeyIssuer issuer = new ApiKeyIssuer(hasher, RandomSource.seeded(4), clock);

    assertThat(issuer.issue(ApiKeyFormat.Environment.LIVE, "bob", "t".repeat(256), "free", null).record().tenant())
        .hasSize(256);
    assertThatThrownBy(() -> issuer.issue(ApiKeyFormat.Environment.LIVE, "bob", "t".repeat(257), "free", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tenant must be 1-256 characters");
  }

  @Test
  void aKeyIsNotIssuedForASubjectOrTierLongerThanATokensEither() {
    // Only the tenant was bounded: a subject or tier of any length reached the keys that remember
    // a client (the extraction defence's p:<tenant>:<subject>) and every audit line.
    ApiKeyIssuer issuer = new ApiKeyIssuer(hasher, RandomSource.seeded(4), clock);
    ApiKeyRecord longest = issuer.issue(ApiKeyFormat.Environment.LIVE, "s".repeat(256), "acme", "t".repeat(256), null)
        .record();

    assertThat(longest.subject()).hasSize(256);
    assertThat(longest.tier()).hasSize(256);
    assertThatThrownBy(() -> issuer.issue(ApiKeyFormat.Environment.LIVE, "s".repeat(257), "acme", "free", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("ApiKeyRecord.subject must be 1-256 characters, was 257");
    assertThatThrownBy(() -> issuer.issue(ApiKeyFormat.Environment.LIVE, "bob", "acme", "t".repeat(100_000), null))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("ApiKeyRecord.tier must be 1-256 characters, was 100000");
    assertThatThrownBy(() -> issuer.issue(ApiKeyFormat.Environment.LIVE, "bob", "acme", " ", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("ApiKeyRecord.tier must not be blank");
  }

  @Test
  void aKeyIsNotIssuedForATenantNamedLikeABearerTokensSubject() {
    // Tokens without a tenant claim are tenants named jwt:<iss>#<sub>: an API key of such a tenant
    // would share that token subject's quota and extraction history.
    ApiKeyIssuer issuer = new ApiKeyIssuer(hasher, RandomSource.seeded(4), clock);

    assertThatThrownBy(() -> issuer.issue(ApiKeyFormat.Environment.LIVE, "bob",
        JwtAuthenticator.SUBJECT_TENANT_PREFIX + "https://idp.example/#alice", "free", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ApiKeyRecord.tenant must not begin with 'jwt:'");
    assertThat(issuer.issue(ApiKeyFormat.Environment.LIVE, "bob", "acme-jwt:", "free", null).record().tenant())
        .isEqualTo("acme-jwt:");
  }

  @Test
  void aKeyIsNotIssuedForATenantBeginningJwtInAnyAsciiCase() {
    // Only "jwt:" was refused: a key for "JWT:https://idp.example/#alice" never shares that token
    // subject's quota (tenants match exactly), but logs, meters and case-folding stores read it so.
    ApiKeyIssuer issuer = new ApiKeyIssuer(hasher, RandomSource.seeded(4), clock);

    for (String tenant : new String[] {"JWT:https://idp.example/#alice", "Jwt:acme", "jwT:acme"}) {
      assertThatThrownBy(() -> issuer.issue(ApiKeyFormat.Environment.LIVE, "bob", tenant, "free", null))
          .as(tenant).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("ApiKeyRecord.tenant must not begin with 'jwt:' in any case or compatibility form (reserved "
              + "for tenants of bearer tokens without a tenant claim, and namespaced ones)");
    }
    assertThat(issuer.issue(ApiKeyFormat.Environment.LIVE, "bob", "JWT-team", "free", null).record().tenant())
        .isEqualTo("JWT-team");
  }

  @Test
  void aKeyIsNotIssuedForASubjectOrTenantNoPrincipalCanCarry() {
    // A blank subject, or a tenant of blanks, passed the record's checks, but a principal needs
    // both non-blank: every request with such a key threw out of the policy (internal.error, 500)
    // instead of being answered. Refused when the key is issued, as an uncountable tenant is.
    ApiKeyIssuer issuer = new ApiKeyIssuer(hasher, RandomSource.seeded(4), clock);

    assertThatThrownBy(() -> issuer.issue(ApiKeyFormat.Environment.LIVE, " ", "acme", "free", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("subject");
    assertThatThrownBy(() -> issuer.issue(ApiKeyFormat.Environment.LIVE, "bob", "   ", "free", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tenant");
  }

  @Test
  void aValidKeyAloneAuthenticates() {
    GuardDecision d = guard(ApiKeyAuthenticator.builder(store, hasher).build()).check(TestRequest.create().header("X-API-Key", key.key()));

    assertThat(d.principal()).map(Principal::credentialKind).contains(CredentialKind.API_KEY);
  }

  @Test
  void ignoresSpacesAndTabsAroundTheKeyButNotControlCharacters() {
    // String.trim() dropped every character up to U+0020: a key with a NUL or ESC glued to it
    // authenticated, although the header the application behind the guard reads is another value.
    ModelGuard guard = guard(ApiKeyAuthenticator.builder(store, hasher).build());

    for (String value : List.of(" " + key.key(), key.key() + "\t", " \t" + key.key() + "  ")) {
      assertThat(guard.check(TestRequest.create().header("X-API-Key", value)).isAllowed()).as("OWS").isTrue();
    }
    for (String value : List.of(key.key() + "\u0000", "\u0001" + key.key(), key.key() + "\u001b", key.key() + "\r\n",
        "\u000b" + key.key())) {
      GuardDecision d = guard.check(TestRequest.create().header("X-API-Key", value));

      assertThat(d.isAllowed()).as("control character %04x", (int) (value.charAt(0) < ' ' ? value.charAt(0)
          : value.charAt(value.length() - 1))).isFalse();
      assertThat(d.reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
    }
  }

  @Test
  void refusesAValidKeyTogetherWithAnAuthorizationHeaderEvenIfTheChainHasNoBearerPolicy() {
    // The application behind the guard may read the Authorization header as the caller's
    // identity while the guard charged the key's owner: two credentials, refused as the bearer
    // policy refuses a token together with a key.
    ModelGuard apiKeyOnly = guard(ApiKeyAuthenticator.builder(store, hasher).build());

    for (String authorization : List.of("Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "Basic YWxpY2U6cHc=")) {
      GuardDecision d = apiKeyOnly.check(TestRequest.create().header("X-API-Key", key.key()).header("Authorization", authorization));

      assertThat(d.isAllowed()).as(authorization).isFalse();
      assertThat(d.reason()).contains(ReasonCode.AUTH_INVALID_TOKEN);
      assertThat(d.detail()).contains("Present exactly one credential.");
    }
  }

  @Test
  void theOtherCredentialHeadersAreConfigurable() {
    ModelGuard lenient = guard(ApiKeyAuthenticator.builder(store, hasher).otherCredentialHeaders().build());
    ModelGuard strict = guard(ApiKeyAuthenticator.builder(store, hasher).otherCredentialHeaders("X-Session").build());
    TestRequest withBearer = TestRequest.create().header("X-API-Key", key.key()).header("Authorization", "Bearer abc");

    assertThat(lenient.check(withBearer).isAllowed()).as("check turned off").isTrue();
    assertThat(strict.check(withBearer).isAllowed()).as("only X-Session counts").isTrue();
    assertThat(strict.check(TestRequest.create().header("X-API-Key", key.key()).header("X-Session", "s")).isAllowed())
        .isFalse();
    assertThatThrownBy(() -> ApiKeyAuthenticator.builder(store, hasher).otherCredentialHeaders("x-api-key"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ApiKeyAuthenticator.otherCredentialHeaders");
  }

  @Test
  void aProductionPolicyRefusesATestKeyAsItRefusesAWrongOne() {
    // Both environments were accepted everywhere: a test key leaked from a CI log authenticated
    // against production whenever its record sat in the same store.
    IssuedApiKey testKey = new ApiKeyIssuer(hasher, RandomSource.seeded(6), clock)
        .issue(ApiKeyFormat.Environment.TEST, "ci", "acme", "free", null);
    store.add(testKey.record());
    AtomicInteger lookups = new AtomicInteger();
    ApiKeyStore counting = id -> {
      lookups.incrementAndGet();
      return store.find(id);
    };
    ModelGuard production = guard(ApiKeyAuthenticator.builder(counting, hasher)
        .acceptedEnvironments(ApiKeyFormat.Environment.LIVE).build());
    GuardDecision bogus = production.check(TestRequest.create().header("X-API-Key", "mg_live_not-a-key"));

    GuardDecision refused = production.check(TestRequest.create().header("X-API-Key", testKey.key()));

    assertThat(refused.isAllowed()).isFalse();
    assertThat(refused.reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
    assertThat(lookups).as("refused right after parsing, before the hash and the lookup").hasValue(0);
    assertSameAnswer(refused, bogus);
    assertThat(production.check(TestRequest.create().header("X-API-Key", key.key())).isAllowed())
        .as("live keys still work").isTrue();
    assertThat(guard(ApiKeyAuthenticator.builder(store, hasher).build())
        .check(TestRequest.create().header("X-API-Key", testKey.key())).isAllowed())
        .as("default: both environments, as before").isTrue();
  }

  @Test
  void aTestOnlyPolicyRefusesLiveKeys() {
    ModelGuard staging = guard(ApiKeyAuthenticator.builder(store, hasher)
        .acceptedEnvironments(ApiKeyFormat.Environment.TEST).build());

    assertThat(staging.check(TestRequest.create().header("X-API-Key", key.key())).reason())
        .contains(ReasonCode.AUTH_INVALID_API_KEY);
  }

  @Test
  void acceptedEnvironmentsMustNameAtLeastOne() {
    assertThatThrownBy(() -> ApiKeyAuthenticator.builder(store, hasher).acceptedEnvironments())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ApiKeyAuthenticator.acceptedEnvironments");
    assertThatThrownBy(() -> ApiKeyAuthenticator.builder(store, hasher)
        .acceptedEnvironments(ApiKeyFormat.Environment.LIVE, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ApiKeyAuthenticator.acceptedEnvironments");
  }

  @Test
  void aTestKeyRewrittenAsALiveKeyMatchesNoRecord() {
    // The checksum is a public CRC, so anyone holding a test key can move its id and secret
    // under the live prefix with a valid checksum; the keyed hash covers the prefix, so the
    // record issued for the test key refuses it.
    IssuedApiKey testKey = new ApiKeyIssuer(hasher, RandomSource.seeded(6), clock)
        .issue(ApiKeyFormat.Environment.TEST, "ci", "acme", "free", null);
    store.add(testKey.record());
    String secret = testKey.key().substring(ApiKeyFormat.PREFIX.length() + 5 + ApiKeyFormat.KEY_ID_LENGTH,
        ApiKeyFormat.LENGTH - ApiKeyFormat.CHECKSUM_LENGTH);
    String rewritten = ApiKeyFormat.assemble(ApiKeyFormat.Environment.LIVE, testKey.record().keyId(), secret);
    ModelGuard production = guard(ApiKeyAuthenticator.builder(store, hasher)
        .acceptedEnvironments(ApiKeyFormat.Environment.LIVE).build());
    ModelGuard either = guard(ApiKeyAuthenticator.builder(store, hasher).build());

    assertThat(rewritten).startsWith("mg_live_").isNotEqualTo(testKey.key());
    assertThat(ApiKeyFormat.parse(rewritten)).map(ApiKeyFormat.Parsed::keyId).contains(testKey.record().keyId());
    assertThat(either.check(TestRequest.create().header("X-API-Key", testKey.key())).isAllowed()).isTrue();
    for (ModelGuard guard : List.of(production, either)) {
      GuardDecision d = guard.check(TestRequest.create().header("X-API-Key", rewritten));

      assertThat(d.reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
    }
  }

  private static void assertSameAnswer(GuardDecision actual, GuardDecision expected) {
    assertThat(actual.reason()).isEqualTo(expected.reason());
    assertThat(actual.detail()).isEqualTo(expected.detail());
    assertThat(actual.headers()).isEqualTo(expected.headers());
    assertThat(actual.challengeScope()).isEqualTo(expected.challengeScope());
    ProblemResponse a = ProblemRenderer.render(actual);
    ProblemResponse e = ProblemRenderer.render(expected);
    assertThat(a.status()).isEqualTo(401);
    assertThat(a.status()).isEqualTo(e.status());
    assertThat(a.headers()).isEqualTo(e.headers());
    assertThat(a.bodyAsString()).isEqualTo(e.bodyAsString());
  }
}
