package io.modelguard.internal;

import java.util.Collection;

/**
 * How a response header name an application sets reads on the wire, for both adapters. Neither
 * Jetty 12 nor Tomcat 11 checks the names an application gives, and Jersey and RESTEasy hand theirs
 * to the container as given: all write {@code "RateLimit "} as {@code RateLimit : ...} and {@code "
 * RateLimit"} as a line starting with a space (a control character becomes a space in Tomcat, a dot
 * in Jetty, as does a colon), and a proxy strips the space before the colon (RFC 9112, section 5.1)
 * while a line that starts with one continues the line before it (obsolete line folding). So a name
 * is compared as a recipient may read it: up to its first colon, without the whitespace and control
 * characters around it. Internal: not part of the public API.
 */
public final class HeaderNames {
  private HeaderNames() {}

  /**
   * Whether {@code name} (null: no), read as on the wire, is {@code fieldName}; any letter case. No
   * allocation.
   *
   * @param name the header name as set, or null
   * @param fieldName the field name to compare with, such as {@code Content-Type}
   * @return true if a recipient reads {@code name} as {@code fieldName}
   */
  public static boolean reads(String name, String fieldName) {
    if (name == null) {
      return false;
    }
    int end = end(name);
    int start = start(name, end);
    return end - start == fieldName.length() && name.regionMatches(true, start, fieldName, 0, end - start);
  }

  /**
   * Whether a header named {@code name} would, on the wire, be one of {@code fieldNames} (as {@link
   * #reads} reads it, any letter case) or continue the line of the header written before it ({@link
   * #continuesThePreviousLine}), which may be one of them: what an adapter ignores or removes so
   * that the guard's own headers stay as the guard set them.
   *
   * @param name the header name as set, or null
   * @param fieldNames the field names the guard sets
   * @return true if the header would change or continue one of them
   */
  public static boolean changesAnyOf(String name, Collection<String> fieldNames) {
    if (continuesThePreviousLine(name)) {
      return true;
    }
    for (String fieldName : fieldNames) {
      if (reads(name, fieldName)) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code name} as a recipient may read it (see {@link #reads}); itself if nothing is cut, null for null.
   *
   * @param name the header name as set, or null
   * @return the name without what a recipient ignores around it
   */
  public static String bare(String name) {
    if (name == null) {
      return null;
    }
    int end = end(name);
    int start = start(name, end);
    return start == 0 && end == name.length() ? name : name.substring(start, end);
  }

  /**
   * Whether the line a container writes for {@code name} starts with whitespace (a control
   * character included, which Tomcat sends as a space): a recipient that unfolds it appends it to
   * the value of the header written before it, which may be one the guard set.
   *
   * @param name the header name as set, or null (then false)
   * @return true if {@code name} starts with a space or control character
   */
  public static boolean continuesThePreviousLine(String name) {
    return name != null && !name.isEmpty() && name.charAt(0) <= ' ';
  }

  /** Where the name as read ends: before its first colon and the ignorable characters before that. */
  private static int end(String name) {
    int colon = name.indexOf(':');
    int end = colon < 0 ? name.length() : colon;
    while (end > 0 && ignorable(name.charAt(end - 1))) {
      end--;
    }
    return end;
  }

  /** Where the name as read starts: after the ignorable characters that open it. */
  private static int start(String name, int end) {
    int start = 0;
    while (start < end && ignorable(name.charAt(start))) {
      start++;
    }
    return start;
  }

  /** Whitespace and control characters, ASCII, Latin-1 (NEL, NBSP) or other Unicode spaces. */
  private static boolean ignorable(char c) {
    return c <= ' ' || (c >= '\u007f' && c <= '\u00a0') || Character.isWhitespace(c) || Character.isSpaceChar(c);
  }
}
