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
 * <p>A query is skipped — no state changes, and it does not count towards {@code checkEvery} —
 * if its label is not a class, its length differs from the client's first query's, or a feature is
 * not a number within float range (the growing set stores floats, and one infinite distance would
 * turn the thresholds and the 3σ limit into NaN for good). {@link ExtractionDefence} refuses such
 * queries before they reach any detector.
 *
 * <p>Bounded: at most {@code maxGrowingSetPerClass} stored queries (as floats) and the latest {@code
 * maxDistancesPerClass} distances per class, so per-query cost is O(maxGrowingSetPerClass · d) for
 * the distance, O(classes · maxDistancesPerClass) to keep the pooled distances sorted and, every
 * {@code checkEvery} queries, one W over at most classes · maxDistancesPerClass values (linear: the
 * pool is already sorted), whatever the client's history length.
 */
public final class PradaDetector implements ExtractionDetector {
  private final int classes;
  private final double delta;
  private final int checkEvery;
  private final int minDistances;
  private final int maxGrowing;
  private final int maxDistances;
  /**
   * Shapiro–Wilk coefficients by sample size, shared by all clients and outside {@code
   * maxTotalBytes}: bounded by {@link #MAX_MEMO_DOUBLES} in all (emptied when full), since a pool of
   * up to classes · maxDistancesPerClass values is tested at nearly every size a client's history
   * passes through, and one array per size kept for good grew with the square of the pool.
   */
  private final Map<Integer, double[]> coefficients = new ConcurrentHashMap<>();
  /** The doubles held in {@link #coefficients}; guarded by that map's monitor. */
  private long memoDoubles;
  /** The most coefficient doubles memoised at once: 8 MiB. */
  static final long MAX_MEMO_DOUBLES = 1L << 20;

  private PradaDetector(Builder b) {
    this.classes = b.classes;
    this.delta = b.delta;
    this.checkEvery = b.checkEvery;
    this.minDistances = b.minDistances;
    this.maxGrowing = b.maxGrowingSetPerClass;
    this.maxDistances = b.maxDistancesPerClass;
  }

  /**
   * A builder for a model with {@code classes} output classes.
   *
   * @param classes the number of the model's output classes
   * @return a new builder with the defaults
   */
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

  /**
   * {@inheritDoc}
   *
   * <p>Counts the client's state as a 64-bit HotSpot heap lays it out, headers, references and
   * alignment included: the state object (its detector's reference, nine array references, a long
   * and two ints), the arrays of one slot per class (two of references, one of ints, five of longs
   * and doubles), each class's growing set and distance window, and the sorted pool. Each is
   * allocated at full size when the client first queries a class (the pool at its first query), so
   * a client reaches this bound after one query of every class.
   */
  @Override
  public long maxRetainedBytes(int dimensions) {
    long perClass = HeapBytes.array((long) maxGrowing * dimensions, 4) + HeapBytes.array(maxDistances, 8);
    return HeapBytes.object(10L * HeapBytes.REFERENCE + 8 + 2 * 4)
        + 2 * HeapBytes.array(classes, HeapBytes.REFERENCE) + HeapBytes.array(classes, 4) + 5 * HeapBytes.array(classes, 8)
        + classes * perClass
        + HeapBytes.array((long) classes * maxDistances, 8);
  }

  double w(double[] sorted, int from, int n) {
    double[] a = coefficients.get(n);
    if (a == null) {
      a = ShapiroWilk.coefficients(n);
      synchronized (coefficients) {
        double[] known = coefficients.get(n);
        if (known != null) {
          a = known;
        } else if (a.length <= MAX_MEMO_DOUBLES) {
          if (memoDoubles + a.length > MAX_MEMO_DOUBLES) {
            coefficients.clear();
            memoDoubles = 0;
          }
          coefficients.put(n, a);
          memoDoubles += a.length;
        }
      }
    }
    return ShapiroWilk.wSorted(sorted, from, n, a);
  }

  private final class ClientState implements State {
    /** Per class, the growing set as one row-major array of {@code maxGrowing · dims} floats. */
    private final float[][] growing = new float[classes][];
    private final int[] growingSize = new int[classes];
    private final double[] threshold = new double[classes];
    private final double[] growSum = new double[classes];
    private final double[] growSumSq = new double[classes];
    /** Counts, as longs: a heavy client passes 2^31 queries of one class in days. */
    private final long[] growCount = new long[classes];
    /** Per class, the latest {@code maxDistances} distances (a ring). */
    private final double[][] distances = new double[classes][];
    private final long[] distanceCount = new long[classes];
    /**
     * The windows of every class with at least 10 distances, kept sorted as they change: a test
     * then needs no sort and no allocation, so its cost is O(pool) rather than O(pool · log pool).
     */
    private double[] pool;
    private int poolSize;
    private long queries;
    private int dims = -1;

    @Override
    public boolean observe(double[] x, Prediction prediction) {
      int c = prediction.label();
      if (c < 0 || c >= classes || !FeatureRange.storable(x)) {
        return false;
      }
      if (dims < 0) {
        dims = x.length;
        pool = new double[classes * maxDistances];
      } else if (x.length != dims) {
        return false;
      }
      if (growingSize[c] == 0) {
        queries++;
        growing[c] = new float[maxGrowing * dims];
        distances[c] = new double[maxDistances];
        addGrowing(c, x, 0.0);
      } else {
        double d = Math.sqrt(minSquaredDistance(growing[c], growingSize[c], x));
        if (!(d < Double.POSITIVE_INFINITY)) {
          // Not reached for storable features; checked so that no path can let an infinite or NaN
          // distance into the thresholds or the pool, where it would disable the class or the test.
          return false;
        }
        queries++;
        addDistance(c, d);
        if (d > threshold[c]) {
          addGrowing(c, x, d);
        }
      }
      return queries % checkEvery == 0 && test();
    }

