package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NoiseKeysTest {
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(secret(1));

  private static byte[] secret(int first) {
    byte[] s = new byte[NoiseKeys.MIN_SECRET_BYTES];
    s[0] = (byte) first;
    return s;
  }

  @Test
  void aRepeatKeyIsTheInputsExactBitsWithBothZerosAlike() {
    double[] x = {0.0, 1.5, -2.25};
    assertThat(KEYS.repeatKey(x.clone())).isEqualTo(KEYS.repeatKey(x));
    assertThat(KEYS.repeatKey(new double[] {-0.0, 1.5, -2.25})).isEqualTo(KEYS.repeatKey(x));
    assertThat(KEYS.repeatKey(new double[] {0.0, Math.nextUp(1.5), -2.25})).isNotEqualTo(KEYS.repeatKey(x));
    // The length counts: a trailing zero is another input.
    assertThat(KEYS.repeatKey(new double[] {0.0, 1.5, -2.25, 0.0})).isNotEqualTo(KEYS.repeatKey(x));
    assertThat(KEYS.repeatKey(new double[0])).isNotEqualTo(KEYS.repeatKey(new double[] {0.0}));
  }

  @Test
  void aRepeatKeyDependsOnTheSecret() {
    double[] x = {3, 1, 4, 1, 5, 9, 2, 6};
    assertThat(NoiseKeys.withSecret(secret(2)).repeatKey(x)).isNotEqualTo(KEYS.repeatKey(x));
    assertThat(NoiseKeys.withSecret(secret(1)).repeatKey(x)).isEqualTo(KEYS.repeatKey(x));
  }

  @Test
  void inputsDifferingInOneFeatureGetDistinctRepeatKeys() {
    // 20,000 single-feature variations of one 64-feature input: any shared key would make the
    // defence take a new query for a repeat.
    SplittableRandom random = new SplittableRandom(5);
    double[] base = new double[64];
    for (int i = 0; i < base.length; i++) {
      base[i] = random.nextInt(17);
    }
    Set<Long> keys = new HashSet<>();
    for (int n = 0; n < 20_000; n++) {
      double[] x = base.clone();
      x[n % 64] = 17 + n;
      keys.add(KEYS.repeatKey(x));
    }
    assertThat(keys).hasSize(20_000);
  }

  @Test
  void inputsWithinTheNoiseRadiusShareAtMostSixteenDrawsWhereverTheyStraddleTheGrid() {
    // An attacker who knows the secret directions (here read off the keys, as unlimited probing
    // could) and aims its variations along them, at the corners of the grid around each input.
    double radius = 1.0;
    double[][] directions = new double[NoiseKeys.NEIGHBOURHOOD_DIRECTIONS][64];
    for (int i = 0; i < 64; i++) {
      double[] unit = new double[64];
      unit[i] = 1;
      double[] c = KEYS.neighbourhoodCoordinates(unit);
      for (int j = 0; j < directions.length; j++) {
        directions[j][i] = c[j];
      }
    }
    SplittableRandom r = new SplittableRandom(5);
    int most = 0;
    for (int base = 0; base < 50; base++) {
      double[] x = new double[64];
      for (int i = 0; i < 64; i++) {
        x[i] = r.nextInt(17);
      }
      Set<Long> seeds = new HashSet<>();
      for (int v = 0; v < 400; v++) {
        double[] step = new double[64];
        for (double[] direction : directions) {
          double along = radius * (2 * r.nextDouble() - 1);
          for (int i = 0; i < 64; i++) {
            step[i] += along * direction[i];
          }
        }
        double norm = Math.sqrt(Arrays.stream(step).map(s -> s * s).sum());
        double[] nudged = x.clone();
        for (int i = 0; i < 64; i++) {
          nudged[i] += step[i] * Math.min(1, radius / norm); // within the ball of the radius
        }
        seeds.add(KEYS.neighbourhoodSeed("mallory", nudged, 64, 2 * radius));
      }
      assertThat(seeds).as("draws within %s of input %d", radius, base).hasSizeLessThanOrEqualTo(16);
      most = Math.max(most, seeds.size());
    }
    assertThat(most).as("the most draws any ball gave: the attack does straddle boundaries").isGreaterThan(4);
  }

  @Test
  void aMixingStreamIsStandardNormalSharesHalfItsVarianceWithItsSeedAndRepeatsItself() {
    // (a + b)/√2: over 200,000 draws, mean 0 and variance 1; its covariance with another stream of
    // the same first seed (another input of one cell) is 1/2, with a stream of another first seed
    // 0; and the same two seeds give the same numbers (a repeat, its answer again).
    int n = 200_000;
    KeyedRandom mixed = KeyedRandom.mixing(11, () -> 12);
    KeyedRandom sameCell = KeyedRandom.mixing(11, () -> 13);
    KeyedRandom otherCell = KeyedRandom.mixing(21, () -> 22);
    KeyedRandom again = KeyedRandom.mixing(11, () -> 12);
    double sum = 0;
    double squares = 0;
    double withSameCell = 0;
    double withOtherCell = 0;
    for (int i = 0; i < n; i++) {
      double g = mixed.nextGaussian();
      assertThat(again.nextGaussian()).isEqualTo(g);
      sum += g;
      squares += g * g;
      withSameCell += g * sameCell.nextGaussian();
      withOtherCell += g * otherCell.nextGaussian();
    }
    assertThat(sum / n).isCloseTo(0, org.assertj.core.data.Offset.offset(0.01));
    assertThat(squares / n).isCloseTo(1, org.assertj.core.data.Offset.offset(0.02));
    assertThat(withSameCell / n).isCloseTo(0.5, org.assertj.core.data.Offset.offset(0.02));
    assertThat(withOtherCell / n).isCloseTo(0, org.assertj.core.data.Offset.offset(0.02));
    // Uniform draws come from the first seed alone.
    assertThat(KeyedRandom.mixing(11, () -> 12).nextDouble()).isEqualTo(new KeyedRandom(11).nextDouble());
  }

  @Test
  void anInputWithoutACellStillGetsStandardNormalNoise() {
    // A feature beyond float range has no cell (nor has a coordinate too large to count in cells
    // of a tiny width): its per-query stream falls back to the exact input's. The Gaussian mix must
    // not then add the exact stream to itself, which doubles the variance (√2 · the set noise).
    int n = 4_000;
    double nonStorable = 0;
    double tinyCells = 0;
    for (int i = 0; i < n; i++) {
      double[] x = {i, 1e300};
      nonStorable += square(KEYS.source("alice", x, x.length, 2, 2.0).perQuery().nextGaussian());
      double[] y = {i, 1e10};
      tinyCells += square(KEYS.source("alice", y, y.length, 2, Double.MIN_VALUE).perQuery().nextGaussian());
    }
    assertThat(nonStorable / n).isCloseTo(1, org.assertj.core.data.Offset.offset(0.1));
    assertThat(tinyCells / n).isCloseTo(1, org.assertj.core.data.Offset.offset(0.1));
    // Still keyed: a repeat gets its draw again.
    double[] x = {7, 1e300};
    assertThat(KEYS.source("alice", x, 2, 2, 2.0).perQuery().nextGaussian())
        .isEqualTo(KEYS.source("alice", x.clone(), 2, 2, 2.0).perQuery().nextGaussian());
  }

  private static double square(double v) {
    return v * v;
  }
}
