package io.modelguard.examples.model;

/**
 * Per-feature standardisation {@code (x - mean) / std}, fitted on training data only so no
 * information from the held-out rows leaks into the model. A feature that is constant in the
 * training data (several border pixels of the digits are always 0) keeps scale 1, so it maps to 0
 * instead of dividing by zero. Immutable and thread-safe.
 */
public final class Standardizer {
  private final double[] mean;
  private final double[] scale;

  private Standardizer(double[] mean, double[] scale) {
    this.mean = mean;
    this.scale = scale;
  }

  /** Fits means and standard deviations on {@code data}. */
  public static Standardizer fit(Dataset data) {
    double[][] x = data.rawFeatures();
    int n = x.length;
    int d = data.featureCount();
    double[] mean = new double[d];
    double[] scale = new double[d];
    for (double[] row : x) {
      for (int j = 0; j < d; j++) {
        mean[j] += row[j];
      }
    }
    for (int j = 0; j < d; j++) {
      mean[j] /= n;
    }
    for (double[] row : x) {
      for (int j = 0; j < d; j++) {
        double dev = row[j] - mean[j];
        scale[j] += dev * dev;
      }
    }
    for (int j = 0; j < d; j++) {
      double std = Math.sqrt(scale[j] / n);
      scale[j] = std < 1e-9 ? 1.0 : std;
    }
    return new Standardizer(mean, scale);
  }

  /** The number of features this standardiser expects. */
  public int featureCount() {
    return mean.length;
  }

  /**
   * The standardised copy of {@code x}.
   *
   * @throws IllegalArgumentException if {@code x} has the wrong length
   */
  public double[] transform(double[] x) {
    if (x.length != mean.length) {
      throw new IllegalArgumentException("expected " + mean.length + " features, got " + x.length);
    }
    double[] out = new double[x.length];
    for (int j = 0; j < x.length; j++) {
      out[j] = (x[j] - mean[j]) / scale[j];
    }
    return out;
  }

  /** A new data set with every row standardised. */
  public Dataset transform(Dataset data) {
    double[][] x = data.rawFeatures();
    double[][] out = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      out[i] = transform(x[i]);
    }
    return Dataset.of(data.name(), out, data.rawLabels(), data.classCount());
  }
}
