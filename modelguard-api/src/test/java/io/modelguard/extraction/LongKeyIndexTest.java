package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.openjdk.jol.info.GraphLayout;

/** The open-addressing index behind duplicate recognition and the hashing detector's candidates. */
class LongKeyIndexTest {

  @Test
  void agreesWithAMapUnderLongRunsOfPutsAndRemovals() {
    Random random = new Random(11);
    int entries = 37;
    LongKeyIndex index = new LongKeyIndex(entries);
    Map<Integer, Long> reference = new LinkedHashMap<>(); // in the order the entries were put
    int[] out = new int[entries];
    for (int step = 0; step < 200_000; step++) {
      int entry = random.nextInt(entries);
      // Few distinct keys, so entries share keys and long probe clusters form and wrap around.
      long key = random.nextInt(12) * 0x1_0000_0000L + random.nextInt(3);
      reference.remove(entry);
      if (random.nextInt(4) == 0) {
        index.remove(entry);
      } else {
        index.put(entry, key);
        reference.put(entry, key);
      }
      long probe = random.nextInt(12) * 0x1_0000_0000L + random.nextInt(3);
      int[] expected = reference.entrySet().stream().filter(e -> e.getValue() == probe).mapToInt(Map.Entry::getKey).toArray();
      int n = index.entriesWith(probe, out);
      assertThat(Arrays.copyOf(out, n)).as("step %d: oldest first", step).containsExactly(expected);
      assertThat(index.contains(probe)).isEqualTo(expected.length > 0);
      int oldest = index.oldestWith(probe);
      int walked = 0;
      for (int e = oldest; e != -1; e = index.nextWith(e, oldest)) {
        assertThat(e).as("step %d, entry %d with the key", step, walked).isEqualTo(expected[walked++]);
      }
      assertThat(walked).isEqualTo(expected.length);
    }
  }

  @Test
  void manyEntriesOfOneKeyTakeOneSlotAndARingOfThemIsRecycledInConstantSteps() {
    int entries = 600;
    LongKeyIndex index = new LongKeyIndex(entries, 3, 4);
    for (int round = 0; round < 5; round++) {
      for (int entry = 0; entry < entries; entry++) {
        long before = index.probes();
        index.put(entry, round < 3 ? 42 : entry % 2); // replaces the key's oldest entry once full
        // Two searches among at most three keys (42, 0 and 1), and at most one shift of a freed slot.
        assertThat(index.probes() - before).as("round %d, entry %d", round, entry).isLessThanOrEqualTo(8);
      }
      assertThat(index.longestCluster()).isLessThanOrEqualTo(2);
    }
    // Out of order (the newest, then one in the middle), a removal walks the key's chain, and stays right.
    index.remove(entries - 1);
    index.remove(entries / 2);
    int[] out = new int[entries];
    assertThat(index.entriesWith(1, out)).isEqualTo(entries / 2 - 1);
    assertThat(Arrays.copyOf(out, 3)).containsExactly(1, 3, 5);
    assertThat(index.contains(42)).isFalse();
  }

  @Test
  void retainedBytesBoundCoversTheIndexAndGrowsLinearlyWithTheEntries() {
    for (int entries : new int[] {1, 7, 600, 1_024}) {
      assertThat(LongKeyIndex.retainedBytes(entries))
          .as("%d entries", entries)
          .isGreaterThanOrEqualTo(GraphLayout.parseInstance(new LongKeyIndex(entries, 1, 2)).totalSize());
    }
    assertThat(LongKeyIndex.retainedBytes(1_024)).isLessThan(25 * 1_024); // 8 + 4 + 4 per entry and 4 per slot, two slots an entry
    assertThat(LongKeyIndex.retainedBytes(600)).isLessThan(LongKeyIndex.retainedBytes(1_024));
  }

  @Test
  void agreesWithAMultimapInTinyTablesWhereEveryClusterWrapsAndShiftsChains() {
    // Tables of 2 to 16 slots and more distinct keys than slots' worth: every removal of a key's
    // last entry shifts clusters that wrap round the table end, moving slots whose keys still
    // have chains; re-puts under the same key, removals of the newest and of the only entry, all
    // mixed. Both slot functions.
    for (int entries = 1; entries <= 8; entries++) {
      for (boolean keyed : new boolean[] {false, true}) {
        Random random = new Random(entries * 31L + (keyed ? 1 : 0));
        LongKeyIndex index = keyed ? new LongKeyIndex(entries, 5, 6) : new LongKeyIndex(entries);
        Map<Long, java.util.List<Integer>> byKey = new LinkedHashMap<>(); // oldest first per key
        Map<Integer, Long> keyOf = new LinkedHashMap<>();
        int[] out = new int[entries];
        for (int step = 0; step < 20_000; step++) {
          int entry = random.nextInt(entries);
          Long old = keyOf.remove(entry);
          if (old != null) {
            byKey.get(old).remove(Integer.valueOf(entry));
          }
          int op = random.nextInt(5);
          if (op == 0) {
            index.remove(entry);
          } else {
            long key = op == 1 && old != null ? old : random.nextInt(3 * entries + 1);
            index.put(entry, key);
            keyOf.put(entry, key);
            byKey.computeIfAbsent(key, k -> new java.util.ArrayList<>()).add(entry);
          }
          for (long key = 0; key <= 3 * entries; key++) {
            int[] expected = byKey.getOrDefault(key, java.util.List.of()).stream().mapToInt(Integer::intValue).toArray();
            int n = index.entriesWith(key, out);
            assertThat(Arrays.copyOf(out, n)).as("%d entries, keyed %s, step %d, key %d", entries, keyed, step, key)
                .containsExactly(expected);
            assertThat(index.contains(key)).isEqualTo(expected.length > 0);
          }
          long distinct = byKey.values().stream().filter(l -> !l.isEmpty()).count();
          assertThat((long) index.longestCluster()).isLessThanOrEqualTo(distinct);
        }
      }
    }
  }
}
