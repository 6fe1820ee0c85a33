package io.modelguard.extraction;

/**
 * An Extraction-Monitor-style leakage signal: counts a client's distinct queries and the share of
 * them near a decision boundary (top-two margin below {@code margin}), and flags once each time the
 * count passes another multiple of {@code quota}. It fires for every heavy user too, so give it a
 * weight that only raises perturbation, with the ceiling {@link RiskLevel#PERTURB} (see {@link
 * ExtractionDefence.Builder#detector(ExtractionDetector, double, RiskLevel)}): its flags come at
 * the client's query rate and add up, so without a ceiling any weight misinforms and blocks a
 * busy benign client in time. O(classes) per query, a few bytes per client.
 */
public final class CoverageMonitor implements ExtractionDetector {
  private final long quota;
  private final double margin;

  /** A client's counters whatever the input size: an object of two longs and its monitor's reference. */
  private static final long COUNTER_BYTES = HeapBytes.object(HeapBytes.REFERENCE + 2 * 8);

  private CoverageMonitor(long quota, double margin) {
    if (quota < 1) {
      throw new IllegalArgumentException("coverage.quota must be positive, got " + quota);
    }
    this.quota = quota;
    this.margin = margin;
  }

  /**
   * Flags at every {@code quota} distinct queries; {@code margin} defines "near a boundary".
   *
   * @param quota how many distinct queries between flags, at least 1
   * @param margin the distance from a decision boundary that counts as near
   * @return a new monitor
   */
  public static CoverageMonitor of(long quota, double margin) {
    return new CoverageMonitor(quota, margin);
  }

  @Override
  public String name() {
    return "coverage";
  }

  @Override
  public State newState() {
    return new Counter();
  }

  @Override
  public long maxRetainedBytes(int dimensions) {
    return COUNTER_BYTES;
  }

  /** The per-client counters; {@link #boundaryShare()} is the leakage estimate exposed for metrics. */
  final class Counter implements State {
    private long queries;
    private long nearBoundary;

    @Override
    public boolean observe(double[] features, Prediction prediction) {
      queries++;
      double[] p = prediction.probabilities();
      double first = Double.NEGATIVE_INFINITY;
      double second = Double.NEGATIVE_INFINITY;
      for (double v : p) {
        if (v > first) {
          second = first;
          first = v;
        } else if (v > second) {
          second = v;
        }
      }
      if (first - second < margin) {
        nearBoundary++;
      }
      return queries % quota == 0;
    }

    double boundaryShare() {
      return queries == 0 ? 0 : (double) nearBoundary / queries;
    }

    @Override
    public long retainedBytes() {
      return COUNTER_BYTES;
    }
  }
}
