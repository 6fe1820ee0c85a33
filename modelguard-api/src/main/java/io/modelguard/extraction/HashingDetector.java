package io.modelguard.extraction;

import java.security.SecureRandom;
import java.util.Arrays;

/**
 * Blacklight-style similarity hashing (Li et al., 2022): quantises the input into steps of {@code
 * step}, hashes every window of {@code window} consecutive values, keeps the {@code topN} largest
 * distinct hashes as the query's fingerprint, and flags a query whose fingerprint shares at least
 * {@code minShared} hashes with one of the client's latest {@code history} fingerprints. Exact
 * duplicates never reach it ({@link ExtractionDefence} recognises them first).
 *
 * <p>Per-query cost does not grow with {@code history}: an index holds each stored fingerprint's
 * {@code topN - minShared + 1} largest hashes, and two fingerprints sharing {@code minShared}
 * hashes always share one of those (prefix filtering), so only earlier fingerprints found through
 * the query's own largest hashes are compared. Cost O(d · window) to fingerprint plus O(candidates ·
 * topN), where candidates are the stored fingerprints with one of those hashes. Memory per client
 * ({@link #maxRetainedBytes}): 4 · history · (topN + 2) bytes for the fingerprints, plus the
 * index's 16 bytes and two to four slots of 4 bytes for each of the history · (topN - minShared +
 * 1) hashes it holds; about 36 KB for the default set's detector (200 fingerprints of 20).
 *
 * <p>The window hashes are public functions of the input, so the index places them by a keyed hash
 * (SipHash): a client cannot choose inputs whose hashes pile up in one slot of it and make every
 * query of its own walk the whole index. An {@link ExtractionDefence} keys its hashing detectors
 * under its secret; a detector used on its own draws its key at random when created. Nor can it
 * pile up equal hashes (one query sent again with slight changes, or queries built to share their
 * largest hashes): a hash takes one slot however many stored fingerprints hold it, so each of the
 * query's lookups and each update of the index probes a few slots whatever the client sent, and
 * the fingerprints holding a hash are read one by one until one matches. Fingerprints that share
 * their largest hashes are genuine candidates and are all compared, which costs at most O(history
 * · topN) per query.
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
  /** The key of the index's slots (see the class documentation). */
  private final long slotK0;
  private final long slotK1;

  private HashingDetector(double step, int window, int topN, int minShared, int history, long slotK0, long slotK1) {
    if (!(step > 0) || window < 1 || topN < 1 || minShared < 1 || minShared > topN || history < 1) {
      throw new IllegalArgumentException("hashing needs step > 0, window >= 1, 1 <= minShared <= topN, history >= 1");
    }
    this.step = step;
    this.window = window;
    this.topN = topN;
    this.minShared = minShared;
    this.history = history;
    this.slotK0 = slotK0;
    this.slotK1 = slotK1;
  }

  /**
   * A detector with the given quantisation step, window length, fingerprint size, match count and history.
   *
   * @param step the quantisation step, in input units
   * @param window the length of the windows hashed
   * @param topN how many hashes make a query's fingerprint
   * @param minShared how many hashes a query must share with an earlier one to match it
   * @param history how many fingerprints of the client are kept
   * @return a new detector, its hash keys drawn at random
   */
  public static HashingDetector of(double step, int window, int topN, int minShared, int history) {
    SecureRandom random = new SecureRandom();
    return new HashingDetector(step, window, topN, minShared, history, random.nextLong(), random.nextLong());
  }

  /** This detector with its index slots keyed by {@code (k0, k1)} (an {@link ExtractionDefence}'s secret). */
  HashingDetector keyed(long k0, long k1) {
    return new HashingDetector(step, window, topN, minShared, history, k0, k1);
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
    int prefix = topN - minShared + 1;
    // The state (seven references, its detector's among them, and three ints), its arrays and its index.
    return HeapBytes.object(7L * HeapBytes.REFERENCE + 12) + HeapBytes.array((long) history * topN, 4)
        + 2 * HeapBytes.array(history, 4) + HeapBytes.array(topN, 4) + HeapBytes.array(dimensions, 4)
        + LongKeyIndex.retainedBytes(history * prefix);
  }

  /** The sorted fingerprint of {@code x}: its {@code topN} largest distinct window hashes. */
  int[] fingerprint(double[] x) {
    int[] top = new int[topN];
    int n = fingerprint(x, new int[x.length], top);
    return n == topN ? top : Arrays.copyOf(top, n);
  }

  /**
   * Writes the fingerprint of {@code x} ascending into {@code top} and returns its length; {@code
   * q} is scratch space of at least {@code x.length}.
   */
  private int fingerprint(double[] x, int[] q, int[] top) {
    for (int i = 0; i < x.length; i++) {
      q[i] = (int) Math.floor(x[i] / step);
    }
    int windows = Math.max(1, x.length - window + 1);
    int n = 0; // top is ascending; its first n entries are valid
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
    return n;
  }

  private final class Fingerprints implements State {
    private final int prefix = topN - minShared + 1;
    /** The latest {@code history} fingerprints, row-major in a ring; slot {@code s} holds {@code lengths[s]} hashes. */
    private final int[] ring = new int[history * topN];
    private final int[] lengths = new int[history];
    /** Entry {@code slot · prefix + k} indexes the k-th largest hash of the fingerprint in {@code slot}. */
    private final LongKeyIndex index = new LongKeyIndex(history * prefix, slotK0, slotK1);
    private final int[] checkedAt = new int[history];
    private final int[] top = new int[topN];
    private int[] quantised = new int[0];
    private int next;
    private int stamp;

    @Override
    public boolean observe(double[] x, Prediction prediction) {
      if (quantised.length < x.length) {
        quantised = new int[x.length];
      }
      int n = fingerprint(x, quantised, top);
      boolean flagged = n >= minShared && matchesEarlier(n);
      store(n);
      return flagged;
    }

    private boolean matchesEarlier(int n) {
      if (stamp == Integer.MAX_VALUE) {
        Arrays.fill(checkedAt, 0);
        stamp = 0;
      }
      stamp++;
      for (int k = 0; k < n - minShared + 1; k++) {
        int oldest = index.oldestWith(top[n - 1 - k]);
        for (int e = oldest; e != -1; e = index.nextWith(e, oldest)) {
          int slot = e / prefix;
          if (checkedAt[slot] != stamp) {
            checkedAt[slot] = stamp;
            if (sharesWithSlot(n, slot)) {
              return true;
            }
          }
        }
      }
      return false;
    }

    private boolean sharesWithSlot(int n, int slot) {
      return shares(top, n, ring, slot * topN, lengths[slot], minShared);
    }

    private void store(int n) {
      int slot = next;
      next = (next + 1) % history;
      System.arraycopy(top, 0, ring, slot * topN, n);
      lengths[slot] = n;
      for (int k = 0; k < prefix; k++) {
        int entry = slot * prefix + k;
        if (k < n - minShared + 1) {
          index.put(entry, ring[slot * topN + n - 1 - k]);
        } else {
          index.remove(entry);
        }
      }
    }

    @Override
    public long retainedBytes() {
      return maxRetainedBytes(quantised.length);
    }
  }

  /** The index of a state of this detector; for tests. */
  static LongKeyIndex indexOf(State state) {
    return ((Fingerprints) state).index;
  }

  /** Whether {@code a} and {@code b} share at least {@code min} hashes; stops once that is impossible. */
  static boolean shares(int[] a, int[] b, int min) {
    return shares(a, a.length, b, 0, b.length, min);
  }

  /** As {@link #shares(int[], int[], int)} for {@code a[0, aLength)} and {@code b[bFrom, bFrom + bLength)}. */
  private static boolean shares(int[] a, int aLength, int[] b, int bFrom, int bLength, int min) {
    int allowedMisses = aLength - min;
    int misses = 0;
    int i = 0;
    int j = bFrom;
    int bEnd = bFrom + bLength;
    while (i < aLength && j < bEnd) {
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
