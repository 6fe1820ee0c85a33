package io.modelguard.authn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.GuardDecision;
import io.modelguard.MisleadingNames;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.RandomSource;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An API key is never issued, nor its record made, for a subject, tenant or tier that would
 * display as another name (or not at all) in logs, meters and bills, nor for a tenant that folds
 * to a bearer token's derived tenant: refused at creation, naming the field, rather than on every
 * request the key makes.
 */
class ApiKeyRecordNameTest {
  private final Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
  private final ApiKeyHasher hasher = ApiKeyHasher.withPepper(pepper());
  private final ApiKeyIssuer issuer = new ApiKeyIssuer(hasher, RandomSource.seeded(7), clock);

  private static byte[] pepper() {
    byte[] p = new byte[32];
    RandomSource.seeded(5).nextBytes(p);
    return p;
  }

  private IssuedApiKey issue(String field, String name) {
    return issuer.issue(ApiKeyFormat.Environment.LIVE, field.equals("subject") ? name : "bob",
        field.equals("tenant") ? name : "acme", field.equals("tier") ? name : "free", null);
  }

  @Test
  void refusesAKeyWhoseSubjectTenantOrTierWouldMislead() {
    for (Map.Entry<String, String> e : MisleadingNames.MISLEADING.entrySet()) {
      for (String field : List.of("subject", "tenant", "tier")) {
        assertThatThrownBy(() -> issue(field, e.getValue())).as(field + " with " + e.getKey())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("ApiKeyRecord." + field + " must not contain control, format")
            .hasMessageNotContaining("acme").hasMessageNotContaining("emca");
      }
    }
    assertThatThrownBy(() -> issue("tenant", "acme\u200b")).hasMessage("ApiKeyRecord.tenant must not contain "
        + "control, format (bidirectional, zero-width), line or paragraph separator, lone surrogate or non-character "
        + "code points (found U+200B)");
  }

  @Test
  void refusesARecordMadeDirectlyWithSuchANameToo() {
    // A store of one's own makes records from its rows with the constructor, not the issuer.
    byte[] hash = new byte[32];
    assertThatThrownBy(() -> new ApiKeyRecord("abcdefghijkl", hash, "bob", "\u202eemca", "free", clock.instant(),
        null, false)).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("ApiKeyRecord.tenant");
    assertThatThrownBy(() -> new ApiKeyRecord("abcdefghijkl", hash, "bob\u0000", "acme", "free", clock.instant(),
        null, false)).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("ApiKeyRecord.subject");
    assertThatThrownBy(() -> new ApiKeyRecord("abcdefghijkl", hash, "bob", "acme", "free\u00ad", clock.instant(),
        null, false)).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("ApiKeyRecord.tier");
  }

  @Test
  void refusesATenantThatCompatibilityFoldingReadsAsABearerTokensDerivedTenant() {
    for (String tenant : List.of("\uff4awt:x", "\uff2a\uff37\uff34\uff1aacme", "jwt\uff1ahttps://idp.example/#alice")) {
      assertThatThrownBy(() -> issue("tenant", tenant)).as(tenant).isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("ApiKeyRecord.tenant must not begin with 'jwt:' in any case or compatibility form");
    }
    assertThat(issue("tenant", "\uff4awt-team").record().tenant()).isEqualTo("\uff4awt-team");
  }

  @Test
  void ordinaryNamesOfAnyScriptAreIssuedAndAuthenticateAsTheyAre() {
    InMemoryApiKeyStore store = new InMemoryApiKeyStore();
    ModelGuard guard = ModelGuard.builder().clock(clock).auditLog(false)
        .chain("default", c -> c.policy(Phase.AUTHENTICATE, "api-key",
            ApiKeyAuthenticator.builder(store, hasher).build()))
        .build();
    for (String name : MisleadingNames.ORDINARY) {
      IssuedApiKey key = issuer.issue(ApiKeyFormat.Environment.LIVE, name, name, name, null);
      store.add(key.record());

      GuardDecision d = guard.check(TestRequest.create().header("X-API-Key", key.key()));

      Principal p = d.principal().orElseThrow();
      assertThat(p.subject()).as(name).isEqualTo(name);
      assertThat(p.tenant()).as(name).isEqualTo(name);
      assertThat(p.tier()).as(name).contains(name);
    }
  }
}
