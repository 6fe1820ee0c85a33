package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The detectors on synthetic streams: natural-looking traffic passes, probing traffic is flagged, memory is bounded. */
class DetectorsTest {
  private static final int D = 16;
  private static final int CLASSES = 4;

  /** Natural-like traffic: points scattered around one of four class centres, labelled by centre. */
  private static List<double[]> natural(Random random, int n) {
    List<double[]> out = new ArrayList<>();
    for (int q = 0; q < n; q++) {
      int c = random.nextInt(CLASSES);
      double[] x = new double[D];
      for (int i = 0; i < D; i++) {
        x[i] = (i % CLASSES == c ? 8 : 0) + 2 * random.nextGaussian();
      }
      out.add(x);
    }
    return out;
  }

  private static Prediction label(double[] x) {
    double[] p = new double[CLASSES];
    for (int i = 0; i < D; i++) {
      p[i % CLASSES] += x[i];
    }
    int best = Perturbation.argmax(p);
    double[] probs = new double[CLASSES];
    probs[best] = 1;
    return new Prediction(probs, best);
  }

  /** First query index (1-based) at which {@code state} flags, or -1. */
  private static int firstFlag(ExtractionDetector.State state, List<double[]> stream) {
    for (int q = 0; q < stream.size(); q++) {
      if (state.observe(stream.get(q), label(stream.get(q)))) {
        return q + 1;
      }
    }
    return -1;
  }

  /** JBDA-like traffic: few seeds, then ever smaller steps from earlier points. */
  private static List<double[]> probing(Random random, int n) {
    List<double[]> out = new ArrayList<>(natural(random, 10));
    while (out.size() < n) {
      double[] parent = out.get(random.nextInt(out.size()));
      double[] child = parent.clone();
      for (int i = 0; i < D; i++) {
        child[i] += 0.05 * (random.nextBoolean() ? 1 : -1);
      }
      out.add(child);
    }
    return out;
  }

  @Test
  void pradaLeavesNaturalTrafficAloneAndFlagsMostProbingWithinTwoHundredQueries() {
    PradaDetector prada = PradaDetector.builder(CLASSES).build();
    for (int client = 0; client < 20; client++) {
      assertThat(firstFlag(prada.newState(), natural(new Random(client), 1_000))).as("benign client %d", client).isEqualTo(-1);
    }
    // PRADA is a statistical test: on this synthetic stream 9 of 10 clients are flagged at the
    // first or second test after 100 distances; none is flagged before it has more than 100.
    int flagged = 0;
    for (int client = 0; client < 10; client++) {
      int at = firstFlag(prada.newState(), probing(new Random(100 + client), 400));
      assertThat(at < 0 || at > 100).as("probing client %d flagged at %d", client, at).isTrue();
      if (at > 100 && at <= 200) {
        flagged++;
      }
    }
    assertThat(flagged).isGreaterThanOrEqualTo(9);
  }

  @Test
  void pradaStateStopsGrowingWhateverTheHistoryLength() {
    ExtractionDetector.State state = PradaDetector.builder(CLASSES).maxGrowingSetPerClass(20).maxDistancesPerClass(50).build().newState();
    Random random = new Random(1);
    for (double[] x : natural(random, 2_000)) {
      state.observe(x, label(x));
    }
    long after2000 = state.retainedBytes();
    for (double[] x : natural(random, 8_000)) {
      state.observe(x, label(x));
    }
    assertThat(state.retainedBytes()).isEqualTo(after2000).isLessThan(CLASSES * (20L * (4 * D + 16) + 8 * 50 + 48) + 64L * CLASSES + 1);
  }

  @Test
  void knnFlagsSmallStepsAroundOneInputButNotNaturalTraffic() {
    List<double[][]> calibration = new ArrayList<>();
    for (int c = 0; c < 10; c++) {
      calibration.add(natural(new Random(50 + c), 200).toArray(new double[0][]));
    }
    double threshold = KnnDetector.calibrate(calibration, 5, 100, 0.1, 0.5);
    assertThat(threshold).isPositive();
    KnnDetector knn = KnnDetector.of(5, 100, threshold);
    assertThat(firstFlag(knn.newState(), natural(new Random(7), 300))).isEqualTo(-1);

    Random random = new Random(8);
    List<double[]> search = new ArrayList<>();
    double[] x = natural(random, 1).get(0);
    for (int q = 0; q < 50; q++) {
      x = x.clone();
      x[random.nextInt(D)] += 0.1 * random.nextGaussian();
      search.add(x);
    }
    assertThat(firstFlag(knn.newState(), search)).isBetween(6, 10);
  }

