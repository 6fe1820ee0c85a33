package io.modelguard.extraction;

import java.util.Arrays;

/**
 * The Shapiro–Wilk W statistic, computed with Royston's algorithm AS R94 (1995) exactly as scipy's
 * {@code scipy.stats.shapiro} does (including its use of the AS 241 {@code PPND7} normal quantile),
 * so that W agrees with scipy to within 1e-6. Only W is computed; PRADA compares it with a fixed
 * threshold and needs no p-value. Stateless and thread-safe.
 */
public final class ShapiroWilk {
  private static final double[] C1 = {0.0, 0.221157, -0.147981, -2.071190, 4.434685, -2.706056};
  private static final double[] C2 = {0.0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633};

  private ShapiroWilk() {}

  /**
   * W for the sample {@code x} (not modified). Returns 1 for a sample with zero range.
   *
   * @param x the sample, at least 3 values
   * @return W, in (0, 1]
   * @throws IllegalArgumentException if fewer than 3 values are given
   */
  public static double w(double[] x) {
    int n = x.length;
    if (n < 3) {
      throw new IllegalArgumentException("Shapiro-Wilk needs at least 3 values, got " + n);
    }
    double[] sorted = x.clone();
    Arrays.sort(sorted);
    return wSorted(sorted, n);
  }

  /** W for the first {@code n} values of {@code sorted}, which must be in ascending order. */
  static double wSorted(double[] sorted, int n) {
    return wSorted(sorted, 0, n, coefficients(n));
  }

  /**
   * W for the {@code n} ascending values of {@code sorted} from index {@code from}, with the
   * precomputed {@link #coefficients(int) coefficients} for {@code n}.
   */
  static double wSorted(double[] sorted, int from, int n, double[] a) {
    int last = from + n - 1;
    if (sorted[last] - sorted[from] < 1e-19) {
      return 1.0;
    }
    int half = n / 2;
    // W is the squared correlation of the ordered sample with the antisymmetric coefficients.
    double mean = 0;
    for (int i = from; i <= last; i++) {
      mean += sorted[i];
    }
    mean /= n;
    double ssx = 0;
    for (int i = from; i <= last; i++) {
      double d = sorted[i] - mean;
      ssx += d * d;
    }
    double sax = 0;
    double ssa = 0;
    for (int i = 0; i < half; i++) {
      sax += a[i] * (sorted[last - i] - sorted[from + i]);
      ssa += 2 * a[i] * a[i];
    }
    double w = sax * sax / (ssa * ssx);
    return Math.min(w, 1.0);
  }

  /** The first n/2 coefficients a_1..a_{n/2} of AS R94 (positive, largest first). */
  static double[] coefficients(int n) {
    int half = n / 2;
    double[] a = new double[half];
    if (n == 3) {
      a[0] = Math.sqrt(0.5);
      return a;
    }
    double an25 = n + 0.25;
    double[] m = new double[half];
    double summ2 = 0;
    for (int i = 0; i < half; i++) {
      m[i] = ppnd7((i + 1 - 0.375) / an25); // negative: lower-tail expected order statistics
      summ2 += m[i] * m[i];
    }
    summ2 *= 2;
    double ssumm2 = Math.sqrt(summ2);
    double rsn = 1.0 / Math.sqrt(n);
    double a1 = poly(C1, rsn) - m[0] / ssumm2;
    int first;
    double fac;
    if (n > 5) {
      first = 2;
      double a2 = -m[1] / ssumm2 + poly(C2, rsn);
      fac = Math.sqrt((summ2 - 2 * m[0] * m[0] - 2 * m[1] * m[1]) / (1 - 2 * a1 * a1 - 2 * a2 * a2));
      a[1] = a2;
    } else {
      first = 1;
      fac = Math.sqrt((summ2 - 2 * m[0] * m[0]) / (1 - 2 * a1 * a1));
    }
    a[0] = a1;
    for (int i = first; i < half; i++) {
      a[i] = -m[i] / fac;
    }
    return a;
  }

  private static double poly(double[] c, double x) {
    double p = x * c[c.length - 1];
    for (int j = c.length - 2; j > 0; j--) {
      p = (p + c[j]) * x;
    }
    return c[0] + p;
  }

  /** AS 241 PPND7: the normal quantile to about 7 digits, as used by AS R94 and scipy. */
  static double ppnd7(double p) {
    double q = p - 0.5;
    if (Math.abs(q) <= 0.425) {
      double r = 0.180625 - q * q;
      return q * (((59.109374720 * r + 159.29113202) * r + 50.434271938) * r + 3.3871327179)
          / (((67.187563600 * r + 78.757757664) * r + 17.895169469) * r + 1.0);
    }
    double r = q < 0 ? p : 1.0 - p;
    r = Math.sqrt(-Math.log(r));
    double value;
    if (r <= 5.0) {
      r -= 1.6;
      value = (((0.17020650680 * r + 1.3067284816) * r + 2.7568153900) * r + 1.4234372777)
          / ((0.12021132975 * r + 0.73700164250) * r + 1.0);
    } else {
      r -= 5.0;
      value = (((0.017233414055 * r + 0.42848327800) * r + 3.0812263860) * r + 6.6579051150)
          / ((0.012258202635 * r + 0.24197894225) * r + 1.0);
    }
    return q < 0 ? -value : value;
  }
}
