package io.modelguard.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SipHashTest {
  /** The key 00 01 … 0f of the SipHash paper's test vectors, as two little-endian longs. */
  private static final long K0 = 0x0706050403020100L;
  private static final long K1 = 0x0f0e0d0c0b0a0908L;

  @Test
  void theEmptyMessageGivesThePapersFirstTestVector() {
    assertThat(SipHash.hashChars(K0, K1, "")).isEqualTo(0x726fdb47dd0e0e31L);
  }

  @Test
  void agreesWithGuavasSipHash24OnTheUtf16LeBytesOfEveryLengthUpTo40() {
    SplittableRandom random = new SplittableRandom(7);
    for (int length = 0; length <= 40; length++) {
      for (int trial = 0; trial < 50; trial++) {
        long k0 = random.nextLong();
        long k1 = random.nextLong();
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < length; i++) {
          // Whole UTF-16 range, surrogates included: the hash is over code units, not code points.
          s.append((char) random.nextInt(0x10000));
        }
        long expected = Hashing.sipHash24(k0, k1).hashUnencodedChars(s).asLong();
        assertThat(SipHash.hashChars(k0, k1, s)).as("length %d", length).isEqualTo(expected);
      }
    }
  }

  @Test
  void agreesWithGuavasSipHash24OnWordsAndATailOfEveryLength() {
    SplittableRandom random = new SplittableRandom(11);
    for (int words = 0; words <= 70; words++) {
      for (int tailBytes = 0; tailBytes <= 7; tailBytes++) {
        long k0 = random.nextLong();
        long k1 = random.nextLong();
        Hasher reference = Hashing.sipHash24(k0, k1).newHasher();
        SipHash hash = new SipHash(k0, k1);
        for (int i = 0; i < words; i++) {
          long word = random.nextLong();
          reference.putLong(word); // little-endian, as add() reads a word
          hash.add(word);
        }
        long tail = random.nextLong(); // its bytes above tailBytes must not count
        for (int b = 0; b < tailBytes; b++) {
          reference.putByte((byte) (tail >>> (8 * b)));
        }
        assertThat(hash.finish(tail, tailBytes)).as("%d words, %d tail bytes", words, tailBytes)
            .isEqualTo(reference.hash().asLong());
      }
    }
  }

  @Test
  void aTailOfMoreThanSevenBytesIsRefused() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new SipHash(K0, K1).finish(0, 8)).withMessageContaining("0 to 7");
  }

  @Test
  void theKeyChangesTheHash() {
    assertThat(SipHash.hashChars(K0, K1, "t:acme:digits")).isNotEqualTo(SipHash.hashChars(K0, K1 + 1, "t:acme:digits"));
  }

  @Test
  void hashLongIsTheHashOfOneWordAsTheInstanceAndGuavaComputeIt() {
    assertThat(SipHash.hashLong(K0, K1, 0x0706050403020100L)).as("the paper's vector for bytes 00..07")
        .isEqualTo(0x93f5f5799a932462L);
    SplittableRandom random = new SplittableRandom(13);
    for (int trial = 0; trial < 100_000; trial++) {
      long k0 = random.nextLong();
      long k1 = random.nextLong();
      long word = trial < 64 ? 1L << trial : random.nextLong();
      long expected = new SipHash(k0, k1).add(word).finish(0, 0);
      assertThat(SipHash.hashLong(k0, k1, word)).as("trial %d", trial).isEqualTo(expected);
      if (trial % 100 == 0) {
        assertThat(expected).isEqualTo(Hashing.sipHash24(k0, k1).hashLong(word).asLong());
      }
    }
  }
}