  @Test
  void knnCalibrationReturnsTheRequestedPercentileTimesTheMargin() {
    double[][] line = new double[101][];
    for (int i = 0; i <= 100; i++) {
      line[i] = new double[] {i * i};
    }
    // k = 1: each statistic is the gap to the previous point, 2i - 1 for i >= 1: 1, 3, ..., 199.
    assertThat(KnnDetector.calibrate(java.util.Collections.singletonList(line), 1, 1, 50, 1.0)).isEqualTo(99.0);
    assertThat(KnnDetector.calibrate(java.util.Collections.singletonList(line), 1, 1, 0, 0.5)).isEqualTo(0.5);
  }

  @Test
  void hashingFlagsNearDuplicatesButNotDistinctInputs() {
    HashingDetector hashing = HashingDetector.of(1.0, 4, 10, 8, 50);
    ExtractionDetector.State state = hashing.newState();
    double[] a = new double[32];
    for (int i = 0; i < a.length; i++) {
      a[i] = (i * 7) % 13;
    }
    double[] b = new double[32];
    for (int i = 0; i < b.length; i++) {
      b[i] = (i * 5) % 11 + 20;
    }
    double[] nearA = a.clone();
    nearA[31] += 0.3; // stays in the same quantisation step
    nearA[0] += 5;
    assertThat(state.observe(a, label(new double[D]))).isFalse();
    assertThat(state.observe(b, label(new double[D]))).isFalse();
    assertThat(state.observe(nearA, label(new double[D]))).isTrue();
    assertThat(state.retainedBytes()).isEqualTo(64 + 50L * (4 * 10 + 16));
  }

  @Test
  void fingerprintIsTheLargestDistinctWindowHashesInOrder() {
    HashingDetector hashing = HashingDetector.of(1.0, 3, 5, 5, 10);
    Random random = new Random(4);
    for (int trial = 0; trial < 200; trial++) {
      double[] x = random.doubles(40, 0, 4).toArray();
      int[] fp = hashing.fingerprint(x);
      // Reference: every window's hash, distinct, largest five, ascending.
      HashingDetector one = HashingDetector.of(1.0, 3, 1, 1, 1);
      java.util.TreeSet<Integer> all = new java.util.TreeSet<>();
      for (int s = 0; s + 3 <= x.length; s++) {
        all.add(one.fingerprint(java.util.Arrays.copyOfRange(x, s, s + 3))[0]);
      }
      int[] expected = all.descendingSet().stream().limit(5).sorted().mapToInt(Integer::intValue).toArray();
      assertThat(fp).containsExactly(expected);
    }
  }

  @Test
  void hashingEarlyExitAgreesWithTheExactOverlapCount() {
    Random random = new Random(3);
    for (int trial = 0; trial < 2_000; trial++) {
      int[] a = random.ints(10, 0, 14).distinct().sorted().toArray();
      int[] b = random.ints(10, 0, 14).distinct().sorted().toArray();
      for (int min = 1; min <= a.length; min++) {
        assertThat(HashingDetector.shares(a, b, min)).isEqualTo(HashingDetector.shared(a, b) >= min);
      }
    }
  }

  @Test
  void coverageMonitorFlagsOncePerQuota() {
    ExtractionDetector.State state = CoverageMonitor.of(3, 0.2).newState();
    List<Boolean> flags = new ArrayList<>();
    for (int q = 0; q < 7; q++) {
      flags.add(state.observe(new double[] {q}, Prediction.of(new double[] {0.5, 0.45, 0.05})));
    }
    assertThat(flags).containsExactly(false, false, true, false, false, true, false);
    assertThat(((CoverageMonitor.Counter) state).boundaryShare()).isEqualTo(1.0);
  }
}
