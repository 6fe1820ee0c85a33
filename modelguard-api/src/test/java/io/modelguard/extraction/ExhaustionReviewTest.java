package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Resource-exhaustion review of the extraction detectors: memory outside the per-client budget. */
class ExhaustionReviewTest {

  /**
   * PRADA memoises the Shapiro–Wilk coefficients of every pool size it ever tests, in one map shared
   * by all clients and outside {@code maxTotalBytes}. The pool holds up to classes × 50 distances,
   * and a client's pool grows by one a query, so one ordinary long-running client of a many-class
   * model leaves a coefficient array (n / 2 doubles) for every tenth pool size: O((classes · 50)²)
   * bytes that nothing ever frees (about 5 GB for a 1,000-class model, filled in by a few clients).
   */
  @Test
  void pradaCoefficientMemoStaysBoundedOverALongHistory() throws ReflectiveOperationException {
    int classes = 200; // pool up to 10,000 distances
    PradaDetector prada = PradaDetector.builder(classes).build();
    ExtractionDetector.State state = prada.newState();
    Random r = new Random(7);
    for (int q = 0; q < 12_000; q++) {
      double[] x = {r.nextDouble(), r.nextDouble()};
      double[] p = new double[classes];
      p[r.nextInt(classes)] = 1;
      state.observe(x, Prediction.of(p));
    }
    long doubles = memoDoubles(prada);
    // The per-client bound of this detector's state at 2 features, for scale.
    long perClient = prada.maxRetainedBytes(2);
    assertThat(8 * doubles)
        .as("bytes of Shapiro-Wilk coefficients kept after one client's history (its own state is at most %d)",
            perClient)
        .isLessThanOrEqualTo(8L << 20);
  }

  /**
   * The defence keeps one projection table (about 36 bytes a feature to build) and rebuilt it
   * whenever an input of another length arrived: two clients, or one, sending inputs of two lengths
   * in turn made every observation build a table of the input's size (2 MB for 60,000 features),
   * where the same projection streamed costs two arrays of 64 doubles.
   */
  @Test
  void inputsAlternatingBetweenTwoLengthsDoNotRebuildTheProjectionEveryCall() {
    ExtractionDefence defence = ExtractionDefence.builder(NoiseKeys.withSecret(new byte[32]), 3).build();
    int n = 60_000;
    double[][] inputs = new double[2][];
    Random r = new Random(11);
    for (int k = 0; k < 2; k++) {
      inputs[k] = new double[n + k];
      for (int i = 0; i < inputs[k].length; i++) {
        inputs[k][i] = r.nextInt(16);
      }
    }
    double[] p = {0.1, 0.7, 0.2};
    for (int q = 0; q < 20; q++) { // warm-up
      defence.observe("client-" + (q % 2), inputs[q % 2], Prediction.of(p));
    }
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    int calls = 40;
    long before = threads.getCurrentThreadAllocatedBytes();
    for (int q = 0; q < calls; q++) {
      defence.observe("client-" + (q % 2), inputs[q % 2], Prediction.of(p));
    }
    long perCall = (threads.getCurrentThreadAllocatedBytes() - before) / calls;
    // The input itself is 480 KB of doubles the caller already holds; the projection should cost a
    // small fraction of it, not four times its size.
    assertThat(perCall).as("bytes allocated per observation").isLessThan(64 * 1024);
  }

  @SuppressWarnings("unchecked")
  static long memoDoubles(PradaDetector prada) throws ReflectiveOperationException {
    Field f = PradaDetector.class.getDeclaredField("coefficients");
    f.setAccessible(true);
    long n = 0;
    for (double[] a : ((Map<Integer, double[]>) f.get(prada)).values()) {
      n += a.length;
    }
    return n;
  }
}
