package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.MutableClock;
import io.modelguard.extraction.ExtractionDefenceTest.ScriptedDetector;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Adversarial review of the extraction defence: evasions and bounds. */
class ExtractionReviewTest {
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(new byte[32]);
  private static final double[] P = {0.1, 0.7, 0.2};

  private final MutableClock clock = MutableClock.standard();

  @Test
  void oneFlagOfADefaultWeightDetectorMisinformsBeyondTheInstantOfTheFlag() {
    // Builder.detector: "PRADA (δ 0.9, weight 2: one flag misinforms)". With the default MISINFORM
    // threshold equal to the weight, the decaying score falls below it at once: the next query (or
    // the PERTURB policy of the same one, which reads the clock again) was only noised.
    ScriptedDetector detector = new ScriptedDetector();
    detector.flagging.add(7.0);
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3).clock(clock).detector(detector, 2).build();
    assertThat(defence.observe("mallory", new double[] {7, 1, 2}, Prediction.of(P)).flaggedBy()).containsExactly("scripted");
    clock.advance(Duration.ofMillis(1));
    assertThat(defence.level("mallory")).isEqualTo(RiskLevel.MISINFORM);
    clock.advance(Duration.ofMinutes(10));
    assertThat(defence.level("mallory")).isEqualTo(RiskLevel.MISINFORM);
    clock.advance(Duration.ofMinutes(20)); // score 2 * 0.5^(1/2) = 1.41
    assertThat(defence.level("mallory")).isEqualTo(RiskLevel.PERTURB);
  }

  @Test
  void pradaKeepsWorkingAfterTwoBillionQueriesOfOneClass() throws ReflectiveOperationException {
    // A heavy client (10k queries a second) asks for one class 2^31 times in under three days. The
    // per-class distance count was an int: it wrapped negative, the ring slot became negative, and
    // every later query of that class threw out of observe (its answer withheld) for good, since
    // the count was only advanced after the failing write.
    PradaDetector prada = PradaDetector.builder(3).checkEvery(1).minDistances(5).build();
    ExtractionDetector.State state = prada.newState();
    // A twin fed the same queries without the jump: the jump is a whole number of windows, so the
    // two must answer alike, query for query, and keep the same distances.
    ExtractionDetector.State twin = prada.newState();
    Random r = new Random(3);
    for (int q = 0; q < 100; q++) { // every one of class 1: the window of 50 distances is full
      double[] x = {r.nextDouble(), r.nextDouble(), r.nextDouble()};
      assertThat(state.observe(x, Prediction.of(P))).isEqualTo(twin.observe(x, Prediction.of(P)));
    }
    Field counts = state.getClass().getDeclaredField("distanceCount");
    counts.setAccessible(true);
    Object array = counts.get(state);
    // As if by 2^31 real queries: a multiple of the window further on, so each slot holds what it held.
    if (array instanceof int[] ints) {
      ints[1] += 50 * ((Integer.MAX_VALUE - ints[1]) / 50 - 1);
    } else {
      long[] longs = (long[]) array;
      longs[1] += 50 * ((Integer.MAX_VALUE - longs[1]) / 50 - 1);
    }
    for (int q = 0; q < 200; q++) {
      double[] x = {r.nextDouble(), r.nextDouble(), r.nextDouble()};
      assertThat(state.observe(x, Prediction.of(P))).as("query %d after the jump", q)
          .isEqualTo(twin.observe(x, Prediction.of(P)));
    }
    assertThat(((Number) java.lang.reflect.Array.get(counts.get(state), 1)).longValue())
        .as("the count went past 2^31 - 1").isGreaterThan(Integer.MAX_VALUE);
    for (String name : new String[] {"distances", "pool", "poolSize"}) {
      Field f = state.getClass().getDeclaredField(name);
      f.setAccessible(true);
      assertThat(java.util.Arrays.deepToString(new Object[] {f.get(state)})).as(name)
          .isEqualTo(java.util.Arrays.deepToString(new Object[] {f.get(twin)}));
    }
  }

  @Test
  void longInputsOfChangingSizesBuildNoProjectionTableOfTheirSize() {
    // The projection's layout table was rebuilt for every input size that differed from the last
    // one's (about 36 bytes per input feature, three times the input itself) and the last one was
    // kept outside maxTotalBytes: clients alternating two sizes of a large input made every query
    // allocate and build a table of their input's size.
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3).detector(new ScriptedDetector(), 1).build();
    int n = 1_000_000;
    double[][] inputs = {new double[n], new double[n + 1]};
    defence.observe("warm-up", new double[100], Prediction.of(P));
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    for (int q = 0; q < 4; q++) {
      defence.observe("client-" + q, inputs[q % 2], Prediction.of(P));
    }
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertThat(allocated).as("bytes allocated by four queries of %d features", n).isLessThan(n);
  }

  @Test
  void aClientReplayingItsQueriesAtAHigherLevelCannotCancelTheTiersNoise() {
    // The level's and the tier's perturbations drew from one keyed stream. A client of a noised
    // tier that records its answers, reaches PERTURB (keyed noise too) and replays the same inputs
    // (repeats: no detector sees them) got N(N(p + 0.2z) + 0.2z) beside N(p + 0.2z), the same z
    // twice: 2·a1 − a2 cancelled the noise to second order (where nothing is clipped at 0). Kept
    // apart, the replay only adds the level's own noise to what the tier answered before.
    ScriptedDetector detector = new ScriptedDetector();
    detector.flagging.add(-1.0);
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 10)
        .clock(clock)
        .detector(detector, 1.2) // one flag: PERTURB (1), not MISINFORM (1.5)
        .levelPerturbation(RiskLevel.PERTURB, Perturbation.gaussianNoise(0.02))
        .tierPerturbation("free", Perturbation.gaussianNoise(0.02))
        .build();
    Random r = new Random(9);
    int n = 500;
    double[][] xs = new double[n][];
    double[][] ps = new double[n][];
    double[][] first = new double[n][];
    for (int k = 0; k < n; k++) {
      xs[k] = new double[] {k, r.nextDouble(), r.nextDouble()};
      ps[k] = NoiseCancellation.randomProbabilities(r);
      first[k] = defence.answer("mallory", "free", xs[k], ps[k]);
    }
    defence.answer("mallory", "free", new double[] {-1, 0, 0}, ps[0]);
    assertThat(defence.level("mallory")).isEqualTo(RiskLevel.PERTURB);
    double[][] replayed = new double[n][];
    for (int k = 0; k < n; k++) {
      replayed[k] = defence.answer("mallory", "free", xs[k], ps[k]);
    }
    NoiseCancellation.assertNotCancelled(first, replayed, ps, 2, 1);
  }
}
