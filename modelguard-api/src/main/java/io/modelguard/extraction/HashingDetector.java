package io.modelguard.extraction;

import java.util.Arrays;

/**
 * Blacklight-style similarity hashing (Li et al., 2022): quantises the input into steps of {@code
 * step}, hashes every window of {@code window} consecutive values, keeps the {@code topN} largest
 * distinct hashes as the query's fingerprint, and flags a query whose fingerprint shares at least
 * {@code minShared} hashes with one of the client's latest {@code history} fingerprints. Exact
 * duplicates never reach it ({@link ExtractionDefence} recognises them first). Per-query cost
 * O(history · topN); memory about 4 · history · topN bytes per client.
 *
 * <p>The quantisation step is in input units and must suit the model's input scale: the default
 * set of {@link ExtractionDefence} uses step 2 for 0–16 pixel values (digits).
 */
public final class HashingDetector implements ExtractionDetector {
  private final double step;
  private final int window;
  private final int topN;
  private final int minShared;
  private final int history;

  private HashingDetector(double step, int window, int topN, int minShared, int history) {
    if (!(step > 0) || window < 1 || topN < 1 || minShared < 1 || minShared > topN || history < 1) {
      throw new IllegalArgumentException("hashing needs step > 0, window >= 1, 1 <= minShared <= topN, history >= 1");
    }
    this.step = step;
    this.window = window;
    this.topN = topN;
    this.minShared = minShared;
    this.history = history;
  }

  /** A detector with the given quantisation step, window length, fingerprint size, match count and history. */
  public static HashingDetector of(double step, int window, int topN, int minShared, int history) {
    return new HashingDetector(step, window, topN, minShared, history);
  }

  @Override
  public String name() {
    return "hashing";
  }

  @Override
  public State newState() {
    return new Fingerprints();
  }

  @Override
  public long maxRetainedBytes(int dimensions) {
    return 64 + (long) history * (4L * topN + 16);
  }

  /** The sorted fingerprint of {@code x}: its {@code topN} largest distinct window hashes. */
  int[] fingerprint(double[] x) {
    int[] q = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      q[i] = (int) Math.floor(x[i] / step);
    }
    int windows = Math.max(1, x.length - window + 1);
    int[] top = new int[topN]; // ascending; the first n entries are valid
    int n = 0;
    for (int s = 0; s < windows; s++) {
      int h = 0x811c9dc5;
      for (int i = s; i < Math.min(x.length, s + window); i++) {
        h = (h ^ q[i]) * 0x01000193;
      }
      h ^= h >>> 15;
      // Keep the topN largest distinct hashes without sorting every window's hash.
      if (n == topN && h <= top[0]) {
        continue;
      }
      int at = Arrays.binarySearch(top, 0, n, h);
      if (at >= 0) {
        continue;
      }
      int insert = -at - 1;
      if (n < topN) {
        System.arraycopy(top, insert, top, insert + 1, n - insert);
        top[insert] = h;
        n++;
      } else {
        System.arraycopy(top, 1, top, 0, insert - 1);
        top[insert - 1] = h;
      }
    }
    return n == topN ? top : Arrays.copyOf(top, n);
  }

  private final class Fingerprints implements State {
    private final int[][] ring = new int[history][];
    private int count;
    private long next;

    @Override
    public boolean observe(double[] x, Prediction prediction) {
      int[] fp = fingerprint(x);
      boolean flagged = false;
      for (int r = 0; r < count && !flagged; r++) {
        flagged = shares(fp, ring[r], minShared);
      }
      ring[(int) (next++ % history)] = fp;
      count = Math.min(count + 1, history);
      return flagged;
    }

    @Override
    public long retainedBytes() {
      return maxRetainedBytes(0);
    }
  }

  /** Whether {@code a} and {@code b} share at least {@code min} hashes; stops once that is impossible. */
  static boolean shares(int[] a, int[] b, int min) {
    int allowedMisses = a.length - min;
    int misses = 0;
    int i = 0;
    int j = 0;
    while (i < a.length && j < b.length) {
      if (a[i] == b[j]) {
        i++;
        j++;
      } else if (a[i] < b[j]) {
        if (++misses > allowedMisses) {
          return false;
        }
        i++;
      } else {
        j++;
      }
    }
    return i - misses >= min; // every a[k] for k < i was either matched or counted as a miss
  }

  static int shared(int[] a, int[] b) {
    int i = 0;
    int j = 0;
    int n = 0;
    while (i < a.length && j < b.length) {
      if (a[i] == b[j]) {
        n++;
        i++;
        j++;
      } else if (a[i] < b[j]) {
        i++;
      } else {
        j++;
      }
    }
    return n;
  }
}
