package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.quota.ResilientQuotaStore.CircuitState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The circuit breaker and the three failure policies, on a primary store that fails on demand. */
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

  private static final class FlakyStore implements QuotaStore {
    final QuotaStore delegate;
    final AtomicBoolean down = new AtomicBoolean();
    final AtomicBoolean bug = new AtomicBoolean();
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
      if (down.get()) {
        throw new QuotaStoreException("down");
      }
      return delegate.acquire(key, plan, cost);
    }

    @Override
    public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
      delegate.adjust(key, plan, delta, decidedAtMicros);
    }
  }
}
