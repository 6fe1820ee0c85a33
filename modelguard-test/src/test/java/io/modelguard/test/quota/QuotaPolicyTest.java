package io.modelguard.test.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.Endpoint;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.Policy;
import io.modelguard.PolicyChain;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.Tier;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.QuotaPolicy;
import io.modelguard.quota.QuotaStore;
import io.modelguard.quota.QuotaStoreException;
import io.modelguard.quota.ResilientQuotaStore;
import io.modelguard.test.FakeClock;
import io.modelguard.test.FakeRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** QuotaPolicy inside the engine: plans from tiers and claims, costs, headers, 429 and 503, reservations. */
class QuotaPolicyTest {
  private final FakeClock clock = FakeClock.standard();
  private final InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).build();

  private static final Tier BASIC = Tier.builder("basic").models("digits", "iris")
      .limits(QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1)),
          QuotaLimit.slidingWindow("daily", 1000, Duration.ofDays(1)))
      .limits("iris", QuotaLimit.tokenBucket("burst", 2, Duration.ofSeconds(10)))
      .build();

  /** Authenticates as the tenant named in {@code X-Tenant}, tier basic, with an optional {@code X-Quota} claim. */
  private static final Policy TENANT_HEADER = ctx -> ctx.request().header("X-Tenant")
      .map(t -> {
        Principal.Builder p = Principal.builder(t + "-user").tenant(t).tier("basic");
        ctx.request().header("X-Quota").ifPresent(q -> p.claim(QuotaPolicy.DEFAULT_OVERRIDE_CLAIM, q));
        return GuardDecision.authenticated(p.build());
      })
      .orElse(GuardDecision.allow());

  private ModelGuard guard(QuotaPolicy quota) {
    return guard(quota, c -> {});
  }

  private ModelGuard guard(QuotaPolicy quota, Consumer<io.modelguard.PolicyChain.Builder> more) {
    return ModelGuard.builder().clock(clock).auditLog(false).models("digits", "iris").tier(BASIC)
        .chain("default", c -> {
          c.policy(Phase.AUTHENTICATE, "tenant", TENANT_HEADER).policy(Phase.QUOTA, "quota", quota);
          more.accept(c);
        })
        .build();
  }

  private static FakeRequest request(String tenant) {
    return FakeRequest.builder().header("X-Tenant", tenant).build();
  }

  private static FakeRequest request(String tenant, String model, int cost) {
    return FakeRequest.builder().header("X-Tenant", tenant).endpoint(Endpoint.of(model, "default", cost)).build();
  }

  @Test
  void everyAllowedResponseCarriesBothRateLimitHeaders() {
    ModelGuard guard = guard(QuotaPolicy.builder(store).build());
    GuardDecision d = guard.check(request("acme"));
    assertThat(d.isAllowed()).isTrue();
    assertThat(d.headers())
        .containsEntry("RateLimit-Policy", "\"burst\";q=5;w=1, \"daily\";q=1000;w=86400")
        .containsEntry("RateLimit", "\"burst\";r=4;t=1")
        .doesNotContainKey("X-RateLimit-Limit");
  }

  @Test
  void legacyHeadersAreOptional() {
    GuardDecision d = guard(QuotaPolicy.builder(store).legacyHeaders(true).build()).check(request("acme"));
    assertThat(d.headers()).containsEntry("X-RateLimit-Limit", "5").containsEntry("X-RateLimit-Remaining", "4")
        .containsEntry("X-RateLimit-Reset", "1");
  }

  @Test
  void anExhaustedQuotaIs429WithRetryAfterAndTheRateLimitHeaders() {
    ModelGuard guard = guard(QuotaPolicy.builder(store).build());
    for (int i = 0; i < 5; i++) {
      assertThat(guard.check(request("acme")).isAllowed()).isTrue();
    }
    GuardDecision denied = guard.check(request("acme"));
    assertThat(denied.reason()).contains(ReasonCode.QUOTA_EXCEEDED);
    assertThat(denied.retryAfter()).contains(Duration.ofMillis(200));
    ProblemResponse problem = ProblemRenderer.render(denied);
    assertThat(problem.status()).isEqualTo(429);
    assertThat(problem.headers())
        .containsEntry("Retry-After", "1")
        .containsEntry("RateLimit", "\"burst\";r=0;t=1")
        .containsKey("RateLimit-Policy");
    assertThat(problem.bodyAsString()).contains("\"code\":\"quota.exceeded\"");
  }

  @Test
  void retryingAtRetryAfterSucceedsAndOneSecondEarlierDoesNot() {
    // 2 per 10 s: a denial waits 5 s, less whatever has passed since.
    ModelGuard guard = guard(QuotaPolicy.builder(store).build());
    FakeRequest iris = request("acme", "iris", 1);
    guard.check(iris);
    clock.advance(Duration.ofMillis(1300));
    guard.check(iris);
    clock.advance(Duration.ofMillis(500));
    GuardDecision denied = guard.check(iris);
    long retryAfter = Long.parseLong(ProblemRenderer.render(denied).headers().get("Retry-After"));
    assertThat(retryAfter).isEqualTo(4); // 3.2 s, rounded up
    clock.advance(Duration.ofSeconds(retryAfter - 1));
    assertThat(guard.check(iris).isAllowed()).isFalse();
    clock.advance(Duration.ofSeconds(1));
    assertThat(guard.check(iris).isAllowed()).isTrue();
  }

  @Test
  void aModelWithItsOwnLimitsDoesNotUseTheTierDefault() {
    GuardDecision d = guard(QuotaPolicy.builder(store).build()).check(request("acme", "iris", 1));
    assertThat(d.headers()).containsEntry("RateLimit-Policy", "\"burst\";q=2;w=10");
  }

  @Test
  void quotasAreKeptPerTenantAndModel() {
    ModelGuard guard = guard(QuotaPolicy.builder(store).build());
    for (int i = 0; i < 5; i++) {
      guard.check(request("acme"));
    }
    assertThat(guard.check(request("acme")).isAllowed()).isFalse();
    assertThat(guard.check(request("globex")).isAllowed()).isTrue();
    assertThat(guard.check(request("acme", "iris", 1)).isAllowed()).isTrue();
  }

  @Test
  void theEndpointCostIsChargedByDefaultAndACostFunctionReplacesIt() {
    assertThat(guard(QuotaPolicy.builder(store).build()).check(request("acme", "digits", 3)).headers())
        .containsEntry("RateLimit", "\"burst\";r=2;t=1");
    QuotaPolicy batch = QuotaPolicy.builder(store)
        .cost(ctx -> Long.parseLong(ctx.request().header("X-Batch").orElse("1"))).build();
    GuardDecision d = guard(batch).check(FakeRequest.builder().header("X-Tenant", "globex").header("X-Batch", "4").build());
    assertThat(d.headers()).containsEntry("RateLimit", "\"burst\";r=1;t=1");
  }

  @Test
  void anOverrideClaimAllowedToRaiseLimitsReplacesTheTierLimitOfTheSameName() {
    ModelGuard guard = guard(QuotaPolicy.builder(store).overridesMayRaiseLimits().build());
    GuardDecision d = guard.check(FakeRequest.builder().header("X-Tenant", "vip")
        .header("X-Quota", "\"burst\";q=50;w=1, \"hourly\";q=9;w=3600;a=sliding").build());
    assertThat(d.headers()).containsEntry("RateLimit-Policy",
        "\"burst\";q=50;w=1, \"daily\";q=1000;w=86400, \"hourly\";q=9;w=3600");
    assertThat(d.headers()).containsEntry("RateLimit", "\"hourly\";r=8;t=3600");
  }

  @Test
  void byDefaultAnOverrideClaimCannotRaiseALimit() {
    ModelGuard guard = guard(QuotaPolicy.builder(store).build());
    // A claim that would lift the tier's burst of 5 to 50 is refused (fails closed), never applied.
    for (String raise : List.of("\"burst\";q=50;w=1", "\"burst\";q=5;w=1;a=sliding", "\"burst\";q=5;w=2",
        "\"daily\";q=1000;w=86400;a=token-bucket", "\"burst\";q=2;w=1, \"daily\";q=1001;w=86400")) {
      GuardDecision d = guard.check(FakeRequest.builder().header("X-Tenant", "vip").header("X-Quota", raise).build());
      assertThat(d.reason()).as(raise).contains(ReasonCode.INTERNAL_ERROR);
    }
    for (int i = 0; i < 5; i++) {
      assertThat(guard.check(request("vip")).isAllowed()).isTrue();
    }
    assertThat(guard.check(request("vip")).reason()).as("the tier's burst of 5 still holds")
        .contains(ReasonCode.QUOTA_EXCEEDED);
  }

  @Test
  void byDefaultAnOverrideClaimMayLowerALimitOrAddOne() {
    ModelGuard guard = guard(QuotaPolicy.builder(store).build());
    FakeRequest.Builder narrowed = FakeRequest.builder().header("X-Tenant", "trial")
        .header("X-Quota", "\"burst\";q=2;w=1, \"hourly\";q=9;w=3600;a=sliding");
    GuardDecision d = guard.check(narrowed.build());
    assertThat(d.headers()).containsEntry("RateLimit-Policy",
        "\"burst\";q=2;w=1, \"daily\";q=1000;w=86400, \"hourly\";q=9;w=3600");
    assertThat(guard.check(narrowed.build()).isAllowed()).isTrue();
    assertThat(guard.check(narrowed.build()).reason()).contains(ReasonCode.QUOTA_EXCEEDED);
  }

  @Test
  void aLimitAddedByOnePrincipalsClaimKeepsItsCountWhileOtherPrincipalsOfTheTenantCall() {
    ModelGuard guard = guard(QuotaPolicy.builder(store).build());
    FakeRequest.Builder restricted = FakeRequest.builder().header("X-Tenant", "acme")
        .header("X-Quota", "\"hourly\";q=3;w=3600;a=sliding");
    for (int i = 0; i < 3; i++) {
      assertThat(guard.check(restricted.build()).isAllowed()).as("restricted call " + i).isTrue();
      // A colleague without the claim calls in between: the tenant's key is re-laid out for the
      // tier's plan, which has no "hourly".
      assertThat(guard.check(request("acme")).isAllowed()).isTrue();
      clock.advance(Duration.ofSeconds(1));
    }
    assertThat(guard.check(restricted.build()).reason()).as("the fourth call within the hour")
        .contains(ReasonCode.QUOTA_EXCEEDED);
  }

  @Test
  void aMalformedOverrideClaimFailsClosed() {
    GuardDecision d = guard(QuotaPolicy.builder(store).build())
        .check(FakeRequest.builder().header("X-Tenant", "odd").header("X-Quota", "burst=50").build());
    assertThat(d.reason()).contains(ReasonCode.INTERNAL_ERROR);
  }

  @Test
  void overridesCanBeIgnored() {
    GuardDecision d = guard(QuotaPolicy.builder(store).ignoreOverrides().build())
        .check(FakeRequest.builder().header("X-Tenant", "vip").header("X-Quota", "\"burst\";q=50;w=1").build());
    assertThat(d.headers().get("RateLimit-Policy")).startsWith("\"burst\";q=5;w=1");
  }

  @Test
  void aChainWithAQuotaButNoAuthenticatorIsRefusedAtBuild() {
    // Only AUTHENTICATE policies set the principal the quota counts: without one, every request
    // passed the quota uncounted, and the engine built without a word.
    Tier free = Tier.builder("basic").models("digits", "iris").build();
    assertThatThrownBy(() -> ModelGuard.builder().clock(clock).auditLog(false).models("digits", "iris").tier(free)
        .chain("default", c -> c.policy(Phase.QUOTA, "quota", QuotaPolicy.builder(store).build()))
        .chain("scoped", c -> c.policy(Phase.DETECT, "digits-quota", QuotaPolicy.builder(store).build().forModels("digits")))
        .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("chain 'default', policy 'quota': decides for authenticated requests only, but the "
            + "chain has no AUTHENTICATE policy to set a principal, so every request would pass it uncounted")
        .hasMessageContaining("chain 'scoped', policy 'digits-quota': decides for authenticated requests only");
  }

  @Test
  void aQuotaCannotBeRegisteredAmongTheAuthenticators() {
    // Registered in AUTHENTICATE before the authenticator, it saw no principal and counted nothing.
    assertThatThrownBy(() -> PolicyChain.builder("default")
        .policy(Phase.AUTHENTICATE, "quota", QuotaPolicy.builder(store).build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("chain 'default': policy 'quota' cannot be registered in AUTHENTICATE: it decides for "
            + "authenticated requests only and would run before or among the authenticators, letting requests "
            + "through uncounted; register it in a later phase (QUOTA for a quota)");
    assertThatThrownBy(() -> PolicyChain.builder("default")
        .policy(Phase.AUTHENTICATE, "quota", QuotaPolicy.builder(store).build().forModels("digits")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void defaultLimitsApplyWhenTheTierHasNone() {
    Tier plain = Tier.builder("basic").models("digits").build();
    ModelGuard guard = ModelGuard.builder().clock(clock).auditLog(false).models("digits").tier(plain)
        .chain("default", c -> c.policy(Phase.AUTHENTICATE, "tenant", TENANT_HEADER)
            .policy(Phase.QUOTA, "quota", QuotaPolicy.builder(store)
                .defaultLimits(QuotaLimit.tokenBucket("fallback", 1, Duration.ofMinutes(1))).build()))
        .build();
    assertThat(guard.check(request("acme")).isAllowed()).isTrue();
    assertThat(guard.check(request("acme")).isAllowed()).isFalse();
  }

  @Test
  void aReservationIsSettledAtRecordWithTheActualCost() {
    QuotaPolicy quota = reserving(store, 4);
    ModelGuard guard = settling(quota);
    FakeRequest r = request("acme");
    GuardDecision d = guard.check(r);
    assertThat(d.headers()).containsEntry("RateLimit", "\"burst\";r=1;t=1");
    guard.onResponse(r, d, 200, ModelOutput.json("1"));
    // 4 reserved, 1 used: 3 come back, so 4 are left and the next reservation of 4 fits (without
    // the refund only 1 would be left and it would be refused).
    GuardDecision next = guard.check(request("acme"));
    assertThat(next.isAllowed()).isTrue();
    assertThat(next.headers()).containsEntry("RateLimit", "\"burst\";r=0;t=1");
  }

  /** Refuses a request whose {@code X-Invalid} header is set, as input validation would. */
  private static final Policy REFUSES_MARKED_INPUT = ctx -> ctx.request().header("X-Invalid").isPresent()
      ? GuardDecision.deny(ReasonCode.INPUT_INVALID)
      : GuardDecision.allow();

  private static FakeRequest invalidRequest(String tenant) {
    return FakeRequest.builder().header("X-Tenant", tenant).header("X-Invalid", "yes").build();
  }

  @Test
  void aReservationIsRefundedInFullWhenALaterPolicyDeniesTheRequest() {
    QuotaPolicy quota = reserving(store, 4);
    ModelGuard guard = guard(quota, c -> c.policy(Phase.VALIDATE, "input", REFUSES_MARKED_INPUT)
        .output(OutputPhase.RECORD, "settle", quota.settlement()));

    assertThat(guard.check(invalidRequest("acme")).reason()).contains(ReasonCode.INPUT_INVALID);
    assertThat(guard.check(invalidRequest("acme")).reason()).contains(ReasonCode.INPUT_INVALID);
    // Both holds of 4 went back: the next reservation of 4 finds all 5 units (without the refunds
    // only 1 would be left and it would be refused).
    GuardDecision valid = guard.check(request("acme"));
    assertThat(valid.isAllowed()).isTrue();
    assertThat(valid.headers()).containsEntry("RateLimit", "\"burst\";r=1;t=1");
  }

  @Test
  void aLaterPolicyRefusingAsAQuotaWouldShowsNoUnitsLeftInTheQuotasHeader() {
    // As the extraction defence's throttle does: its 429 carried the quota's RateLimit of the
    // allowed request (r=4 here), which gave away that it was not the quota that refused.
    ModelGuard guard = guard(QuotaPolicy.builder(store).build(), c -> c.policy(Phase.DETECT, "throttle",
        ctx -> GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED).withRetryAfter(Duration.ofSeconds(10))));
    GuardDecision d = guard.check(request("acme"));
    assertThat(d.headers()).containsEntry("RateLimit", "\"burst\";r=4;t=1");
    ProblemResponse problem = ProblemRenderer.render(d);
    assertThat(problem.status()).isEqualTo(429);
    assertThat(problem.headers()).containsEntry("RateLimit", "\"burst\";r=0;t=10").containsEntry("Retry-After", "10");
  }

  @Test
  void aPlainCostStaysChargedWhenALaterPolicyDeniesTheRequest() {
    ModelGuard guard = guard(QuotaPolicy.builder(store).build(),
        c -> c.policy(Phase.VALIDATE, "input", REFUSES_MARKED_INPUT));

    for (int i = 0; i < 5; i++) {
      assertThat(guard.check(invalidRequest("acme")).reason()).contains(ReasonCode.INPUT_INVALID);
    }
    assertThat(guard.check(request("acme")).reason()).as("five refused requests used the burst of 5")
        .contains(ReasonCode.QUOTA_EXCEEDED);
  }

  @Test
  void aSettledChargeStaysChargedWhenALaterPolicyDeniesTheRequestAndIsSettledWhenAnswered() {
    // The body of an answer is its actual cost: "0" for a request the application did not serve.
    QuotaPolicy quota = QuotaPolicy.builder(store)
        .charge(ctx -> 1, out -> Long.parseLong(out.output().bodyAsString())).build();
    ModelGuard guard = guard(quota, c -> c.policy(Phase.VALIDATE, "input", REFUSES_MARKED_INPUT)
        .output(OutputPhase.RECORD, "settle", quota.settlement()));

    GuardDecision refused = guard.check(invalidRequest("acme"));
    assertThat(refused.reason()).contains(ReasonCode.INPUT_INVALID);
    // Charged, and reported so: a charge is not a hold the denial gives back.
    assertThat(ProblemRenderer.render(refused).headers()).containsEntry("RateLimit", "\"burst\";r=4;t=1");
    FakeRequest unserved = request("acme");
    GuardDecision allowed = guard.check(unserved);
    assertThat(allowed.headers()).containsEntry("RateLimit", "\"burst\";r=3;t=1");
    guard.onResponse(unserved, allowed, 503, ModelOutput.json("0"));
    FakeRequest served = request("acme");
    GuardDecision next = guard.check(served);
    assertThat(next.headers()).as("the unserved request's unit came back; the refused one's did not")
        .containsEntry("RateLimit", "\"burst\";r=3;t=1");
    guard.onResponse(served, next, 200, ModelOutput.json("1"));
    assertThat(guard.check(request("acme")).headers()).as("a served request stays charged")
        .containsEntry("RateLimit", "\"burst\";r=2;t=1");
  }

  @Test
  void concurrentReservationsNeverLetActualUsageExceedTheQuota() throws Exception {
    InMemoryQuotaStore tokens = InMemoryQuotaStore.builder().clock(clock).build();
    Tier tier = Tier.builder("basic").models("digits")
        .limits(QuotaLimit.tokenBucket("tokens", 1000, Duration.ofDays(1))).build();
    AtomicLong used = new AtomicLong();
    QuotaPolicy quota = reserving(tokens, 50);
    ModelGuard guard = ModelGuard.builder().clock(clock).auditLog(false).models("digits").tier(tier)
        .chain("default", c -> c.policy(Phase.AUTHENTICATE, "tenant", TENANT_HEADER).policy(Phase.QUOTA, "quota", quota)
            .output(OutputPhase.RECORD, "settle", quota.settlement()))
        .build();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 32; t++) {
      int seed = t;
      Thread thread = new Thread(() -> {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < 50; i++) {
          FakeRequest r = request("llm");
          GuardDecision d = guard.check(r);
          if (d.isAllowed()) {
            long actual = random.nextLong(51);
            used.addAndGet(actual);
            guard.onResponse(r, d, 200, ModelOutput.json(Long.toString(actual)));
          }
        }
      });
      threads.add(thread);
      thread.start();
    }
    go.countDown();
    for (Thread t : threads) {
      t.join();
    }
    assertThat(used.get()).as("tokens actually used").isLessThanOrEqualTo(1000).isGreaterThan(900);
  }

  @Test
  void aRequestCostBelowOneFailsClosedAndAHugeOneIsNeverAllowed() {
    for (long understated : new long[] {0, -1, Long.MIN_VALUE}) {
      QuotaPolicy quota = QuotaPolicy.builder(store).cost(ctx -> understated).build();
      assertThat(guard(quota).check(request("acme")).reason()).as("cost " + understated)
          .contains(ReasonCode.INTERNAL_ERROR);
    }
    GuardDecision huge = guard(QuotaPolicy.builder(store).cost(ctx -> Long.MAX_VALUE).build()).check(request("acme"));
    assertThat(huge.reason()).contains(ReasonCode.QUOTA_EXCEEDED);
    assertThat(huge.detail()).hasValueSatisfying(s -> assertThat(s).contains("cannot succeed on retry"));
    assertThat(guard(QuotaPolicy.builder(store).build()).check(request("acme")).headers())
        .as("none of those charged anything").containsEntry("RateLimit", "\"burst\";r=4;t=1");
  }

  @Test
  void aReservationIsRefundedAtMostOnceAndNeverBeyondWhatItReserved() {
    QuotaPolicy quota = reserving(store, 2);
    ModelGuard guard = settling(quota);
    FakeRequest first = request("acme");
    GuardDecision d1 = guard.check(first);
    assertThat(guard.check(request("acme")).headers()).containsEntry("RateLimit", "\"burst\";r=1;t=1");
    guard.onResponse(first, d1, 200, ModelOutput.json("0"));
    guard.onResponse(first, d1, 200, ModelOutput.json("0"));
    // 2 of 5 stay charged: the second settlement of the same request refunds nothing.
    assertThat(guard.check(request("acme")).headers()).containsEntry("RateLimit", "\"burst\";r=1;t=1");
    assertThat(guard.check(request("acme")).reason()).contains(ReasonCode.QUOTA_EXCEEDED);
  }

  @Test
  void aReservationTheLocalFallbackMadeIsNeverRefundedToTheSharedStoreOnceItIsBack() {
    // A client reserving big during an outage and refunding once the shared store is back must not
    // gain the refund there: the shared store never charged the reservation.
    InMemoryQuotaStore shared = InMemoryQuotaStore.builder().clock(clock).build();
    SwitchableStore flaky = new SwitchableStore(shared);
    flaky.down.set(true);
    AtomicLong nanos = new AtomicLong();
    QuotaStore resilient = ResilientQuotaStore.builder(flaky).failurePolicy(FailurePolicy.localFallback(1))
        .failureThreshold(1).ticker(nanos::get).clock(clock).build();
    QuotaPolicy quota = reserving(resilient, 4);
    ModelGuard guard = settling(quota);
    FakeRequest duringOutage = request("acme");
    GuardDecision reserved = guard.check(duringOutage);
    assertThat(reserved.isAllowed()).as("the local fallback reserves 4").isTrue();
    flaky.down.set(false);
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(guard.check(request("acme")).headers()).as("the shared store reserves 4 of 5")
        .containsEntry("RateLimit", "\"burst\";r=1;t=1");

    guard.onResponse(duringOutage, reserved, 200, ModelOutput.json("1"));
    // The 3 units go back to the fallback; the shared store still has 1 left, too few for 4 (with
    // the refund there, 4 would be left and the reservation would pass).
    assertThat(guard.check(request("acme")).reason()).contains(ReasonCode.QUOTA_EXCEEDED);
  }

  /** Reserves {@code units} a request; the answer's body is the actual cost. */
  private static QuotaPolicy reserving(QuotaStore store, long units) {
    return QuotaPolicy.builder(store).reserve(ctx -> units, out -> Long.parseLong(out.output().bodyAsString())).build();
  }

  /** A guard with {@code quota} that settles its reservations at RECORD. */
  private ModelGuard settling(QuotaPolicy quota) {
    return guard(quota, c -> c.output(OutputPhase.RECORD, "settle", quota.settlement()));
  }

  @Test
  void settlementNeedsAReservationBuilder() {
    assertThatThrownBy(() -> QuotaPolicy.builder(store).build().settlement())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("reserve(").hasMessageContaining("charge(");
  }

  @Test
  void aStoreThatIsDownAndFailsClosedGives503WithRetryAfter() {
    QuotaStore down = new QuotaStore() {
      @Override
      public QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost) {
        throw new QuotaStoreException("connection refused");
      }

      @Override
      public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
        throw new QuotaStoreException("connection refused");
      }
    };
    QuotaStore resilient = ResilientQuotaStore.builder(down).failurePolicy(FailurePolicy.failClosed())
        .openDuration(Duration.ofSeconds(5)).build();
    GuardDecision d = guard(QuotaPolicy.builder(resilient).build()).check(request("acme"));
    assertThat(d.reason()).contains(ReasonCode.QUOTA_UNAVAILABLE);
    ProblemResponse problem = ProblemRenderer.render(d);
    assertThat(problem.status()).isEqualTo(503);
    assertThat(problem.headers()).containsKey("Retry-After");
  }

  @Test
  void aCostAboveTheQuotaIsRefusedAsNeverRetryable() {
    GuardDecision d = guard(QuotaPolicy.builder(store).build()).check(request("acme", "digits", 6));
    assertThat(d.reason()).contains(ReasonCode.QUOTA_EXCEEDED);
    assertThat(d.detail()).hasValueSatisfying(s -> assertThat(s).contains("cannot succeed on retry"));
  }

  @Test
  void tenantAFloodingAtTenTimesItsLimitCausesTenantBAtHalfItsLimitNoRejection() {
    ModelGuard guard = guard(QuotaPolicy.builder(store).build());
    int bRejected = 0;
    int aRejected = 0;
    // burst is 5/s: A sends 50/s, B 2.5/s, for a minute in 100 ms steps.
    for (int step = 0; step < 600; step++) {
      for (int i = 0; i < 5; i++) {
        if (!guard.check(request("tenant-a")).isAllowed()) {
          aRejected++;
        }
      }
      if (step % 4 == 0 && !guard.check(request("tenant-b")).isAllowed()) {
        bRejected++;
      }
      clock.advance(Duration.ofMillis(100));
    }
    assertThat(bRejected).isZero();
    assertThat(aRejected).isGreaterThan(2500);
  }
}
