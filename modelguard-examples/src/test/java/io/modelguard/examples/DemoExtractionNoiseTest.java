package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.extraction.ExtractionDefence;
import io.modelguard.extraction.NoiseKeys;
import io.modelguard.extraction.Perturbation;
import io.modelguard.extraction.RiskLevel;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The demo's {@code digits} defence draws noise of its own: a defence for another model built on
 * the keys the demo loaded, configured alike and facing the same client, answers with other noise
 * (one sharing the keys would add the same, and a client asking both would read the models' exact
 * difference); the demo built twice from one secret, as after a restart, answers alike.
 */
class DemoExtractionNoiseTest {
  private static final String CLIENT = "p:demo:mallory";
  private final Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

  private static NoiseKeys keys() {
    byte[] secret = new byte[NoiseKeys.MIN_SECRET_BYTES];
    Arrays.fill(secret, (byte) 42);
    return NoiseKeys.withSecret(secret);
  }

  /** Another model's defence as the demo configures digits', on {@code keys} as given. */
  private ExtractionDefence anotherModel(NoiseKeys keys) {
    Perturbation rounded = Perturbation.misinformation().then(Perturbation.rounding(6));
    return ExtractionDefence.builder(keys, 10)
        .clock(clock)
        .levelPerturbation(RiskLevel.PERTURB, Perturbation.gaussianNoise(0.2).then(Perturbation.rounding(6)))
        .levelPerturbation(RiskLevel.MISINFORM, rounded)
        .levelPerturbation(RiskLevel.THROTTLE, rounded)
        .levelPerturbation(RiskLevel.BLOCK, rounded)
        .build();
  }

  private static double[] probabilities(Random r) {
    double[] p = new double[10];
    double sum = 0;
    for (int c = 0; c < p.length; c++) {
      p[c] = Math.exp(r.nextGaussian());
      sum += p[c];
    }
    for (int c = 0; c < p.length; c++) {
      p[c] /= sum;
    }
    return p;
  }

  /**
   * Sends both defences the same single-pixel search around one digit until the client is flagged
   * (the defaults' detectors, deterministic on one clock), then returns how many of 40 fresh inputs
   * they answer differently.
   */
  private int answersThatDiffer(ExtractionDefence first, ExtractionDefence second) {
    Random r = new Random(3);
    double[] base = new double[64];
    for (int i = 0; i < base.length; i++) {
      base[i] = r.nextInt(17);
    }
    double[] p = probabilities(r);
    for (int i = 0; i < 2_000 && first.level(CLIENT) == RiskLevel.OBSERVE; i++) {
      double[] probe = base.clone();
      probe[i % 64] = (base[i % 64] + 1 + i / 64) % 17;
      first.answer(CLIENT, null, probe, p);
      second.answer(CLIENT, null, probe, p);
    }
    assertThat(first.level(CLIENT)).as("the search was flagged").isNotEqualTo(RiskLevel.OBSERVE);
    assertThat(second.level(CLIENT)).isEqualTo(first.level(CLIENT));
    int differ = 0;
    for (int q = 0; q < 40; q++) {
      double[] x = new double[64];
      for (int i = 0; i < x.length; i++) {
        x[i] = r.nextInt(17);
      }
      double[] truth = probabilities(r);
      if (!Arrays.equals(first.perturb(CLIENT, null, x, truth), second.perturb(CLIENT, null, x, truth))) {
        differ++;
      }
    }
    return differ;
  }

  @Test
  void anotherModelsDefenceOnTheLoadedKeysDrawsOtherNoise() {
    NoiseKeys keys = keys();
    assertThat(answersThatDiffer(DemoExtraction.create(keys, clock).digits(), anotherModel(keys))).isEqualTo(40);
  }

  @Test
  void theDemoBuiltTwiceFromOneSecretAnswersAlike() {
    assertThat(answersThatDiffer(DemoExtraction.create(keys(), clock).digits(),
        DemoExtraction.create(keys(), clock).digits())).isZero();
  }
}
