package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Keys' hashes are keyed, so clients cannot choose keys that pile up in one table slot. */
class QuotaKeyHashTest {
  /**
   * 1,024 client names made of "Aa" and "BB" (which have the same {@link String#hashCode()}), so
   * every partition {@code a:<name>} has the same {@code String.hashCode()}: the set an attacker
   * builds against a table indexed by a public string hash.
   */
  private static List<QuotaKey> flood() {
    List<QuotaKey> keys = new ArrayList<>();
    for (int bits = 0; bits < 1024; bits++) {
      StringBuilder name = new StringBuilder();
      for (int i = 0; i < 10; i++) {
        name.append((bits >> i & 1) == 0 ? "Aa" : "BB");
      }
      keys.add(QuotaKey.forAddress(name.toString()));
    }
    return keys;
  }

  @Test
  void keysWhosePartitionsCollideUnderStringHashCodeGetSpreadOutHashes() {
    List<QuotaKey> keys = flood();
    Set<Integer> stringHashes = new HashSet<>();
    Set<Integer> hashes = new HashSet<>();
    Set<Integer> homes = new HashSet<>();
    for (QuotaKey k : keys) {
      stringHashes.add(k.partition().hashCode());
      hashes.add(k.hashCode());
      homes.add(k.hashCode() & 4095);
    }
    assertThat(stringHashes).as("the attack's premise: one String.hashCode for all").hasSize(1);
    assertThat(new HashSet<>(keys)).hasSize(1024);
    // Random 32-bit hashes: a collision among 1,024 has a chance of about 1 in 8,000.
    assertThat(hashes.size()).isGreaterThanOrEqualTo(1022);
    // Homes in a 4,096-slot table: about 906 distinct expected at random, 1 if the hash were public.
    assertThat(homes.size()).isGreaterThan(800);
  }

  @Test
  void theStoreCountsEachFloodedKeyOnItsOwn() {
    InMemoryQuotaStore store = InMemoryQuotaStore.create();
    QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 1, Duration.ofMinutes(1)));
    for (QuotaKey k : flood()) {
      assertThat(store.acquire(k, plan, 1).isAllowed()).isTrue();
      assertThat(store.acquire(k, plan, 1).isAllowed()).isFalse();
    }
    assertThat(store.estimatedSize()).isEqualTo(1024);
  }
}
