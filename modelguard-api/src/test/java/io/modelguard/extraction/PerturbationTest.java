package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** ART's output defences, checked against the golden vectors of ART's own tests. */
class PerturbationTest {
  private static final double[] ART_INPUT = {
    0.12109935, 0.0498215, 0.0993958, 0.06410096, 0.11366928, 0.04645343, 0.06419807, 0.30685693, 0.07616714, 0.05823757
  };
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(new byte[32]);

  private static NoiseSource noise(String client, double[] x) {
    return KEYS.source(client, x);
  }

  private static double[] apply(Perturbation p, double[] in) {
    return p.apply(in, noise("c", new double[] {1}));
  }

  private static void assertCloseTo(double[] actual, double[] expected, double tolerance) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      assertThat(actual[i]).as("index %d", i).isCloseTo(expected[i], within(tolerance));
    }
  }

  @Test
  void reverseSigmoidMatchesArtGoldenVectors() {
    assertCloseTo(apply(Perturbation.reverseSigmoid(1, 0.1), ART_INPUT), new double[] {
      0.10733664, 0.07743666, 0.09712707, 0.08230411, 0.10377649, 0.0764482, 0.08234023, 0.20600921, 0.08703023, 0.08019119
    }, 1e-4);
    assertCloseTo(apply(Perturbation.reverseSigmoid(0.75, 0.1), ART_INPUT), new double[] {
      0.1097239, 0.07264659, 0.09752058, 0.07914664, 0.10549247, 0.07124537, 0.07919333, 0.22350204, 0.08514594, 0.07638316
    }, 1e-4);
    assertCloseTo(apply(Perturbation.reverseSigmoid(1, 0.5), ART_INPUT), new double[] {
      0.09699764, 0.10062696, 0.09689676, 0.09873781, 0.0968849, 0.10121989, 0.0987279, 0.11275949, 0.09774373, 0.09940492
    }, 1e-4);
  }

  @Test
  void reverseSigmoidOnBinaryOutputMatchesArt() {
    double[] p = {0.5301345};
    assertThat(apply(Perturbation.reverseSigmoid(1, 0.1), p)[0]).isCloseTo(0.52711743, within(1e-4));
    assertThat(apply(Perturbation.reverseSigmoid(0.75, 0.1), p)[0]).isCloseTo(0.5278717, within(1e-4));
    assertThat(apply(Perturbation.reverseSigmoid(1, 0.5), p)[0]).isCloseTo(0.51505363, within(1e-4));
  }

  @Test
  void classLabelIsOneHotOfArgmax() {
    assertThat(apply(Perturbation.classLabel(), ART_INPUT)).containsExactly(0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
  }

  @Test
  void topKKeepsTheLargestAndOptionallyRenormalises() {
    double[] p = {0.1, 0.5, 0.15, 0.25};
    assertThat(apply(Perturbation.topK(2, false), p)).containsExactly(0, 0.5, 0, 0.25);
    assertCloseTo(apply(Perturbation.topK(2, true), p), new double[] {0, 2.0 / 3, 0, 1.0 / 3}, 1e-12);
  }

  @Test
  void roundingAndHighConfidenceFollowArt() {
    assertThat(apply(Perturbation.rounding(3), new double[] {0.12345, 0.87655})).containsExactly(0.123, 0.877);
    assertThat(apply(Perturbation.highConfidence(0.25), new double[] {0.2, 0.3, 0.5})).containsExactly(0, 0.3, 0.5);
  }

  @Test
  void gaussianNoiseIsKeyedByClientAndInput() {
    Perturbation noise = Perturbation.gaussianNoise(0.2);
    double[] x = {1, 2, 3};
    double[] first = noise.apply(ART_INPUT, noise("alice", x));
    double[] repeat = noise.apply(ART_INPUT, noise("alice", x));
    double[] otherInput = noise.apply(ART_INPUT, noise("alice", new double[] {1, 2, 4}));
    double[] otherClient = noise.apply(ART_INPUT, noise("bob", x));
    assertThat(repeat).containsExactly(first);
    assertThat(otherInput).isNotEqualTo(first);
    assertThat(otherClient).isNotEqualTo(first);
    assertThat(first).isNotEqualTo(ART_INPUT);
    double sum = 0;
    for (double v : first) {
      assertThat(v).isGreaterThanOrEqualTo(0);
      sum += v;
    }
    assertThat(sum).isCloseTo(1.0, within(1e-12));
  }

  @Test
  void noiseKeysDependOnTheSecret() {
    NoiseKeys other = NoiseKeys.withSecret(new byte[] {
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32
    });
    assertThat(other.querySeed("alice", ART_INPUT)).isNotEqualTo(KEYS.querySeed("alice", ART_INPUT));
  }

  @Test
  void misinformationAnswersTheLeastLikelyClassWithFreshConfidencesAndTheSameForARepeat() {
    Perturbation misinform = Perturbation.misinformation();
    Set<Double> topConfidences = new HashSet<>();
    for (int q = 0; q < 200; q++) {
      double[] x = {q};
      double[] a = misinform.apply(ART_INPUT, noise("alice", x));
      assertThat(Perturbation.argmax(a)).as("query %d", q).isEqualTo(5); // ART_INPUT's least likely class
      assertThat(Arrays.stream(a).sum()).isCloseTo(1.0, within(1e-12));
      assertThat(misinform.apply(ART_INPUT, noise("alice", x))).as("a repeat").containsExactly(a);
      topConfidences.add(a[5]);
    }
    assertThat(topConfidences).as("confidences drawn per query").hasSizeGreaterThan(190);
  }

  @Test
  void misinformationPassesNoTrueProbabilityAndNoShiftAKnownLabelCouldUndo() {
    // The attack on the former per-client shift: learn the shift from one answer whose true label
    // is known, then shift every later answer back to the exact probabilities.
    Perturbation misinform = Perturbation.misinformation();
    double[] known = misinform.apply(ART_INPUT, noise("mallory", new double[] {0}));
    int shift = Math.floorMod(Perturbation.argmax(known) - 7, 10);
    SplittableRandom random = new SplittableRandom(3);
    Map<Integer, Set<Integer>> answeredForTop = new HashMap<>();
    for (int q = 1; q <= 500; q++) {
      double[] p = new double[10];
      for (int i = 0; i < 10; i++) {
        p[i] = random.nextDouble();
      }
      double sum = Arrays.stream(p).sum();
      for (int i = 0; i < 10; i++) {
        p[i] /= sum;
      }
      double[] a = misinform.apply(p, noise("mallory", new double[] {q}));
      double[] undone = new double[10];
      for (int i = 0; i < 10; i++) {
        undone[i] = a[(i + shift) % 10];
      }
      assertThat(undone).as("query %d", q).isNotEqualTo(p);
      for (double v : a) {
        assertThat(p).as("query %d", q).doesNotContain(v);
      }
      assertThat(Perturbation.argmax(a)).as("query %d", q).isNotEqualTo(Perturbation.argmax(p));
      answeredForTop.computeIfAbsent(Perturbation.argmax(p), k -> new HashSet<>()).add(Perturbation.argmax(a));
    }
    // The answered class is no function of the true one (as any relabelling would be).
    assertThat(answeredForTop.values()).allSatisfy(answered -> assertThat(answered).hasSizeGreaterThan(3));
  }

  @Test
  void binaryMisinformationIsNotAlwaysTheOtherClass() {
    // With two classes "the other one" would be the truth: the answer's class is a keyed coin.
    Perturbation misinform = Perturbation.misinformation();
    int sameAsTrue = 0;
    int positive = 0;
    for (int q = 0; q < 400; q++) {
      double[] x = {q};
      if (Perturbation.argmax(misinform.apply(new double[] {0.9, 0.1}, noise("bob", x))) == 0) {
        sameAsTrue++;
      }
      if (misinform.apply(new double[] {0.9}, noise("bob", x))[0] > 0.5) {
        positive++;
      }
    }
    assertThat(sameAsTrue).isBetween(150, 250);
    assertThat(positive).isBetween(150, 250);
  }

  @Test
  void thenComposesInOrder() {
    double[] p = {0.1, 0.47, 0.17, 0.26};
    assertThat(apply(Perturbation.rounding(1).then(Perturbation.highConfidence(0.3)), p)).containsExactly(0, 0.5, 0, 0.3);
    assertThat(apply(Perturbation.highConfidence(0.3).then(Perturbation.rounding(1)), p)).containsExactly(0, 0.5, 0, 0);
  }
}
