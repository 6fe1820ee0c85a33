package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.Endpoint;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Policy;
import io.modelguard.Principal;
import io.modelguard.RateLimitItems;
import io.modelguard.ReasonCode;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The rate-limit fields of a request that more than one quota decides, on the real engine with real
 * {@link QuotaPolicy} instances over {@link InMemoryQuotaStore}s: one list per field, each policy
 * named once; fail-open answers report nothing; a released reservation is reported refunded.
 */
class MergedRateLimitTest {
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

  /** Authenticates every request as a user of tenant acme (no tier: each quota's default limits apply). */
  private static final Policy ACME = ctx -> GuardDecision.authenticated(Principal.builder("u").tenant("acme").build());

  /** Refuses a request whose {@code X-Invalid} header is set, as input validation would. */
  private static final Policy REFUSES_MARKED_INPUT = ctx -> ctx.request().header("X-Invalid").isPresent()
      ? GuardDecision.deny(ReasonCode.INPUT_INVALID)
      : GuardDecision.allow();

  private static InMemoryQuotaStore store() {
    return InMemoryQuotaStore.builder().clock(CLOCK).build();
  }

  private static QuotaPolicy quota(QuotaStore store, QuotaLimit... limits) {
    return QuotaPolicy.builder(store).defaultLimits(limits).build();
  }

  private static ModelGuard guard(Policy first, Policy second) {
    return ModelGuard.builder().clock(CLOCK).auditLog(false).models("digits")
        .chain("default", c -> c.policy(Phase.AUTHENTICATE, "acme", ACME)
            .policy(Phase.QUOTA, "first", first)
            .policy(Phase.QUOTA, "second", second)
            .policy(Phase.VALIDATE, "input", REFUSES_MARKED_INPUT))
        .build();
  }

