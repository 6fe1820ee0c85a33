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
 * all start in one slot, and every lookup and update would walk the whole table. Not thread-safe (a
 * detector state is only used under its client's lock).
 *
 * <p>A key takes one slot however many entries share it, its entries chained in the order they
 * were put. With a slot per entry, equal keys (a client repeating one query, or sending queries
 * that share their hashes) would all start in one slot and form one probe cluster as long as the
 * owner's history, walked by every lookup and update of that key and of any key whose slot falls
 * inside it. So probing passes distinct keys only, and a chain is read only by a caller asking for
 * its entries. Adding an entry, and removing its key's oldest (as owners that recycle their
 * entries in order do), take no step along the chain; removing another takes up to as many as the
 * key has entries.
 */
final class LongKeyIndex {
  private static final int EMPTY = -1;
  /** {@link #next} of an entry that is not indexed. */
  private static final int ABSENT = -1;

  private final long[] keys;
  /** Each entry's slot of origin (its key's), so removals need no hashing. */
  private final int[] homes;
  /**
   * The chain of each key, a ring: the newest entry links to the oldest, and every other entry to
   * the one put after it under the same key; {@link #ABSENT} for an entry not indexed.
   */
  private final int[] next;
  /** Per slot, the newest entry of the key it holds, or {@link #EMPTY}. */
  private final int[] table;
  private final int mask;
  private final boolean keyed;
  private final long k0;
  private final long k1;
  /** The slots and chain links visited to find a key or an entry's predecessor; for tests. */
  private long probes;

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
    next = new int[entries];
    Arrays.fill(next, ABSENT);
    table = new int[tableSize(entries)];
    Arrays.fill(table, EMPTY);
    mask = table.length - 1;
    this.keyed = keyed;
    this.k0 = k0;
    this.k1 = k1;
  }

  /** An upper bound of the bytes an index for {@code entries} ids retains. */
  static long retainedBytes(int entries) {
    return HeapBytes.object(4L * HeapBytes.REFERENCE + 4 + 1 + 3 * 8) + HeapBytes.array(entries, 8)
        + 2 * HeapBytes.array(entries, 4) + HeapBytes.array(tableSize(entries), 4);
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

  /** How many slots and chain links the index has visited so far to find keys and entries; for tests. */
  long probes() {
    return probes;
  }

  private static int tableSize(int entries) {
    return Integer.highestOneBit(Math.max(1, entries) * 2 - 1) << 1; // a power of two >= 2 · entries
  }

  /** Whether any entry has {@code key}. */
  boolean contains(long key) {
    return table[slotOf(key, home(key))] != EMPTY;
  }

  /**
   * The oldest entry with {@code key}, or -1 if none; {@link #nextWith} gives the others, so a
   * caller that stops early reads no more of them.
   */
  int oldestWith(long key) {
    int newest = table[slotOf(key, home(key))];
    return newest == EMPTY ? -1 : next[newest];
  }

  /**
   * The entry put next after {@code entry} under its key, or -1 if {@code entry} is the newest;
   * {@code oldest} is what {@link #oldestWith} gave for that key, and no entry of it may have been
   * put or removed since.
   */
  int nextWith(int entry, int oldest) {
    int after = next[entry];
    return after == oldest ? -1 : after;
  }

  /** Writes the ids of the entries with {@code key} into {@code out} from index 0, oldest first; returns how many. */
  int entriesWith(long key, int[] out) {
    int n = 0;
    for (int oldest = oldestWith(key), e = oldest; e != -1; e = nextWith(e, oldest)) {
      out[n++] = e;
    }
    return n;
  }

  /** Indexes entry {@code entry} under {@code key}, first removing what that entry held before. */
  void put(int entry, long key) {
    remove(entry);
    int home = home(key);
    keys[entry] = key;
    homes[entry] = home;
    int pos = slotOf(key, home);
    int newest = table[pos];
    if (newest == EMPTY) {
      next[entry] = entry; // a chain of one
    } else {
      next[entry] = next[newest]; // the oldest
      next[newest] = entry;
    }
    table[pos] = entry;
  }

  /** Removes entry {@code entry}, if indexed. */
  void remove(int entry) {
    if (next[entry] == ABSENT) {
      return;
    }
    int pos = slotOf(keys[entry], homes[entry]);
    if (next[entry] == entry) { // its key's only entry: the slot is freed
      next[entry] = ABSENT;
      freeSlot(pos);
      return;
    }
    // The entry linking to it: the newest when it is the oldest (no step), else found along the chain.
    int newest = table[pos];
    int before = newest;
    while (next[before] != entry) {
      probes++;
      before = next[before];
    }
    next[before] = next[entry];
    if (entry == newest) {
      table[pos] = before;
    }
    next[entry] = ABSENT;
  }

  /** The slot holding {@code key} (whose slot of origin is {@code home}), or the empty slot ending its probe. */
  private int slotOf(long key, int home) {
    int pos = home;
    for (int e; (e = table[pos]) != EMPTY && keys[e] != key; pos = (pos + 1) & mask) {
      probes++;
    }
    probes++;
    return pos;
  }

  /** Empties slot {@code hole}, shifting the rest of its probe cluster back. */
  private void freeSlot(int hole) {
    // Backward-shift deletion: move later members of the cluster into the hole when the hole lies
    // between their home slot and where they sit, so every key stays reachable from its home.
    for (int j = (hole + 1) & mask; table[j] != EMPTY; j = (j + 1) & mask) {
      probes++;
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
      return (int) SipHash.hashLong(k0, k1, key) & mask;
    }
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32)) & mask;
  }
}
