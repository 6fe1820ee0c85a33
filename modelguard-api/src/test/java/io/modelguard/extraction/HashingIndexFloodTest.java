package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The hashing detector's index against a client that knows how window hashes are computed and
 * crafts inputs whose hashes would all start in one slot (hash flooding of its own state, making
 * each of its queries walk the whole index), or simply sends inputs with equal hashes: one query
 * again and again with slight changes, or queries built to share their largest hashes.
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

  /** The default set's hashing detector: step 2, window 8, 20 hashes, 18 shared, 200 fingerprints. */
  private static HashingDetector defaultShape() {
    return HashingDetector.of(2.0, 8, 20, 18, 200);
  }

  /**
   * 1,000 digits-like inputs (64 features of 0–16), each within one quantisation step of the first
   * in every feature: distinct queries, so none is a repeat the defence would answer without its
   * detectors, with one fingerprint.
   */
  private static List<double[]> nearRepeats() {
    Random random = new Random(3);
    double[] base = new double[64];
    for (int i = 0; i < base.length; i++) {
      base[i] = 2 * random.nextInt(9); // the lower bound of a step: +1 stays in it
    }
    List<double[]> inputs = new ArrayList<>();
    for (int q = 0; q < 1_000; q++) {
      double[] x = base.clone();
      for (int i = 0; i < 20; i++) {
        x[i] += (q >> i) & 1;
      }
      inputs.add(x);
    }
    return inputs;
  }

  /**
   * 1,000 digits-like inputs whose fingerprints share their three largest hashes, the three the
   * index holds of each, and nothing else: three windows whose hashes are among the largest
   * thousandth of all, followed by random features whose windows' hashes are all lower.
   */
  private static List<double[]> sharingTheirLargestHashes(HashingDetector detector) {
    Random random = new Random(5);
    List<double[]> windows = new ArrayList<>();
    Set<Integer> high = new HashSet<>();
    while (windows.size() < 3) {
      double[] w = new double[8];
      for (int i = 0; i < w.length; i++) {
        w[i] = 2 * random.nextInt(9);
      }
      int h = detector.fingerprint(w)[0];
      if (h > Integer.MAX_VALUE - (1 << 22) && high.add(h)) {
        windows.add(w);
      }
    }
    List<double[]> inputs = new ArrayList<>();
    while (inputs.size() < 1_000) {
      double[] x = new double[64];
      for (int k = 0; k < 3; k++) {
        System.arraycopy(windows.get(k), 0, x, 8 * k, 8);
      }
      for (int i = 24; i < x.length; i++) {
        x[i] = 2 * random.nextInt(9);
      }
      int[] fp = detector.fingerprint(x);
      if (fp.length == 20 && high.contains(fp[17]) && high.contains(fp[18]) && high.contains(fp[19])) {
        inputs.add(x);
      }
    }
    return inputs;
  }

  /**
   * Observes {@code inputs} and returns the most slots and chain links the index visited for one of
   * the queries after the first 200 (the history full), asserting each query's result.
   */
  private static long mostProbesPerQuery(ExtractionDetector.State state, List<double[]> inputs, boolean nearRepeats) {
    LongKeyIndex index = HashingDetector.indexOf(state);
    long most = 0;
    for (int q = 0; q < inputs.size(); q++) {
      long before = index.probes();
      assertThat(state.observe(inputs.get(q), P)).as("query %d", q).isEqualTo(nearRepeats && q > 0);
      if (q >= 200) {
        most = Math.max(most, index.probes() - before);
      }
    }
    return most;
  }

  // Each query looks up its three largest hashes and replaces the three of the oldest fingerprint:
  // nine searches among the index's keys, of which these clients' queries hold only three. With a
  // slot per stored hash, the 600 equal hashes made runs of 200 or more slots (longer where the
  // three met), and each query probed 1,400 to 2,600 slots.

  @Test
  void aClientRepeatingOneQueryWithSlightChangesDoesNotLengthenItsProbes() {
    ExtractionDetector.State state = defaultShape().newState();
    long most = mostProbesPerQuery(state, nearRepeats(), true);
    assertThat(HashingDetector.indexOf(state).longestCluster()).isLessThanOrEqualTo(3);
    assertThat(most).isLessThanOrEqualTo(32);
  }

  @Test
  void queriesSharingTheirLargestHashesDoNotLengthenTheirProbes() {
    HashingDetector detector = defaultShape();
    ExtractionDetector.State state = detector.newState();
    long most = mostProbesPerQuery(state, sharingTheirLargestHashes(detector), false);
    assertThat(HashingDetector.indexOf(state).longestCluster()).isLessThanOrEqualTo(3);
    assertThat(most).isLessThanOrEqualTo(32);
  }
}
