package io.modelguard.internal;

import java.util.Locale;

/**
 * Which code points a subject, tenant or tier may not hold, for {@link io.modelguard.Principal}
 * and the authenticators that check a name before they build one. Internal: not part of the public
 * API ({@link io.modelguard.Principal#isDisplaySafe(String)} is).
 */
public final class IdentityText {
  /** What {@link #requireDisplaySafe} says a name must not contain. */
  private static final String REFUSED = "control, format (bidirectional, zero-width), line or paragraph separator, "
      + "lone surrogate or non-character code points";

  private IdentityText() {}

  /**
   * The first code point of {@code name} that makes it display as another name, or not at all:
   * Unicode category Cc (C0, DEL, C1), Cf (bidirectional controls such as U+202E, zero-width
   * characters such as U+200B and U+200D, the soft hyphen U+00AD, tag characters), Cs (a surrogate
   * outside a pair), Zl and Zp (U+2028, U+2029: line breaks to many log viewers), and the
   * non-characters (U+FDD0 to U+FDEF, and the last two code points of every plane).
   *
   * @param name the name; not null
   * @return that code point, or -1 if there is none
   */
  public static int firstMisleadingCodePoint(String name) {
    for (int i = 0; i < name.length(); ) {
      char c = name.charAt(i);
      if (c >= 0x20 && c < 0x7f) {
        i++; // printable ASCII, the usual case
        continue;
      }
      int cp = name.codePointAt(i); // a lone surrogate comes back as itself, of type SURROGATE
      if (isMisleading(cp)) {
        return cp;
      }
      i += Character.charCount(cp);
    }
    return -1;
  }

  /**
   * {@code name} itself, if it holds none of the code points {@link #firstMisleadingCodePoint}
   * looks for.
   *
   * @param name the name; not null
   * @param field the field it is for, such as {@code ApiKeyRecord.tenant}, to name in the message
   * @return {@code name}
   * @throws IllegalArgumentException if it holds one; the message names the field and the code
   *     point, never the name itself (which may come from a client, and holds the very code point
   *     that would garble the line it is logged on)
   */
  public static String requireDisplaySafe(String name, String field) {
    int refused = firstMisleadingCodePoint(name);
    if (refused >= 0) {
      throw new IllegalArgumentException(field + " must not contain " + REFUSED
          + String.format(Locale.ROOT, " (found U+%04X)", refused));
    }
    return name;
  }

  private static boolean isMisleading(int cp) {
    switch (Character.getType(cp)) {
      case Character.CONTROL:
      case Character.FORMAT:
      case Character.SURROGATE:
      case Character.LINE_SEPARATOR:
      case Character.PARAGRAPH_SEPARATOR:
        return true;
      default:
        return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
    }
  }
}
