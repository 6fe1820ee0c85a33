package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * An {@link InMemoryQuotaStore} whose time for a decision was read before another decision, on a
 * later time, wrote the key (a thread held up between reading its clock and reading the key) finds
 * the key ahead of that time as after a clock step back. It moves nothing back for it: a sliding
 * window moved back a whole window would give the key up to a quota more.
 */
class StaleTimeMovesNothingBackTest {
  private static final QuotaLimit MINUTE = QuotaLimit.slidingWindow("minute", 5, Duration.ofMinutes(1));
  private static final QuotaPlan PLAN = QuotaPlan.of(MINUTE);
  private static final QuotaKey KEY = QuotaKey.forTenant("acme", "digits");
  /** A minute's start. */
  private static final Instant MINUTE_START = Instant.parse("2026-11-28T01:00:00Z");

  @Test
  void aDecisionOnATimeReadBeforeALaterGrantLeavesTheWindowWhereThatGrantPutIt() {
    SteppedClock clock = new SteppedClock(MINUTE_START.minusSeconds(30));
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).build();
    assertThat(store.acquire(KEY, PLAN, 3).isAllowed()).isTrue();

    // Read 1 ms before the minute's end; before the key is read, a decision half a second into the
    // next minute takes 2 (the 3 before still weigh about 3).
    clock.set(MINUTE_START.minusMillis(1));
    QuotaDecision[] later = new QuotaDecision[1];
    clock.onNextRead(() -> {
      clock.set(MINUTE_START.plusMillis(500));
      later[0] = store.acquire(KEY, PLAN, 2);
    });
    QuotaDecision stale = store.acquire(KEY, PLAN, 1);
    assertThat(later[0].isAllowed()).isTrue();
    assertThat(stale.isAllowed()).as("6 units within a minute, quota 5: %s", stale).isFalse();

    clock.set(MINUTE_START.plusSeconds(1));
    assertThat(store.acquire(KEY, PLAN, 1).isAllowed()).as("the minute's 5 still count").isFalse();
  }

  @Test
  void aRefundOnATimeReadBeforeALaterGrantLeavesTheWindowWhereThatGrantPutIt() {
    SteppedClock clock = new SteppedClock(MINUTE_START.minusSeconds(30));
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).build();
    QuotaDecision reservation = store.acquire(KEY, PLAN, 3);
    assertThat(reservation.isAllowed()).isTrue();

    clock.set(MINUTE_START.minusMillis(1));
    QuotaDecision[] later = new QuotaDecision[1];
    clock.onNextRead(() -> {
      clock.set(MINUTE_START.plusMillis(500));
      later[0] = store.acquire(KEY, PLAN, 2);
    });
    store.adjust(KEY, PLAN, -1, reservation.decidedAtMicros());
    assertThat(later[0].isAllowed()).isTrue();

    // The last minute holds 2 of the reservation (refunded 1, spread over the previous minute) and
    // the 2 granted after it: room for 1.
    clock.set(MINUTE_START.plusSeconds(1));
    assertThat(store.acquire(KEY, PLAN, 2).isAllowed()).as("2 more within the minute").isFalse();
    assertThat(store.acquire(KEY, PLAN, 1).isAllowed()).isTrue();
  }

  /** A settable clock that runs an action, once, when it is next read, before it answers. */
  private static final class SteppedClock extends Clock {
    private Instant at;
    private Runnable onNextRead;

    SteppedClock(Instant at) {
      this.at = at;
    }

    void set(Instant to) {
      at = to;
    }

    void onNextRead(Runnable action) {
      onNextRead = action;
    }

    @Override
    public Instant instant() {
      Instant answer = at;
      Runnable action = onNextRead;
      onNextRead = null;
      if (action != null) {
        action.run();
      }
      return answer;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }
}
