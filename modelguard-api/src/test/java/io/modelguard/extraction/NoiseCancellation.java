package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The attack on keyed noise that replays inputs after the client's noise changed: two answers to
 * one input drawn from one stream with scales s and t combine, (t·a1 − s·a2) / (t − s), into the
 * exact probabilities.
 */
final class NoiseCancellation {
  private NoiseCancellation() {}

  /** Ten probabilities drawn from {@code r}: a softmax of logits with standard deviation 0.3. */
  static double[] randomProbabilities(java.util.Random r) {
    double[] p = new double[10];
    double sum = 0;
    for (int c = 0; c < 10; c++) {
      p[c] = Math.exp(0.3 * r.nextGaussian());
      sum += p[c];
    }
    for (int c = 0; c < 10; c++) {
      p[c] /= sum;
    }
    return p;
  }

  /**
   * Asserts that the estimate {@code max(0, (times·first − replayed) / over)}, renormalised, is no
   * nearer the true probabilities than the first answers were (L1 error over all queries, within
   * 10 %): the combination cancelled nothing.
   */
  static void assertNotCancelled(double[][] first, double[][] replayed, double[][] truth, double times, double over) {
    double errorOfAnswers = 0;
    double errorOfEstimate = 0;
    for (int k = 0; k < truth.length; k++) {
      double[] estimate = new double[truth[k].length];
      double sum = 0;
      for (int c = 0; c < estimate.length; c++) {
        estimate[c] = Math.max(0, (times * first[k][c] - replayed[k][c]) / over);
        sum += estimate[c];
      }
      for (int c = 0; c < estimate.length; c++) {
        errorOfAnswers += Math.abs(first[k][c] - truth[k][c]);
        errorOfEstimate += Math.abs(estimate[c] / sum - truth[k][c]);
      }
    }
    assertThat(errorOfEstimate)
        .as("L1 error of (%s·a1 − a2) / %s, against %.1f of the answers", times, over, errorOfAnswers)
        .isGreaterThan(0.9 * errorOfAnswers);
  }
}
