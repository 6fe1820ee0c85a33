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
}
