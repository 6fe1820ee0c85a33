package io.modelguard.internal;

/**
 * Names made fit to be one part of a composite key ({@code t:<tenant>:<model>}, {@code
 * p:<tenant>:<subject>}). Internal: not part of the public API.
 */
public final class KeyText {
  private KeyText() {}

  /**
   * {@code s} with the characters that separate parts or end a Redis hash tag ({@code { } : %}),
   * controls (C0, DEL and C1), whitespace and lone surrogates percent-encoded ({@code %XX}, or {@code %uXXXX} above
   * U+00FF), so that parts joined with {@code :} never read as another tuple, and the key is plain
   * UTF-16 that UTF-8 encodes without loss (a lone surrogate would become {@code ?} on the way to
   * Redis, merging names). Returns {@code s} itself when nothing needs encoding.
   *
   * @param s the text to escape; not null
   * @return the escaped text, or {@code s} itself
   */
  public static String escape(String s) {
    int i = 0;
    int n = s.length();
    while (i < n && !special(s, i)) {
      i++;
    }
    if (i == n) {
      return s;
    }
    StringBuilder sb = new StringBuilder(n + 8).append(s, 0, i);
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (special(s, i)) {
        if (c > 0xff) {
          sb.append("%u").append(String.format("%04X", (int) c));
        } else {
          sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
              .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
        }
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /** Whether the character at {@code i} is encoded: a separator, a control, whitespace or a lone surrogate. */
  private static boolean special(String s, int i) {
    char c = s.charAt(i);
    if (Character.isHighSurrogate(c)) {
      return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
    }
    if (Character.isLowSurrogate(c)) {
      return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
    }
    // Every control, C1 (U+0080 to U+009F: NEL, the 8-bit CSI) as well as C0 and DEL: keys reach log
    // lines (a dropped settlement, the extraction defence's client), which must not break or recolour.
    return c <= ' ' || c == '{' || c == '}' || c == ':' || c == '%' || Character.isISOControl(c)
        || Character.isWhitespace(c);
  }
}
