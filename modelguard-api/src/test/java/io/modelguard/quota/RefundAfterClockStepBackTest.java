package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
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
    long[] state = {W, 5, 0, 0};
    long decidedAt = at(W, 10);

    QuotaArithmetic.adjust(PLAN, state, at(W - 60, 10), -5, decidedAt);

    assertThat(state).as("the 5 refunded, then the window moved back to now's, marked: more than one window")
        .containsExactly(W - 60, 0, 0, 2 * W + 1);
  }

  @Test
  void aRefundAfterAStepBackOneWindowComesOffThePreviousWindowItWasChargedToNotTheCurrentOne() {
    // 3 charged in W - 1, 2 in W; then the clock steps back into W - 1.
    long[] state = {W, 2, 3, 0};

    QuotaArithmetic.adjust(PLAN, state, at(W - 1, 10), -3, at(W - 1, 50));

    assertThat(state).as("marked: moved back one window from W").containsExactly(W - 1, 2, 0, 2 * W);
  }

  @Test
  void aRefundForAWindowNoLongerStoredIsDroppedAfterAStepBackRatherThanTakenFromAnother() {
    // Charged in W - 3, forgotten since: W holds 2, W - 1 holds 1. The clock steps back into W - 2,
    // whose previous window W - 3 the refund names.
    long[] state = {W, 2, 1, 0};

    QuotaArithmetic.adjust(PLAN, state, at(W - 2, 10), -4, at(W - 3, 30));

    assertThat(state).containsExactly(W - 2, 2, 1, 2 * W + 1);
  }

  @Test
  void aRefundOnASteadyClockStillGoesToTheCurrentOrThePreviousWindow() {
    long[] current = {W, 4, 1, 0};
    QuotaArithmetic.adjust(PLAN, current, at(W, 20), -3, at(W, 10));
    assertThat(current).containsExactly(W, 1, 1, 0);

    long[] rolled = {W, 4, 1, 0};
    QuotaArithmetic.adjust(PLAN, rolled, at(W + 1, 5), -3, at(W, 10));
    assertThat(rolled).as("rolled: W's count is the previous one").containsExactly(W + 1, 0, 1, 0);
  }

  @Test
  void afterAMoveByOneWindowRefundsOfTheWindowsBeforeTheStepComeOffTheCountsHoldingThem() {
    // W held 2, W - 1 held 3; moved back to W - 1 (a refusal 50 s into W - 1), 1 taken there.
    long[] state = {W, 3, 3, 0};
    assertThat(QuotaArithmetic.capLeads(PLAN, state, at(W - 1, 50))).isTrue();
    assertThat(state).containsExactly(W - 1, 3, 3, 2 * W);

    QuotaArithmetic.adjust(PLAN, state, at(W - 1, 55), -3, at(W - 1, 20));
    assertThat(state).as("W - 1's charge off the previous count, not the current one").containsExactly(W - 1, 3, 0, 2 * W);
    QuotaArithmetic.adjust(PLAN, state, at(W - 1, 56), -1, at(W, 20));
    assertThat(state).as("W's charge off the current count").containsExactly(W - 1, 2, 0, 2 * W);

    QuotaArithmetic.tryAcquire(PLAN, state, at(W, 30), 1);
    assertThat(state).as("time reached W: the moved count is the previous one").containsExactly(W, 1, 2, 2 * W);
    QuotaArithmetic.adjust(PLAN, state, at(W, 31), -1, at(W, 20));
    assertThat(state).as("W's charge from before the step off the previous count").containsExactly(W, 1, 1, 2 * W);
    QuotaArithmetic.adjust(PLAN, state, at(W, 32), -1, at(W - 1, 20));
    assertThat(state).as("W - 1's count is gone: dropped").containsExactly(W, 1, 1, 2 * W);

    QuotaArithmetic.adjust(PLAN, state, at(W + 1, 10), -1, at(W, 30));
    assertThat(state).as("a charge of W, before the step (forgotten) or after it (the previous count): dropped")
        .containsExactly(W + 1, 0, 1, 2 * W);
    QuotaArithmetic.tryAcquire(PLAN, state, at(W + 1, 20), 2);
    QuotaArithmetic.adjust(PLAN, state, at(W + 1, 30), -1, at(W + 1, 20));
    assertThat(state).as("a window after the mark's: by its index").containsExactly(W + 1, 1, 1, 2 * W);

    QuotaArithmetic.adjust(PLAN, state, at(W + 2, 10), -1, at(W + 1, 20));
    assertThat(state).as("two windows on, the mark is dropped").containsExactly(W + 2, 0, 0, 0);
  }

  @Test
  void onAClockThatNeverStepsBackNoMarkIsMadeAndEveryRefundComesOffTheCountOfItsWindow() {
    // Random histories of takes, refunds and forced charges on a clock that only moves forward,
    // against a model of the window pair that knows nothing of marks: the mark, and a token
    // bucket's unused fourth long, must stay 0, and every count must be the model's.
    QuotaPlan plan = QuotaPlan.of(MINUTE, QuotaLimit.tokenBucket("burst", 3, Duration.ofSeconds(10)));
    SplittableRandom random = new SplittableRandom(34);
    for (int history = 0; history < 500; history++) {
      long[] state = new long[QuotaArithmetic.stateSize(plan)];
      long idx = 0;
      long cur = 0;
      long prev = 0;
      long now = at(W, random.nextInt(60));
      List<Long> decided = new ArrayList<>();
      for (int step = 0; step < 100; step++) {
        now += random.nextInt(4) == 0 ? 0 : random.nextLong(3 * MINUTE_MICROS / 2);
        long window = now / MINUTE_MICROS;
        if (idx == window - 1) {
          prev = cur;
          cur = 0;
        } else if (idx < window - 1) {
          prev = 0;
          cur = 0;
        }
        idx = window;
        if (random.nextBoolean() || decided.isEmpty()) {
          long cost = 1 + random.nextInt(3);
          if (QuotaArithmetic.tryAcquire(plan, state, now, cost)) {
            cur += cost;
            decided.add(now);
          } else {
            assertThat(QuotaArithmetic.capLeads(plan, state, now)).as("nothing leads on a steady clock").isFalse();
          }
        } else if (random.nextInt(5) == 0) {
          long charge = 1 + random.nextInt(4);
          QuotaArithmetic.adjust(plan, state, now, charge, now);
          cur = Math.min(cur + charge, 2 * MINUTE.quota());
        } else {
          long decidedAt = decided.get(random.nextInt(decided.size()));
          long units = 1 + random.nextInt(4);
          QuotaArithmetic.adjust(plan, state, now, -units, decidedAt);
          long at = decidedAt / MINUTE_MICROS;
          if (at == idx) {
            cur = Math.max(0, cur - units);
          } else if (at == idx - 1) {
            prev = Math.max(0, prev - units);
          }
        }
        assertThat(new long[] {state[0], state[1], state[2], state[3], state[7]})
            .as("history %d, step %d", history, step)
            .containsExactly(idx, cur, prev, 0, 0);
      }
    }
  }

  @Test
  void aMarkedKeyIsNotFreshUntilItsMarkIsDropped() {
    long[] state = {W, 0, 0, 0};
    QuotaArithmetic.capLeads(PLAN, state, at(W - 1, 10)); // a window stored ahead with nothing counted
    assertThat(QuotaArithmetic.isFresh(PLAN.limits(), state, at(W + 1, 59))).isFalse();
    assertThat(QuotaArithmetic.countedUnits(PLAN.limits(), state, at(W + 1, 59))).isEqualTo(1);
    assertThat(QuotaArithmetic.isFresh(PLAN.limits(), state, at(W + 2, 0))).isTrue();
  }
}
