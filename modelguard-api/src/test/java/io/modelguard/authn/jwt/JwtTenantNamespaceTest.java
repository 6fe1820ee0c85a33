package io.modelguard.authn.jwt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.modelguard.GuardContext;
import io.modelguard.GuardDecision;
import io.modelguard.LogCapture;
import io.modelguard.ModelGuard;
import io.modelguard.MutableClock;
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
import io.modelguard.authn.TestRequest;
import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPolicy;
import java.time.Duration;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Tenants of separate authenticators: one namespace by default (a tenant claim {@code acme} is the
 * same tenant whichever identity provider signed it, and the API-key tenant {@code acme}), apart
 * with {@link JwtAuthenticator.Builder#tenantNamespace(String)}. Through the real engine, with a
 * quota of two calls per tenant and model, two authenticators with their own keys and issuers, and
 * a router picking one by the token's {@code iss}, as the README suggests.
 */
class JwtTenantNamespaceTest {
  private static final String OTHER_ISSUER = "https://other-idp.test/";

  private final MutableClock clock = MutableClock.standard();

  /** IdP A: {@link TestKeys#RSA}, {@link JwtFixtures#ISSUER}. */
  private static JwtAuthenticator.Builder idpA() {
    return JwtFixtures.rsa();
  }

  /** IdP B: its own key ({@link TestKeys#RSA_OTHER}) and issuer. */
  private static JwtAuthenticator.Builder idpB() {
    return JwtAuthenticator.builder().publicKey("k1", TestKeys.RSA_OTHER.getPublic())
        .issuer(OTHER_ISSUER).audience(JwtFixtures.AUDIENCE);
  }

  private String tokenOfA(UnaryOperator<Tokens.Json> claims) {
    return Tokens.rs256(claims.apply(Tokens.claims(clock.instant()).with("tier", "free")));
  }

  private String tokenOfB(UnaryOperator<Tokens.Json> claims) {
    return Tokens.sign("RS256", TestKeys.RSA_OTHER.getPrivate(), Tokens.header("RS256", "k1"),
        claims.apply(Tokens.claims(clock.instant()).with("iss", OTHER_ISSUER).with("tier", "free")));
  }

  /** Sends each bearer token to A or B by its (unverified) {@code iss}; anything else to A. */
  private static Policy byIssuer(JwtAuthenticator a, JwtAuthenticator b) {
    return new Policy() {
      @Override
      public GuardDecision evaluate(GuardContext context) {
        Optional<String> auth = context.request().header("Authorization");
        boolean toB = auth.isPresent() && auth.get().startsWith("Bearer ")
            && OTHER_ISSUER.equals(Tokens.payload(auth.get().substring("Bearer ".length())).get("iss"));
        return (toB ? b : a).evaluate(context);
      }

      @Override
      public boolean mustFailClosed() {
        return true;
      }
    };
  }

  /** Tier free (digits), two calls per tenant and model, on a frozen clock; {@code authenticators} in order. */
  private ModelGuard guard(Policy... authenticators) {
    QuotaPolicy quota = QuotaPolicy.builder(InMemoryQuotaStore.builder().clock(clock).build()).build();
    return ModelGuard.builder().clock(clock).auditLog(false)
        .models("digits")
        .tier(Tier.builder("free").models("digits")
            .limits(QuotaLimit.tokenBucket("burst", 2, Duration.ofHours(1))).build())
        .chain("default", c -> {
          for (int i = 0; i < authenticators.length; i++) {
            c.policy(Phase.AUTHENTICATE, "authn-" + i, authenticators[i]);
          }
          c.policy(Phase.QUOTA, "quota", quota);
        })
        .build();
  }

  private static GuardDecision bearer(ModelGuard guard, String token) {
    return guard.check(TestRequest.bearer(token));
  }

  /** Sends {@code requests}, each of which must be allowed. */
  private static void spendQuota(ModelGuard guard, TestRequest... requests) {
    for (TestRequest r : requests) {
      GuardDecision d = guard.check(r);
      assertThat(d.isAllowed()).as("%s", d).isTrue();
    }
  }

  @Test
  void withoutNamespacesTwoAuthenticatorsShareATenantsQuota() {
    // The documented default: B's users can spend the quota of A's tenant acme.
    ModelGuard guard = guard(byIssuer(idpA().build(), idpB().build()));
    String a = tokenOfA(c -> c.with("tenant", "acme"));
    String b = tokenOfB(c -> c.with("tenant", "acme").with("sub", "mallory"));
    GuardDecision first = bearer(guard, a);
    GuardDecision second = bearer(guard, b);
    assertThat(first.isAllowed()).as("%s", first).isTrue();
    assertThat(second.isAllowed()).as("%s", second).isTrue();
    assertThat(first.principal().orElseThrow().tenant()).isEqualTo("acme");
    assertThat(second.principal().orElseThrow().tenant()).isEqualTo("acme");

    GuardDecision third = bearer(guard, a);

    assertThat(third.reason()).as("A's acme: its quota spent by B's token").contains(ReasonCode.QUOTA_EXCEEDED);
  }

  @Test
  void withNamespacesTheSameTenantClaimOfTwoAuthenticatorsIsTwoTenants() {
    ModelGuard guard = guard(byIssuer(idpA().tenantNamespace("idp-a").build(), idpB().tenantNamespace("idp-b").build()));
    String a = tokenOfA(c -> c.with("tenant", "acme"));
    String b = tokenOfB(c -> c.with("tenant", "acme").with("sub", "mallory"));

    spendQuota(guard, TestRequest.bearer(b), TestRequest.bearer(b));
    GuardDecision overOfB = bearer(guard, b);
    assertThat(overOfB.reason()).as("B's acme has spent its own quota").contains(ReasonCode.QUOTA_EXCEEDED);
    assertThat(overOfB.principal().orElseThrow().tenant()).isEqualTo("jwt:idp-b/acme");

    GuardDecision ofA = bearer(guard, a);
    assertThat(ofA.isAllowed()).as("A's acme has its own: %s", ofA).isTrue();
    assertThat(ofA.principal().orElseThrow().tenant()).isEqualTo("jwt:idp-a/acme");
  }

  @Test
  void aNamespacedTenantIsNotTheApiKeyTenantOfTheSameName() {
    ApiKeyHasher hasher = ApiKeyHasher.withPepper(new byte[] {
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
        30, 31, 32});
    InMemoryApiKeyStore store = new InMemoryApiKeyStore();
    IssuedApiKey key = new ApiKeyIssuer(hasher, RandomSource.seeded(1), clock)
        .issue(ApiKeyFormat.Environment.LIVE, "ci", "acme", "free", null);
    store.add(key.record());
    Policy apiKeys = ApiKeyAuthenticator.builder(store, hasher).build();
    TestRequest withKey = TestRequest.create().header("X-API-Key", key.key());
    String token = tokenOfA(c -> c.with("tenant", "acme"));

    ModelGuard shared = guard(apiKeys, idpA().build());
    spendQuota(shared, withKey, withKey);
    assertThat(bearer(shared, token).reason()).as("default: one tenant acme").contains(ReasonCode.QUOTA_EXCEEDED);

    ModelGuard apart = guard(apiKeys, idpA().tenantNamespace("idp-a").build());
    spendQuota(apart, withKey, withKey);
    assertThat(apart.check(withKey).reason()).contains(ReasonCode.QUOTA_EXCEEDED);
    GuardDecision ofToken = bearer(apart, token);
    assertThat(ofToken.isAllowed()).as("%s", ofToken).isTrue();
    assertThat(ofToken.principal().orElseThrow().tenant()).isEqualTo("jwt:idp-a/acme");
  }

  @Test
  void noTenantClaimCanNameANamespacedTenant() {
    JwtAuthenticator a = idpA().tenantNamespace("idp-a").build();
    JwtAuthenticator b = idpB().build();
    JwtAuthenticator bNamespaced = idpB().tenantNamespace("idp-b").build();
    String acmeOfA = a.authenticate(tokenOfA(c -> c.with("tenant", "acme")), clock.instant()).orElseThrow().tenant();
    assertThat(acmeOfA).isEqualTo("jwt:idp-a/acme");

    try (LogCapture log = LogCapture.of(JwtAuthenticator.class, Level.DEBUG)) {
      assertThat(b.authenticate(tokenOfB(c -> c.with("tenant", acmeOfA)), clock.instant())).isEmpty();
      assertThat(bNamespaced.authenticate(tokenOfB(c -> c.with("tenant", acmeOfA)), clock.instant())).isEmpty();
      assertThat(a.authenticate(tokenOfA(c -> c.with("tenant", "JWT:idp-a/acme")), clock.instant())).isEmpty();

      assertThat(log.messages()).containsOnly("JWT refused: " + Refusal.RESERVED_TENANT).hasSize(3);
    }
  }

  @Test
  void aTenantDerivedWithoutANamespaceNeverNamesANamespacedOne() {
    // Without a tenant claim, an authenticator accepting any iss names jwt:<iss>#<sub>: the issuer
    // "idp-a/acme" with subject "x" is jwt:idp-a/acme#x, the name the claim "acme#x" would take in
    // namespace idp-a without the encoding.
    JwtAuthenticator anyIssuer = JwtAuthenticator.builder().publicKey("k1", TestKeys.RSA_OTHER.getPublic()).build();
    String derived = anyIssuer.authenticate(tokenOfB(c -> c.with("iss", "idp-a/acme").with("sub", "x")),
        clock.instant()).orElseThrow().tenant();
    JwtAuthenticator a = idpA().tenantNamespace("idp-a").build();
    String claimed = a.authenticate(tokenOfA(c -> c.with("tenant", "acme#x")), clock.instant()).orElseThrow().tenant();

    assertThat(derived).isEqualTo("jwt:idp-a/acme#x");
    assertThat(claimed).isEqualTo("jwt:idp-a/acme%23x").isNotEqualTo(derived);
    assertThat(a.authenticate(tokenOfA(c -> c.with("tenant", "acme%23x")), clock.instant()).orElseThrow().tenant())
        .as("a claim spelling the encoding is another tenant").isEqualTo("jwt:idp-a/acme%2523x");
  }

  @Test
  void aTokenWithoutATenantClaimIsATenantOfItsIssuerAndSubjectInTheNamespace() {
    JwtAuthenticator a = idpA().tenantNamespace("idp-a").build();

    String derived = a.authenticate(tokenOfA(c -> c), clock.instant()).orElseThrow().tenant();

    assertThat(derived).isEqualTo("jwt:idp-a/jwt:" + JwtFixtures.ISSUER + "%23alice").doesNotContain("#");
    assertThat(a.authenticate(tokenOfA(c -> c.with("tenant", "jwt-" + JwtFixtures.ISSUER + "#alice")), clock.instant())
        .orElseThrow().tenant()).as("a claimed tenant is never jwt:<ns>/jwt:...").startsWith("jwt:idp-a/jwt-");
  }

  @Test
  void theNamespaceCountsTowardsTheBoundOf256Characters() {
    JwtAuthenticator a = idpA().tenantNamespace("idp-a").build(); // "jwt:idp-a/": 10 characters
    String longest = "t".repeat(246);

    assertThat(a.authenticate(tokenOfA(c -> c.with("tenant", longest)), clock.instant()).orElseThrow().tenant())
        .hasSize(256).isEqualTo("jwt:idp-a/" + longest);
    assertThat(a.authenticate(tokenOfA(c -> c.with("tenant", "#" + "t".repeat(243))), clock.instant()).orElseThrow()
        .tenant()).as("a # counts as its encoding, %23").hasSize(256);
    try (LogCapture log = LogCapture.of(JwtAuthenticator.class, Level.DEBUG)) {
      assertThat(a.authenticate(tokenOfA(c -> c.with("tenant", longest + "t")), clock.instant())).isEmpty();
      assertThat(a.authenticate(tokenOfA(c -> c.with("tenant", "#" + "t".repeat(244))), clock.instant())).isEmpty();
      // Derived: "jwt:" + issuer (26) + "#" + subject (sub of 215) is 246; namespaced, its # encoded: 258.
      assertThat(a.authenticate(tokenOfA(c -> c.with("sub", "s".repeat(215))), clock.instant())).isEmpty();

      assertThat(log.messages()).containsOnly("JWT refused: " + Refusal.NAMESPACED_TENANT_TOO_LONG).hasSize(3);
    }
    assertThat(a.authenticate(tokenOfA(c -> c.with("sub", "s".repeat(213))), clock.instant()).orElseThrow().tenant())
        .hasSize(256);
    GuardDecision refused = bearer(guard(a), tokenOfA(c -> c.with("tenant", longest + "t")));
    assertThat(refused.reason()).contains(ReasonCode.AUTH_INVALID_TOKEN);
  }

  @Test
  void theNamespaceIsValidatedWhenSet() {
    for (String bad : new String[] {"", "IdP-a", "idp/a", "idp#a", "idp%a", "idp a", "jwt:", "-idp", ".idp", "_idp",
        "i".repeat(33), "idp\u00e9", "idp\n"}) {
      assertThatThrownBy(() -> JwtAuthenticator.builder().tenantNamespace(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("JwtAuthenticator.tenantNamespace must be 1 to 32 lowercase ASCII letters, digits, "
              + "'.', '_' or '-', beginning with a letter or digit, was '");
    }
    assertThatThrownBy(() -> JwtAuthenticator.builder().tenantNamespace(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageEndingWith("was null");
    assertThatThrownBy(() -> JwtAuthenticator.builder().tenantNamespace("idp\n"))
        .hasMessageEndingWith("was 'idp?'");
    for (String good : new String[] {"a", "0", "idp-a", "login.example.com", "tenant_ns", "i".repeat(32)}) {
      assertThat(idpA().tenantNamespace(good).build().authenticate(tokenOfA(c -> c.with("tenant", "acme")),
          clock.instant()).orElseThrow().tenant()).as(good).isEqualTo("jwt:" + good + "/acme");
    }
  }
}
