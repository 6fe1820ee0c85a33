package io.modelguard.extraction;

import io.modelguard.internal.SipHash;
import java.util.Arrays;

/**
 * A fixed-capacity hash index from 64-bit keys to entry ids {@code 0 … entries-1}, which the owner
 * recycles (a ring of recent queries, for example): lookups, insertions and removals cost O(1)
 * expected, with no allocation after construction and no boxing. Several entries may share a key.
 * Open addressing with linear probing at a load of at most one half; removal shifts the probe
 * cluster back instead of leaving tombstones, so the table never degrades however long it runs.
 * Keys a client can compute (the hashing detector's window hashes) need a keyed index ({@link
 * #LongKeyIndex(int, long, long)}): with the fixed slot function, a client could choose keys that
 * all start in one slot, and every lookup and update would walk the whole table. Not thread-safe (a detector state is only used under its client's lock).
 */
final class LongKeyIndex {
  private static final int EMPTY = -1;

  private final long[] keys;
  /** Each entry's slot of origin, so removals need no hashing. */
  private final int[] homes;
  private final boolean[] present;
  private final int[] table;
  private final int mask;
  private final boolean keyed;
  private final long k0;
  private final long k1;

  /**
   * An empty index for entry ids below {@code entries}, for keys no client can choose: they are
   * already keyed hashes (as {@link NoiseKeys#repeatKey} is), so a fixed mix spreads them.
   */
  LongKeyIndex(int entries) {
    this(entries, false, 0, 0);
  }

  /**
   * An empty index for entry ids below {@code entries} whose slots are a SipHash of the key under
   * {@code (k0, k1)}: without that secret, no one can choose keys that share a slot.
   */
  LongKeyIndex(int entries, long k0, long k1) {
    this(entries, true, k0, k1);
  }

  private LongKeyIndex(int entries, boolean keyed, long k0, long k1) {
    if (entries < 1) {
      throw new IllegalArgumentException("entries must be positive, got " + entries);
    }
    keys = new long[entries];
    homes = new int[entries];
    present = new boolean[entries];
    table = new int[tableSize(entries)];
    Arrays.fill(table, EMPTY);
    mask = table.length - 1;
    this.keyed = keyed;
    this.k0 = k0;
    this.k1 = k1;
  }

  /** An upper bound of the bytes an index for {@code entries} ids retains. */
  static long retainedBytes(int entries) {
    return HeapBytes.object(4L * HeapBytes.REFERENCE + 4 + 1 + 16) + HeapBytes.array(entries, 8)
        + HeapBytes.array(entries, 4) + HeapBytes.array(entries, 1) + HeapBytes.array(tableSize(entries), 4);
  }

  /** The longest run of occupied slots (a lookup's worst probe count); for tests. */
  int longestCluster() {
    int longest = 0;
    int run = 0;
    for (int i = 0; i < 2 * table.length; i++) { // twice round: a cluster may wrap
      run = table[i & mask] == EMPTY ? 0 : Math.min(run + 1, table.length);
      longest = Math.max(longest, run);
    }
    return longest;
  }

  private static int tableSize(int entries) {
    return Integer.highestOneBit(Math.max(1, entries) * 2 - 1) << 1; // a power of two >= 2 · entries
  }

  /** Whether any entry has {@code key}. */
  boolean contains(long key) {
    for (int pos = home(key), e; (e = table[pos]) != EMPTY; pos = (pos + 1) & mask) {
      if (keys[e] == key) {
        return true;
      }
    }
    return false;
  }

  /** Writes the ids of the entries with {@code key} into {@code out} from index 0; returns how many. */
  int entriesWith(long key, int[] out) {
    int n = 0;
    for (int pos = home(key), e; (e = table[pos]) != EMPTY; pos = (pos + 1) & mask) {
      if (keys[e] == key) {
        out[n++] = e;
      }
    }
    return n;
  }

  /** Indexes entry {@code entry} under {@code key}, first removing what that entry held before. */
  void put(int entry, long key) {
    remove(entry);
    keys[entry] = key;
    present[entry] = true;
    int pos = home(key);
    homes[entry] = pos;
    while (table[pos] != EMPTY) {
      pos = (pos + 1) & mask;
    }
    table[pos] = entry;
  }

  /** Removes entry {@code entry}, if indexed. */
  void remove(int entry) {
    if (!present[entry]) {
      return;
    }
    present[entry] = false;
    int hole = homes[entry];
    while (table[hole] != entry) {
      hole = (hole + 1) & mask;
    }
    // Backward-shift deletion: move later members of the cluster into the hole when the hole lies
    // between their home slot and where they sit, so every entry stays reachable from its home.
    for (int j = (hole + 1) & mask; table[j] != EMPTY; j = (j + 1) & mask) {
      int home = homes[table[j]];
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        table[hole] = table[j];
        hole = j;
      }
    }
    table[hole] = EMPTY;
  }

  private int home(long key) {
    if (keyed) {
      return (int) new SipHash(k0, k1).add(key).finish(0, 0) & mask;
    }
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32)) & mask;
  }
}
