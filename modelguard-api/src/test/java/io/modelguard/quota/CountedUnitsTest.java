package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * What a size eviction of the in-memory store weighs ({@link QuotaArithmetic#countedUnits}): the
 * units a key's state still counts, zero
 * exactly when forgetting the state changes no decision.
 */
class CountedUnitsTest {
  private static final long NOW = 1_800_000_000_123_456L;
  private static final QuotaLimit BUCKET = QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1));
  private static final QuotaLimit MINUTE = QuotaLimit.slidingWindow("minute", 60, Duration.ofMinutes(1));

  @Test
  void isZeroExactlyWhenTheStateIsFresh() {
    List<QuotaLimit> limits = List.of(BUCKET, MINUTE);
    long idx = NOW / 1000 / MINUTE.windowMillis();
    SplittableRandom random = new SplittableRandom(42);
    for (int n = 0; n < 100_000; n++) {
      long[] state = {
        NOW + random.nextLong(-3_000_000, 3_000_000),
        0, 0, 0, idx + random.nextLong(-3, 2), random.nextLong(0, 3), random.nextLong(0, 3),
        random.nextInt(3) == 0 ? 2 * (idx + random.nextLong(-4, 2)) + random.nextInt(2) : 0};
      assertThat(QuotaArithmetic.countedUnits(limits, state, NOW) == 0)
          .as("%s", Arrays.toString(state))
          .isEqualTo(QuotaArithmetic.isFresh(limits, state, NOW));
    }
  }

  @Test
  void countsWhatForgettingTheStateWouldHandBack() {
    QuotaPlan bucket = QuotaPlan.of(BUCKET);
    long[] state = new long[QuotaArithmetic.STRIDE];
    QuotaArithmetic.tryAcquire(bucket, state, NOW, 7);
    assertThat(QuotaArithmetic.countedUnits(bucket.limits(), state, NOW)).isEqualTo(7);
    // A tenth of a second later one unit is back.
    assertThat(QuotaArithmetic.countedUnits(bucket.limits(), state, NOW + 100_000)).isEqualTo(6);

    QuotaPlan minute = QuotaPlan.of(MINUTE);
    long start = Math.floorDiv(NOW, 60_000_000L) * 60_000_000L;
    long[] window = new long[QuotaArithmetic.STRIDE];
    QuotaArithmetic.tryAcquire(minute, window, start, 40);
    assertThat(QuotaArithmetic.countedUnits(minute.limits(), window, start + 30_000_000)).isEqualTo(40);
    // Half-way through the next window, half of the previous one's count still weighs.
    assertThat(QuotaArithmetic.countedUnits(minute.limits(), window, start + 90_000_000)).isEqualTo(20);
    assertThat(QuotaArithmetic.countedUnits(minute.limits(), window, start + 120_000_000)).isZero();
  }
}
