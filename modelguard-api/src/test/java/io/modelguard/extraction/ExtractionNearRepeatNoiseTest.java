package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.MutableClock;
import io.modelguard.extraction.ExtractionDefenceTest.ScriptedDetector;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Keyed noise against near-repeats: slight variations of one input must not each get an
 * independent noise draw, or averaging them recovers the clean answer as averaging fresh noise would.
 */
class ExtractionNearRepeatNoiseTest {
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(new byte[32]);
  private static final int PIXELS = 64;
  private static final int CLASSES = 10;

  private final MutableClock clock = MutableClock.standard();

  /** A defence that noises at PERTURB with N(0, 0.02²), and a client it has already flagged to PERTURB. */
  private ExtractionDefence perturbing(String client) {
    ScriptedDetector detector = new ScriptedDetector();
    detector.flagging.add(-1.0);
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, CLASSES)
        .clock(clock)
        .detector(detector, 1.2) // one flag: PERTURB (1), not MISINFORM (1.5)
        .levelPerturbation(RiskLevel.PERTURB, Perturbation.gaussianNoise(0.02))
        .build();
    double[] flagged = new double[PIXELS];
    flagged[0] = -1;
    defence.answer(client, null, flagged, model(flagged));
    assertThat(defence.level(client)).isEqualTo(RiskLevel.PERTURB);
    return defence;
  }

  /**
   * A smooth victim: softmax of small random weights times the pixels, so every class keeps about
   * 0.1 and noise of 0.02 is almost never clipped (the average of clipped noise is biased, which
   * would hide the attack rather than stop it).
   */
  private static double[] model(double[] x) {
    Random w = new Random(17);
    double[] p = new double[CLASSES];
    double sum = 0;
    for (int c = 0; c < CLASSES; c++) {
      double logit = 0;
      for (double v : x) {
        logit += 0.003 * w.nextGaussian() * v;
      }
      p[c] = Math.exp(logit);
      sum += p[c];
    }
    for (int c = 0; c < CLASSES; c++) {
      p[c] /= sum;
    }
    return p;
  }

  /** A digits-like input: 64 pixels of 0 to 16. */
  private static double[] digit(Random r) {
    double[] x = new double[PIXELS];
    for (int i = 0; i < PIXELS; i++) {
      x[i] = r.nextInt(17);
    }
    return x;
  }

  private static double l1(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += Math.abs(a[i] - b[i]);
    }
    return s;
  }

  @Test
  void averagingSlightVariationsOfAnInputDoesNotRecoverItsCleanAnswer() {
    // Noise was keyed by the exact input: a flagged client that sent 200 variations of one digit
    // (one pixel moved by up to 1, never an exact repeat, well before PRADA can test anything) got
    // 200 independent draws, and their average was within 1/√200 of the noise of the clean answer.
    ExtractionDefence defence = perturbing("mallory");
    Random r = new Random(3);
    double errorOfAnswers = 0;
    double errorOfAverages = 0;
    for (int base = 0; base < 20; base++) {
      double[] x = digit(r);
      double[] clean = model(x);
      double[] average = new double[CLASSES];
      int variations = 200;
      for (int v = 0; v < variations; v++) {
        double[] nudged = x.clone();
        int pixel = r.nextInt(PIXELS);
        nudged[pixel] = Math.min(16, Math.max(0, nudged[pixel] + 2 * r.nextDouble() - 1));
        double[] answer = defence.answer("mallory", null, nudged, model(nudged));
        errorOfAnswers += l1(answer, model(nudged)) / variations;
        for (int c = 0; c < CLASSES; c++) {
          average[c] += answer[c] / variations;
        }
      }
      errorOfAverages += l1(average, clean);
    }
    assertThat(errorOfAverages)
        .as("L1 error of the averages of 200 variations, against %.3f of single answers", errorOfAnswers)
        .isGreaterThan(0.5 * errorOfAnswers);
  }

  @Test
  void answersToTwoInputsOfOneCellDoNotRevealTheModelsExactDifference() {
    // Keyed by the cell alone, two inputs of one cell got the same noise, so the difference of
    // their answers was the model's own: one pixel nudged by 1 stays in its cell about 70 % of the
    // time, and 871 of 1,280 such finite differences came back within 10 % of the model's (its
    // local slopes, two queries each, no clean answer needed). Exact keying: none.
    ExtractionDefence defence = perturbing("mallory");
    Random r = new Random(7);
    int exact = 0;
    int total = 0;
    for (int base = 0; base < 20; base++) {
      double[] x = digit(r);
      double[] ax = defence.answer("mallory", null, x, model(x));
      for (int i = 0; i < PIXELS; i++) {
        double[] y = x.clone();
        y[i] += 1;
        double[] ay = defence.answer("mallory", null, y, model(y));
        double[] estimate = new double[CLASSES];
        double[] truth = new double[CLASSES];
        for (int c = 0; c < CLASSES; c++) {
          estimate[c] = ay[c] - ax[c];
          truth[c] = model(y)[c] - model(x)[c];
        }
        total++;
        if (l1(estimate, truth) < 0.1 * l1(truth, new double[CLASSES])) {
          exact++;
        }
      }
    }
    assertThat(exact).as("finite differences within 10%% of the model's, of %d", total).isLessThan(total / 100);
  }

  @Test
  void exactRepeatsStillGetTheSameAnswerAndDistinctInputsMostlyIndependentNoise() {
    ExtractionDefence defence = perturbing("alice");
    Random r = new Random(4);
    Set<List<Double>> answers = new HashSet<>();
    int inputs = 500;
    for (int k = 0; k < inputs; k++) {
      double[] x = digit(r);
      double[] p = NoiseCancellation.randomProbabilities(r); // unrelated to x: only the noise tells answers apart
      double[] answer = defence.answer("alice", null, x, p);
      assertThat(defence.answer("alice", null, x.clone(), p)).containsExactly(answer);
      answers.add(List.of(java.util.Arrays.stream(answer).boxed().toArray(Double[]::new)));
    }
    assertThat(answers).as("distinct answers to %d distinct inputs", inputs).hasSizeGreaterThan(inputs * 9 / 10);
  }
}
