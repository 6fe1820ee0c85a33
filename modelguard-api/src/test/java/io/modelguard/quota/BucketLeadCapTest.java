package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link QuotaArithmetic#capLeads}: what a clock that stepped back leaves in a token bucket is
 * brought back to twice the bucket's size ahead of now, a sliding window stored ahead of now's is
 * moved back to now's with its counts, and nothing a clock that never steps back leaves is ever
 * touched (so the cap forgives no debt but the step's).
 */
class BucketLeadCapTest {
  private static final long NOW = 1_800_000_000_123_456L;
  private static final QuotaLimit BURST = QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1));
  private static final QuotaLimit MINUTE = QuotaLimit.slidingWindow("minute", 60, Duration.ofMinutes(1));

  @Test
  void bringsABucketFurtherAheadThanTwiceItsSizeBackToThatAndAWindowAheadBackToNowsWithItsCounts() {
    QuotaPlan plan = QuotaPlan.of(BURST, MINUTE);
    long idx = NOW / 1000 / MINUTE.windowMillis();
    long[] state = {NOW + 3_600_000_000L, 0, 0, 0, idx + 60, 3, 4, 0};
    assertThat(QuotaArithmetic.capLeads(plan, state, NOW)).isTrue();
    assertThat(state).as("marked: moved back from idx + 60, by more than one window")
        .containsExactly(NOW + 2_000_000, 0, 0, 0, idx, 3, 4, 2 * (idx + 60) + 1);
    assertThat(QuotaArithmetic.capLeads(plan, state, NOW)).as("exactly at the cap, in now's window").isFalse();
    assertThat(state).containsExactly(NOW + 2_000_000, 0, 0, 0, idx, 3, 4, 2 * (idx + 60) + 1);
  }

  @Test
  void aClockThatNeverStepsBackNeverMeetsTheCap() {
    QuotaLimit[] buckets = {BURST, QuotaLimit.tokenBucket("odd", 7, Duration.ofSeconds(1)),
        QuotaLimit.tokenBucket("fine", 999_983, Duration.ofSeconds(1)), QuotaLimit.tokenBucket("day", 3, Duration.ofDays(1))};
    long[] costs = {1, 1, 2, 3, 10, 1000};
    long[] deltas = {-1, 1, -5, 5, -1000, 1000, Long.MIN_VALUE, Long.MAX_VALUE};
    for (long seed = 1; seed <= 200; seed++) {
      SplittableRandom r = new SplittableRandom(seed);
      QuotaPlan plan = r.nextBoolean() ? QuotaPlan.of(buckets[r.nextInt(buckets.length)])
          : QuotaPlan.of(buckets[r.nextInt(2)], MINUTE, buckets[2 + r.nextInt(2)]);
      long[] state = new long[QuotaArithmetic.stateSize(plan)];
      long[] ends = null;
      long now = NOW;
      for (int step = 0; step < 300; step++) {
        int op = r.nextInt(4);
        if (op == 0) {
          now += r.nextLong(0, 2_000_000);
        } else if (op == 1) {
          if (QuotaArithmetic.tryAcquire(plan, state, now, costs[r.nextInt(costs.length)])) {
            ends = new long[plan.size()];
            for (int i = 0; i < plan.size(); i++) {
              ends[i] = plan.limit(i).algorithm() == QuotaLimit.Algorithm.TOKEN_BUCKET ? state[QuotaArithmetic.STRIDE * i] : 0;
            }
          }
        } else {
          long delta = deltas[r.nextInt(deltas.length)];
          QuotaArithmetic.adjust(plan, state, now, delta, now, op == 2 ? null : ends);
        }
        long[] copy = state.clone();
        assertThat(QuotaArithmetic.capLeads(plan, copy, now))
            .as("seed %d, step %d, %s at %d", seed, step, Arrays.toString(state), now).isFalse();
        assertThat(copy).isEqualTo(state);
      }
    }
  }
}
