package io.modelguard.internal;

/**
 * SipHash-2-4 (Aumasson and Bernstein, 2012), a keyed hash for hash tables whose keys clients
 * choose: without the 128-bit key, nobody can compute which keys share a table slot, so nobody can
 * build a set of keys that pile up in one (hash flooding), nor a second message with the hash of a
 * first. Internal: not part of the public API.
 *
 * <p>An instance hashes one message, given in whole 8-byte words ({@link #add}) and a last, partial
 * word ({@link #finish}); it is meant to live on the stack of one call (the JIT then allocates
 * nothing). Not thread-safe.
 */
public final class SipHash {
  private long v0;
  private long v1;
  private long v2;
  private long v3;
  private long bytes;

  /**
   * A hash under the key {@code (k0, k1)} (the key's first and second eight bytes, read little-endian).
   *
   * @param k0 the key's first eight bytes
   * @param k1 the key's last eight bytes
   */
  public SipHash(long k0, long k1) {
    v0 = k0 ^ 0x736f6d6570736575L;
    v1 = k1 ^ 0x646f72616e646f6dL;
    v2 = k0 ^ 0x6c7967656e657261L;
    v3 = k1 ^ 0x7465646279746573L;
  }

  /**
   * Mixes in the next eight bytes of the message: {@code word}'s little-endian encoding.
   *
   * @param word the next eight bytes of the message
   * @return this hash
   */
  public SipHash add(long word) {
    compress(word);
    bytes += 8;
    return this;
  }

  /**
   * The hash of the message: the words added, then the {@code tailBytes} (0 to 7) low bytes of
   * {@code tail} in little-endian order. The instance is spent.
   *
   * @param tail the last bytes of the message, in its low {@code tailBytes} bytes
   * @param tailBytes how many bytes of {@code tail} belong to the message, 0 to 7
   * @return the 64-bit hash
   * @throws IllegalArgumentException if {@code tailBytes} is not 0 to 7
   */
  public long finish(long tail, int tailBytes) {
    if (tailBytes < 0 || tailBytes > 7) {
      throw new IllegalArgumentException("a tail holds 0 to 7 bytes, got " + tailBytes);
    }
    long mask = tailBytes == 0 ? 0 : -1L >>> (64 - 8 * tailBytes);
    // The last block: the tail's bytes and, in its top byte, the message length modulo 256.
    compress((tail & mask) | (bytes + tailBytes) << 56);
    v2 ^= 0xff;
    rounds(4);
    return v0 ^ v1 ^ v2 ^ v3;
  }

  /**
   * The SipHash-2-4 of {@code s}'s UTF-16 code units, each as two bytes, low byte first (the bytes
   * of its UTF-16LE encoding), under the key {@code (k0, k1)}. Allocates nothing.
   *
   * @param k0 the key's first eight bytes
   * @param k1 the key's last eight bytes
   * @param s the text to hash; not null
   * @return the 64-bit hash
   */
  public static long hashChars(long k0, long k1, CharSequence s) {
    SipHash h = new SipHash(k0, k1);
    int n = s.length();
    int full = n & ~3;
    for (int i = 0; i < full; i += 4) {
      h.add(s.charAt(i) | (long) s.charAt(i + 1) << 16 | (long) s.charAt(i + 2) << 32 | (long) s.charAt(i + 3) << 48);
    }
    long tail = 0;
    for (int j = full; j < n; j++) {
      tail |= (long) s.charAt(j) << (16 * (j - full));
    }
    return h.finish(tail, 2 * (n - full));
  }

  /**
   * The SipHash-2-4 of one 8-byte message, {@code word}'s little-endian encoding, under the key
   * {@code (k0, k1)}: what {@code new SipHash(k0, k1).add(word).finish(0, 0)} returns. The state
   * lives in local variables, so nothing is allocated whether or not the JIT has compiled the caller
   * (a hash-table lookup on every request, say).
   *
   * @param k0 the key's first eight bytes
   * @param k1 the key's last eight bytes
   * @param word the message
   * @return the 64-bit hash
   */
  public static long hashLong(long k0, long k1, long word) {
    long v0 = k0 ^ 0x736f6d6570736575L;
    long v1 = k1 ^ 0x646f72616e646f6dL;
    long v2 = k0 ^ 0x6c7967656e657261L;
    long v3 = k1 ^ 0x7465646279746573L;
    long last = 8L << 56; // the last block: no tail bytes, the message length (8) in the top byte
    // Rounds 0-1 compress the word, 2-3 the last block, 4-7 finalise.
    for (int r = 0; r < 8; r++) {
      if (r == 0) {
        v3 ^= word;
      } else if (r == 2) {
        v0 ^= word;
        v3 ^= last;
      } else if (r == 4) {
        v0 ^= last;
        v2 ^= 0xff;
      }
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
    return v0 ^ v1 ^ v2 ^ v3;
  }

  private void compress(long m) {
    v3 ^= m;
    rounds(2);
    v0 ^= m;
  }

  private void rounds(int n) {
    for (int r = 0; r < n; r++) {
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
  }
}
