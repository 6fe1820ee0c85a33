package io.modelguard.internal;

/**
 * Client-written text made fit for one log line. Internal: not part of the public API.
 */
public final class LogText {
  /** The most characters of one exception's class name and message that {@link #throwable} keeps. */
  static final int MAX_THROWABLE_CHARS = 1024;
  /** The most exceptions (the one given, its causes and suppressed ones) that {@link #throwable} keeps. */
  static final int MAX_THROWABLES = 16;

  private LogText() {}

  /**
   * {@code e} made fit to be logged with its stack trace: a stand-in whose message is {@code e}'s
   * class name and message passed through {@link #oneLine} (cut at {@value #MAX_THROWABLE_CHARS}
   * characters), whose stack trace is {@code e}'s, and whose cause and suppressed exceptions are
   * stand-ins of {@code e}'s in turn, at most {@value #MAX_THROWABLES} exceptions in all. A logging
   * backend prints it as {@code io.modelguard.internal.EscapedThrowable: java.lang.Exception: bad?value}
   * followed by {@code e}'s frames, so an exception message that carries client text (a header, a
   * URL, a JSON field) can neither start a forged log line nor reorder one. Never throws for
   * what {@code e} does: a {@code toString} that throws is logged as the class name.
   */
  public static Throwable throwable(Throwable e) {
    return EscapedThrowable.of(e, MAX_THROWABLE_CHARS, new int[] {MAX_THROWABLES});
  }

  /**
   * {@code e}'s message alone, through {@link #oneLine} with {@code maxChars}: for a log line that
   * names an exception without its stack trace. {@code "null"} for an exception without one.
   */
  public static String message(Throwable e, int maxChars) {
    return oneLine(String.valueOf(e.getMessage()), maxChars);
  }

  /**
   * {@code text} with every control character, Unicode line or paragraph separator and
   * bidirectional control (embedding, override, isolate or mark) replaced by {@code ?}, so it can neither start a
   * forged log line nor make the rest of one display in another order, and cut after {@code maxChars} characters
   * (marked with {@code …}), so one request cannot flood the log. Returns {@code text} itself when
   * nothing needs changing.
   */
  public static String oneLine(String text, int maxChars) {
    int n = Math.min(text.length(), maxChars);
    if (n > 0 && n < text.length() && Character.isHighSurrogate(text.charAt(n - 1))
        && Character.isLowSurrogate(text.charAt(n))) {
      n--; // a cut between the two halves of a pair would leave an unencodable lone surrogate
    }
    StringBuilder b = null;
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029' || isBidiControl(c)) {
        if (b == null) {
          b = new StringBuilder(n + 1).append(text, 0, i);
        }
        b.append('?');
      } else if (b != null) {
        b.append(c);
      }
    }
    String head = b != null ? b.toString() : n == text.length() ? text : text.substring(0, n);
    return n < text.length() ? head + "…" : head;
  }

  /**
   * U+202A to U+202E (embeddings, overrides), U+2066 to U+2069 (isolates), and the marks U+200E,
   * U+200F and U+061C (left-to-right, right-to-left, Arabic letter), which reorder less but still
   * change how neighbouring text displays.
   */
  private static boolean isBidiControl(char c) {
    return (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069')
        || c == '\u200e' || c == '\u200f' || c == '\u061c';
  }
}
