package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.modelguard.LogCapture;
import io.modelguard.quota.ResilientQuotaStore.CircuitState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The circuit breaker, the three failure policies and where settlements go, on a primary store
 * that fails on demand.
 */
class ResilientQuotaStoreTest {
  private static final QuotaPlan PLAN = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 10, Duration.ofMinutes(1)));
  private static final QuotaKey KEY = QuotaKey.forTenant("acme", "digits");
  private final AtomicLong nanos = new AtomicLong();
  private final Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
  private final FlakyStore primary = new FlakyStore(InMemoryQuotaStore.builder().clock(clock).build());

  private ResilientQuotaStore store(FailurePolicy policy) {
    return ResilientQuotaStore.builder(primary).failurePolicy(policy).failureThreshold(3)
        .openDuration(Duration.ofSeconds(1)).ticker(nanos::get).clock(clock).build();
  }

  @Test
  void threeConsecutiveFailuresOpenTheCircuitAndAnOpenCircuitNeverCallsThePrimary() {
    ResilientQuotaStore store = store(FailurePolicy.failClosed());
    primary.down.set(true);
    for (int i = 0; i < 3; i++) {
      assertThat(store.acquire(KEY, PLAN, 1).status()).isEqualTo(QuotaDecision.Status.UNAVAILABLE);
    }
    assertThat(store.circuitState()).isEqualTo(CircuitState.OPEN);
    int calls = primary.calls.get();
    for (int i = 0; i < 1000; i++) {
      store.acquire(KEY, PLAN, 1);
    }
    assertThat(primary.calls.get()).isEqualTo(calls);
  }

  @Test
  void aFailureWhileTheCircuitIsStillClosedSaysRetryAtOnceWhateverTheTickersOrigin() {
    // System.nanoTime() counts from an arbitrary origin and may be negative; a circuit that never
    // opened has no opening time to count the open duration from.
    nanos.set(-Duration.ofHours(1).toNanos());
    ResilientQuotaStore store = store(FailurePolicy.failClosed());
    primary.down.set(true);
    QuotaDecision d = store.acquire(KEY, PLAN, 1);
    assertThat(d.status()).isEqualTo(QuotaDecision.Status.UNAVAILABLE);
    assertThat(store.circuitState()).as("one failure of three").isEqualTo(CircuitState.CLOSED);
    assertThat(d.retryAfterMicros()).as("the next call goes to the primary at once").isLessThanOrEqualTo(1_000_000);
    primary.down.set(false);
    assertThat(store.acquire(KEY, PLAN, 1).isAllowed()).as("and it answers").isTrue();
  }

  @Test
  void afterTheOpenDurationOneProbeClosesTheCircuitIfThePrimaryAnswers() {
    ResilientQuotaStore store = store(FailurePolicy.failClosed());
    primary.down.set(true);
    for (int i = 0; i < 3; i++) {
      store.acquire(KEY, PLAN, 1);
    }
    nanos.addAndGet(Duration.ofMillis(999).toNanos());
    assertThat(store.acquire(KEY, PLAN, 1).retryAfterMicros()).as("until the next probe").isEqualTo(1000);
    nanos.addAndGet(Duration.ofMillis(1).toNanos());
    assertThat(store.acquire(KEY, PLAN, 1).status()).as("the probe fails").isEqualTo(QuotaDecision.Status.UNAVAILABLE);
    assertThat(store.circuitState()).isEqualTo(CircuitState.OPEN);
    primary.down.set(false);
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    QuotaDecision probe = store.acquire(KEY, PLAN, 1);
    assertThat(probe.isAllowed()).isTrue();
    assertThat(probe.isDegraded()).isFalse();
    assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
  }

  @Test
  void anAdjustmentNeverTakesTheProbeSoItCannotCloseTheCircuitOnAnUnansweredCall() {
    ResilientQuotaStore store = store(FailurePolicy.localFallback(1));
    primary.down.set(true);
    openCircuit(store);
    // A store that sends adjustments without waiting (Redis) "succeeds" while it is down.
    primary.adjustmentsUnanswered.set(true);
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    int calls = primary.calls.get();

    store.adjust(KEY, PLAN, -1, 0);

    assertThat(store.circuitState()).as("still open: the adjustment proved nothing").isEqualTo(CircuitState.OPEN);
    assertThat(primary.calls.get()).as("the primary was not called").isEqualTo(calls);
    assertThat(store.acquire(KEY, PLAN, 1).isDegraded()).as("the next decision probes, fails, and falls back")
        .isTrue();
    assertThat(primary.calls.get()).isEqualTo(calls + 1);
  }

  @Test
  void refundsSentBetweenFailedDecisionsDoNotKeepTheCircuitClosed() {
    // Each request settles its reservation (or an unauthenticated limit refunds); sent without
    // waiting for an answer, those calls return at once while every decision fails.
    ResilientQuotaStore store = store(FailurePolicy.failOpen());
    QuotaDecision reservation = store.acquire(KEY, PLAN, 1);
    primary.down.set(true);
    primary.adjustmentsUnanswered.set(true);
    for (int i = 0; i < 3; i++) {
      store.acquire(KEY, PLAN, 1);
      store.settle(KEY, PLAN, -1, reservation);
      store.adjust(KEY, PLAN, -1, reservation.decidedAtMicros());
    }
    assertThat(store.circuitState()).isEqualTo(CircuitState.OPEN);
    int calls = primary.calls.get();
    store.acquire(KEY, PLAN, 1);
    assertThat(primary.calls.get()).as("an open circuit answers without the primary").isEqualTo(calls);
  }

  @Test
  void failOpenAllowsWithoutCounting() {
    ResilientQuotaStore store = store(FailurePolicy.failOpen());
    primary.down.set(true);
    for (int i = 0; i < 50; i++) {
      QuotaDecision d = store.acquire(KEY, PLAN, 1);
      assertThat(d.isAllowed()).isTrue();
      assertThat(d.isDegraded()).isTrue();
      assertThat(d.isMetered()).isFalse();
    }
  }

  @Test
  void localFallbackEnforcesTheNodesShare() {
    ResilientQuotaStore store = store(FailurePolicy.localFallback(2));
    primary.down.set(true);
    int admitted = 0;
    for (int i = 0; i < 50; i++) {
      QuotaDecision d = store.acquire(KEY, PLAN, 1);
      assertThat(d.isDegraded()).isTrue();
      admitted += d.isAllowed() ? 1 : 0;
    }
    assertThat(admitted).isEqualTo(5);
  }

  @Test
  void aCostAboveTheNodesShareButWithinTheQuotaIsNotRefusedForEverDuringAnOutage() {
    // The share of one node of four is 2 of 10: a request of 5 cannot pass here now, but it can
    // as soon as the primary answers again, so it must not be told it never can (429 with
    // "cannot succeed on retry" and a Retry-After of the whole window).
    ResilientQuotaStore store = store(FailurePolicy.localFallback(4));
    primary.down.set(true);
    QuotaDecision d = store.acquire(KEY, PLAN, 5);
    assertThat(d.isAllowed()).isFalse();
    assertThat(d.retryAfterMicros()).as("retryable once the primary is back").isNotEqualTo(QuotaDecision.NEVER);
    assertThat(d.retryAfter()).isPresent();
    assertThat(d.retryAfterMicros()).as("at most until the circuit probes").isLessThanOrEqualTo(1_000_000);
    io.modelguard.GuardDecision g = QuotaResponses.toGuardDecision(d, false);
    assertThat(g.detail()).isNotEqualTo(java.util.Optional.of(QuotaResponses.NEVER_DETAIL));
    assertThat(g.retryAfter()).hasValueSatisfying(wait -> assertThat(wait).isLessThanOrEqualTo(Duration.ofSeconds(1)));
    // A cost above the whole quota can indeed never pass.
    assertThat(store.acquire(KEY, PLAN, 11).retryAfterMicros()).isEqualTo(QuotaDecision.NEVER);
    // Once the primary answers, the request passes.
    primary.down.set(false);
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(store.acquire(KEY, PLAN, 5).isAllowed()).isTrue();
  }

  @Test
  void anAdjustmentBoundedByBucketEndsKeepsItsBoundThroughTheBreaker() {
    // A bucket of 10 a minute, reserved in full at t = 0; by t = 54 s 9 units have refilled and
    // are spent; the reservation, which used nothing, is then given back with its bucket ends:
    // only the one unit not yet refilled may come back (QuotaStore#adjust with bucketEnds).
    FakeTime time = new FakeTime();
    QuotaStore primary = InMemoryQuotaStore.builder().clock(time).build();
    ResilientQuotaStore store = ResilientQuotaStore.builder(primary).ticker(nanos::get).clock(time).build();
    QuotaDecision reservation = store.acquire(KEY, PLAN, 10);
    time.now = time.now.plusSeconds(54);
    assertThat(store.acquire(KEY, PLAN, 9).isAllowed()).isTrue();

    store.adjust(KEY, PLAN, -10, reservation.decidedAtMicros(), QuotaArithmetic.bucketEnds(PLAN, reservation));

    assertThat(store.acquire(KEY, PLAN, 1).isAllowed()).as("the unit not yet refilled comes back").isTrue();
    assertThat(store.acquire(KEY, PLAN, 1).isAllowed()).as("a bucket is spent at t = 54 s").isFalse();
  }

  /** A clock the test moves. */
  private static final class FakeTime extends Clock {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void theDefaultPolicyIsLocalFallbackWithTheWholeQuota() {
    assertThat(ResilientQuotaStore.builder(primary).build().failurePolicy()).isEqualTo(FailurePolicy.localFallback(1));
  }

  @Test
  void aBugInThePrimaryIsNotAnOutage() {
    ResilientQuotaStore store = store(FailurePolicy.failOpen());
    primary.bug.set(true);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.acquire(KEY, PLAN, 1))
        .isInstanceOf(IllegalStateException.class);
    assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
  }

  @Test
  void aProbeThatHitsABugDoesNotLeaveTheCircuitHalfOpenForEver() {
    // Fail-open: a circuit stuck away from CLOSED would mean no limit at all, for ever.
    ResilientQuotaStore store = store(FailurePolicy.failOpen());
    primary.down.set(true);
    for (int i = 0; i < 3; i++) {
      store.acquire(KEY, PLAN, 1);
    }
    assertThat(store.circuitState()).isEqualTo(CircuitState.OPEN);
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    primary.bug.set(true);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.acquire(KEY, PLAN, 1))
        .as("the probe").isInstanceOf(IllegalStateException.class);
    assertThat(store.circuitState()).isNotEqualTo(CircuitState.HALF_OPEN);
    primary.bug.set(false);
    primary.down.set(false);
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    QuotaDecision next = store.acquire(KEY, PLAN, 1);
    assertThat(next.isMetered()).as("the primary decides again").isTrue();
    assertThat(next.isDegraded()).isFalse();
    assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
  }

  @Test
  void aKeyWhoseStateThePrimaryCannotUseGetsTheFailurePolicyWithoutOpeningTheCircuitOfEveryKey() {
    // Fail-closed: a broken key opening the one circuit would answer 503 to every tenant.
    ResilientQuotaStore store = store(FailurePolicy.failClosed());
    primary.brokenKeys.add(KEY);
    try (LogCapture logged = LogCapture.of(ResilientQuotaStore.class, Level.WARN)) {
      for (int i = 0; i < 10; i++) {
        assertThat(store.acquire(KEY, PLAN, 1).status()).isEqualTo(QuotaDecision.Status.UNAVAILABLE);
      }
      assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
      assertThat(store.acquire(QuotaKey.forTenant("other", "digits"), PLAN, 1).isDegraded()).isFalse();
      assertThat(logged.messagesAt(Level.WARN)).singleElement().asString().contains("holds something else")
          .contains("so far: 1,");
    }
  }

  @Test
  void aProbeThatHitsABrokenKeyClosesTheCircuitSinceThePrimaryAnswered() {
    ResilientQuotaStore store = store(FailurePolicy.failClosed());
    primary.down.set(true);
    openCircuit(store);
    primary.down.set(false);
    primary.brokenKeys.add(KEY);
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(store.acquire(KEY, PLAN, 1).status()).as("the probe").isEqualTo(QuotaDecision.Status.UNAVAILABLE);
    assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
    assertThat(store.acquire(QuotaKey.forTenant("other", "digits"), PLAN, 1).isDegraded()).isFalse();
  }

  @Test
  void aReservationTheLocalFallbackMadeIsSettledThereEvenOnceThePrimaryIsBack() {
    ResilientQuotaStore store = store(FailurePolicy.localFallback(1));
    primary.down.set(true);
    openCircuit(store);
    QuotaDecision reserved = store.acquire(KEY, PLAN, 6);
    assertThat(reserved.isDegraded()).isTrue();
    primary.down.set(false);
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(store.acquire(KEY, PLAN, 3).remaining(0)).as("the primary decides again").isEqualTo(7);

    store.settle(KEY, PLAN, -5, reserved);
    // The primary never charged the 6 units, so it gets nothing back (else it would show 9 left).
    takeOne(store, false, 6);
    // The fallback, which charged them, has 5 of its 6 back (else it would show 3 left).
    primary.down.set(true);
    openCircuit(store);
    takeOne(store, true, 8);
  }

  @Test
  void aReservationThePrimaryMadeIsNeverSettledInTheFallbackWhileTheCircuitIsOpen() {
    ResilientQuotaStore store = store(FailurePolicy.localFallback(1));
    QuotaDecision reserved = store.acquire(KEY, PLAN, 6);
    assertThat(reserved.isDegraded()).isFalse();
    primary.down.set(true);
    openCircuit(store);
    assertThat(store.acquire(KEY, PLAN, 3).remaining(0)).as("the fallback decides").isEqualTo(7);

    store.settle(KEY, PLAN, -5, reserved);
    // Dropped: the fallback never charged those units (else it would show 9 left).
    takeOne(store, true, 6);
    // Nor is the refund kept for later: the primary still counts all 6.
    primary.down.set(false);
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    takeOne(store, false, 3);
  }

  @Test
  void aReservationThePrimaryMadeIsNeverSettledInTheFallbackWhenThePrimaryFailsToTakeIt() {
    ResilientQuotaStore store = store(FailurePolicy.localFallback(1));
    QuotaDecision reserved = store.acquire(KEY, PLAN, 6);
    primary.down.set(true);
    // One failure: the circuit stays closed, the fallback answers this one.
    assertThat(store.acquire(KEY, PLAN, 3).remaining(0)).isEqualTo(7);
    assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);

    store.settle(KEY, PLAN, -5, reserved);
    // The fallback got no refund (else it would show 9 left).
    takeOne(store, true, 6);
    assertThat(store.circuitState()).as("the failed settlement counted as a failure").isEqualTo(CircuitState.OPEN);
  }

  @Test
  void droppedSettlementsAreCountedAndWarnedAboutAtMostOnceAMinute() {
    try (LogCapture log = LogCapture.of(ResilientQuotaStore.class, Level.WARN)) {
      ResilientQuotaStore store = store(FailurePolicy.localFallback(1));
      QuotaDecision reserved = store.acquire(KEY, PLAN, 6);
      primary.down.set(true);
      openCircuit(store);
      for (int i = 0; i < 100; i++) {
        store.settle(KEY, PLAN, -1, reserved);
      }
      nanos.addAndGet(Duration.ofMinutes(1).toNanos());
      store.settle(KEY, PLAN, -1, reserved);

      assertThat(store.droppedSettlements()).isEqualTo(101);
      List<String> warnings = log.messagesAt(Level.WARN).stream().filter(m -> m.contains("settlement")).toList();
      assertThat(warnings).hasSize(2);
      assertThat(warnings.get(0)).contains("(circuit OPEN); 1 dropped so far");
      assertThat(warnings.get(1)).contains("101 dropped so far");
    }
  }

  @Test
  void aDroppedSettlementOfATenantNamedWithControlCharactersIsLoggedOnOneCleanLine() {
    try (LogCapture log = LogCapture.of(ResilientQuotaStore.class, Level.WARN)) {
      ResilientQuotaStore store = store(FailurePolicy.localFallback(1));
      // A tenant claim with NEL (a line break to many log readers) and the 8-bit CSI of a terminal.
      QuotaKey key = QuotaKey.forTenant("acme\u0085FORGED WARN\u009B31m", "digits");
      store.primaryDroppedAdjustment(key, -1, new IllegalStateException("lost"));

      List<String> lines = log.messages().stream().filter(m -> m.contains("dropped")).toList();
      assertThat(lines).hasSize(1);
      assertThat(lines.get(0)).contains("acme%85FORGED%20WARN%9B31m")
          .doesNotContainPattern("\\p{Cc}");
    }
  }

  @Test
  void aSettlementThePrimaryRefusesIsLoggedWithItsMessageOnOneCleanLine() {
    // A store's message may quote what it was given (the key: a tenant claim, a model id from the
    // path); the other lines of this class escape it, the dropped settlement's did not.
    QuotaStore quoting = new QuotaStore() {
      @Override
      public QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost) {
        return primary.acquire(key, plan, cost);
      }

      @Override
      public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
        throw new QuotaStoreException("cannot adjust 'acme\nFORGED ERROR line\u2028and more'");
      }
    };
    try (LogCapture log = LogCapture.of(ResilientQuotaStore.class, Level.WARN)) {
      ResilientQuotaStore store = ResilientQuotaStore.builder(quoting).failurePolicy(FailurePolicy.failClosed())
          .ticker(nanos::get).clock(clock).build();
      assertThat(store.trySettle(KEY, PLAN, -1, store.acquire(KEY, PLAN, 1))).isFalse();

      List<String> lines = log.messages().stream().filter(m -> m.contains("dropped")).toList();
      assertThat(lines).hasSize(1);
      assertThat(lines.get(0)).contains("cannot adjust 'acme?FORGED ERROR line?and more'")
          .doesNotContainPattern("[\\p{Cc}\u2028]");
    }
  }

  // Scopes: a circuit per part of the primary. Tenants "a…" are on part "a", the others on part "b".
  private static final QuotaKey A1 = QuotaKey.forTenant("a1", "digits");
  private static final QuotaKey A2 = QuotaKey.forTenant("a2", "digits");
  private static final QuotaKey B = QuotaKey.forTenant("b1", "digits");

  private ResilientQuotaStore.Builder scoped(FailurePolicy policy) {
    return ResilientQuotaStore.builder(primary).failurePolicy(policy).failureThreshold(3)
        .openDuration(Duration.ofSeconds(1)).ticker(nanos::get).clock(clock)
        .breakerScope(key -> key.partition().startsWith("t:a") ? "part a" : "part b");
  }

  /** Decides on {@link #A1}, {@link #B}, {@link #A2}, {@link #B}, … : {@code rounds} of one failing and one healthy key. */
  private static void interleave(ResilientQuotaStore store, int rounds) {
    for (int i = 0; i < rounds; i++) {
      store.acquire(i % 2 == 0 ? A1 : A2, PLAN, 1);
      assertThat(store.acquire(B, PLAN, 1).isDegraded()).as("part b decides").isFalse();
    }
  }

  @Test
  void oneSharedCircuitNeverOpensWhileAHealthyPartKeepsAnswering() {
    // The defect scopes mend: the healthy part's successes reset the count between failures.
    ResilientQuotaStore store = store(FailurePolicy.failClosed());
    primary.downKeys.addAll(List.of(A1, A2));
    interleave(store, 10);
    assertThat(store.circuitState()).isEqualTo(CircuitState.CLOSED);
    assertThat(primary.calls.get()).as("every decision waited for the primary").isEqualTo(20);
  }

  @Test
  void aFailingScopeOpensItsOwnCircuitWhileTheOthersKeepDecidingInThePrimary() {
    ResilientQuotaStore store = scoped(FailurePolicy.failClosed()).build();
    primary.downKeys.addAll(List.of(A1, A2));
    interleave(store, 3);
    assertThat(store.circuitState(A1)).isEqualTo(CircuitState.OPEN);
    assertThat(store.circuitState(A2)).as("the same scope").isEqualTo(CircuitState.OPEN);
    assertThat(store.circuitState(B)).isEqualTo(CircuitState.CLOSED);
    assertThat(store.circuitState()).as("the worst").isEqualTo(CircuitState.OPEN);
    assertThat(store.worstCircuitState("part b"::equals)).isEqualTo(CircuitState.CLOSED);

    int calls = primary.calls.get();
    for (int i = 0; i < 100; i++) {
      assertThat(store.acquire(A1, PLAN, 1).status()).isEqualTo(QuotaDecision.Status.UNAVAILABLE);
    }
    assertThat(primary.calls.get()).as("part a's keys leave the primary alone").isEqualTo(calls);
    assertThat(store.acquire(B, PLAN, 1).remaining(0)).as("part b counts in the primary").isEqualTo(6);
    assertThat(primary.calls.get()).isEqualTo(calls + 1);
  }

  @Test
  void eachScopeProbesOnItsOwn() {
    ResilientQuotaStore store = scoped(FailurePolicy.failClosed()).build();
    primary.down.set(true);
    for (int i = 0; i < 3; i++) {
      store.acquire(A1, PLAN, 1);
      store.acquire(B, PLAN, 1);
    }
    assertThat(store.circuitState(A1)).isEqualTo(CircuitState.OPEN);
    assertThat(store.circuitState(B)).isEqualTo(CircuitState.OPEN);
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    int calls = primary.calls.get();

    assertThat(store.acquire(A1, PLAN, 1).isDegraded()).as("part a's probe fails").isTrue();
    assertThat(store.acquire(A2, PLAN, 1).isDegraded()).isTrue();
    assertThat(primary.calls.get()).as("one probe for part a").isEqualTo(calls + 1);
    primary.down.set(false);
    assertThat(store.acquire(B, PLAN, 1).isDegraded()).as("part b still has its own probe, which succeeds").isFalse();
    assertThat(primary.calls.get()).isEqualTo(calls + 2);
    assertThat(store.circuitState(B)).isEqualTo(CircuitState.CLOSED);
    assertThat(store.circuitState(A1)).as("part a waits for its next probe").isEqualTo(CircuitState.OPEN);
    assertThat(store.acquire(A1, PLAN, 1).retryAfterMicros()).isEqualTo(1_000_000);
  }

  @Test
  void settlementsFollowTheCircuitOfTheReservationsScope() {
    ResilientQuotaStore store = scoped(FailurePolicy.localFallback(1)).build();
    QuotaDecision onA = store.acquire(A1, PLAN, 6);
    QuotaDecision onB = store.acquire(B, PLAN, 6);
    primary.downKeys.addAll(List.of(A1, A2));
    interleave(store, 3);
    assertThat(store.circuitState(A1)).isEqualTo(CircuitState.OPEN);

    store.settle(A1, PLAN, -5, onA);
    store.settle(B, PLAN, -5, onB);

    assertThat(store.droppedSettlements()).as("only part a's, whose circuit is open").isEqualTo(1);
    // Part b's primary got the 5 units back: 10 - 6 - 3 (interleaved) + 5 = 6, less this one.
    assertThat(store.acquire(B, PLAN, 1).remaining(0)).isEqualTo(5);
    // A reservation part a's fallback made is settled there: 10 - 1 (interleaved) - 4 + 4 - 1.
    QuotaDecision degraded = store.acquire(A2, PLAN, 4);
    assertThat(degraded.isDegraded()).isTrue();
    store.settle(A2, PLAN, -4, degraded);
    assertThat(store.acquire(A2, PLAN, 1).remaining(0)).isEqualTo(8);
  }

  @Test
  void theCircuitsOfAtMostMaxBreakerScopesAreKeptAndAPristineOneMakesRoomFirst() {
    ResilientQuotaStore store = ResilientQuotaStore.builder(primary).failurePolicy(FailurePolicy.failClosed())
        .failureThreshold(1).ticker(nanos::get).clock(clock).maxBreakerScopes(2)
        .breakerScope(QuotaKey::partition).build();
    QuotaKey x = QuotaKey.forTenant("x", "digits");
    QuotaKey y = QuotaKey.forTenant("y", "digits");
    QuotaKey z = QuotaKey.forTenant("z", "digits");
    primary.downKeys.addAll(List.of(x, z));
    store.acquire(x, PLAN, 1);
    store.acquire(y, PLAN, 1);
    assertThat(store.breakerScopes()).isEqualTo(2);

    store.acquire(z, PLAN, 1);
    assertThat(store.breakerScopes()).isEqualTo(2);
    assertThat(store.circuitState(x)).as("y, closed without failures, made room").isEqualTo(CircuitState.OPEN);
    assertThat(store.circuitState(z)).isEqualTo(CircuitState.OPEN);

    store.acquire(y, PLAN, 1);
    assertThat(store.breakerScopes()).as("one open circuit made room").isEqualTo(2);
    assertThat(List.of(store.circuitState(x), store.circuitState(z))).containsExactlyInAnyOrder(
        CircuitState.OPEN, CircuitState.CLOSED);
    QuotaKey forgotten = store.circuitState(x) == CircuitState.CLOSED ? x : z;
    int calls = primary.calls.get();
    store.acquire(forgotten, PLAN, 1);
    assertThat(primary.calls.get()).as("a forgotten scope starts again closed").isEqualTo(calls + 1);
    assertThat(store.circuitState(forgotten)).isEqualTo(CircuitState.OPEN);
  }

  @Test
  void aNullScopeIsTheScopeOfEveryKeyWithoutOne() {
    ResilientQuotaStore store = ResilientQuotaStore.builder(primary).failurePolicy(FailurePolicy.failClosed())
        .ticker(nanos::get).clock(clock).breakerScope(key -> key.equals(B) ? "b" : null).build();
    primary.down.set(true);
    for (int i = 0; i < 3; i++) {
      store.acquire(i == 1 ? A2 : A1, PLAN, 1);
    }
    assertThat(store.circuitState(A2)).isEqualTo(CircuitState.OPEN);
    assertThat(store.circuitState(B)).isEqualTo(CircuitState.CLOSED);
    assertThat(store.breakerScopes()).isEqualTo(1);
  }

  @Test
  void aScopeFunctionThatThrowsGivesTheKeyTheScopeOfEveryKeyWithoutOne() {
    // A scope that cannot be told (a topology not available) must not fail the decision: the
    // key's calls go through the one circuit of the keys without a scope, as with null.
    ResilientQuotaStore store = ResilientQuotaStore.builder(primary).failurePolicy(FailurePolicy.failClosed())
        .ticker(nanos::get).clock(clock).breakerScope(key -> {
          if (key.equals(B)) {
            return "b";
          }
          throw new IllegalStateException("topology not available");
        }).build();
    assertThat(store.acquire(A1, PLAN, 1).remaining(0)).as("decided by the primary").isEqualTo(9);
    primary.down.set(true);
    for (int i = 0; i < 3; i++) {
      assertThat(store.acquire(i == 1 ? A2 : A1, PLAN, 1).status()).isEqualTo(QuotaDecision.Status.UNAVAILABLE);
    }
    assertThat(store.circuitState(A2)).isEqualTo(CircuitState.OPEN);
    assertThat(store.circuitState(B)).isEqualTo(CircuitState.CLOSED);
    store.settle(A1, PLAN, -1, store.acquire(A1, PLAN, 1)); // no exception either
  }

  @Test
  void maxBreakerScopesIsAtLeastOne() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ResilientQuotaStore.builder(primary).maxBreakerScopes(0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** Takes one more unit of {@link #KEY}, checking which store decided and how many units are left. */
  private static void takeOne(ResilientQuotaStore store, boolean byFallback, long remaining) {
    QuotaDecision d = store.acquire(KEY, PLAN, 1);
    assertThat(d.isDegraded()).as("decided by the fallback: %s", d).isEqualTo(byFallback);
    assertThat(d.remaining(0)).isEqualTo(remaining);
  }

  /** Opens the circuit with failures on another key (the primary must be down). */
  private static void openCircuit(ResilientQuotaStore store) {
    for (int i = 0; i < 3; i++) {
      store.acquire(QuotaKey.forTenant("other", "digits"), PLAN, 1);
    }
    assertThat(store.circuitState()).isEqualTo(CircuitState.OPEN);
  }

  private static final class FlakyStore implements QuotaStore {
    final QuotaStore delegate;
    final AtomicBoolean down = new AtomicBoolean();
    /** Keys whose calls fail, as those of one failed part of the primary (a Cluster master). */
    final Set<QuotaKey> downKeys = ConcurrentHashMap.newKeySet();
    /** Keys whose state the primary cannot use, as a Redis key another client overwrote. */
    final Set<QuotaKey> brokenKeys = ConcurrentHashMap.newKeySet();
    final AtomicBoolean bug = new AtomicBoolean();
    /** Adjustments sent without waiting for an answer, as Redis's are: they never fail. */
    final AtomicBoolean adjustmentsUnanswered = new AtomicBoolean();
    final AtomicInteger calls = new AtomicInteger();

    FlakyStore(QuotaStore delegate) {
      this.delegate = delegate;
    }

    @Override
    public QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost) {
      calls.incrementAndGet();
      if (bug.get()) {
        throw new IllegalStateException("a bug");
      }
      if (down.get() || downKeys.contains(key)) {
        throw new QuotaStoreException("down");
      }
      if (brokenKeys.contains(key)) {
        throw new QuotaKeyStateException("key " + key + " holds something else", null);
      }
      return delegate.acquire(key, plan, cost);
    }

    @Override
    public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
      calls.incrementAndGet();
      if (adjustmentsUnanswered.get()) {
        return;
      }
      if (down.get() || downKeys.contains(key)) {
        throw new QuotaStoreException("down");
      }
      delegate.adjust(key, plan, delta, decidedAtMicros);
    }
  }
}
