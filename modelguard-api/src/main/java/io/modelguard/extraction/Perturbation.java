package io.modelguard.extraction;

import java.util.Objects;

/**
 * Rewrites one probability vector. The factories implement the output defences of IBM's Adversarial
 * Robustness Toolbox (class labels, top-k, rounding, high confidence, Gaussian noise, reverse
 * sigmoid) per row, plus misinformation for flagged clients. Implementations must not modify their
 * input and must be thread-safe; randomness comes only from the keyed {@link NoiseSource}.
 */
@FunctionalInterface
public interface Perturbation {

  /**
   * Returns the rewritten vector (a new array, or {@code probabilities} itself if unchanged).
   *
   * @param probabilities the answer's probabilities; not modified
   * @param noise the keyed noise streams of this client and query
   * @return the rewritten probabilities: a new array, or {@code probabilities} itself if unchanged
   */
  double[] apply(double[] probabilities, NoiseSource noise);

  /**
   * This perturbation followed by {@code next}. Both get the same {@link NoiseSource}, whose
   * streams start afresh from the same keys on every call: two noisy stages draw the same numbers,
   * so two Gaussian noises in a row add up like one of the summed scale (correlated, not
   * independent) — still keyed, so it leaks nothing, but chaining gives no extra protection over
   * one stage with the larger scale.
   *
   * @param next the perturbation applied to this one's result; not null
   * @return the combined perturbation
   */
  default Perturbation then(Perturbation next) {
    Objects.requireNonNull(next, "next");
    return (p, noise) -> next.apply(apply(p, noise), noise);
  }

  /**
   * Leaves the output unchanged.
   *
   * @return a perturbation returning its input itself
   */
  static Perturbation none() {
    return (p, noise) -> p;
  }

  /**
   * One-hot of the argmax: only the class label is revealed (per row; ART's batch version is buggy).
   *
   * @return the class-label perturbation
   */
  static Perturbation classLabel() {
    return (p, noise) -> {
      double[] out = new double[p.length];
      out[argmax(p)] = 1.0;
      return out;
    };
  }

  /**
   * Keeps the {@code k} largest probabilities, zeroes the rest, and renormalises if asked.
   *
   * @param k how many probabilities to keep, at least 1
   * @param renormalise whether to scale the kept ones to sum to 1
   * @return the top-k perturbation
   */
  static Perturbation topK(int k, boolean renormalise) {
    if (k < 1) {
      throw new IllegalArgumentException("topK.k must be at least 1, got " + k);
    }
    return (p, noise) -> {
      double[] out = new double[p.length];
      boolean[] taken = new boolean[p.length];
      for (int r = 0; r < Math.min(k, p.length); r++) {
        int best = -1;
        for (int i = 0; i < p.length; i++) {
          if (!taken[i] && (best < 0 || p[i] > p[best])) {
            best = i;
          }
        }
        taken[best] = true;
        out[best] = p[best];
      }
      return renormalise ? normalise(out) : out;
    };
  }

  /**
   * Rounds each probability to {@code decimals} places (ART default 3).
   *
   * @param decimals the decimal places kept, at least 0
   * @return the rounding perturbation
   */
  static Perturbation rounding(int decimals) {
    if (decimals < 0) {
      throw new IllegalArgumentException("rounding.decimals must not be negative, got " + decimals);
    }
    double scale = Math.pow(10, decimals);
    if (Double.isInfinite(scale)) {
      // 10^309 and up: 0 · ∞ and ∞ / ∞ would answer NaN.
      throw new IllegalArgumentException("rounding.decimals must be at most 308, got " + decimals);
    }
    return (p, noise) -> {
      double[] out = new double[p.length];
      for (int i = 0; i < p.length; i++) {
        out[i] = Math.rint(p[i] * scale) / scale;
      }
      return out;
    };
  }

  /**
   * Zeroes probabilities below {@code cutoff} without renormalising (ART default 0.25).
   *
   * @param cutoff the least probability kept, not NaN
   * @return the cut-off perturbation
   */
  static Perturbation highConfidence(double cutoff) {
    if (Double.isNaN(cutoff)) {
      throw new IllegalArgumentException("highConfidence.cutoff must be a number");
    }
    return (p, noise) -> {
      double[] out = new double[p.length];
      for (int i = 0; i < p.length; i++) {
        out[i] = p[i] < cutoff ? 0.0 : p[i];
      }
      return out;
    };
  }

