package io.modelguard.extraction;

/**
 * A keyed sparse random projection (Kane and Nelson's block construction of the
 * Johnson–Lindenstrauss transform) from {@code inputs} to {@code outputs} dimensions: every input
 * feature is added, with a random sign and weight 1/√s, to one output in each of s = 4 blocks of
 * the outputs. Squared L2 distances are preserved in expectation and, with high probability, to
 * within a small factor — which is what PRADA and k-NN compare — at a cost of 4 additions per
 * input feature, with no dense matrix. The layout derives from a secret seed, so a client cannot
 * aim perturbations at the projection's null space. Immutable and thread-safe.
 */
final class SparseProjection {
  private static final int PER_INPUT = 4;

  private final int inputs;
  private final int outputs;
  private final int perInput;
  private final int[] target;
  private final double[] weight;

  SparseProjection(int inputs, int outputs, long seed) {
    if (inputs < 1 || outputs < 1) {
      throw new IllegalArgumentException("projection needs positive dimensions");
    }
    this.inputs = inputs;
    this.outputs = outputs;
    this.perInput = Math.min(PER_INPUT, outputs);
    double scale = 1 / Math.sqrt(perInput);
    target = new int[inputs * perInput];
    weight = new double[inputs * perInput];
    for (int i = 0, k = 0; i < inputs; i++) {
      long bits = mix(seed + (i + 1) * 0x9E3779B97F4A7C15L);
      for (int b = 0; b < perInput; b++, k++, bits >>>= 16) {
        int from = b * outputs / perInput;
        int size = (b + 1) * outputs / perInput - from;
        target[k] = from + (int) (((bits & 0x7FFF) * size) >>> 15);
        weight[k] = (bits & 0x8000) == 0 ? scale : -scale;
      }
    }
  }

  /** The number of input features this projection takes. */
  int inputs() {
    return inputs;
  }

  /** The projection of {@code x}, which must have {@link #inputs()} features. */
  double[] apply(double[] x) {
    double[] out = new double[outputs];
    for (int i = 0, k = 0; i < inputs; i++) {
      double v = x[i];
      for (int b = 0; b < perInput; b++, k++) {
        out[target[k]] += weight[k] * v;
      }
    }
    return out;
  }

  /** Stafford's variant 13 of the MurmurHash3 finaliser: a bijective 64-bit mix. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
