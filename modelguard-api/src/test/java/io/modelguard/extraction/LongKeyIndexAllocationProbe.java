package io.modelguard.extraction;

import java.lang.management.ManagementFactory;

/**
 * Run by {@link LongKeyIndexAllocationTest} in an interpreted JVM ({@code -Xint}: no JIT, so no
 * escape analysis to remove an allocation): prints {@code allocated=<bytes>}, what the current
 * thread allocated over many lookups, puts and removals in a keyed index, less what reading the
 * counter itself allocates.
 */
public final class LongKeyIndexAllocationProbe {
  private static final int ENTRIES = 256;
  private static final int ROUNDS = 20;

  private LongKeyIndexAllocationProbe() {}

  public static void main(String[] args) {
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    LongKeyIndex index = new LongKeyIndex(ENTRIES, 0x0706050403020100L, 0x0f0e0d0c0b0a0908L);
    int[] out = new int[ENTRIES];
    long found = run(index, out); // loads and links everything the loop uses
    long before = threads.getCurrentThreadAllocatedBytes();
    long counter = threads.getCurrentThreadAllocatedBytes() - before;
    before = threads.getCurrentThreadAllocatedBytes();
    found += run(index, out);
    long allocated = threads.getCurrentThreadAllocatedBytes() - before - counter;
    System.out.println("operations=" + 4L * ROUNDS * ENTRIES + " found=" + found);
    System.out.println("allocated=" + allocated);
  }

  /** Puts, finds and removes every entry {@link #ROUNDS} times; returns how many lookups found their key. */
  private static long run(LongKeyIndex index, int[] out) {
    long found = 0;
    for (int round = 0; round < ROUNDS; round++) {
      for (int e = 0; e < ENTRIES; e++) {
        index.put(e, e * 0x9E3779B97F4A7C15L + round);
      }
      for (int e = 0; e < ENTRIES; e++) {
        long key = e * 0x9E3779B97F4A7C15L + round;
        found += index.contains(key) ? 1 : 0;
        found += index.entriesWith(key, out);
      }
      for (int e = 0; e < ENTRIES; e++) {
        index.remove(e);
      }
    }
    return found;
  }
}
