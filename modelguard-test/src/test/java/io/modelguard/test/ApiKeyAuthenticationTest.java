package io.modelguard.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.CredentialKind;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.RandomSource;
import io.modelguard.ReasonCode;
import io.modelguard.Tier;
import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.authn.ApiKeyHasher;
import io.modelguard.authn.ApiKeyIssuer;
import io.modelguard.authn.ApiKeyRecord;
import io.modelguard.authn.InMemoryApiKeyStore;
import io.modelguard.authn.IssuedApiKey;
import io.modelguard.authz.ModelAccessPolicy;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiKeyAuthenticationTest {
  private final FakeClock clock = FakeClock.standard();
  private final RandomSource random = RandomSource.seeded(7);
  private final ApiKeyHasher hasher = ApiKeyHasher.withPepper(pepper());
  private final ApiKeyIssuer issuer = new ApiKeyIssuer(hasher, random, clock);
  private final InMemoryApiKeyStore store = new InMemoryApiKeyStore();
  private final ModelGuard guard = ModelGuard.builder()
      .clock(clock)
      .auditLog(true)
      .models("digits", "iris")
      .tier(Tier.builder("free").models("digits").build())
      .chain("default", c -> c
          .policy(Phase.AUTHENTICATE, "api-key", ApiKeyAuthenticator.builder(store, hasher).build())
          .policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy()))
      .build();

  private byte[] pepper() {
    byte[] p = new byte[32];
    RandomSource.seeded(99).nextBytes(p);
    return p;
  }

  private IssuedApiKey issue(String subject, java.time.Instant expiresAt) {
    IssuedApiKey k = issuer.issue(ApiKeyFormat.Environment.LIVE, subject, "acme", "free", expiresAt);
    store.add(k.record());
    return k;
  }

  private GuardDecision call(String... keys) {
    FakeRequest.Builder b = FakeRequest.builder();
    for (String k : keys) {
      b.header("X-API-Key", k);
    }
    return guard.check(b.build());
  }

  @Test
  void validKeyAuthenticatesAsItsOwner() {
    IssuedApiKey k = issue("alice", null);

    GuardDecision d = call(k.key());

    assertThat(d.isAllowed()).isTrue();
    Principal p = d.principal().orElseThrow();
    assertThat(p.subject()).isEqualTo("alice");
    assertThat(p.tenant()).isEqualTo("acme");
    assertThat(p.tier()).contains("free");
    assertThat(p.credentialKind()).isEqualTo(CredentialKind.API_KEY);
  }

  @Test
  void noKeyIsMissingCredentials() {
    assertThat(call().reason()).contains(ReasonCode.AUTH_MISSING_CREDENTIALS);
  }

  @Test
  void malformedKeysAreRefusedWithoutAStoreLookup() {
    int[] lookups = {0};
    ModelGuard counting = ModelGuard.builder().auditLog(false)
        .chain("default", c -> c.policy(Phase.AUTHENTICATE, "api-key",
            ApiKeyAuthenticator.builder(id -> {
              lookups[0]++;
              return store.find(id);
            }, hasher).build()))
        .build();
    String good = issue("alice", null).key();
    for (String bad : List.of("", "mg_live_", good.substring(1), good + "x", good.toUpperCase(),
        good.substring(0, good.length() - 1) + (good.endsWith("0") ? "1" : "0"), "Bearer " + good)) {
      assertThat(counting.check(FakeRequest.builder().header("X-API-Key", bad).build()).reason())
          .as("key %s", bad)
          .contains(ReasonCode.AUTH_INVALID_API_KEY);
    }
    assertThat(lookups[0]).isZero();
  }

  @Test
  void unknownKeyIsInvalid() {
    String never = issuer.issue(ApiKeyFormat.Environment.LIVE, "ghost", "acme", "free", null).key();
    assertThat(call(never).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
  }

  @Test
  void rightKeyIdWithAnotherSecretIsInvalid() {
    IssuedApiKey k = issue("alice", null);
    String forged = ApiKeyFormat.assemble(ApiKeyFormat.Environment.LIVE, k.record().keyId(), "A".repeat(32));

    assertThat(ApiKeyFormat.parse(forged)).isPresent();
    assertThat(call(forged).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
  }

  @Test
  void aProductionChainRefusesATestKeyExactlyAsABogusKey() {
    IssuedApiKey testKey = issuer.issue(ApiKeyFormat.Environment.TEST, "ci", "acme", "free", null);
    store.add(testKey.record());
    IssuedApiKey liveKey = issue("alice", null);
    ModelGuard production = ModelGuard.builder()
        .clock(clock)
        .auditLog(false)
        .models("digits")
        .tier(Tier.builder("free").models("digits").build())
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "api-key", ApiKeyAuthenticator.builder(store, hasher)
                .acceptedEnvironments(ApiKeyFormat.Environment.LIVE).build())
            .policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy()))
        .build();
    String unknownLive = issuer.issue(ApiKeyFormat.Environment.LIVE, "ghost", "acme", "free", null).key();

    GuardDecision refused = production.check(FakeRequest.builder().model("digits").header("X-API-Key", testKey.key()).build());

    assertThat(production.check(FakeRequest.builder().model("digits").header("X-API-Key", liveKey.key()).build())
        .isAllowed()).isTrue();
    assertThat(refused.reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
    for (String bogus : List.of("mg_live_garbage", unknownLive)) {
      GuardDecision wrong = production.check(FakeRequest.builder().model("digits").header("X-API-Key", bogus).build());
      ProblemResponse expected = ProblemRenderer.render(wrong);
      ProblemResponse actual = ProblemRenderer.render(refused);

      assertThat(refused.detail()).as(bogus).isEqualTo(wrong.detail());
      assertThat(actual.status()).as(bogus).isEqualTo(401).isEqualTo(expected.status());
      assertThat(actual.headers()).as(bogus).isEqualTo(expected.headers());
      assertThat(actual.bodyAsString()).as(bogus).isEqualTo(expected.bodyAsString());
    }
  }

  @Test
  void revokedKeyStopsWorkingAtOnce() {
    IssuedApiKey k = issue("alice", null);
    assertThat(call(k.key()).isAllowed()).isTrue();

    store.revoke(k.record().keyId());

    assertThat(call(k.key()).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
  }

  @Test
  void keyExpiresExactlyAtItsExpiry() {
    IssuedApiKey k = issue("alice", clock.instant().plus(Duration.ofMinutes(10)));
    clock.advance(Duration.ofMinutes(10).minusNanos(1));
    assertThat(call(k.key()).isAllowed()).isTrue();

    clock.advance(Duration.ofNanos(1));

    assertThat(call(k.key()).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
  }

  @Test
  void clientMayHoldSeveralKeysAndRotateOneOut() {
    IssuedApiKey old = issue("alice", null);
    IssuedApiKey fresh = issue("alice", null);
    assertThat(store.keysOf("alice")).hasSize(2);

    store.revoke(old.record().keyId());

    assertThat(call(old.key()).isAllowed()).isFalse();
    assertThat(call(fresh.key()).principal()).map(Principal::subject).contains("alice");
  }

  @Test
  void repeatedHeaderIsRefusedEvenIfBothKeysAreValid() {
    IssuedApiKey a = issue("alice", null);
    IssuedApiKey b = issue("bob", null);

    assertThat(call(a.key(), b.key()).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
  }

  @Test
  void keyInAnotherHeaderOrTheQueryStringIsNotACredential() {
    IssuedApiKey k = issue("alice", null);

    GuardDecision d = guard.check(FakeRequest.builder()
        .path("/v1/models/digits/predict?api_key=" + k.key())
        .header("Authorization", "ApiKey " + k.key())
        .build());

    assertThat(d.reason()).contains(ReasonCode.AUTH_MISSING_CREDENTIALS);
  }

  @Test
  void headerNameIsConfigurableButNeverAuthorization() {
    IssuedApiKey k = issue("alice", null);
    ModelGuard custom = ModelGuard.builder().auditLog(false)
        .chain("default", c -> c.policy(Phase.AUTHENTICATE, "api-key",
            ApiKeyAuthenticator.builder(store, hasher).header("X-Model-Key").build()))
        .build();

    assertThat(custom.check(FakeRequest.builder().header("x-model-key", k.key()).build()).isAllowed()).isTrue();
    assertThatThrownBy(() -> ApiKeyAuthenticator.builder(store, hasher).header("authorization"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ApiKeyAuthenticator.header");
  }

  @Test
  void tierDecidesWhichModelsTheKeyReaches() {
    IssuedApiKey k = issue("alice", null);

    assertThat(guard.check(FakeRequest.builder().model("digits").header("X-API-Key", k.key()).build()).isAllowed())
        .isTrue();
    GuardDecision iris = guard.check(FakeRequest.builder().model("iris").header("X-API-Key", k.key()).build());
    assertThat(iris.reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(iris.challengeScope()).contains("model:iris:invoke");
  }

  @Test
  void storedRecordHoldsNoPlaintextAndPrintsNoSecret() {
    IssuedApiKey k = issue("alice", null);
    ApiKeyRecord r = k.record();

    assertThat(new String(r.hash(), java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain(k.key());
    assertThat(r.hash()).isEqualTo(hasher.hash(k.key()));
    assertThat(r.toString()).doesNotContain(k.key().substring(20));
    assertThat(k.toString()).doesNotContain(k.key());
  }

  @Test
  void logsCarryNoKeyMaterial() {
    IssuedApiKey valid = issue("alice", null);
    IssuedApiKey revoked = issue("bob", null);
    store.revoke(revoked.record().keyId());
    String forged = ApiKeyFormat.assemble(ApiKeyFormat.Environment.LIVE, valid.record().keyId(), "B".repeat(32));
    List<String> sent = List.of(valid.key(), revoked.key(), forged, "mg_live_garbage-key-material-123");

    List<String> lines;
    try (LogCapture logs = LogCapture.all()) {
      for (String key : sent) {
        guard.check(FakeRequest.builder().header("X-API-Key", key).build());
        guard.check(FakeRequest.builder().model("iris").header("X-API-Key", key).build());
      }
      lines = logs.lines();
    }

    assertThat(lines).as("audit lines were produced").hasSizeGreaterThanOrEqualTo(sent.size() * 2);
    for (String key : sent) {
      String secretPart = key.length() >= 52 ? key.substring(20, 52) : key;
      assertThat(lines).noneMatch(l -> l.contains(key) || l.contains(secretPart));
    }
  }

  @Test
  void principalClaimsNarrowButNeverWidenTheTier() {
    ModelGuard g = ModelGuard.builder().auditLog(false)
        .models("digits", "iris")
        .tier(Tier.builder("pro").models("digits", "iris").build())
        .tier(Tier.builder("free").models("digits").build())
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "fixed", ctx -> GuardDecision.authenticated(
                Principal.builder("p").tier(ctx.request().header("X-Tier").orElseThrow())
                    .allowedModels(Set.of(ctx.request().header("X-Models").orElseThrow().split(",")))
                    .build()))
            .policy(Phase.AUTHORIZE, "access", new ModelAccessPolicy()))
        .build();

    assertThat(g.check(FakeRequest.builder().model("iris").header("X-Tier", "pro").header("X-Models", "digits").build())
        .reason()).as("claims narrow pro to digits").contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(g.check(FakeRequest.builder().model("iris").header("X-Tier", "free").header("X-Models", "digits,iris").build())
        .reason()).as("claims cannot widen free").contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(g.check(FakeRequest.builder().model("iris").header("X-Tier", "pro").header("X-Models", "iris").build())
        .isAllowed()).isTrue();
  }
}
