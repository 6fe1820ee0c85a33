package io.modelguard.extraction;

/**
 * What the detectors can measure. They store features as floats and add up squared differences,
 * so a feature beyond float range (or not a number) could not be stored, and its squared distances
 * could overflow to infinity and enter a detector's running statistics for good.
 */
final class FeatureRange {
  private FeatureRange() {}

  /**
   * Whether every feature of {@code x} is a number a float holds (|v| ≤ {@link Float#MAX_VALUE}).
   * Then a squared difference of two features is at most about 5e77, and no sum of them the
   * detectors keep can overflow a double.
   */
  static boolean storable(double[] x) {
    for (double v : x) {
      if (!(Math.abs(v) <= Float.MAX_VALUE)) { // false for NaN too
        return false;
      }
    }
    return true;
  }
}
