package io.modelguard.examples;

/** Text a client or a configuration file wrote, made fit for one line of a message or a log. */
public final class DemoText {
  private DemoText() {}

  /**
   * {@code s} cut after {@code maxChars} characters (marked with {@code …}), with every control
   * character, Unicode line or paragraph separator and bidirectional embedding, override or
   * isolate replaced by {@code ?}, so that it can neither flood a message, start a forged log line,
   * nor make the rest of one display in another order.
   */
  public static String printable(String s, int maxChars) {
    String cut = s.length() > maxChars ? s.substring(0, maxChars) + "…" : s;
    // \p{Cc}, not \p{Cntrl}: the latter is ASCII only and would let NEL and the C1 escapes through.
    return cut.replaceAll("[\\p{Cc}\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]", "?");
  }
}
