package io.modelguard.authn.jwt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.modelguard.GuardDecision;
import io.modelguard.LogCapture;
import io.modelguard.MisleadingNames;
import io.modelguard.ModelGuard;
import io.modelguard.MutableClock;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.authn.TestRequest;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import java.text.Normalizer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A {@code sub}, tenant or tier that would display as another name, or not at all, in logs,
 * meters, dashboards and bills: every sink escapes its characters, so it never merged two tenants,
 * but {@code acme} followed by a zero-width space read as {@code acme}, and a fullwidth {@code
 * ｊwt:acme} as a tenant derived from a token's subject. Refused as an invalid token, with the
 * generic answer; ordinary text of any script still passes, as it is.
 */
class JwtMisleadingNameTest {
  private final MutableClock clock = MutableClock.standard();
  private final JwtAuthenticator jwt = JwtFixtures.rsa().build();
  private final ModelGuard guard = JwtFixtures.guard(jwt, clock);

  private Tokens.Json claims() {
    return Tokens.claims(clock.instant()).with("tier", "free");
  }

  private Optional<Principal> authenticate(JwtAuthenticator a, Tokens.Json claims) {
    return a.authenticate(Tokens.rs256(claims), clock.instant());
  }

  @Test
  void refusesASubjectTenantOrTierHoldingEachKindOfMisleadingCharacter() {
    assertThat(authenticate(jwt, claims().with("tenant", "acme"))).as("control").isPresent();
    for (Map.Entry<String, String> e : MisleadingNames.MISLEADING.entrySet()) {
      if (e.getKey().startsWith("lone")) {
        continue; // UTF-8 turns it into '?' on the way to the token: see the next test
      }
      for (String claim : List.of("sub", "tenant", "tier")) {
        try (LogCapture log = LogCapture.of(JwtAuthenticator.class, Level.DEBUG)) {
          assertThat(authenticate(jwt, claims().with("tenant", "acme").with(claim, e.getValue())))
              .as(claim + " with " + e.getKey()).isEmpty();

          assertThat(log.messages()).as(claim + " with " + e.getKey())
              .containsExactly("JWT refused: " + Refusal.MISLEADING_NAME);
        }
      }
    }
  }

  @Test
  void refusesALoneSurrogateWhichOnlyAJsonEscapeCanCarry() {
    // Jackson decodes "\ud800" to a lone surrogate; UTF-8 itself cannot encode one.
    long exp = clock.instant().plusSeconds(300).getEpochSecond();
    for (String claim : List.of("sub", "tenant", "tier")) {
      for (String lone : List.of("\\ud800", "\\udfff", "acme\\udbff")) {
        String payload = "{\"iss\":\"" + JwtFixtures.ISSUER + "\",\"aud\":\"" + JwtFixtures.AUDIENCE
            + "\",\"exp\":" + exp + ",\"sub\":\"alice\",\"tenant\":\"acme\",\"tier\":\"free\"}";
        payload = payload.replace("\"" + claim + "\":\"", "\"" + claim + "\":\"" + lone);
        String token = Tokens.sign("RS256", TestKeys.RSA.getPrivate(), Tokens.header("RS256", "k1").text(), payload);

        assertThat(jwt.authenticate(token, clock.instant())).as(claim + " " + lone).isEmpty();
      }
    }
  }

  @Test
  void refusesAnIssuerThatWouldNameTheTenantOfATokenWithoutATenantClaim() {
    // Without a tenant claim the tenant is jwt:<iss>#<sub>: the issuer's characters become the tenant's.
    JwtAuthenticator anyIssuer = JwtAuthenticator.builder().publicKey("k1", TestKeys.RSA.getPublic())
        .audience(JwtFixtures.AUDIENCE).build();
    assertThat(authenticate(anyIssuer, claims().with("iss", "https://idp.example/")).orElseThrow().tenant())
        .as("control").isEqualTo("jwt:https://idp.example/#alice");

    assertThat(authenticate(anyIssuer, claims().with("iss", "https://idp.example/\u202e"))).isEmpty();
    assertThat(authenticate(anyIssuer, claims().with("iss", "https://idp.example/\u200b").with("tenant", "acme")))
        .as("an issuer that names no tenant is not read").isPresent();
  }

