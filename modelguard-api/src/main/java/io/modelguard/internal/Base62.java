package io.modelguard.internal;

/** Base62 helpers for key formats. Internal: not part of the public API. */
public final class Base62 {
  private static final char[] ALPHABET =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

  private Base62() {}

  /**
   * {@return whether {@code s[from, to)} contains only base62 characters}
   *
   * @param s the characters to check; not null
   * @param from the first index checked, inclusive
   * @param to the index after the last one checked; {@code from} itself for an empty range (true)
   */
  public static boolean isBase62(CharSequence s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code count} uniformly random base62 characters from {@code random} bytes, by rejection
   * sampling (no modulo bias).
   *
   * @param count how many characters to return, not negative
   * @param random fills an array with random bytes (a {@link io.modelguard.RandomSource}, say)
   * @return a new string of exactly {@code count} characters of {@code [0-9A-Za-z]}
   */
  public static String random(int count, java.util.function.Consumer<byte[]> random) {
    StringBuilder out = new StringBuilder(count);
    byte[] buf = new byte[count + 16];
    while (out.length() < count) {
      random.accept(buf);
      for (int i = 0; i < buf.length && out.length() < count; i++) {
        int v = buf[i] & 0xFF;
        if (v < 248) { // 248 = 4 * 62: keeps the distribution uniform
          out.append(ALPHABET[v % 62]);
        }
      }
    }
    return out.toString();
  }

  /**
   * {@code value} (non-negative) in exactly {@code width} base62 digits, zero-padded.
   *
   * @param value the number to write, not negative
   * @param width the number of digits; higher digits of a larger {@code value} are dropped
   * @return the digits, most significant first
   */
  public static String fixedWidth(long value, int width) {
    char[] out = new char[width];
    long v = value;
    for (int i = width - 1; i >= 0; i--) {
      out[i] = ALPHABET[(int) (v % 62)];
      v /= 62;
    }
    if (v != 0) {
      throw new IllegalArgumentException(value + " does not fit " + width + " base62 digits");
    }
    return new String(out);
  }
}
