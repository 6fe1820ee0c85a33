package io.modelguard.examples;

/** Text a client or a configuration file wrote, made fit for one line of a message or a log. */
public final class DemoText {
  private DemoText() {}

  /**
   * {@code s} cut after {@code maxChars} characters (marked with {@code …}), with every control
   * character and Unicode line or paragraph separator replaced by {@code ?}, so that it can
   * neither flood a message nor start a forged log line.
   */
  public static String printable(String s, int maxChars) {
    String cut = s.length() > maxChars ? s.substring(0, maxChars) + "…" : s;
    // \p{Cc}, not \p{Cntrl}: the latter is ASCII only and would let NEL and the C1 escapes through.
    return cut.replaceAll("[\\p{Cc}\\u2028\\u2029]", "?");
  }
}
