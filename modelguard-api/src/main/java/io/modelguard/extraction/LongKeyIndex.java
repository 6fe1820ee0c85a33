package io.modelguard.extraction;

import java.util.Arrays;

/**
 * A fixed-capacity hash index from 64-bit keys to entry ids {@code 0 … entries-1}, which the owner
 * recycles (a ring of recent queries, for example): lookups, insertions and removals cost O(1)
 * expected, with no allocation after construction and no boxing. Several entries may share a key.
 * Open addressing with linear probing at a load of at most one half; removal shifts the probe
 * cluster back instead of leaving tombstones, so the table never degrades however long it runs.
 * Not thread-safe (a detector state is only used under its client's lock).
 */
final class LongKeyIndex {
  private static final int EMPTY = -1;

  private final long[] keys;
  private final boolean[] present;
  private final int[] table;
  private final int mask;

  /** An empty index for entry ids below {@code entries}. */
  LongKeyIndex(int entries) {
    if (entries < 1) {
      throw new IllegalArgumentException("entries must be positive, got " + entries);
    }
    keys = new long[entries];
    present = new boolean[entries];
    table = new int[tableSize(entries)];
    Arrays.fill(table, EMPTY);
    mask = table.length - 1;
  }

  /** An upper bound of the bytes an index for {@code entries} ids retains. */
  static long retainedBytes(int entries) {
    return 64 + 9L * entries + 4L * tableSize(entries);
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
    int hole = home(keys[entry]);
    while (table[hole] != entry) {
      hole = (hole + 1) & mask;
    }
    // Backward-shift deletion: move later members of the cluster into the hole when the hole lies
    // between their home slot and where they sit, so every entry stays reachable from its home.
    for (int j = (hole + 1) & mask; table[j] != EMPTY; j = (j + 1) & mask) {
      int home = home(keys[table[j]]);
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        table[hole] = table[j];
        hole = j;
      }
    }
    table[hole] = EMPTY;
  }

  private int home(long key) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32)) & mask;
  }
}
