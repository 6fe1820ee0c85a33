package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The hashing detector's index against a client that knows how window hashes are computed and
 * crafts inputs whose hashes would all start in one slot (hash flooding of its own state, making
 * each of its queries walk the whole index).
 */
class HashingIndexFloodTest {
  private static final Prediction P = Prediction.of(new double[] {0.2, 0.8});

  /** One window of eight values, so each input's fingerprint is one hash the client can compute. */
  private static final HashingDetector SHAPE = HashingDetector.of(1.0, 8, 1, 1, 200);

  /** The slot an unkeyed index of 200 entries (512 slots) would give {@code key}. */
  private static int fixedSlot(long key) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32)) & 511;
  }

  /** 200 inputs with distinct fingerprints that the fixed slot function would all put in slot 0. */
  private static List<double[]> craftedInputs() {
    List<double[]> inputs = new ArrayList<>();
    Set<Integer> hashes = new HashSet<>();
    for (int a = 0; inputs.size() < 200; a++) {
      double[] x = {0, 0, 0, 0, 0, 0, a >> 12, a & 0xfff};
      int h = SHAPE.fingerprint(x)[0];
      if (fixedSlot(h) == 0 && hashes.add(h)) {
        inputs.add(x);
      }
    }
    return inputs;
  }

  private static int longestClusterAfter(HashingDetector detector, List<double[]> inputs) {
    ExtractionDetector.State state = detector.newState();
    for (double[] x : inputs) {
      assertThat(state.observe(x, P)).as("distinct fingerprints share nothing").isFalse();
    }
    return HashingDetector.indexOf(state).longestCluster();
  }

  @Test
  void craftedCollidingFingerprintsDoNotShareASlotOfAKeyedIndex() {
    List<double[]> crafted = craftedInputs();
    // Unkeyed, these 200 hashes form one run of 200 slots that every lookup from slot 0 walks.
    assertThat(longestClusterAfter(SHAPE.keyed(0x0123456789abcdefL, 0x0fedcba987654321L), crafted))
        .as("keyed by the defence's secret")
        .isLessThan(64);
    assertThat(longestClusterAfter(HashingDetector.of(1.0, 8, 1, 1, 200), crafted))
        .as("keyed at random on its own")
        .isLessThan(64);
  }

  @Test
  void aDefenceKeysItsHashingDetectorsUnderItsSecret() {
    NoiseKeys keys = NoiseKeys.withSecret(new byte[32]);
    ExtractionDefence defence = ExtractionDefence.builder(keys, 2).detector(SHAPE, 2).build();
    // Not the instance given: a copy whose slots derive from the secret, alike in every other way.
    assertThat(defence.detector(0)).isInstanceOf(HashingDetector.class).isNotSameAs(SHAPE);
    assertThat(longestClusterAfter((HashingDetector) defence.detector(0), craftedInputs())).isLessThan(64);
  }
}
