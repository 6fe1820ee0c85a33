package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The keyed sparse random projection that bounds the detectors' input size. */
class SparseProjectionTest {

  private static double distance(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return Math.sqrt(s);
  }

  @Test
  void preservesDistancesToWithinAFewTensOfPercent() {
    SparseProjection p = new SparseProjection(784, 64, 42);
    Random random = new Random(1);
    double sum = 0;
    int pairs = 500;
    for (int t = 0; t < pairs; t++) {
      double[] a = new double[784];
      double[] b = new double[784];
      double scale = Math.pow(10, random.nextInt(4) - 1);
      for (int i = 0; i < 784; i++) {
        a[i] = random.nextInt(256);
        b[i] = a[i] + scale * random.nextGaussian();
      }
      double ratio = distance(p.apply(a), p.apply(b)) / distance(a, b);
      assertThat(ratio).as("pair %d", t).isBetween(0.6, 1.4);
      sum += ratio;
    }
    assertThat(sum / pairs).isBetween(0.95, 1.05);
  }

  @Test
  void theLayoutIsFixedBySeedAndDiffersBetweenSeeds() {
    double[] x = new Random(2).doubles(300, 0, 16).toArray();
    assertThat(new SparseProjection(300, 64, 7).apply(x)).containsExactly(new SparseProjection(300, 64, 7).apply(x));
    assertThat(new SparseProjection(300, 64, 7).apply(x)).isNotEqualTo(new SparseProjection(300, 64, 8).apply(x));
  }

  @Test
  void eachInputFeatureReachesFourOutputsWithWeightOneHalf() {
    SparseProjection p = new SparseProjection(100, 64, 3);
    for (int i = 0; i < 100; i++) {
      double[] unit = new double[100];
      unit[i] = 1;
      double[] y = p.apply(unit);
      int nonZero = 0;
      for (int j = 0; j < 64; j++) {
        if (y[j] != 0) {
          nonZero++;
          assertThat(Math.abs(y[j])).isEqualTo(0.5);
        }
      }
      assertThat(nonZero).isEqualTo(4);
      for (int block = 0; block < 4; block++) {
        int inBlock = 0;
        for (int j = 16 * block; j < 16 * block + 16; j++) {
          inBlock += y[j] != 0 ? 1 : 0;
        }
        assertThat(inBlock).isEqualTo(1);
      }
    }
  }

  @Test
  void theStreamedProjectionIsTheTablesBitForBit() {
    Random r = new Random(5);
    for (int inputs : new int[] {1, 3, 65, 784, 5_000}) {
      for (int outputs : new int[] {1, 3, 64}) {
        double[] x = r.doubles(inputs, -1e6, 1e6).toArray();
        assertThat(SparseProjection.applyStreamed(x, outputs, 11))
            .as("%d -> %d", inputs, outputs)
            .containsExactly(new SparseProjection(inputs, outputs, 11).apply(x));
      }
    }
  }
}
