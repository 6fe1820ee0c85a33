package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.HashMap;
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
    Map<Integer, Long> reference = new HashMap<>();
    int[] out = new int[entries];
    for (int step = 0; step < 200_000; step++) {
      int entry = random.nextInt(entries);
      // Few distinct keys, so entries share keys and long probe clusters form and wrap around.
      long key = random.nextInt(12) * 0x1_0000_0000L + random.nextInt(3);
      if (random.nextInt(4) == 0) {
        index.remove(entry);
        reference.remove(entry);
      } else {
        index.put(entry, key);
        reference.put(entry, key);
      }
      long probe = random.nextInt(12) * 0x1_0000_0000L + random.nextInt(3);
      int[] expected = reference.entrySet().stream().filter(e -> e.getValue() == probe).mapToInt(Map.Entry::getKey).sorted().toArray();
      int n = index.entriesWith(probe, out);
      int[] actual = Arrays.copyOf(out, n);
      Arrays.sort(actual);
      assertThat(actual).as("step %d", step).containsExactly(expected);
      assertThat(index.contains(probe)).isEqualTo(expected.length > 0);
    }
  }

  @Test
  void retainedBytesBoundCoversTheIndexAndGrowsLinearlyWithTheEntries() {
    for (int entries : new int[] {1, 7, 600, 1_024}) {
      assertThat(LongKeyIndex.retainedBytes(entries))
          .as("%d entries", entries)
          .isGreaterThanOrEqualTo(GraphLayout.parseInstance(new LongKeyIndex(entries, 1, 2)).totalSize());
    }
    assertThat(LongKeyIndex.retainedBytes(1_024)).isLessThan(22 * 1_024); // 8 + 4 + 1 per entry and 4 per slot, two slots an entry
    assertThat(LongKeyIndex.retainedBytes(600)).isLessThan(LongKeyIndex.retainedBytes(1_024));
  }
}
