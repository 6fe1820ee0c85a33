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

  /** Adversarial-example search: tiny steps from one natural input, one feature at a time. */
  private static List<double[]> adversarialSearch(Random random, int n) {
    List<double[]> out = new ArrayList<>();
    double[] x = natural(random, 1).get(0);
    for (int q = 0; q < n; q++) {
      x = x.clone();
      x[random.nextInt(D)] += 0.1 * random.nextGaussian();
      out.add(x);
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
    // Per class: 20 stored queries of D floats, then 50 distances twice (their window and the sorted
    // pool); headers, per-class counters and alignment add under a fifth (DetectorMemoryBoundTest
    // checks the bound against the measured layout).
    assertThat(state.retainedBytes()).isEqualTo(after2000).isLessThan(CLASSES * (20L * 4 * D + 16 * 50) * 6 / 5);
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

    List<double[]> search = adversarialSearch(new Random(8), 50);
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
    // 50 fingerprints of 10 hashes with their index entries, plus scratch for one 32-feature input.
    assertThat(state.retainedBytes()).isEqualTo(hashing.maxRetainedBytes(32)).isLessThan(8_000);
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

  /** PRADA as published: per-class growing sets and distance windows, pooled and sorted afresh at every test. */
  private static final class TextbookPrada {
    private final List<List<double[]>> growing = new ArrayList<>();
    private final List<List<Double>> distances = new ArrayList<>();
    private final double[] threshold = new double[CLASSES];
    private final double[] sum = new double[CLASSES];
    private final double[] sumSq = new double[CLASSES];
    private final int[] count = new int[CLASSES];
    private int queries;

    TextbookPrada() {
      for (int c = 0; c < CLASSES; c++) {
        growing.add(new ArrayList<>());
        distances.add(new ArrayList<>());
      }
    }

    boolean observe(double[] x, int c) {
      queries++;
      if (growing.get(c).isEmpty()) {
        grow(c, x, 0);
      } else {
        double best = Double.POSITIVE_INFINITY;
        for (double[] g : growing.get(c)) {
          double s = 0;
          for (int i = 0; i < x.length; i++) {
            s += (x[i] - (float) g[i]) * (x[i] - (float) g[i]);
          }
          best = Math.min(best, s);
        }
        double d = Math.sqrt(best);
        List<Double> window = distances.get(c);
        window.add(d);
        if (window.size() > 50) {
          window.remove(0);
        }
        if (d > threshold[c]) {
          grow(c, x, d);
        }
      }
      if (queries % 10 != 0) {
        return false;
      }
      List<Double> pooled = new ArrayList<>();
      for (int c2 = 0; c2 < CLASSES; c2++) {
        if (distances.get(c2).size() >= 10) {
          pooled.addAll(distances.get(c2));
        }
      }
      if (pooled.size() <= 100) {
        return false;
      }
      double mean = pooled.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
      double sd = Math.sqrt(pooled.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum() / pooled.size());
      double[] kept = pooled.stream().mapToDouble(Double::doubleValue).filter(v -> Math.abs(v - mean) <= 3 * sd).toArray();
      return kept.length > 100 && ShapiroWilk.w(kept) < 0.9;
    }

    private void grow(int c, double[] x, double d) {
      if (growing.get(c).size() < 50) {
        growing.get(c).add(x.clone());
      }
      sum[c] += d;
      sumSq[c] += d * d;
      count[c]++;
      double mean = sum[c] / count[c];
      threshold[c] = Math.max(threshold[c], mean - Math.sqrt(Math.max(0, sumSq[c] / count[c] - mean * mean)));
    }
  }

  @Test
  void pradaKeepsItsPoolSortedIncrementallyYetFlagsExactlyLikeTheTextbookAlgorithm() {
    PradaDetector prada = PradaDetector.builder(CLASSES).build();
    int flags = 0;
    for (int client = 0; client < 12; client++) {
      Random random = new Random(300 + client);
      List<double[]> stream = client % 2 == 0 ? natural(random, 1_500) : probing(random, 1_500);
      ExtractionDetector.State state = prada.newState();
      TextbookPrada textbook = new TextbookPrada();
      for (int q = 0; q < stream.size(); q++) {
        double[] x = stream.get(q);
        boolean expected = textbook.observe(x, label(x).label());
        assertThat(state.observe(x, label(x))).as("client %d, query %d", client, q + 1).isEqualTo(expected);
        flags += expected ? 1 : 0;
      }
    }
    assertThat(flags).as("the comparison covers flagged queries too").isGreaterThan(50);
  }

  @Test
  void hashingIndexFlagsExactlyWhenSomeEarlierFingerprintSharesEnough() {
    Random random = new Random(21);
    for (int[] shape : new int[][] {{40, 4, 10, 8, 30}, {40, 4, 10, 10, 30}, {8, 4, 10, 3, 20}, {64, 8, 20, 18, 200}}) {
      int d = shape[0];
      HashingDetector hashing = HashingDetector.of(1.0, shape[1], shape[2], shape[3], shape[4]);
      ExtractionDetector.State state = hashing.newState();
      List<int[]> history = new ArrayList<>();
      List<double[]> seeds = new ArrayList<>();
      int flagged = 0;
      for (int q = 0; q < 3_000; q++) {
        double[] x;
        if (seeds.isEmpty() || random.nextInt(3) == 0) {
          x = random.doubles(d, 0, 4).toArray();
          seeds.add(x);
        } else {
          x = seeds.get(random.nextInt(seeds.size())).clone();
          for (int k = random.nextInt(4); k > 0; k--) {
            x[random.nextInt(d)] = random.nextInt(4);
          }
        }
        int[] fp = hashing.fingerprint(x);
        boolean expected = history.stream().anyMatch(old -> HashingDetector.shared(fp, old) >= shape[3]);
        assertThat(state.observe(x, label(new double[D]))).as("shape %s, query %d", java.util.Arrays.toString(shape), q).isEqualTo(expected);
        flagged += expected ? 1 : 0;
        history.add(fp);
        if (history.size() > shape[4]) {
          history.remove(0);
        }
      }
      if (shape[3] <= shape[0] - shape[1] + 1) {
        assertThat(flagged).as("shape %s flags some near-duplicates", java.util.Arrays.toString(shape)).isPositive();
      }
    }
  }

  /** Queries no detector can measure: beyond float range, overflowing when squared, or not numbers. */
  private static double[] unmeasurable(int q) {
    double[] x = new double[D];
    x[q % D] = new double[] {1e200, -1e39, Double.NaN, Double.POSITIVE_INFINITY}[(q / 25) % 4];
    return x;
  }

  @Test
  void pradaSkipsAQueryItCannotMeasureSoItFlagsExactlyAsIfItWereNeverSent() {
    // One feature of 1e200 once made a squared distance infinite; the infinity entered the
    // growing set and the pool, and the thresholds and the 3-sigma limit became NaN for good.
    PradaDetector prada = PradaDetector.builder(CLASSES).build();
    int flagged = 0;
    for (int client = 0; client < 10; client++) {
      ExtractionDetector.State clean = prada.newState();
      ExtractionDetector.State poisoned = prada.newState();
      List<double[]> stream = probing(new Random(100 + client), 1_000);
      boolean any = false;
      for (int q = 0; q < stream.size(); q++) {
        double[] x = stream.get(q);
        if (q % 25 == 3) {
          double[] bad = unmeasurable(q);
          Prediction anyClass = Prediction.of(new double[] {0.1, 0.2, 0.3, 0.4});
          assertThat(poisoned.observe(bad, new Prediction(anyClass.probabilities(), (q / 25) % CLASSES))).isFalse();
        }
        boolean expected = clean.observe(x, label(x));
        assertThat(poisoned.observe(x, label(x))).as("client %d, query %d", client, q + 1).isEqualTo(expected);
        any |= expected;
      }
      flagged += any ? 1 : 0;
    }
    assertThat(flagged).isGreaterThanOrEqualTo(9);
  }

  @Test
  void knnAndHashingAreNotBlindedByUnmeasurableQueriesBetweenTheProbes() {
    // They keep no running statistics: a stored row of infinities is simply never a near neighbour.
    KnnDetector knn = KnnDetector.of(5, 100, 0.3);
    HashingDetector hashing = HashingDetector.of(0.5, 4, 10, 8, 50);
    List<double[]> search = adversarialSearch(new Random(8), 50);
    for (ExtractionDetector detector : List.of(knn, hashing)) {
      ExtractionDetector.State clean = detector.newState();
      ExtractionDetector.State mixed = detector.newState();
      for (int q = 0; q < search.size(); q++) {
        if (q % 3 == 1) {
          mixed.observe(unmeasurable(q * 25), label(new double[D]));
        }
        double[] probe = search.get(q);
        assertThat(mixed.observe(probe, label(probe))).as("%s, query %d", detector.name(), q + 1)
            .isEqualTo(clean.observe(probe, label(probe)));
      }
    }
  }

  @Test
  void knnIgnoresInputsOfAnotherLengthThanItsFirstInsteadOfFailing() {
    // Rows of any length were stored, and a later query read past the end of a shorter one.
    KnnDetector knn = KnnDetector.of(1, 4, 0.5);
    ExtractionDetector.State state = knn.newState();
    Prediction p = Prediction.of(new double[] {0.2, 0.3, 0.5});
    assertThat(state.observe(new double[] {1, 2, 3}, p)).isFalse();
    long retained = state.retainedBytes();
    assertThat(state.observe(new double[] {1, 2}, p)).isFalse();
    assertThat(state.observe(new double[] {1, 2, 3, 4, 5, 6, 7, 8}, p)).isFalse();
    assertThat(state.observe(new double[] {1, 2, 3.1}, p)).as("compared with the first, the only stored row").isTrue();
    assertThat(state.observe(new double[] {9, 9, 9}, p)).isFalse();
    assertThat(state.retainedBytes()).isEqualTo(retained).isEqualTo(knn.maxRetainedBytes(3));
  }
}
