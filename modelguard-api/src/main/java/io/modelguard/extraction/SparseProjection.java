package io.modelguard.extraction;

import java.util.Arrays;

/**
 * A keyed sparse random projection (Kane and Nelson's block construction of the
 * Johnson–Lindenstrauss transform) from {@code inputs} to {@code outputs} dimensions: every input
 * feature is added, with a random sign and weight 1/√s, to one output in each of s = 4 blocks of
 * the outputs. Squared L2 distances are preserved in expectation and, with high probability, to
 * within a small factor — which is what PRADA and k-NN compare — at a cost of 4 additions per
 * input feature, with no dense matrix (a table of 4 ints per input feature). The layout derives from a secret seed, so a client cannot
 * aim perturbations at the projection's null space. Immutable and thread-safe.
 */
final class SparseProjection {
  private static final int PER_INPUT = 4;

  private final int inputs;
  private final int outputs;
  private final double scale;
  /**
   * The layout transposed, for a gather per output rather than a scatter per input: output {@code
   * j} is {@code scale} times the sum of {@code x[sources[k]]} for k in {@code [begin[j],
   * negativeFrom[j])} minus the sum for k in {@code [negativeFrom[j], begin[j + 1])}.
   */
  private final int[] sources;
  private final int[] begin;
  private final int[] negativeFrom;

  SparseProjection(int inputs, int outputs, long seed) {
    if (inputs < 1 || outputs < 1) {
      throw new IllegalArgumentException("projection needs positive dimensions");
    }
    this.inputs = inputs;
    this.outputs = outputs;
    int perInput = Math.min(PER_INPUT, outputs);
    this.scale = 1 / Math.sqrt(perInput);
    int[] target = new int[inputs * perInput];
    boolean[] negative = new boolean[inputs * perInput];
    int[] positives = new int[outputs];
    int[] counts = new int[outputs];
    for (int i = 0, k = 0; i < inputs; i++) {
      long bits = inputBits(seed, i);
      for (int b = 0; b < perInput; b++, k++, bits >>>= 16) {
        target[k] = target(bits, b, outputs, perInput);
        negative[k] = negative(bits);
        counts[target[k]]++;
        positives[target[k]] += negative[k] ? 0 : 1;
      }
    }
    begin = new int[outputs + 1];
    negativeFrom = new int[outputs];
    for (int j = 0; j < outputs; j++) {
      begin[j + 1] = begin[j] + counts[j];
      negativeFrom[j] = begin[j] + positives[j];
    }
    sources = new int[target.length];
    int[] nextPositive = Arrays.copyOf(begin, outputs);
    int[] nextNegative = negativeFrom.clone();
    for (int k = 0; k < target.length; k++) {
      int j = target[k];
      sources[negative[k] ? nextNegative[j]++ : nextPositive[j]++] = k / perInput;
    }
  }

  /** The number of input features this projection takes. */
  int inputs() {
    return inputs;
  }

  /** The projection of {@code x}, which must have {@link #inputs()} features. */
  double[] apply(double[] x) {
    if (x.length != inputs) {
      throw new IllegalArgumentException("expected " + inputs + " features, got " + x.length);
    }
    double[] out = new double[outputs];
    for (int j = 0; j < outputs; j++) {
      double plus = 0;
      for (int k = begin[j], end = negativeFrom[j]; k < end; k++) {
        plus += x[sources[k]];
      }
      double minus = 0;
      for (int k = negativeFrom[j], end = begin[j + 1]; k < end; k++) {
        minus += x[sources[k]];
      }
      out[j] = scale * (plus - minus);
    }
    return out;
  }

  /**
   * {@code new SparseProjection(x.length, outputs, seed).apply(x)}, bit for bit (each output sums
   * its positive and its negative inputs in input order, as the table does), without building the
   * table: O(outputs) memory, for inputs too long to keep a table of their size.
   */
  static double[] applyStreamed(double[] x, int outputs, long seed) {
    if (x.length < 1 || outputs < 1) {
      throw new IllegalArgumentException("projection needs positive dimensions");
    }
    int perInput = Math.min(PER_INPUT, outputs);
    double[] plus = new double[outputs];
    double[] minus = new double[outputs];
    for (int i = 0; i < x.length; i++) {
      long bits = inputBits(seed, i);
      for (int b = 0; b < perInput; b++, bits >>>= 16) {
        int target = target(bits, b, outputs, perInput);
        if (negative(bits)) {
          minus[target] += x[i];
        } else {
          plus[target] += x[i];
        }
      }
    }
    double scale = 1 / Math.sqrt(perInput);
    for (int j = 0; j < outputs; j++) {
      plus[j] = scale * (plus[j] - minus[j]);
    }
    return plus;
  }

  /** The bits that place input {@code i}'s entries: 16 for each, the lowest first. */
  private static long inputBits(long seed, int i) {
    return mix(seed + (i + 1) * 0x9E3779B97F4A7C15L);
  }

  /**
   * The output that an input's {@code b}-th entry goes to, {@code bits} shifted to that entry:
   * the {@code b}-th of {@code perInput} equal bands of the outputs, at a point the low 15 bits pick.
   */
  private static int target(long bits, int b, int outputs, int perInput) {
    int from = b * outputs / perInput;
    int size = (b + 1) * outputs / perInput - from;
    return from + (int) (((bits & 0x7FFF) * size) >>> 15);
  }

  /** Whether the entry that {@code bits} is shifted to is subtracted: bit 15. */
  private static boolean negative(long bits) {
    return (bits & 0x8000) != 0;
  }

  /** Stafford's variant 13 of the MurmurHash3 finaliser: a bijective 64-bit mix. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