    private void addDistance(int c, double d) {
      int slot = (int) (distanceCount[c] % maxDistances);
      double evicted = distances[c][slot];
      boolean full = distanceCount[c] >= maxDistances;
      distances[c][slot] = d;
      distanceCount[c]++;
      if (distanceCount[c] == 10) {
        for (int i = 0; i < Math.min(10, maxDistances); i++) {
          poolInsert(distances[c][i]);
        }
      } else if (distanceCount[c] > 10) {
        if (full) {
          poolRemove(evicted);
        }
        poolInsert(d);
      }
    }

    private void poolInsert(double d) {
      int at = Arrays.binarySearch(pool, 0, poolSize, d);
      if (at < 0) {
        at = -at - 1;
      }
      System.arraycopy(pool, at, pool, at + 1, poolSize - at);
      pool[at] = d;
      poolSize++;
    }

    private void poolRemove(double d) {
      int at = Arrays.binarySearch(pool, 0, poolSize, d); // present: it entered when it was recorded
      System.arraycopy(pool, at + 1, pool, at, poolSize - at - 1);
      poolSize--;
    }

    private void addGrowing(int c, double[] x, double d) {
      if (growingSize[c] < maxGrowing) {
        float[] rows = growing[c];
        int base = growingSize[c]++ * dims;
        for (int i = 0; i < dims; i++) {
          rows[base + i] = (float) x[i];
        }
      }
      growSum[c] += d;
      growSumSq[c] += d * d;
      growCount[c]++;
      double mean = growSum[c] / growCount[c];
      double var = Math.max(0.0, growSumSq[c] / growCount[c] - mean * mean);
      threshold[c] = Math.max(threshold[c], mean - Math.sqrt(var));
    }

    private boolean test() {
      int n = poolSize;
      if (n <= minDistances) {
        return false;
      }
      double sum = 0;
      for (int i = 0; i < n; i++) {
        sum += pool[i];
      }
      double mean = sum / n;
      double ss = 0;
      for (int i = 0; i < n; i++) {
        ss += (pool[i] - mean) * (pool[i] - mean);
      }
      double limit = 3 * Math.sqrt(ss / n);
      // The values within 3σ of the mean are one run of the sorted pool. Written as !(… <= limit)
      // so that a NaN limit keeps nothing.
      int from = 0;
      while (from < n && !(Math.abs(pool[from] - mean) <= limit)) {
        from++;
      }
      int to = n;
      while (to > from && !(Math.abs(pool[to - 1] - mean) <= limit)) {
        to--;
      }
      int kept = to - from;
      return kept > minDistances && w(pool, from, kept) < delta;
    }

    @Override
    public long retainedBytes() {
      return maxRetainedBytes(Math.max(dims, 0));
    }
  }

  /**
   * The least squared L2 distance from {@code x} to the first {@code count} rows of the row-major
   * {@code rows}. A row is abandoned as soon as its partial sum reaches the best so far, checked
   * every eight features so the inner loop stays branch-free (the sums are the same either way).
   */
  static double minSquaredDistance(float[] rows, int count, double[] x) {
    int d = x.length;
    double best = Double.POSITIVE_INFINITY;
    for (int r = 0, base = 0; r < count; r++, base += d) {
      double s = 0;
      int i = 0;
      for (; i + 8 <= d && s < best; i += 8) {
        for (int j = i; j < i + 8; j++) {
          double diff = x[j] - rows[base + j];
          s += diff * diff;
        }
      }
      for (; i < d && s < best; i++) {
        double diff = x[i] - rows[base + i];
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

    /**
     * The W threshold δ below which the client is flagged; default 0.9.
     *
     * @param delta the threshold, strictly between 0 and 1
     * @return this builder
     */
    public Builder delta(double delta) {
      if (!(delta > 0 && delta < 1)) {
        throw new IllegalArgumentException("prada.delta must be in (0, 1), got " + delta);
      }
      this.delta = delta;
      return this;
    }

    /**
     * How many queries between tests; default 10.
     *
     * @param n the number of queries, at least 1
     * @return this builder
     */
    public Builder checkEvery(int n) {
      this.checkEvery = positive(n, "checkEvery");
      return this;
    }

    /**
     * More than this many pooled distances are needed before testing; default 100.
     *
     * @param n the number of distances, at least 1
     * @return this builder
     */
    public Builder minDistances(int n) {
      this.minDistances = positive(n, "minDistances");
      return this;
    }

    /**
     * The growing-set bound per class; default 50.
     *
     * @param n the most queries kept per class, at least 1
     * @return this builder
     */
    public Builder maxGrowingSetPerClass(int n) {
      this.maxGrowingSetPerClass = positive(n, "maxGrowingSetPerClass");
      return this;
    }

    /**
     * The distance window per class; default 50, so a test sorts at most classes · 50 distances
     * (every {@code checkEvery} queries, this is the detector's most expensive step).
     *
     * @param n the most distances kept per class, at least 1
     * @return this builder
     */
    public Builder maxDistancesPerClass(int n) {
      this.maxDistancesPerClass = positive(n, "maxDistancesPerClass");
      return this;
    }

    /**
     * Builds the detector.
     *
     * @return the detector
     */
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
