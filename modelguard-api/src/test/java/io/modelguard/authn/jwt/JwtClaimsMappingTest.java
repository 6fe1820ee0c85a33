package io.modelguard.authn.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.modelguard.CredentialKind;
import io.modelguard.GuardDecision;
import io.modelguard.LogCapture;
import io.modelguard.ModelGuard;
import io.modelguard.MutableClock;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.authn.TestRequest;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Claims → {@link Principal}, and what {@code ModelAccessPolicy} then allows: tier ∩ claims. */
class JwtClaimsMappingTest {
  private final MutableClock clock = MutableClock.standard();
  private final JwtAuthenticator jwt = JwtFixtures.rsa().build();
  private final ModelGuard guard = JwtFixtures.guard(jwt, clock);

  private Principal principal(Tokens.Json claims) {
    return jwt.authenticate(Tokens.rs256(claims), clock.instant()).orElseThrow();
  }

  private Optional<Principal> maybe(JwtAuthenticator a, Tokens.Json claims) {
    return a.authenticate(Tokens.rs256(claims), clock.instant());
  }

  private Optional<Principal> maybe(JwtAuthenticator a, String token) {
    return a.authenticate(token, clock.instant());
  }

  private Tokens.Json claims() {
    return Tokens.claims(clock.instant());
  }

  private GuardDecision invoke(String model, Tokens.Json claims) {
    return guard.check(TestRequest.bearer(Tokens.rs256(claims)).model(model));
  }

  @Test
  void mapsTheDefaultClaims() {
    Principal p = principal(claims().with("tenant", "acme").with("tier", "pro")
        .with("scope", "openid model:digits:invoke"));

    assertThat(p.subject()).isEqualTo("alice");
    assertThat(p.tenant()).isEqualTo("acme");
    assertThat(p.tier()).contains("pro");
    assertThat(p.scopes()).containsExactlyInAnyOrder("openid", "model:digits:invoke");
    assertThat(p.allowedModels()).contains(Set.of("digits"));
    assertThat(p.credentialKind()).isEqualTo(CredentialKind.BEARER_TOKEN);
  }

