package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * W agrees with scipy. Expected values were produced with scipy 1.17.1 ({@code
 * scipy.stats.shapiro(x).statistic}) on the same deterministic samples, generated in Python by the
 * identical 64-bit LCG:
 *
 * <pre>
 * def lcg(seed, n):
 *     s, out = seed, []
 *     for _ in range(n):
 *         s = (s * 6364136223846793005 + 1442695040888963407) % 2**64
 *         out.append((s >> 11) / 2.0**53)
 *     return out
 * normal(seed, n): u = lcg(seed, 2n); sqrt(-2 log(1 - u[2i])) * cos(2 pi u[2i+1])
 * exponential(seed, n): -log(1 - u) for u in lcg(seed, n)
 * </pre>
 *
 * The n = 5 hand sample also checks the AS R94 coefficients against the classic table (a1 = 0.6646,
 * a2 = 0.2413).
 */
class ShapiroWilkTest {

  @Test
  void matchesScipyOnSmallHandSamples() {
    assertThat(ShapiroWilk.w(new double[] {1.0, 2.0, 4.0})).isCloseTo(0.9642857142857142, within(1e-6));
    assertThat(ShapiroWilk.w(new double[] {2.1, 3.4, 1.9, 5.6, 4.4})).isCloseTo(0.9320849391953863, within(1e-6));
  }

  @Test
  void matchesScipyOnUniformNormalAndExponentialSamples() {
    assertThat(ShapiroWilk.w(uniform(1, 50))).isCloseTo(0.9700216249154241, within(1e-6));
    assertThat(ShapiroWilk.w(normal(2, 120))).isCloseTo(0.9882480100217119, within(1e-6));
    assertThat(ShapiroWilk.w(exponential(3, 300))).isCloseTo(0.8361888583987012, within(1e-6));
    assertThat(ShapiroWilk.w(normal(4, 1000))).isCloseTo(0.9988360588200482, within(1e-6));
    assertThat(ShapiroWilk.w(uniform(5, 4))).isCloseTo(0.8414356802716824, within(1e-6));
    assertThat(ShapiroWilk.w(normal(6, 7))).isCloseTo(0.9346672062922095, within(1e-6));
  }

  @Test
  void coefficientsMatchShapiroAndWilksTableForFive() {
    double[] a = ShapiroWilk.coefficients(5);
    assertThat(a[0]).isCloseTo(0.6646, within(5e-4));
    assertThat(a[1]).isCloseTo(0.2413, within(5e-4));
  }

  @Test
  void constantSampleIsPerfectlyNormalByConvention() {
    assertThat(ShapiroWilk.w(new double[] {3, 3, 3, 3})).isEqualTo(1.0);
  }

  @Test
  void rejectsFewerThanThreeValues() {
    assertThatThrownBy(() -> ShapiroWilk.w(new double[] {1, 2})).isInstanceOf(IllegalArgumentException.class);
  }

  static double[] uniform(long seed, int n) {
    double[] out = new double[n];
    long s = seed;
    for (int i = 0; i < n; i++) {
      s = s * 6364136223846793005L + 1442695040888963407L;
      out[i] = (s >>> 11) / 9007199254740992.0;
    }
    return out;
  }

  static double[] normal(long seed, int n) {
    double[] u = uniform(seed, 2 * n);
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = Math.sqrt(-2 * Math.log(1 - u[2 * i])) * Math.cos(2 * Math.PI * u[2 * i + 1]);
    }
    return out;
  }

  static double[] exponential(long seed, int n) {
    double[] u = uniform(seed, n);
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = -Math.log(1 - u[i]);
    }
    return out;
  }
}
