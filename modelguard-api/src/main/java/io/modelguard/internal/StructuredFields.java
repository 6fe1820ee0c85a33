package io.modelguard.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Splitting of structured header field values (RFC 9651: lists of items with parameters, such as
 * {@code RateLimit} and {@code RateLimit-Policy}) where strings may hold the separators. Internal:
 * not part of the public API.
 */
public final class StructuredFields {
  private StructuredFields() {}

  /**
   * {@code s} split at every {@code separator} outside a string ({@code "…"}, a backslash escaping
   * the next character in it), or null if a string is not terminated.
   *
   * @param s the field value; not null
   * @param separator the character to split at, such as {@code ,} or {@code ;}
   * @return the parts, untrimmed, in order, or null
   */
  public static List<String> splitOutsideStrings(String s, char separator) {
    List<String> parts = new ArrayList<>();
    boolean inString = false;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == separator) {
        parts.add(s.substring(start, i));
        start = i + 1;
      }
    }
    if (inString) {
      return null;
    }
    parts.add(s.substring(start));
    return parts;
  }

  /**
   * The index of the {@code "} that ends the string opening {@code s} (at index 0), a backslash
   * escaping the next character; -1 if it is not terminated.
   *
   * @param s text starting with {@code "}; not null
   * @return the closing quote's index, or -1
   */
  public static int closingQuote(String s) {
    for (int i = 1; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\') {
        i++;
      } else if (c == '"') {
        return i;
      }
    }
    return -1;
  }
}
