package io.modelguard.internal;

/**
 * SipHash-2-4 (Aumasson and Bernstein, 2012), a keyed hash for hash tables whose keys clients
 * choose: without the 128-bit key, nobody can compute which keys share a table slot, so nobody can
 * build a set of keys that pile up in one (hash flooding). Internal: not part of the public API.
 */
public final class SipHash {
  private SipHash() {}

  /**
   * The SipHash-2-4 of {@code s}'s UTF-16 code units, each as two bytes, low byte first (the bytes
   * of its UTF-16LE encoding), under the key {@code (k0, k1)} (the key's first and second eight
   * bytes, read little-endian). Allocates nothing.
   */
  public static long hashChars(long k0, long k1, CharSequence s) {
    long v0 = k0 ^ 0x736f6d6570736575L;
    long v1 = k1 ^ 0x646f72616e646f6dL;
    long v2 = k0 ^ 0x6c7967656e657261L;
    long v3 = k1 ^ 0x7465646279746573L;
    int n = s.length();
    int full = n & ~3;
    // Four code units make one 8-byte block, each mixed in with 2 rounds; the last block holds the
    // rest and, in its top byte, the message length in bytes modulo 256. Then 4 rounds finalise.
    for (int i = 0; ; ) {
      boolean finalising = i > n;
      long m = 0;
      if (finalising) {
        v2 ^= 0xff;
      } else if (i < full) {
        m = s.charAt(i) | (long) s.charAt(i + 1) << 16 | (long) s.charAt(i + 2) << 32 | (long) s.charAt(i + 3) << 48;
      } else {
        m = (2L * n) << 56;
        for (int j = i; j < n; j++) {
          m |= (long) s.charAt(j) << (16 * (j - i));
        }
      }
      v3 ^= m;
      for (int r = finalising ? 4 : 2; r > 0; r--) {
        v0 += v1;
        v1 = Long.rotateLeft(v1, 13) ^ v0;
        v0 = Long.rotateLeft(v0, 32);
        v2 += v3;
        v3 = Long.rotateLeft(v3, 16) ^ v2;
        v0 += v3;
        v3 = Long.rotateLeft(v3, 21) ^ v0;
        v2 += v1;
        v1 = Long.rotateLeft(v1, 17) ^ v2;
        v2 = Long.rotateLeft(v2, 32);
      }
      v0 ^= m;
      if (finalising) {
        break;
      }
      // After the last block (i >= full), step past n so that the next pass finalises.
      i = i < full ? i + 4 : n + 1;
    }
    return v0 ^ v1 ^ v2 ^ v3;
  }
}
