package io.modelguard.extraction;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * PRADA (Juuti et al., 2019): per predicted class, a growing set of queries and the minimum L2
 * distance of each new query to it; an extraction stream's pooled distances are far from normal, so
 * the client is flagged when the Shapiro–Wilk W of those distances falls below δ. Every {@code
 * checkEvery}-th query pools the distance windows of classes with at least 10 entries, drops values
 * beyond 3σ, and tests them if more than {@code minDistances} remain.
 *
 * <p>Bounded: at most {@code maxGrowingSetPerClass} stored queries (as floats) and the latest {@code
 * maxDistancesPerClass} distances per class, so per-query cost is O(maxGrowingSetPerClass · d) plus,
 * every {@code checkEvery} queries, one W over at most classes · maxDistancesPerClass values.
 */
public final class PradaDetector implements ExtractionDetector {
  private final int classes;
  private final double delta;
  private final int checkEvery;
  private final int minDistances;
  private final int maxGrowing;
  private final int maxDistances;
  private final Map<Integer, double[]> coefficients = new ConcurrentHashMap<>();

  private PradaDetector(Builder b) {
    this.classes = b.classes;
    this.delta = b.delta;
    this.checkEvery = b.checkEvery;
    this.minDistances = b.minDistances;
    this.maxGrowing = b.maxGrowingSetPerClass;
    this.maxDistances = b.maxDistancesPerClass;
  }

  /** A builder for a model with {@code classes} output classes. */
  public static Builder builder(int classes) {
    return new Builder(classes);
  }

  @Override
  public String name() {
    return "prada";
  }

  @Override
  public State newState() {
    return new ClientState();
  }

  @Override
  public long maxRetainedBytes(int dimensions) {
    return 64L * classes + (long) classes * (maxGrowing * (4L * dimensions + 16) + 8L * maxDistances + 48);
  }

  double w(double[] sorted, int n) {
    double[] a = coefficients.computeIfAbsent(n, ShapiroWilk::coefficients);
    return ShapiroWilk.wSorted(sorted, n, a);
  }

  private final class ClientState implements State {
    private final float[][][] growing = new float[classes][][];
    private final int[] growingSize = new int[classes];
    private final double[] threshold = new double[classes];
    private final double[] growSum = new double[classes];
    private final double[] growSumSq = new double[classes];
    private final int[] growCount = new int[classes];
    private final double[][] distances = new double[classes][];
    private final int[] distanceCount = new int[classes];
    private long queries;
    private int dims = -1;

    @Override
    public boolean observe(double[] x, Prediction prediction) {
      int c = prediction.label();
      if (c < 0 || c >= classes) {
        return false;
      }
      if (dims < 0) {
        dims = x.length;
      } else if (x.length != dims) {
        return false;
      }
      queries++;
      if (growingSize[c] == 0) {
        growing[c] = new float[maxGrowing][];
        distances[c] = new double[maxDistances];
        addGrowing(c, x, 0.0);
      } else {
        double d = Math.sqrt(minSquaredDistance(growing[c], growingSize[c], x));
        distances[c][distanceCount[c] % maxDistances] = d;
        distanceCount[c]++;
        if (d > threshold[c]) {
          addGrowing(c, x, d);
        }
      }
      return queries % checkEvery == 0 && test();
    }

    private void addGrowing(int c, double[] x, double d) {
      if (growingSize[c] < maxGrowing) {
        float[] copy = new float[x.length];
        for (int i = 0; i < x.length; i++) {
          copy[i] = (float) x[i];
        }
        growing[c][growingSize[c]++] = copy;
      }
      growSum[c] += d;
      growSumSq[c] += d * d;
      growCount[c]++;
      double mean = growSum[c] / growCount[c];
      double var = Math.max(0.0, growSumSq[c] / growCount[c] - mean * mean);
      threshold[c] = Math.max(threshold[c], mean - Math.sqrt(var));
    }

    private boolean test() {
      int total = 0;
      for (int c = 0; c < classes; c++) {
        if (distanceCount[c] >= 10) {
          total += Math.min(distanceCount[c], maxDistances);
        }
      }
      if (total <= minDistances) {
        return false;
      }
      double[] pooled = new double[total];
      int n = 0;
      double sum = 0;
      for (int c = 0; c < classes; c++) {
        if (distanceCount[c] >= 10) {
          int k = Math.min(distanceCount[c], maxDistances);
          System.arraycopy(distances[c], 0, pooled, n, k);
          n += k;
        }
      }
      for (int i = 0; i < n; i++) {
        sum += pooled[i];
      }
      double mean = sum / n;
      double ss = 0;
      for (int i = 0; i < n; i++) {
        ss += (pooled[i] - mean) * (pooled[i] - mean);
      }
      double limit = 3 * Math.sqrt(ss / n);
      int kept = 0;
      for (int i = 0; i < n; i++) {
        if (Math.abs(pooled[i] - mean) <= limit) {
          pooled[kept++] = pooled[i];
        }
      }
      if (kept <= minDistances) {
        return false;
      }
      Arrays.sort(pooled, 0, kept);
      return w(pooled, kept) < delta;
    }

    @Override
    public long retainedBytes() {
      return maxRetainedBytes(Math.max(dims, 0));
    }
  }

  static double minSquaredDistance(float[][] rows, int count, double[] x) {
    double best = Double.POSITIVE_INFINITY;
    for (int r = 0; r < count; r++) {
      float[] row = rows[r];
      double s = 0;
      for (int i = 0; i < x.length && s < best; i++) {
        double diff = x[i] - row[i];
        s += diff * diff;
      }
      if (s < best) {
        best = s;
      }
    }
    return best;
  }

  /** Builds a {@link PradaDetector}; every setter validates at once. */
  public static final class Builder {
    private final int classes;
    private double delta = 0.9;
    private int checkEvery = 10;
    private int minDistances = 100;
    private int maxGrowingSetPerClass = 50;
    private int maxDistancesPerClass = 50;

    private Builder(int classes) {
      if (classes < 2) {
        throw new IllegalArgumentException("prada.classes must be at least 2, got " + classes);
      }
      this.classes = classes;
    }

    /** The W threshold δ below which the client is flagged; default 0.9. */
    public Builder delta(double delta) {
      if (!(delta > 0 && delta < 1)) {
        throw new IllegalArgumentException("prada.delta must be in (0, 1), got " + delta);
      }
      this.delta = delta;
      return this;
    }

    /** How many queries between tests; default 10. */
    public Builder checkEvery(int n) {
      this.checkEvery = positive(n, "checkEvery");
      return this;
    }

    /** More than this many pooled distances are needed before testing; default 100. */
    public Builder minDistances(int n) {
      this.minDistances = positive(n, "minDistances");
      return this;
    }

    /** The growing-set bound per class; default 50. */
    public Builder maxGrowingSetPerClass(int n) {
      this.maxGrowingSetPerClass = positive(n, "maxGrowingSetPerClass");
      return this;
    }

    /**
     * The distance window per class; default 50, so a test sorts at most classes · 50 distances
     * (every {@code checkEvery} queries, this is the detector's most expensive step).
     */
    public Builder maxDistancesPerClass(int n) {
      this.maxDistancesPerClass = positive(n, "maxDistancesPerClass");
      return this;
    }

    /** Builds the detector. */
    public PradaDetector build() {
      return new PradaDetector(this);
    }

    private static int positive(int n, String field) {
      if (n < 1) {
        throw new IllegalArgumentException("prada." + field + " must be positive, got " + n);
      }
      return n;
    }
  }
}
