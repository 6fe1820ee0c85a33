package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.openjdk.jol.info.GraphLayout;

/**
 * The detectors' byte bounds against what their states hold on this JVM's heap (measured by JOL):
 * {@link ExtractionDefence} weighs clients by these bounds to keep memory under its limit, so an
 * undercount lets the cache grow past it.
 */
class DetectorMemoryBoundTest {

  /** The bytes reachable from {@code state}, less its detector's own (a state holds its detector). */
  private static long measured(ExtractionDetector detector, ExtractionDetector.State state) {
    return GraphLayout.parseInstance(state).totalSize() - GraphLayout.parseInstance(detector).totalSize();
  }

  private static void fill(ExtractionDetector detector, ExtractionDetector.State state, int queries, int dimensions) {
    Random random = new Random(5);
    Prediction p = Prediction.of(new double[] {0.2, 0.8});
    for (int q = 0; q < queries; q++) {
      double[] x = new double[dimensions];
      for (int i = 0; i < dimensions; i++) {
        x[i] = random.nextInt(17);
      }
      state.observe(x, p);
    }
  }

  @Test
  void knnBoundCoversAFullBufferOfEveryRowLength() {
    for (int dimensions : new int[] {1, 3, 7, 64}) {
      KnnDetector knn = KnnDetector.of(5, 500, 0.0);
      ExtractionDetector.State state = knn.newState();
      fill(knn, state, 600, dimensions);
      assertThat(knn.maxRetainedBytes(dimensions))
          .as("%d features: bound against measured", dimensions)
          .isGreaterThanOrEqualTo(measured(knn, state))
          .isEqualTo(state.retainedBytes());
    }
  }

  @Test
  void knnBoundIsNotFarAboveWhatAFullBufferHolds() {
    KnnDetector knn = KnnDetector.of(5, 500, 0.0);
    ExtractionDetector.State state = knn.newState();
    fill(knn, state, 600, 64);
    assertThat(knn.maxRetainedBytes(64)).isLessThan(measured(knn, state) * 11 / 10);
  }

  @Test
  void hashingBoundCoversAFullHistory() {
    for (int dimensions : new int[] {3, 64}) {
      HashingDetector hashing = HashingDetector.of(2.0, 8, 20, 18, 200);
      ExtractionDetector.State state = hashing.newState();
      fill(hashing, state, 300, dimensions);
      assertThat(hashing.maxRetainedBytes(dimensions))
          .as("%d features", dimensions)
          .isGreaterThanOrEqualTo(measured(hashing, state));
    }
  }

  /** A detector keeping nothing: its state is an object without fields, whose bound is exact. */
  private static final class Stateless implements ExtractionDetector {
    private static final class Empty implements State {
      @Override
      public boolean observe(double[] features, Prediction prediction) {
        return false;
      }

      @Override
      public long retainedBytes() {
        return HeapBytes.object(0);
      }
    }

    @Override
    public String name() {
      return "stateless";
    }

    @Override
    public State newState() {
      return new Empty();
    }

    @Override
    public long maxRetainedBytes(int dimensions) {
      return HeapBytes.object(0);
    }
  }

  @Test
  void aClientsBoundCoversItsOwnStateAndTheArrayOfItsDetectorsStates() throws ReflectiveOperationException {
    // The defence's own part of a client (its counters, the array of detector states, the
    // duplicate window) must be bounded too: with detectors whose bounds are exact, nothing else
    // hides an undercount there. 40 detectors: an array of 40 references.
    ExtractionDefence.Builder builder = ExtractionDefence.builder(NoiseKeys.withSecret(new byte[32]), 2);
    for (int i = 0; i < 40; i++) {
      builder.detector(new Stateless(), 1.0);
    }
    ExtractionDefence defence = builder.build();
    defence.observe("p:t:s", new double[] {1, 2, 3}, Prediction.of(new double[] {0.2, 0.8}));
    java.lang.reflect.Field clients = ExtractionDefence.class.getDeclaredField("clients");
    clients.setAccessible(true);
    Object risk = ((com.github.benmanes.caffeine.cache.Cache<?, ?>) clients.get(defence)).asMap().get("p:t:s");
    java.lang.reflect.Field states = risk.getClass().getDeclaredField("states");
    java.lang.reflect.Field seen = risk.getClass().getDeclaredField("seen");
    states.setAccessible(true);
    seen.setAccessible(true);
    // The client's object itself (not what it reaches: it holds the defence), then its arrays and index.
    long measured = org.openjdk.jol.vm.VM.current().sizeOf(risk)
        + GraphLayout.parseInstance(states.get(risk), seen.get(risk)).totalSize();
    assertThat(defence.retainedBytes("p:t:s")).isGreaterThanOrEqualTo(measured);
  }
}
