package io.modelguard.examples.model;

import java.util.Arrays;
import java.util.Random;

/**
 * Multinomial logistic (softmax) regression trained by mini-batch stochastic gradient descent with
 * L2 regularisation and a decaying learning rate. Training is deterministic: the only randomness
 * is the batch order, drawn from {@link java.util.Random} seeded with {@link Options#seed()}.
 * A fitted model is immutable and thread-safe.
 *
 * <p>It expects features on a comparable scale: standardise them first (see {@link Standardizer},
 * or use {@link Classifier}, which does both).
 */
public final class SoftmaxRegression {
  private final double[][] weights; // [class][feature]
  private final double[] bias;

  private SoftmaxRegression(double[][] weights, double[] bias) {
    this.weights = weights;
    this.bias = bias;
  }

  /**
   * Training settings.
   *
   * @param epochs passes over the training data (at least 1)
   * @param batchSize rows per gradient step (at least 1)
   * @param learningRate the initial step size (positive)
   * @param decay the learning rate at epoch {@code e} is {@code learningRate / (1 + decay * e)}
   * @param l2 the L2 penalty on the weights (not the biases), 0 for none
   * @param seed the seed of the batch order
   */
  public record Options(int epochs, int batchSize, double learningRate, double decay, double l2, long seed) {
    /** Validates the settings. */
    public Options {
      if (epochs < 1 || batchSize < 1 || !(learningRate > 0) || decay < 0 || l2 < 0) {
        throw new IllegalArgumentException("invalid training options: " + epochs + " epochs, batch " + batchSize
            + ", learning rate " + learningRate + ", decay " + decay + ", l2 " + l2);
      }
    }

    /** Settings that suit small, standardised tabular data sets such as digits and iris. */
    public static Options defaults(long seed) {
      return new Options(60, 16, 0.1, 0.05, 1e-4, seed);
    }
  }

  /**
   * Fits a model to {@code data}.
   *
   * @throws IllegalArgumentException if the data set has fewer than 2 classes
   */
  public static SoftmaxRegression fit(Dataset data, Options options) {
    int k = data.classCount();
    if (k < 2) {
      throw new IllegalArgumentException(data.name() + ": softmax regression needs at least 2 classes");
    }
    int d = data.featureCount();
    double[][] x = data.rawFeatures();
    int[] y = data.rawLabels();
    int n = x.length;
    double[][] w = new double[k][d];
    double[] b = new double[k];
    double[][] gw = new double[k][d];
    double[] gb = new double[k];
    double[] p = new double[k];
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Random random = new Random(options.seed());
    for (int epoch = 0; epoch < options.epochs(); epoch++) {
      double lr = options.learningRate() / (1 + options.decay() * epoch);
      for (int i = n - 1; i > 0; i--) {
        int j = random.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      for (int start = 0; start < n; start += options.batchSize()) {
        int end = Math.min(n, start + options.batchSize());
        for (int c = 0; c < k; c++) {
          Arrays.fill(gw[c], 0);
        }
        Arrays.fill(gb, 0);
        for (int r = start; r < end; r++) {
          double[] row = x[order[r]];
          probabilities(w, b, row, p);
          p[y[order[r]]] -= 1; // gradient of cross-entropy w.r.t. the logits: p - onehot(y)
          for (int c = 0; c < k; c++) {
            double e = p[c];
            if (e != 0) {
              double[] g = gw[c];
              for (int f = 0; f < d; f++) {
                g[f] += e * row[f];
              }
              gb[c] += e;
            }
          }
        }
        double scale = lr / (end - start);
        for (int c = 0; c < k; c++) {
          double[] wc = w[c];
          double[] g = gw[c];
          for (int f = 0; f < d; f++) {
            wc[f] -= scale * g[f] + lr * options.l2() * wc[f];
          }
          b[c] -= scale * gb[c];
        }
      }
    }
    return new SoftmaxRegression(w, b);
  }

  /** The number of features the model expects. */
  public int featureCount() {
    return weights[0].length;
  }

  /** The number of classes. */
  public int classCount() {
    return weights.length;
  }

  /**
   * The class probabilities for {@code x} (already standardised): non-negative, summing to 1.
   *
   * @throws IllegalArgumentException if {@code x} has the wrong length
   */
  public double[] predictProba(double[] x) {
    if (x.length != featureCount()) {
      throw new IllegalArgumentException("expected " + featureCount() + " features, got " + x.length);
    }
    double[] p = new double[classCount()];
    probabilities(weights, bias, x, p);
    return p;
  }

  /** The most probable class for {@code x} (already standardised). */
  public int predict(double[] x) {
    return argMax(predictProba(x));
  }

  /** The index of the largest value; the first one on ties. */
  public static int argMax(double[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }

  private static void probabilities(double[][] w, double[] b, double[] x, double[] out) {
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < w.length; c++) {
      double z = b[c];
      double[] wc = w[c];
      for (int f = 0; f < x.length; f++) {
        z += wc[f] * x[f];
      }
      out[c] = z;
      max = Math.max(max, z);
    }
    double sum = 0;
    for (int c = 0; c < out.length; c++) {
      out[c] = Math.exp(out[c] - max); // shifted by the max logit so exp never overflows
      sum += out[c];
    }
    for (int c = 0; c < out.length; c++) {
      out[c] /= sum;
    }
  }
}
