package io.modelguard.extraction;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Stateful k-NN detection (Chen, Carlini and Wagner, 2020): keeps a client's latest {@code buffer}
 * query encodings and flags a query whose mean L2 distance to its {@code k} nearest earlier queries
 * is below a threshold — the signature of adversarial-example search, which probes tiny steps
 * around one input. The threshold is model-specific: obtain it with {@link #calibrate}. Per-query
 * cost O(buffer · d); memory about buffer · (4 · d + 32) bytes per client ({@link #maxRetainedBytes}). A state compares inputs of one
 * length, its first query's: a query of another length is ignored (not flagged, not stored).
 */
public final class KnnDetector implements ExtractionDetector {
  private final int k;
  private final int buffer;
  private final double threshold;

  private KnnDetector(int k, int buffer, double threshold) {
    if (k < 1 || buffer < k) {
      throw new IllegalArgumentException("knn needs 1 <= k <= buffer, got k=" + k + ", buffer=" + buffer);
    }
    if (!(threshold >= 0)) {
      throw new IllegalArgumentException("knn.threshold must be >= 0, got " + threshold);
    }
    this.k = k;
    this.buffer = buffer;
    this.threshold = threshold;
  }

  /**
   * A detector with {@code k} neighbours over the latest {@code buffer} queries and the given threshold.
   *
   * @param k the number of nearest neighbours averaged, at least 1
   * @param buffer how many of the client's latest queries are kept, at least {@code k}
   * @param threshold the mean distance below which the client is flagged, at least 0
   * @return a new detector
   */
  public static KnnDetector of(int k, int buffer, double threshold) {
    return new KnnDetector(k, buffer, threshold);
  }

  /**
   * Calibrates the threshold on benign traffic: runs the statistic over each benign stream (one
   * client's queries in order) and returns the {@code percentile} (for example 0.1 for the 0.1th
   * percentile) of all values, multiplied by {@code margin} (1 reproduces the paper; below 1 trades
   * detection for fewer false positives). A stream's inputs of another length than its first are
   * skipped, as the detector skips them.
   *
   * @param benignStreams each one benign client's queries, in order
   * @param k the number of nearest neighbours, as for {@link #of}
   * @param buffer the number of queries kept, as for {@link #of}
   * @param percentile the percentile to take, in [0, 100]
   * @param margin the factor applied to it, positive
   * @return the threshold to give {@link #of}
   */
  public static double calibrate(List<double[][]> benignStreams, int k, int buffer, double percentile, double margin) {
    List<Double> values = new ArrayList<>();
    KnnDetector probe = new KnnDetector(k, buffer, 0.0);
    for (double[][] stream : benignStreams) {
      Window w = probe.new Window();
      for (double[] x : stream) {
        double s = w.statistic(x);
        if (!Double.isNaN(s)) {
          values.add(s);
        }
        w.add(x);
      }
    }
    if (values.isEmpty()) {
      throw new IllegalArgumentException("calibration streams are shorter than k");
    }
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int index = (int) Math.floor(percentile / 100.0 * (sorted.length - 1));
    return sorted[Math.max(0, Math.min(index, sorted.length - 1))] * margin;
  }

  /**
   * The configured threshold.
   *
   * @return the threshold
   */
  public double threshold() {
    return threshold;
  }

  @Override
  public String name() {
    return "knn";
  }

  @Override
  public State newState() {
    return new Window();
  }

  @Override
  public long maxRetainedBytes(int dimensions) {
    // The window (three references, its detector's among them, two ints and a long), the k
    // nearest distances, the row references, and each row as its own float array: a row's header,
    // reference and padding outweigh its floats for short inputs.
    return HeapBytes.object(3L * HeapBytes.REFERENCE + 16) + HeapBytes.array(k, 8)
        + HeapBytes.array(buffer, HeapBytes.REFERENCE) + buffer * HeapBytes.array(Math.max(dimensions, 0), 4);
  }

  private final class Window implements State {
    private float[][] rows;
    private int count;
    private long next;
    /** The length of every stored row, fixed by the first; -1 before it. */
    private int dims = -1;
    private final double[] nearest = new double[k];

    double statistic(double[] x) {
      if (count < k || x.length != dims) {
        return Double.NaN;
      }
      Arrays.fill(nearest, Double.POSITIVE_INFINITY);
      for (int r = 0; r < count; r++) {
        float[] row = rows[r];
        double worst = nearest[k - 1];
        double s = 0;
        for (int i = 0; i < x.length && s < worst; i++) {
          double diff = x[i] - row[i];
          s += diff * diff;
        }
        if (s < worst) {
          int j = k - 1;
          while (j > 0 && nearest[j - 1] > s) {
            nearest[j] = nearest[j - 1];
            j--;
          }
          nearest[j] = s;
        }
      }
      double sum = 0;
      for (double s : nearest) {
        sum += Math.sqrt(s);
      }
      return sum / k;
    }

    void add(double[] x) {
      if (rows == null) {
        rows = new float[buffer][];
        dims = x.length;
      } else if (x.length != dims) {
        return; // a shorter row would be read past its end, a longer one outgrow the memory bound
      }
      float[] copy = new float[x.length];
      for (int i = 0; i < x.length; i++) {
        copy[i] = (float) x[i];
      }
      rows[(int) (next++ % buffer)] = copy;
      count = Math.min(count + 1, buffer);
    }

    @Override
    public boolean observe(double[] x, Prediction prediction) {
      double s = statistic(x);
      add(x);
      return !Double.isNaN(s) && s < threshold;
    }

    @Override
    public long retainedBytes() {
      return maxRetainedBytes(Math.max(dims, 0));
    }
  }
}