  @Test
  void theRefusalIsTheGenericInvalidTokenAnswerWithoutTheName() {
    GuardDecision refused = guard.check(TestRequest.bearer(Tokens.rs256(claims().with("tenant", "acme\u202etnuocca")))
        .model("digits"));
    GuardDecision garbled = guard.check(TestRequest.bearer(Tokens.rs256(claims()) + "x").model("digits"));

    assertThat(refused.isAllowed()).isFalse();
    assertThat(refused.reason()).contains(ReasonCode.AUTH_INVALID_TOKEN);
    ProblemResponse answer = ProblemRenderer.render(refused);
    ProblemResponse generic = ProblemRenderer.render(garbled);
    assertThat(answer.status()).isEqualTo(401);
    assertThat(answer.headers()).isEqualTo(generic.headers());
    assertThat(answer.bodyAsString()).isEqualTo(generic.bodyAsString()).doesNotContain("acme", "tnuocca");
  }

  @Test
  void refusesATenantThatCompatibilityFoldingReadsAsADerivedOne() {
    // Only ASCII "jwt:" in any case was reserved: a fullwidth "ｊwt:acme" passed, which NFKC (and
    // search, metric and billing stores that fold width) reads as the derived tenant "jwt:acme".
    List<String> lookalikes = List.of("\uff4awt:x", "\uff2a\uff37\uff34\uff1aacme", "jwt\uff1aacme",
        "\ud835\udc23wt:acme", "\u24d9wt:acme");
    for (String tenant : lookalikes) {
      try (LogCapture log = LogCapture.of(JwtAuthenticator.class, Level.DEBUG)) {
        assertThat(authenticate(jwt, claims().with("tenant", tenant))).as(tenant).isEmpty();

        assertThat(log.messages()).as(tenant).containsExactly("JWT refused: " + Refusal.RESERVED_TENANT);
      }
      assertThat(JwtAuthenticator.isReservedTenant(tenant)).as(tenant).isTrue();
    }
    assertThat(authenticate(JwtFixtures.rsa().tenantClaim("sub").build(), claims().with("sub", "\uff4awt:x")))
        .as("whichever claim holds the tenant").isEmpty();
    assertThat(authenticate(jwt, claims().with("tenant", "\uff4awt-team")).orElseThrow().tenant())
        .as("fullwidth but without the colon: kept as it is").isEqualTo("\uff4awt-team");
    assertThat(JwtAuthenticator.isReservedTenant("acme\uff1ajwt:")).as("not at the start").isFalse();
  }

  @Test
  void acceptsOrdinaryNamesOfAnyScriptAsTheyAreComposedOrDecomposed() {
    for (String name : MisleadingNames.ORDINARY) {
      Principal p = authenticate(jwt, claims().with("sub", name).with("tenant", name).with("tier", name)).orElseThrow();

      assertThat(p.subject()).as(name).isEqualTo(name);
      assertThat(p.tenant()).as(name).isEqualTo(name);
      assertThat(p.tier()).as(name).contains(name);
    }
    String nfc = authenticate(jwt, claims().with("tenant", "josé")).orElseThrow().tenant();
    String nfd = authenticate(jwt, claims().with("tenant", Normalizer.normalize("josé", Normalizer.Form.NFD)))
        .orElseThrow().tenant();
    assertThat(nfc).as("not normalised: two spellings, two tenants").isNotEqualTo(nfd).hasSize(4);
    assertThat(nfd).hasSize(5);
    GuardDecision yamada = guard.check(TestRequest.bearer(Tokens.rs256(claims().with("tenant", "山田"))).model("digits"));
    assertThat(yamada.isAllowed()).as("through the engine").isTrue();
  }

  @Test
  void aDefaultTierThatWouldMisleadIsRefusedWhenTheAuthenticatorIsBuilt() {
    assertThatThrownBy(() -> JwtFixtures.rsa().defaultTier("free\u200b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("JwtAuthenticator.defaultTier must not contain control, format (bidirectional, zero-width), "
            + "line or paragraph separator, lone surrogate or non-character code points (found U+200B)");
    assertThat(JwtFixtures.rsa().defaultTier("frée").build()).as("control").isNotNull();
  }
}
