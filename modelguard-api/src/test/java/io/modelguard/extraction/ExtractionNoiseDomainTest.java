package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.modelguard.LogCapture;
import io.modelguard.MutableClock;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Noise keys per model: two defences built from one {@link NoiseKeys} give a client the same noise
 * on the same input, so the difference of two related models' answers is their exact difference;
 * defences on keys {@link NoiseKeys#derive derived} under two labels draw independent noise, and
 * one label gives the same noise in every instance (as in every JVM).
 */
class ExtractionNoiseDomainTest {
  private static final int CLASSES = 10;
  private static final String CLIENT = "p:acme:mallory";
  private static final String TIER = "noised";

  private final MutableClock clock = MutableClock.standard();

  private static byte[] secret() {
    byte[] s = new byte[NoiseKeys.MIN_SECRET_BYTES];
    for (int i = 0; i < s.length; i++) {
      s[i] = (byte) (31 * i + 7);
    }
    return s;
  }

  /**
   * A defence adding keyed N(0, 0.05²) to every probability for the tier, and nothing else
   * (no clipping or renormalising), so that an answer minus the model's output is the noise.
   */
  private ExtractionDefence defence(NoiseKeys keys) {
    Perturbation additive = (p, noise) -> {
      KeyedRandom random = noise.perQuery();
      double[] out = new double[p.length];
      for (int i = 0; i < p.length; i++) {
        out[i] = p[i] + 0.05 * random.nextGaussian();
      }
      return out;
    };
    return ExtractionDefence.builder(keys, CLASSES).clock(clock).tierPerturbation(TIER, additive).build();
  }

  /** The largest gap between (a1 − a2) and the models' exact difference (p1 − p2), over 50 inputs. */
  private static double largestNoiseLeftInDifference(ExtractionDefence model1, ExtractionDefence model2) {
    Random r = new Random(11);
    double largest = 0;
    for (int q = 0; q < 50; q++) {
      double[] x = new double[64];
      for (int i = 0; i < x.length; i++) {
        x[i] = r.nextInt(17);
      }
      double[] p1 = NoiseCancellation.randomProbabilities(r);
      double[] p2 = NoiseCancellation.randomProbabilities(r); // v2: another answer to the same input
      double[] a1 = model1.answer(CLIENT, TIER, x, p1);
      double[] a2 = model2.answer(CLIENT, TIER, x, p2);
      for (int c = 0; c < CLASSES; c++) {
        largest = Math.max(largest, Math.abs((a1[c] - a2[c]) - (p1[c] - p2[c])));
      }
    }
    return largest;
  }

  @Test
  void twoDefencesOnOneNoiseKeysCancelTheirNoiseInTheDifference() {
    // The documented hazard of sharing keys between models: the client learns v1 − v2 exactly.
    NoiseKeys keys = NoiseKeys.withSecret(secret());
    assertThat(largestNoiseLeftInDifference(defence(keys), defence(keys))).isLessThan(1e-12);
  }

  @Test
  void defencesOnKeysDerivedUnderTwoDomainsDrawIndependentNoise() {
    NoiseKeys keys = NoiseKeys.withSecret(secret());
    // Independent N(0, 0.05²) draws: their difference has a standard deviation of about 0.07, so
    // over 500 values the largest is far above 0.05 (a shared draw leaves 0 up to rounding).
    assertThat(largestNoiseLeftInDifference(defence(keys.derive("a")), defence(keys.derive("b"))))
        .isGreaterThan(0.05);
    // Neither is the underived keys' noise.
    assertThat(largestNoiseLeftInDifference(defence(keys), defence(keys.derive("a")))).isGreaterThan(0.05);
  }

  @Test
  void oneDomainGivesTheSameNoiseInEveryInstance() {
    // Two NoiseKeys from one secret, as two JVMs or two restarts would build them.
    NoiseKeys first = NoiseKeys.withSecret(secret()).derive("a");
    NoiseKeys second = NoiseKeys.withSecret(secret()).derive("a");
    assertThat(largestNoiseLeftInDifference(defence(first), defence(second))).isLessThan(1e-12);
    // And derivation is deterministic within one instance too.
    NoiseKeys keys = NoiseKeys.withSecret(secret());
    assertThat(keys.derive("a").clientSeed(CLIENT)).isEqualTo(keys.derive("a").clientSeed(CLIENT));
    // Case counts: "A" is another domain.
    assertThat(keys.derive("A").clientSeed(CLIENT)).isNotEqualTo(keys.derive("a").clientSeed(CLIENT));
  }

  @Test
  void derivedKeysDependOnTheSecret() {
    byte[] other = secret();
    other[0] ^= 1;
    assertThat(NoiseKeys.withSecret(other).derive("a").clientSeed(CLIENT))
        .isNotEqualTo(NoiseKeys.withSecret(secret()).derive("a").clientSeed(CLIENT));
  }

  @Test
  void rejectsAnEmptyOverlongOrUnprintableDomainNamingTheRule() {
    NoiseKeys keys = NoiseKeys.withSecret(secret());
    String rule = "noise key domain must be 1 to " + NoiseKeys.MAX_DOMAIN_LENGTH + " printable ASCII characters";
    assertThatThrownBy(() -> keys.derive(null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(rule);
    assertThatThrownBy(() -> keys.derive("")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(rule);
    assertThatThrownBy(() -> keys.derive("x".repeat(NoiseKeys.MAX_DOMAIN_LENGTH + 1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(rule);
    assertThatThrownBy(() -> keys.derive("digits\nv2")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(rule).hasMessageNotContaining("digits");
    assertThatThrownBy(() -> keys.derive("modèle")).isInstanceOf(IllegalArgumentException.class);
    // The bounds themselves are accepted.
    assertThat(keys.derive("x".repeat(NoiseKeys.MAX_DOMAIN_LENGTH))).isNotNull();
    assertThat(keys.derive(" ~")).isNotNull();
  }

  @Test
  void aSecondDefenceOnOneUnderivedNoiseKeysLogsOneWarningNamingTheRemedy() {
    NoiseKeys keys = NoiseKeys.withSecret(secret());
    try (LogCapture log = LogCapture.of(ExtractionDefence.class, Level.WARN)) {
      defence(keys);
      assertThat(log.messagesAt(Level.WARN)).as("one defence on the keys: nothing to warn of").isEmpty();
      defence(keys);
      assertThat(log.messagesAt(Level.WARN)).singleElement().asString()
          .contains("second defence", "NoiseKeys that was not derived", "keys.derive(");
      defence(keys); // said once for these keys, not on every rebuild
      assertThat(log.messagesAt(Level.WARN)).hasSize(1);
    }
  }

  @Test
  void defencesOnKeysDerivedPerModelLogNoWarning() {
    NoiseKeys keys = NoiseKeys.withSecret(secret());
    try (LogCapture log = LogCapture.of(ExtractionDefence.class, Level.WARN)) {
      NoiseKeys digits = keys.derive("digits");
      defence(digits);
      defence(keys.derive("sentiment"));
      defence(digits); // one model's keys again: taken for that model's
      defence(digits.derive("v2"));
      // A failed build is no defence: the root's one use below is its first.
      assertThatThrownBy(() -> ExtractionDefence.builder(keys, CLASSES).maxTotalBytes(1024).build())
          .isInstanceOf(IllegalArgumentException.class);
      defence(keys);
      assertThat(log.messagesAt(Level.WARN)).isEmpty();
    }
  }
}