  @Test
  void twoQuotasOfOneRequestAreReportedInOneListPerField() {
    ModelGuard guard = guard(quota(store(), QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1))),
        quota(store(), QuotaLimit.slidingWindow("daily", 1000, Duration.ofDays(1))));

    GuardDecision d = guard.check(new Call(false));

    assertThat(d.isAllowed()).isTrue();
    assertThat(d.headers())
        .containsEntry("RateLimit-Policy", "\"burst\";q=5;w=1, \"daily\";q=1000;w=86400")
        .containsEntry("RateLimit", "\"burst\";r=4;t=1, \"daily\";r=999;t=86400");
  }

  @Test
  void aRefusalByTheSecondQuotaKeepsTheFirstsTrueCountAndTheRefusersRetryAfter() {
    ModelGuard guard = guard(quota(store(), QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1))),
        quota(store(), QuotaLimit.tokenBucket("minute", 2, Duration.ofMinutes(1))));
    guard.check(new Call(false));
    guard.check(new Call(false));

    GuardDecision refused = guard.check(new Call(false));

    assertThat(refused.reason()).contains(ReasonCode.QUOTA_EXCEEDED);
    ProblemResponse problem = ProblemRenderer.render(refused);
    assertThat(problem.status()).isEqualTo(429);
    // "minute" refused: one unit every 30 s. "burst" charged its plain cost three times and says so.
    assertThat(problem.headers())
        .containsEntry("Retry-After", "30")
        .containsEntry("RateLimit-Policy", "\"burst\";q=5;w=1, \"minute\";q=2;w=60")
        .containsEntry("RateLimit", "\"burst\";r=2;t=1, \"minute\";r=0;t=60");
  }

  @Test
  void aNameTwoQuotasShareIsReportedOnceByTheMoreRestrictiveWhicheverRunsFirst() {
    ModelGuard tightFirst = guard(quota(store(), QuotaLimit.tokenBucket("burst", 3, Duration.ofSeconds(1))),
        quota(store(), QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1))));
    ModelGuard tightSecond = guard(quota(store(), QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1))),
        quota(store(), QuotaLimit.tokenBucket("burst", 3, Duration.ofSeconds(1))));

    for (ModelGuard guard : List.of(tightFirst, tightSecond)) {
      GuardDecision d = guard.check(new Call(false));
      assertThat(d.headers())
          .containsEntry("RateLimit-Policy", "\"burst\";q=3;w=1")
          .containsEntry("RateLimit", "\"burst\";r=2;t=1");
    }
  }

  @Test
  void aFailOpenAnswerReportsNoRateLimitFieldsAndLeavesAnotherQuotasItems() {
    QuotaStore failingOpen = ResilientQuotaStore.builder(new DownStore()).failurePolicy(FailurePolicy.failOpen())
        .clock(CLOCK).build();
    QuotaPolicy uncounted = quota(failingOpen, QuotaLimit.slidingWindow("daily", 1000, Duration.ofDays(1)));

    GuardDecision alone = guard(uncounted, ctx -> GuardDecision.allow()).check(new Call(false));
    assertThat(alone.isAllowed()).isTrue();
    assertThat(alone.headers()).doesNotContainKeys("RateLimit-Policy", "RateLimit");

    GuardDecision withAnother = guard(quota(store(), QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1))),
        uncounted).check(new Call(false));
    assertThat(withAnother.headers())
        .containsEntry("RateLimit-Policy", "\"burst\";q=5;w=1")
        .containsEntry("RateLimit", "\"burst\";r=4;t=1");
  }

  @Test
  void aReservationALaterPolicyReleasedIsReportedRefunded() {
    QuotaPolicy reserving = QuotaPolicy.builder(store())
        .defaultLimits(QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1)))
        .reserve(ctx -> 4, response -> 1).build();
    ModelGuard guard = guard(reserving, ctx -> GuardDecision.allow());

    GuardDecision refused = guard.check(new Call(true));

    assertThat(refused.reason()).contains(ReasonCode.INPUT_INVALID);
    // Charged 4 of 5 (r=1), then refunded in full: the bucket is full again.
    assertThat(refused.headers()).containsEntry("RateLimit", "\"burst\";r=5;t=0");
    assertThat(guard.check(new Call(false)).headers()).as("and the next request finds it so")
        .containsEntry("RateLimit", "\"burst\";r=1;t=1");
  }

  @Test
  void aReservationReleasedBecauseAnotherQuotaRefusedIsReportedRefundedNextToTheRefusal() {
    QuotaPolicy reserving = QuotaPolicy.builder(store())
        .defaultLimits(QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)))
        .reserve(ctx -> 4, response -> 1).build();
    ModelGuard guard = guard(reserving, quota(store(), QuotaLimit.tokenBucket("minute", 1, Duration.ofMinutes(1))));
    guard.check(new Call(false)); // holds 4 of "burst" (never settled here), the one unit of "minute"

    GuardDecision refused = guard.check(new Call(false));

    assertThat(refused.reason()).contains(ReasonCode.QUOTA_EXCEEDED);
    assertThat(ProblemRenderer.render(refused).headers())
        .containsEntry("Retry-After", "60")
        .containsEntry("RateLimit", "\"burst\";r=6;t=1, \"minute\";r=0;t=60");
  }

  @Test
  void aReleaseTheStoreFailedToTakeLeavesTheChargedCount() {
    QuotaPolicy reserving = QuotaPolicy.builder(new NoRefundStore(store()))
        .defaultLimits(QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1)))
        .reserve(ctx -> 4, response -> 1).build();

    GuardDecision refused = guard(reserving, ctx -> GuardDecision.allow()).check(new Call(true));

    assertThat(refused.reason()).contains(ReasonCode.INPUT_INVALID);
    assertThat(refused.headers()).containsEntry("RateLimit", "\"burst\";r=1;t=1");
  }

  @Test
  void aRefundTheResilientStoreDroppedIsReportedAsCharged() {
    // The shared store decides, then fails the refund: the resilient store drops it (counted and
    // logged) without throwing, so the engine must still learn that nothing was given back.
    ResilientQuotaStore resilient = ResilientQuotaStore.builder(new NoRefundStore(store()))
        .failurePolicy(FailurePolicy.failClosed()).clock(CLOCK).build();
    QuotaPolicy reserving = QuotaPolicy.builder(resilient)
        .defaultLimits(QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1)))
        .reserve(ctx -> 4, response -> 1).build();

    GuardDecision refused = guard(reserving, ctx -> GuardDecision.allow()).check(new Call(true));

    assertThat(refused.reason()).contains(ReasonCode.INPUT_INVALID);
    assertThat(resilient.droppedSettlements()).isEqualTo(1);
    assertThat(refused.headers()).containsEntry("RateLimit", "\"burst\";r=1;t=1");
  }

  @Test
  void theLegacyHeadersOfTwoQuotasAreThoseOfTheOneWithFewerUnitsLeftWhicheverRanLast() {
    ModelGuard guard = guard(
        QuotaPolicy.builder(store()).defaultLimits(QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1)))
            .legacyHeaders(true).build(),
        QuotaPolicy.builder(store()).defaultLimits(QuotaLimit.slidingWindow("daily", 1000, Duration.ofDays(1)))
            .legacyHeaders(true).build());

    GuardDecision d = guard.check(new Call(false));

    // The one limit the legacy fields can carry is the one the client runs into first.
    assertThat(d.headers())
        .containsEntry("X-RateLimit-Limit", "5")
        .containsEntry("X-RateLimit-Remaining", "4")
        .containsEntry("X-RateLimit-Reset", "1")
        .containsEntry("RateLimit", "\"burst\";r=4;t=1, \"daily\";r=999;t=86400");
  }

  @Test
  void theLegacyHeadersOfAReleasedReservationAreReportedRefundedAndARefusersOwnWin() {
    QuotaPolicy reserving = QuotaPolicy.builder(store())
        .defaultLimits(QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)))
        .reserve(ctx -> 4, response -> 1).legacyHeaders(true).build();
    ModelGuard validated = guard(reserving, ctx -> GuardDecision.allow());

    GuardDecision invalid = validated.check(new Call(true));

    assertThat(invalid.reason()).contains(ReasonCode.INPUT_INVALID);
    assertThat(invalid.headers()).as("charged 4 of 10, then refunded in full")
        .containsEntry("X-RateLimit-Remaining", "10")
        .containsEntry("X-RateLimit-Reset", "0")
        .containsEntry("RateLimit", "\"burst\";r=10;t=0");

    ModelGuard refusedBySecond = guard(reserving, QuotaPolicy.builder(store())
        .defaultLimits(QuotaLimit.tokenBucket("minute", 1, Duration.ofMinutes(1))).legacyHeaders(true).build());
    refusedBySecond.check(new Call(false)); // holds 4 of "burst" (10 left before: 6 now), the one unit of "minute"

    GuardDecision refused = refusedBySecond.check(new Call(false));

    assertThat(refused.reason()).contains(ReasonCode.QUOTA_EXCEEDED);
    assertThat(refused.headers()).as("the refusing quota's own figures explain the 429")
        .containsEntry("X-RateLimit-Limit", "1")
        .containsEntry("X-RateLimit-Remaining", "0")
        .containsEntry("X-RateLimit-Reset", "60");
  }

  @Test
  void aRefundThatLeavesAnotherQuotaTheMoreRestrictiveOneReportsThatQuotasLegacyHeaders() {
    // "big" holds 50 of its 60 (10 left) and is kept over "small" (19 left); the input is then
    // refused and "big" refunded to 60, while "small", a plain cost, stays at 19: the limit a
    // client runs into first is "small"'s again.
    QuotaPolicy big = QuotaPolicy.builder(store())
        .defaultLimits(QuotaLimit.tokenBucket("big", 60, Duration.ofMinutes(1)))
        .reserve(ctx -> 50, response -> 1).legacyHeaders(true).build();
    QuotaPolicy small = QuotaPolicy.builder(store())
        .defaultLimits(QuotaLimit.tokenBucket("small", 20, Duration.ofMinutes(1))).legacyHeaders(true).build();

    GuardDecision invalid = guard(big, small).check(new Call(true));

    assertThat(invalid.reason()).contains(ReasonCode.INPUT_INVALID);
    assertThat(invalid.headers())
        .containsEntry("RateLimit", "\"big\";r=60;t=0, \"small\";r=19;t=3")
        .containsEntry("X-RateLimit-Limit", "20")
        .containsEntry("X-RateLimit-Remaining", "19")
        .containsEntry("X-RateLimit-Reset", "3");
  }

  @Test
  void afterTwoRefundsAmongThreeQuotasTheLegacyHeadersAreTheMostRestrictiveAsRateLimitReportsThem() {
    // Charged: "a" 10 left (kept), "b" 19, "c" 15. Refunded: "a" 60, "c" 30; "b", a plain cost,
    // stays at 19 and is the limit the client runs into first, in RateLimit as in the legacy three.
    QuotaPolicy a = QuotaPolicy.builder(store()).defaultLimits(QuotaLimit.tokenBucket("a", 60, Duration.ofMinutes(1)))
        .reserve(ctx -> 50, response -> 1).legacyHeaders(true).build();
    QuotaPolicy b = QuotaPolicy.builder(store()).defaultLimits(QuotaLimit.tokenBucket("b", 20, Duration.ofMinutes(1)))
        .legacyHeaders(true).build();
    QuotaPolicy c = QuotaPolicy.builder(store()).defaultLimits(QuotaLimit.tokenBucket("c", 30, Duration.ofMinutes(1)))
        .reserve(ctx -> 15, response -> 1).legacyHeaders(true).build();
    ModelGuard guard = ModelGuard.builder().clock(CLOCK).auditLog(false).models("digits")
        .chain("default", ch -> ch.policy(Phase.AUTHENTICATE, "acme", ACME)
            .policy(Phase.QUOTA, "a", a).policy(Phase.QUOTA, "b", b).policy(Phase.QUOTA, "c", c)
            .policy(Phase.VALIDATE, "input", REFUSES_MARKED_INPUT))
        .build();

    GuardDecision invalid = guard.check(new Call(true));

    assertThat(invalid.reason()).contains(ReasonCode.INPUT_INVALID);
    assertThat(invalid.headers())
        .containsEntry("RateLimit", "\"a\";r=60;t=0, \"b\";r=19;t=3, \"c\";r=30;t=0")
        .containsEntry("X-RateLimit-Limit", "20")
        .containsEntry("X-RateLimit-Remaining", "19")
        .containsEntry("X-RateLimit-Reset", "3");
  }

  @Test
  void rateLimitItemsRefuseMembersThatCouldBreakTheHeader() {
    assertThatThrownBy(() -> RateLimitItems.of(Map.of("burst", "\"daily\";q=5;w=1")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must start with its quoted name");
    assertThatThrownBy(() -> RateLimitItems.of(Map.of("burst", "\"burst\";q=5;w=1\r\nSet-Cookie: x=1")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RateLimitItems.of(Map.of("a\"b", "\"a\"b\";q=5;w=1")))
        .isInstanceOf(IllegalArgumentException.class);
    // A member is one list member: a second one would name a policy the merge does not know of.
    assertThatThrownBy(() -> RateLimitItems.of(Map.of("burst", "\"burst\";q=5;w=1, \"daily\";q=9;w=86400")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RateLimitItems.of(Map.of("burst", "\"burst\"x;q=5")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RateLimitItems.of(Map.of("burst", "\"burst\";q=5;pk=\"unterminated")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RateLimitItems.of(Map.of("burst", "\"burst\";q=5;w=1\u00e9")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(RateLimitItems.of(Map.of("a,b", "\"a,b\";q=5;pk=\"x,y\"")).policyField())
        .isEqualTo("\"a,b\";q=5;pk=\"x,y\"");
    RateLimitItems burst = RateLimitItems.of(Map.of("burst", "\"burst\";q=5;w=1"));
    assertThatThrownBy(() -> burst.reporting("daily", 1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> burst.ifReleased(1, 1)).isInstanceOf(IllegalStateException.class);
    assertThat(burst.reporting("burst", 4, 1).rateLimitField()).isEqualTo("\"burst\";r=4;t=1");
  }

  /** A request of acme for digits, marked invalid or not. */
  private static final class Call implements InferenceRequest {
    private final boolean invalid;

    Call(boolean invalid) {
      this.invalid = invalid;
    }

    @Override public String method() { return "POST"; }
    @Override public String path() { return "/v1/models/digits/predict"; }
    @Override public Optional<String> header(String n) { return headers(n).stream().findFirst(); }
    @Override public List<String> headers(String n) {
      return invalid && n.equalsIgnoreCase("X-Invalid") ? List.of("yes") : List.of();
    }
    @Override public Optional<String> remoteAddress() { return Optional.of("127.0.0.1"); }
    @Override public Endpoint endpoint() { return Endpoint.of("digits", "default", 1); }
    @Override public byte[] body(int max) { return new byte[0]; }
  }

  /** A shared store that is down. */
  private static final class DownStore implements QuotaStore {
    @Override
    public QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost) {
      throw new QuotaStoreException("down");
    }

    @Override
    public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
      throw new QuotaStoreException("down");
    }
  }

  /** A store that decides but fails every adjustment, as a remote store failing synchronously would. */
  private static final class NoRefundStore implements QuotaStore {
    private final QuotaStore decides;

    NoRefundStore(QuotaStore decides) {
      this.decides = decides;
    }

    @Override
    public QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost) {
      return decides.acquire(key, plan, cost);
    }

    @Override
    public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
      throw new QuotaStoreException("refund lost");
    }
  }
}
