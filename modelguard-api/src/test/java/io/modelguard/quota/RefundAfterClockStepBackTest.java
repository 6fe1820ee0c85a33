package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@link QuotaArithmetic#adjust} after the clock stepped back behind a sliding window's stored
 * index: a refund is matched against the stored windows before the window is moved back to now's,
 * so it comes off the count it was charged to while that count is still stored, and off nothing
 * else.
 */
class RefundAfterClockStepBackTest {
  private static final QuotaLimit MINUTE = QuotaLimit.slidingWindow("minute", 5, Duration.ofMinutes(1));
  private static final QuotaPlan PLAN = QuotaPlan.of(MINUTE);
  private static final long MINUTE_MICROS = 60_000_000L;
  /** A window's index, far from 0. */
  private static final long W = 1_800_000_000_000_000L / MINUTE_MICROS;

  /** Microseconds since the epoch at {@code seconds} into window {@code index}. */
  private static long at(long index, long seconds) {
    return index * MINUTE_MICROS + seconds * 1_000_000L;
  }

  @Test
  void aRefundAfterAStepBackAnHourComesOffTheWindowItWasChargedTo() {
    long[] state = {W, 5, 0};
    long decidedAt = at(W, 10);

    QuotaArithmetic.adjust(PLAN, state, at(W - 60, 10), -5, decidedAt);

    assertThat(state).as("the 5 refunded, then the window moved back to now's").containsExactly(W - 60, 0, 0);
  }

  @Test
  void aRefundAfterAStepBackOneWindowComesOffThePreviousWindowItWasChargedToNotTheCurrentOne() {
    // 3 charged in W - 1, 2 in W; then the clock steps back into W - 1.
    long[] state = {W, 2, 3};

    QuotaArithmetic.adjust(PLAN, state, at(W - 1, 10), -3, at(W - 1, 50));

    assertThat(state).containsExactly(W - 1, 2, 0);
  }

  @Test
  void aRefundForAWindowNoLongerStoredIsDroppedAfterAStepBackRatherThanTakenFromAnother() {
    // Charged in W - 3, forgotten since: W holds 2, W - 1 holds 1. The clock steps back into W - 2,
    // whose previous window W - 3 the refund names.
    long[] state = {W, 2, 1};

    QuotaArithmetic.adjust(PLAN, state, at(W - 2, 10), -4, at(W - 3, 30));

    assertThat(state).containsExactly(W - 2, 2, 1);
  }

  @Test
  void aRefundOnASteadyClockStillGoesToTheCurrentOrThePreviousWindow() {
    long[] current = {W, 4, 1};
    QuotaArithmetic.adjust(PLAN, current, at(W, 20), -3, at(W, 10));
    assertThat(current).containsExactly(W, 1, 1);

    long[] rolled = {W, 4, 1};
    QuotaArithmetic.adjust(PLAN, rolled, at(W + 1, 5), -3, at(W, 10));
    assertThat(rolled).as("rolled: W's count is the previous one").containsExactly(W + 1, 0, 1);
  }
}