  /**
   * Adds N(0, scale²) to each probability, clips at 0 and renormalises (ART default scale 0.2).
   * The noise is drawn from the per-(client, input) keyed stream, so repeats are identical (and,
   * in {@link ExtractionDefence}, slight variations of an input share half of their noise).
   *
   * @param scale the noise's standard deviation, finite and at least 0
   * @return the keyed Gaussian noise perturbation
   */
  static Perturbation gaussianNoise(double scale) {
    if (!(scale >= 0) || Double.isInfinite(scale)) {
      // ∞ · z (NaN where z is 0), then ∞ / ∞: NaN probabilities.
      throw new IllegalArgumentException("gaussianNoise.scale must be finite and >= 0, got " + scale);
    }
    return (p, noise) -> {
      KeyedRandom random = noise.perQuery();
      double[] out = new double[p.length];
      for (int i = 0; i < p.length; i++) {
        out[i] = Math.max(0.0, p[i] + scale * random.nextGaussian());
      }
      double sum = 0;
      for (double v : out) {
        sum += v;
      }
      // All clipped to zero (possible only at large scales): answer the label rather than nothing.
      return sum > 0 ? normalise(out) : classLabel().apply(p, noise);
    };
  }

  /**
   * ART's reverse sigmoid (defaults β = 1, γ = 0.1): p' = clip(p, 1e-9, 1 − 1e-9), r = β(σ(γ
   * logit p') − ½), q = clip(p − r, 0, 1), normalised. A one-element vector is binary: the rule is
   * applied to p and 1 − p and the first is returned.
   *
   * @param beta β, positive
   * @param gamma γ, positive
   * @return the reverse-sigmoid perturbation
   */
  static Perturbation reverseSigmoid(double beta, double gamma) {
    if (!(beta > 0) || !(gamma > 0)) {
      throw new IllegalArgumentException("reverseSigmoid.beta and gamma must be > 0");
    }
    return (p, noise) -> {
      if (p.length == 1) {
        double q1 = reverseSigmoidStep(p[0], beta, gamma);
        double q2 = reverseSigmoidStep(1.0 - p[0], beta, gamma);
        return new double[] {q1 / (q1 + q2)};
      }
      double[] out = new double[p.length];
      for (int i = 0; i < p.length; i++) {
        out[i] = reverseSigmoidStep(p[i], beta, gamma);
      }
      return normalise(out);
    };
  }

  /**
   * Misinformation: a confident answer for the class the model finds least likely, with
   * confidences drawn at random for each query from the per-query stream (a flat Dirichlet sample,
   * its largest value put on that class), so a repeated query gets the same answer. A copy trained
   * on such answers learns the wrong class consistently, query after query, and nothing of the
   * true probabilities reaches the answer: the least likely class does not tell the most likely
   * one. With two classes, or a one-element binary answer, where the least likely class is the
   * other one and would hand back the truth, the class is a keyed coin instead. (An earlier version
   * moved the exact probabilities by a shift of the classes fixed per client, which one query of a
   * known label undid for every later answer.)
   *
   * @return the misinformation perturbation
   */
  static Perturbation misinformation() {
    return (p, noise) -> {
      KeyedRandom random = noise.perQuery();
      int n = p.length;
      if (n == 1) {
        return new double[] {random.nextDouble()};
      }
      int label = n == 2 ? random.nextInt(2) : argmin(p);
      double[] out = new double[n];
      for (int i = 0; i < n; i++) {
        out[i] = -Math.log(1.0 - random.nextDouble());
      }
      int largest = argmax(out);
      double swap = out[label];
      out[label] = out[largest];
      out[largest] = swap;
      return normalise(out);
    };
  }

  /**
   * The index of the smallest value (the first on ties).
   *
   * @param p the values, at least one
   * @return the index
   */
  static int argmin(double[] p) {
    int least = 0;
    for (int i = 1; i < p.length; i++) {
      if (p[i] < p[least]) {
        least = i;
      }
    }
    return least;
  }

  /**
   * The index of the largest value (the first on ties).
   *
   * @param p the values, at least one
   * @return the index
   */
  static int argmax(double[] p) {
    int best = 0;
    for (int i = 1; i < p.length; i++) {
      if (p[i] > p[best]) {
        best = i;
      }
    }
    return best;
  }

  private static double reverseSigmoidStep(double p, double beta, double gamma) {
    double clipped = Math.min(Math.max(p, 1e-9), 1 - 1e-9);
    double logit = Math.log(clipped / (1 - clipped));
    double r = beta * (1.0 / (1.0 + Math.exp(-gamma * logit)) - 0.5);
    return Math.min(Math.max(p - r, 0.0), 1.0);
  }

  private static double[] normalise(double[] v) {
    double sum = 0;
    for (double x : v) {
      sum += x;
    }
    if (sum <= 0) {
      return v;
    }
    for (int i = 0; i < v.length; i++) {
      v[i] /= sum;
    }
    return v;
  }
}
