package io.modelguard.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The plain-Java models and data of {@link ExtractionEvaluation}: the digits data, a softmax
 * regression (victim and every attacker's surrogate) and a one-hidden-layer MLP victim. All
 * training is deterministic given its seed. Inputs are raw pixels in [0, 16]; models scale them.
 */
final class ExtractionModels {
  static final int CLASSES = 10;
  static final double PIXEL_MAX = 16.0;

  private ExtractionModels() {}

  /** A classifier answering class probabilities. */
  interface Model {
    double[] predict(double[] x);
  }

  /** The digits data set: features in [0, 16] and labels. */
  record Digits(double[][] x, int[] y) {
    static Digits load() {
      List<double[]> rows = new ArrayList<>();
      List<Integer> labels = new ArrayList<>();
      try (InputStream in = ExtractionModels.class.getResourceAsStream("digits.csv");
          BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        r.readLine();
        for (String line = r.readLine(); line != null; line = r.readLine()) {
          String[] f = line.split(",");
          double[] x = new double[f.length - 1];
          for (int i = 0; i < x.length; i++) {
            x[i] = Double.parseDouble(f[i]);
          }
          rows.add(x);
          labels.add(Integer.parseInt(f[f.length - 1].trim()));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return new Digits(rows.toArray(new double[0][]), labels.stream().mapToInt(Integer::intValue).toArray());
    }
  }

  static int argmax(double[] p) {
    int best = 0;
    for (int i = 1; i < p.length; i++) {
      if (p[i] > p[best]) {
        best = i;
      }
    }
    return best;
  }

  static void softmaxInPlace(double[] z) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (int i = 0; i < z.length; i++) {
      z[i] = Math.exp(z[i] - max);
      sum += z[i];
    }
    for (int i = 0; i < z.length; i++) {
      z[i] /= sum;
    }
  }

  /** Softmax regression on x / 16: logits = W x/16 + b. */
  static final class Softmax implements Model {
    final double[][] w;
    final double[] b;

    Softmax(double[][] w, double[] b) {
      this.w = w;
      this.b = b;
    }

    @Override
    public double[] predict(double[] x) {
      double[] z = new double[w.length];
      for (int c = 0; c < w.length; c++) {
        double s = b[c];
        double[] wc = w[c];
        for (int i = 0; i < x.length; i++) {
          s += wc[i] * x[i] / PIXEL_MAX;
        }
        z[c] = s;
      }
      softmaxInPlace(z);
      return z;
    }

    /** Gradient of log p_label with respect to the raw input x. */
    double[] inputGradient(double[] x, int label) {
      double[] p = predict(x);
      double[] g = new double[x.length];
      for (int c = 0; c < w.length; c++) {
        double coef = (c == label ? 1.0 : 0.0) - p[c];
        for (int i = 0; i < x.length; i++) {
          g[i] += coef * w[c][i] / PIXEL_MAX;
        }
      }
      return g;
    }

    /** Trains on soft targets (rows of {@code t} are distributions) by full-batch gradient descent. */
    static Softmax train(List<double[]> xs, List<double[]> targets, int epochs, double lr, double l2) {
      int n = xs.size();
      int d = xs.get(0).length;
      double[][] w = new double[CLASSES][d];
      double[] b = new double[CLASSES];
      Softmax m = new Softmax(w, b);
      double[][] gw = new double[CLASSES][d];
      double[] gb = new double[CLASSES];
      for (int e = 0; e < epochs; e++) {
        for (double[] row : gw) {
          java.util.Arrays.fill(row, 0);
        }
        java.util.Arrays.fill(gb, 0);
        for (int r = 0; r < n; r++) {
          double[] x = xs.get(r);
          double[] p = m.predict(x);
          double[] t = targets.get(r);
          for (int c = 0; c < CLASSES; c++) {
            double err = p[c] - t[c];
            if (err != 0) {
              for (int i = 0; i < d; i++) {
                gw[c][i] += err * x[i] / PIXEL_MAX;
              }
              gb[c] += err;
            }
          }
        }
        for (int c = 0; c < CLASSES; c++) {
          for (int i = 0; i < d; i++) {
            w[c][i] -= lr * (gw[c][i] / n + l2 * w[c][i]);
          }
          b[c] -= lr * gb[c] / n;
        }
      }
      return m;
    }
  }

  /** A 64-32-10 tanh MLP trained by SGD. */
  static final class Mlp implements Model {
    final double[][] w1;
    final double[] b1;
    final double[][] w2;
    final double[] b2;

    private Mlp(int d, int h, Random random) {
      w1 = new double[h][d];
      b1 = new double[h];
      w2 = new double[CLASSES][h];
      b2 = new double[CLASSES];
      for (double[] row : w1) {
        for (int i = 0; i < d; i++) {
          row[i] = random.nextGaussian() / Math.sqrt(d);
        }
      }
      for (double[] row : w2) {
        for (int i = 0; i < h; i++) {
          row[i] = random.nextGaussian() / Math.sqrt(h);
        }
      }
    }

    private double[] hidden(double[] x) {
      double[] a = new double[w1.length];
      for (int j = 0; j < w1.length; j++) {
        double s = b1[j];
        for (int i = 0; i < x.length; i++) {
          s += w1[j][i] * x[i] / PIXEL_MAX;
        }
        a[j] = Math.tanh(s);
      }
      return a;
    }

    @Override
    public double[] predict(double[] x) {
      double[] a = hidden(x);
      double[] z = new double[CLASSES];
      for (int c = 0; c < CLASSES; c++) {
        double s = b2[c];
        for (int j = 0; j < a.length; j++) {
          s += w2[c][j] * a[j];
        }
        z[c] = s;
      }
      softmaxInPlace(z);
      return z;
    }

    static Mlp train(double[][] xs, int[] ys, int hidden, int epochs, double lr, long seed) {
      Random random = new Random(seed);
      Mlp m = new Mlp(xs[0].length, hidden, random);
      int[] order = new int[xs.length];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      for (int e = 0; e < epochs; e++) {
        for (int i = order.length - 1; i > 0; i--) {
          int j = random.nextInt(i + 1);
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
        for (int r : order) {
          double[] x = xs[r];
          double[] a = m.hidden(x);
          double[] p = m.predict(x);
          p[ys[r]] -= 1;
          double[] da = new double[a.length];
          for (int c = 0; c < CLASSES; c++) {
            for (int j = 0; j < a.length; j++) {
              da[j] += p[c] * m.w2[c][j];
              m.w2[c][j] -= lr * p[c] * a[j];
            }
            m.b2[c] -= lr * p[c];
          }
          for (int j = 0; j < a.length; j++) {
            double dz = da[j] * (1 - a[j] * a[j]);
            for (int i = 0; i < x.length; i++) {
              m.w1[j][i] -= lr * dz * x[i] / PIXEL_MAX;
            }
            m.b1[j] -= lr * dz;
          }
        }
      }
      return m;
    }
  }

  /** Solves the least-squares problem min ||A x − B||² (+ ridge) for every column of B. */
  static double[][] leastSquares(double[][] a, double[][] b, double ridge) {
    int n = a.length;
    int m = a[0].length;
    int k = b[0].length;
    double[][] ata = new double[m][m + k];
    for (int r = 0; r < n; r++) {
      for (int i = 0; i < m; i++) {
        double ai = a[r][i];
        if (ai == 0) {
          continue;
        }
        for (int j = 0; j < m; j++) {
          ata[i][j] += ai * a[r][j];
        }
        for (int j = 0; j < k; j++) {
          ata[i][m + j] += ai * b[r][j];
        }
      }
    }
    for (int i = 0; i < m; i++) {
      ata[i][i] += ridge;
    }
    // Gauss-Jordan with partial pivoting.
    for (int col = 0; col < m; col++) {
      int pivot = col;
      for (int r = col + 1; r < m; r++) {
        if (Math.abs(ata[r][col]) > Math.abs(ata[pivot][col])) {
          pivot = r;
        }
      }
      double[] t = ata[col];
      ata[col] = ata[pivot];
      ata[pivot] = t;
      double div = ata[col][col];
      if (Math.abs(div) < 1e-300) {
        continue;
      }
      for (int j = col; j < m + k; j++) {
        ata[col][j] /= div;
      }
      for (int r = 0; r < m; r++) {
        if (r != col && ata[r][col] != 0) {
          double f = ata[r][col];
          for (int j = col; j < m + k; j++) {
            ata[r][j] -= f * ata[col][j];
          }
        }
      }
    }
    double[][] x = new double[m][k];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < k; j++) {
        x[i][j] = ata[i][m + j];
      }
    }
    return x;
  }
}
