package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.modelguard.DigitsRequest;
import io.modelguard.FailureMode;
import io.modelguard.GuardDecision;
import io.modelguard.LogCapture;
import io.modelguard.ModelGuard;
import io.modelguard.MutableClock;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.Tier;
import io.modelguard.authz.ModelAccessPolicy;
import io.modelguard.internal.LogPace;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * A principal whose tier the engine does not register (a typo in a token's tier claim, an API key
 * record naming a removed tier) is refused by the quota policy as ModelAccessPolicy refuses it,
 * rather than getting the default limits, or no limit at all, in place of its tier's.
 */
class QuotaUnknownTierTest {
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
  private static final Tier FREE = Tier.builder("free").models("digits")
      .limits(QuotaLimit.tokenBucket("burst", 2, Duration.ofMinutes(1))).build();

  /** A guard whose principals have tier {@code tier} (null: none), over {@code quota}, registering {@code tiers}. */
  private static ModelGuard guard(String tier, QuotaPolicy quota, FailureMode mode, Tier... tiers) {
    ModelGuard.Builder b = ModelGuard.builder().clock(CLOCK).auditLog(false).models("digits");
    for (Tier t : tiers) {
      b.tier(t);
    }
    return b.chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "token", ctx -> {
              Principal.Builder p = Principal.builder("u").tenant("acme");
              return GuardDecision.authenticated((tier == null ? p : p.tier(tier)).build());
            })
            .policy(Phase.QUOTA, "quota", quota, mode))
        .build();
  }

  private static QuotaPolicy unlimitedByDefault() {
    return QuotaPolicy.builder(InMemoryQuotaStore.builder().clock(CLOCK).build()).build();
  }

  private static QuotaPolicy defaultLimitOf100() {
    return QuotaPolicy.builder(InMemoryQuotaStore.builder().clock(CLOCK).build())
        .defaultLimits(QuotaLimit.tokenBucket("default", 100, Duration.ofMinutes(1))).build();
  }

  @Test
  void anUnknownTierIsRefusedInsteadOfGoingUnlimited() {
    ModelGuard guard = guard("fre", unlimitedByDefault(), FailureMode.CLOSED, FREE);

    for (int i = 0; i < 5; i++) {
      GuardDecision d = guard.check(new DigitsRequest());
      assertThat(d.isAllowed()).as("request %d: %s", i, d).isFalse();
      assertThat(d.reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
      // The operator learns why from the audit line, as from ModelAccessPolicy's refusal.
      assertThat(d.operatorNote()).contains(ModelAccessPolicy.NOTE_UNKNOWN_TIER);
    }
  }

  @Test
  void anUnknownTierIsRefusedInsteadOfGettingTheDefaultLimitsAlsoUnderAFailOpenStep() {
    ModelGuard guard = guard("removed", defaultLimitOf100(), FailureMode.OPEN, FREE);

    GuardDecision d = guard.check(new DigitsRequest());

    assertThat(d.reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(d.headers()).doesNotContainKeys("RateLimit", "RateLimit-Policy");
  }

  @Test
  void theRefusalIsModelAccessPolicysForAnUnknownTier() {
    ProblemResponse byQuota = ProblemRenderer.render(
        guard("fre", defaultLimitOf100(), FailureMode.CLOSED, FREE).check(new DigitsRequest()));
    ModelGuard withAccessPolicy = ModelGuard.builder().clock(CLOCK).auditLog(false).models("digits").tier(FREE)
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "token",
                ctx -> GuardDecision.authenticated(Principal.builder("u").tenant("acme").tier("fre").build()))
            .policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy()))
        .build();
    ProblemResponse byAccessPolicy = ProblemRenderer.render(withAccessPolicy.check(new DigitsRequest()));

    assertThat(byQuota.status()).isEqualTo(403);
    assertThat(byQuota.headers()).isEqualTo(byAccessPolicy.headers())
        .containsEntry("WWW-Authenticate", "Bearer error=\"insufficient_scope\", scope=\"model:digits:invoke\"");
    assertThat(byQuota.bodyAsString()).isEqualTo(byAccessPolicy.bodyAsString());
  }

  @Test
  void anUnknownTierIsLoggedAtErrorOnceAMinutePerTierName() {
    MutableClock clock = MutableClock.standard();
    QuotaPolicy quota = unlimitedByDefault();
    ModelGuard fre = ModelGuard.builder().clock(clock).auditLog(false).models("digits").tier(FREE)
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "token",
                ctx -> GuardDecision.authenticated(Principal.builder("u").tenant("acme").tier("fre").build()))
            .policy(Phase.QUOTA, "quota", quota))
        .build();
    try (LogCapture log = LogCapture.of(QuotaPolicy.class, Level.INFO)) {
      for (int i = 0; i < 3; i++) {
        fre.check(new DigitsRequest());
      }
      assertThat(log.messagesAt(Level.ERROR)).singleElement().asString()
          .contains("subject 'u'", "tenant 'acme'", "tier 'fre'", "does not register", "authz.model_forbidden",
              "model 'digits'", "at most once a minute per tier name; 0 more since the last");

      clock.advance(LogPace.INTERVAL);
      fre.check(new DigitsRequest());
      assertThat(log.messagesAt(Level.ERROR)).as("a minute on, told again").hasSize(2)
          .last().asString().contains("tier 'fre'", "2 more since the last");
    }
  }

  @Test
  void aPrincipalWithoutATierStillGetsTheDefaultLimitsOrNone() {
    ModelGuard limited = guard(null, QuotaPolicy.builder(InMemoryQuotaStore.builder().clock(CLOCK).build())
        .defaultLimits(QuotaLimit.tokenBucket("default", 1, Duration.ofMinutes(1))).build(), FailureMode.CLOSED, FREE);
    assertThat(limited.check(new DigitsRequest()).isAllowed()).isTrue();
    assertThat(limited.check(new DigitsRequest()).reason()).contains(ReasonCode.QUOTA_EXCEEDED);

    ModelGuard unlimited = guard(null, unlimitedByDefault(), FailureMode.CLOSED, FREE);
    for (int i = 0; i < 5; i++) {
      assertThat(unlimited.check(new DigitsRequest()).isAllowed()).isTrue();
    }
  }

  @Test
  void aKnownTierKeepsItsPlan() {
    ModelGuard guard = guard("free", defaultLimitOf100(), FailureMode.CLOSED, FREE);
    assertThat(guard.check(new DigitsRequest()).isAllowed()).isTrue();
    assertThat(guard.check(new DigitsRequest()).isAllowed()).isTrue();
    assertThat(guard.check(new DigitsRequest()).reason()).contains(ReasonCode.QUOTA_EXCEEDED);
  }

  @Test
  void anEngineThatRegistersNoTierGivesEveryPrincipalTheDefaultLimits() {
    // Tiers then come from credentials alone: no name can be told unknown.
    ModelGuard guard = guard("gold", QuotaPolicy.builder(InMemoryQuotaStore.builder().clock(CLOCK).build())
        .defaultLimits(QuotaLimit.tokenBucket("default", 1, Duration.ofMinutes(1))).build(), FailureMode.CLOSED);
    assertThat(guard.check(new DigitsRequest()).isAllowed()).isTrue();
    assertThat(guard.check(new DigitsRequest()).reason()).contains(ReasonCode.QUOTA_EXCEEDED);
  }
}