  @Test
  void withoutATenantClaimTheSubjectIsATenantOfItsIssuerAndWithoutATierNoModelIsAllowed() {
    Principal p = principal(claims());

    assertThat(p.tenant()).isEqualTo("jwt:" + JwtFixtures.ISSUER + "#alice");
    assertThat(p.tier()).isEmpty();
    assertThat(invoke("digits", claims()).reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
  }

  @Test
  void aSubjectWithoutATenantClaimIsNeverAnApiKeysTenantNorAnotherIssuersSubject() {
    // The bare subject was the tenant: an IdP user named "acme" shared the quota and extraction
    // history of the API-key tenant "acme", and of the subject "acme" of any other issuer.
    String other = "https://other-idp.test/";
    JwtAuthenticator twoIssuers = JwtFixtures.rsa().issuer(other).build();

    Principal acme = maybe(twoIssuers, claims().with("sub", "acme")).orElseThrow();
    Principal otherAcme = maybe(twoIssuers, claims().with("sub", "acme").with("iss", other)).orElseThrow();

    assertThat(acme.subject()).isEqualTo("acme");
    assertThat(acme.tenant()).isNotEqualTo("acme").startsWith(JwtAuthenticator.SUBJECT_TENANT_PREFIX)
        .isEqualTo("jwt:https://idp.test/realms/ml#acme");
    assertThat(otherAcme.tenant()).isEqualTo("jwt:https://other-idp.test/#acme");
    assertThat(principal(claims().with("sub", "acme").with("tenant", "acme")).tenant())
        .as("an explicit tenant claim is kept as it is").isEqualTo("acme");
    assertThat(maybe(JwtFixtures.rsa().tenantClaim("sub").build(), claims().with("sub", "acme")).orElseThrow().tenant())
        .as("the bare subject, chosen explicitly").isEqualTo("acme");
  }

  @Test
  void aTenantClaimCannotNameTheTenantOfAnotherIssuersSubject() {
    // A tenant claim was taken as it was: a trusted issuer could write "jwt:<other iss>#alice" and
    // share the quota and extraction history of the other issuer's subject alice.
    String other = "https://other-idp.test/";
    JwtAuthenticator twoIssuers = JwtFixtures.rsa().issuer(other).build();
    String aliceAtOther = maybe(twoIssuers, claims().with("iss", other)).orElseThrow().tenant();
    assertThat(aliceAtOther).isEqualTo("jwt:https://other-idp.test/#alice");

    try (LogCapture log = LogCapture.of(JwtAuthenticator.class, Level.DEBUG)) {
      assertThat(maybe(twoIssuers, claims().with("sub", "mallory").with("tenant", aliceAtOther))).isEmpty();

      assertThat(log.messages()).containsExactly("JWT refused: " + Refusal.RESERVED_TENANT);
    }
    GuardDecision refused = invoke("digits", claims().with("tenant", "jwt:acme").with("tier", "free"));
    assertThat(refused.isAllowed()).isFalse();
    assertThat(refused.reason()).contains(ReasonCode.AUTH_INVALID_TOKEN);
    assertThat(maybe(JwtFixtures.rsa().tenantClaim("sub").build(), claims().with("sub", aliceAtOther)))
        .as("whichever claim holds the tenant").isEmpty();
    assertThat(principal(claims().with("tenant", "jwt-team")).tenant()).as("without the colon").isEqualTo("jwt-team");
    assertThat(principal(claims().with("tenant", "acme-jwt:")).tenant()).as("not at the start").isEqualTo("acme-jwt:");
    assertThat(invoke("digits", claims().with("tenant", "acme").with("tier", "free")).isAllowed()).as("control").isTrue();
  }

  @Test
  void aTenantClaimBeginningJwtInAnyAsciiCaseIsRefused() {
    // Only "jwt:" was refused: "JWT:https://other-idp.test/#alice" never shares the quota of the
    // derived tenant (tenants match exactly), but logs, meters and case-folding stores read it as that.
    try (LogCapture log = LogCapture.of(JwtAuthenticator.class, Level.DEBUG)) {
      assertThat(maybe(jwt, claims().with("tenant", "JWT:https://other-idp.test/#alice"))).isEmpty();

      assertThat(log.messages()).containsExactly("JWT refused: " + Refusal.RESERVED_TENANT);
    }
    assertThat(maybe(jwt, claims().with("tenant", "Jwt:acme"))).isEmpty();
    assertThat(maybe(jwt, claims().with("tenant", "jWt:acme"))).isEmpty();
    assertThat(maybe(JwtFixtures.rsa().tenantClaim("sub").build(), claims().with("sub", "JWT:acme")))
        .as("whichever claim holds the tenant").isEmpty();
    assertThat(principal(claims().with("tenant", "JWT-team")).tenant()).as("without the colon").isEqualTo("JWT-team");
    assertThat(JwtAuthenticator.isReservedTenant("JWT:")).isTrue();
    assertThat(JwtAuthenticator.isReservedTenant("jwt")).isFalse();
    assertThat(JwtAuthenticator.isReservedTenant("\uFF2AWT:acme"))
        .as("a fullwidth J: NFKC folds it (JwtMisleadingNameTest)").isTrue();
  }

  @Test
  void theIssuerPartOfASubjectTenantIsEncodedSoTwoIssuerSubjectPairsNeverMakeOneName() {
    // Without an issuer configured, any iss the trusted key writes is accepted: "https://a#b" with
    // subject "c" and "https://a" with subject "b#c" must still be two tenants.
    JwtAuthenticator anyIssuer = JwtAuthenticator.builder().publicKey("k1", TestKeys.RSA.getPublic())
        .audience(JwtFixtures.AUDIENCE).build();

    String hashInIssuer = maybe(anyIssuer, claims().with("iss", "https://a#b").with("sub", "c")).orElseThrow().tenant();
    String hashInSubject = maybe(anyIssuer, claims().with("iss", "https://a").with("sub", "b#c")).orElseThrow().tenant();
    String percent = maybe(anyIssuer, claims().with("iss", "https://a%23b").with("sub", "c")).orElseThrow().tenant();

    assertThat(hashInIssuer).isEqualTo("jwt:https://a%23b#c");
    assertThat(hashInSubject).isEqualTo("jwt:https://a#b#c");
    assertThat(percent).isEqualTo("jwt:https://a%2523b#c");
    assertThat(maybe(anyIssuer, claims().without("iss")).orElseThrow().tenant()).isEqualTo("jwt:#alice");
  }

  @Test
  void aTokenWithoutATenantClaimNeedsAnIssuerFitToNameItsTenant() {
    JwtAuthenticator anyIssuer = JwtAuthenticator.builder().publicKey("k1", TestKeys.RSA.getPublic())
        .audience(JwtFixtures.AUDIENCE).build();
    long exp = clock.instant().plusSeconds(300).getEpochSecond();
    String issNull = Tokens.sign("RS256", TestKeys.RSA.getPrivate(), Tokens.header("RS256", "k1").text(),
        "{\"iss\":null,\"aud\":\"" + JwtFixtures.AUDIENCE + "\",\"sub\":\"alice\",\"exp\":" + exp + "}");

    assertThat(maybe(anyIssuer, claims().with("iss", "i".repeat(246))).orElseThrow().tenant())
        .isEqualTo("jwt:" + "i".repeat(246) + "#alice");
    assertThat(maybe(anyIssuer, claims().with("iss", "i".repeat(257)))).as("too long").isEmpty();
    assertThat(maybe(anyIssuer, claims().with("iss", 42))).as("not a string").isEmpty();
    assertThat(maybe(anyIssuer, issNull)).as("null").isEmpty();
    assertThat(maybe(anyIssuer, claims().with("iss", " ")).orElseThrow().tenant())
        .as("blank: jjwt reads it as no issuer").isEqualTo("jwt:#alice");
    assertThat(maybe(anyIssuer, claims().with("iss", "i".repeat(257)).with("tenant", "acme")))
        .as("with a tenant claim the issuer names nothing").isPresent();
  }

  @Test
  void aTenantNamedAfterIssuerAndSubjectHasAtMost256CharactersAsEveryOtherTenant() {
    // iss and sub may each have 256 characters: their derived tenant reached 1,029 (every % and #
    // of the issuer encoded as three), four times what a tenant claim or an API key may name.
    JwtAuthenticator anyIssuer = JwtAuthenticator.builder().publicKey("k1", TestKeys.RSA.getPublic())
        .audience(JwtFixtures.AUDIENCE).build();
    String longest = "i".repeat(200);
    String subject = "s".repeat(256 - "jwt:".length() - longest.length() - "#".length());

    assertThat(maybe(anyIssuer, claims().with("iss", longest).with("sub", subject)).orElseThrow().tenant())
        .hasSize(256);
    try (LogCapture log = LogCapture.of(JwtAuthenticator.class, Level.DEBUG)) {
      assertThat(maybe(anyIssuer, claims().with("iss", longest).with("sub", subject + "s"))).isEmpty();

      assertThat(log.messages()).containsExactly("JWT refused: " + Refusal.TENANT_TOO_LONG);
    }
    assertThat(maybe(anyIssuer, claims().with("iss", "%#".repeat(128)).with("sub", "s".repeat(256))))
        .as("the longest name before: 1,029 characters").isEmpty();
    assertThat(maybe(anyIssuer, claims().with("iss", "%".repeat(83)).with("sub", "abc")))
        .as("each %% counts as the three characters it is encoded to: 4 + 249 + 1 + 3").isEmpty();
    assertThat(maybe(anyIssuer, claims().with("iss", "%".repeat(83)).with("sub", "ab")).orElseThrow().tenant())
        .hasSize(256);
    assertThat(maybe(anyIssuer, claims().without("iss").with("sub", "s".repeat(252)))).as("without iss").isEmpty();
    assertThat(maybe(anyIssuer, claims().with("iss", "%#".repeat(128)).with("sub", "s".repeat(256)).with("tenant", "acme")))
        .as("with a tenant claim nothing is derived").isPresent();
    GuardDecision refused = guard.check(TestRequest.bearer(Tokens.rs256(claims().with("sub", "s".repeat(256)))));
    assertThat(refused.reason()).contains(ReasonCode.AUTH_INVALID_TOKEN);
  }

  @Test
  void usesConfiguredClaimNamesAndDefaultTier() {
    JwtAuthenticator custom = JwtFixtures.rsa()
        .subjectClaim("client_id").tenantClaim("org").tierClaim("plan").modelsClaim("mg_models")
        .scopeClaims("permissions").defaultTier("free").build();

    Principal p = maybe(custom, claims().with("client_id", "svc-42").with("org", "acme").with("plan", "enterprise")
        .with("mg_models", List.of("iris")).with("permissions", List.of("model:iris:invoke", "read"))).orElseThrow();
    Principal defaults = maybe(custom, claims().with("client_id", "svc-43")).orElseThrow();

    assertThat(p.subject()).isEqualTo("svc-42");
    assertThat(p.tenant()).isEqualTo("acme");
    assertThat(p.tier()).contains("enterprise");
    assertThat(p.allowedModels()).contains(Set.of("iris"));
    assertThat(p.scopes()).containsExactlyInAnyOrder("model:iris:invoke", "read");
    assertThat(defaults.tier()).contains("free");
  }

  @Test
  void readsScopesFromAStringAndFromAnArray() {
    Principal p = principal(claims().with("scope", "a  b").with("scp", List.of("c", "model:iris:invoke")));

    assertThat(p.scopes()).containsExactlyInAnyOrder("a", "b", "c", "model:iris:invoke");
    assertThat(p.allowedModels()).contains(Set.of("iris"));
  }

  @Test
  void claimsNarrowTheTierNeverWidenIt() {
    // pro allows digits and iris.
    Tokens.Json pro = claims().with("tier", "pro");

    assertThat(invoke("iris", pro).isAllowed()).as("tier alone").isTrue();
    assertThat(invoke("iris", pro.with("models", List.of("digits"))).reason())
        .as("models claim narrows").contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(invoke("sentiment", claims().with("tier", "pro").with("models", List.of("sentiment"))).reason())
        .as("models claim cannot widen").contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(invoke("sentiment", claims().with("tier", "pro").with("scope", "model:sentiment:invoke")).reason())
        .as("scope cannot widen").contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(invoke("iris", claims().with("tier", "pro").with("scope", "model:digits:invoke")).reason())
        .as("scopes narrow").contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(invoke("digits", claims().with("tier", "pro").with("scope", "model:digits:invoke")).isAllowed()).isTrue();
  }

  @Test
  void withModelsAndModelScopesOnlyModelsNamedByBothRemain() {
    Principal p = principal(claims().with("models", List.of("digits", "iris"))
        .with("scope", "model:iris:invoke model:sentiment:invoke"));

    assertThat(p.allowedModels()).contains(Set.of("iris"));
  }

  @Test
  void anEmptyModelsClaimAllowsNoModelButScopesWithoutModelsDoNotNarrow() {
    assertThat(principal(claims().with("models", List.of())).allowedModels()).contains(Set.of());
    assertThat(principal(claims().with("scope", "openid profile")).allowedModels()).isEmpty();
    assertThat(invoke("digits", claims().with("tier", "pro").with("models", List.of())).reason())
        .contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
  }

  @Test
  void theForbiddenAnswerNamesTheMissingScope() {
    GuardDecision d = invoke("iris", claims().with("tier", "free"));

    assertThat(d.reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(d.challengeScope()).contains("model:iris:invoke");
  }

  @Test
  void copiesTheQuotaOverrideClaimAndNothingElse() {
    Principal p = principal(claims().with(JwtAuthenticator.QUOTA_CLAIM, Map.of("perMinute", 600, "perDay", 100_000))
        .with("email", "alice@example.com"));

    assertThat(p.claims()).containsOnlyKeys(JwtAuthenticator.QUOTA_CLAIM);
    assertThat(p.claims().get(JwtAuthenticator.QUOTA_CLAIM)).isEqualTo(Map.of("perMinute", 600, "perDay", 100_000));
  }

  @Test
  void copiesConfiguredClaims() {
    JwtAuthenticator a = JwtFixtures.rsa().copiedClaims("email", "roles").build();

    Principal p = maybe(a, claims().with("email", "alice@example.com").with("roles", List.of("admin"))
        .with(JwtAuthenticator.QUOTA_CLAIM, 5)).orElseThrow();

    assertThat(p.claims()).isEqualTo(Map.of("email", "alice@example.com", "roles", List.of("admin")));
  }

  @Test
  void refusesMappedClaimsOfTheWrongType() {
    assertThat(maybe(jwt, claims().with("sub", 42))).isEmpty();
    assertThat(maybe(jwt, claims().without("sub"))).isEmpty();
    assertThat(maybe(jwt, claims().with("sub", " "))).isEmpty();
    assertThat(maybe(jwt, claims().with("tenant", List.of("a", "b")))).isEmpty();
    assertThat(maybe(jwt, claims().with("tier", Map.of("name", "pro")))).isEmpty();
    assertThat(maybe(jwt, claims().with("models", List.of("digits", 7)))).isEmpty();
    assertThat(maybe(jwt, claims().with("models", 7))).isEmpty();
    assertThat(maybe(jwt, claims().with("scope", true))).isEmpty();
  }

  @Test
  void refusesMappedClaimsThatAreJsonNullRatherThanTreatingThemAsAbsent() {
    // jjwt drops members whose value is null, so "models": null read as no models claim at all:
    // a token restricted by a models claim (one the IdP's mapper filled with null) was granted
    // every model of its tier, and "tenant": null made the caller a tenant of its own, with its
    // own quota. Null is not an array, a string or a name: refused, as any other wrong type is.
    long exp = clock.instant().plusSeconds(300).getEpochSecond();
    java.util.function.Function<String, String> token = extra -> Tokens.sign("RS256", TestKeys.RSA.getPrivate(),
        Tokens.header("RS256", "k1").text(),
        "{\"iss\":\"" + JwtFixtures.ISSUER + "\",\"aud\":\"" + JwtFixtures.AUDIENCE
            + "\",\"sub\":\"alice\",\"tier\":\"pro\",\"exp\":" + exp + extra + "}");
    assertThat(guard.check(TestRequest.bearer(token.apply("")).model("iris")).isAllowed()).as("control").isTrue();
    assertThat(jwt.authenticate(token.apply(",\"email\":null"), clock.instant())).as("an unmapped null").isPresent();

    GuardDecision modelsNull = guard.check(TestRequest.bearer(token.apply(",\"models\":null")).model("iris"));
    assertThat(modelsNull.isAllowed()).as("models: null must not widen to the whole tier").isFalse();
    assertThat(modelsNull.reason()).contains(ReasonCode.AUTH_INVALID_TOKEN);
    for (String claim : List.of("tenant", "scope", "scp")) {
      assertThat(jwt.authenticate(token.apply(",\"" + claim + "\":null"), clock.instant())).as(claim).isEmpty();
    }
    assertThat(jwt.authenticate(token.apply(",\"tier\":null"), clock.instant()))
        .as("tier (after a string tier: a duplicate, refused by jjwt anyway)").isEmpty();
    String tierNull = Tokens.sign("RS256", TestKeys.RSA.getPrivate(), Tokens.header("RS256", "k1").text(),
        "{\"iss\":\"" + JwtFixtures.ISSUER + "\",\"aud\":\"" + JwtFixtures.AUDIENCE
            + "\",\"sub\":\"alice\",\"tier\":null,\"exp\":" + exp + "}");
    assertThat(maybe(JwtFixtures.rsa().defaultTier("free").build(), tierNull)).as("tier: null is not the default tier")
        .isEmpty();
  }

  @Test
  void refusesIdentitiesLongerThanAQuotaKeyPart() {
    // A longer tenant could not be counted: the quota policy would fail (500, or skip the quota
    // where it fails open) on a token the IdP signed.
    String longest = "t".repeat(256);
    assertThat(principal(claims().with("tenant", longest).with("sub", longest)).tenant()).isEqualTo(longest);
    assertThat(maybe(jwt, claims().with("tenant", longest + "t"))).isEmpty();
    assertThat(maybe(jwt, claims().with("sub", longest + "t"))).isEmpty();
    assertThat(invoke("digits", claims().with("tenant", longest + "t")).reason()).contains(ReasonCode.AUTH_INVALID_TOKEN);
  }
}
