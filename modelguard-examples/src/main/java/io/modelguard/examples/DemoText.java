package io.modelguard.examples;

import java.util.regex.Pattern;

/** Text a client or a configuration file wrote, made fit for one line of a message or a log. */
public final class DemoText {
  /** \p{Cc}, not \p{Cntrl}: the latter is ASCII only and would let NEL and the C1 escapes through. */
  private static final Pattern UNPRINTABLE = Pattern.compile("[\\p{Cc}\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]");

  private DemoText() {}

  /**
   * {@code s} cut after {@code maxChars} characters (marked with {@code …}), with every control
   * character, Unicode line or paragraph separator and bidirectional embedding, override or
   * isolate replaced by {@code ?}, so that it can neither flood a message, start a forged log line,
   * nor make the rest of one display in another order.
   */
  public static String printable(String s, int maxChars) {
    String cut = s.length() > maxChars ? s.substring(0, maxChars) + "…" : s;
    return UNPRINTABLE.matcher(cut).replaceAll("?");
  }

  /**
   * A log argument that is {@code s} as {@link #printable} makes it, worked out only when a log
   * line formats it: for text that a request's error paths log, but its common path does not.
   */
  public static Object printableWhenLogged(String s, int maxChars) {
    return new Object() {
      @Override
      public String toString() {
        return printable(s, maxChars);
      }
    };
  }
}
