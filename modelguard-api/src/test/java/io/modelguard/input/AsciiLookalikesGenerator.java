package io.modelguard.input;

import com.ibm.icu.lang.UCharacter;
import com.ibm.icu.lang.UCharacterCategory;
import com.ibm.icu.text.SpoofChecker;
import com.ibm.icu.text.UTF16;
import com.ibm.icu.util.VersionInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes {@value AsciiLookalikes#RESOURCE}, the table {@link AsciiLookalikes} reads, from the
 * confusables data of Unicode TR 39 as ICU4J has it (a test dependency only: the library ships
 * the table, not ICU). {@code AsciiLookalikesTest} checks that the checked-in table is what this
 * writes, so an ICU upgrade that changes the data (or only its version) fails until the table is
 * regenerated: on a difference that test writes the new table to {@code target/}{@value
 * AsciiLookalikes#RESOURCE}, to review and copy over the checked-in one (or run this class's {@code
 * main} with the test class path).
 *
 * <p>A code point outside ASCII is in the table when its TR 39 skeleton (the prototype that
 * everything looking like it maps to) is one or two ASCII letters or digits. It is written as the
 * ASCII that reads like it: the ASCII letter or digit with that skeleton ({@code m} for the
 * skeleton {@code rn}), else each character of the skeleton. Where several ASCII characters share a
 * skeleton ({@code l}, {@code I} and {@code 1} all have {@code l}; {@code O} and {@code 0} have
 * {@code O}), an uppercase letter reads as the uppercase one, a lowercase letter as the lowercase
 * one and a number as the digit, so that Greek capital iota reads {@code I} and Arabic-Indic one
 * reads {@code 1}; anything else reads as the skeleton.
 */
public final class AsciiLookalikesGenerator {
  private AsciiLookalikesGenerator() {}

  /** Writes the table to the file named by the one argument. */
  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: AsciiLookalikesGenerator <output file>");
    }
    Files.writeString(Path.of(args[0]), generate(), StandardCharsets.US_ASCII);
  }

  /** The table's text, header included. */
  static String generate() {
    SpoofChecker checker = new SpoofChecker.Builder().build();
    // The ASCII letters and digits that each skeleton stands for: "l" for l, I and 1, "rn" for m.
    Map<String, List<Character>> readings = new HashMap<>();
    for (char c = '0'; c <= 'z'; c++) {
      if (isAsciiLetterOrDigit(c)) {
        readings.computeIfAbsent(checker.getSkeleton(String.valueOf(c)), k -> new ArrayList<>()).add(c);
      }
    }
    StringBuilder out = new StringBuilder()
        .append("# Code points outside ASCII that read as ASCII letters or digits: their Unicode TR 39\n")
        .append("# confusables skeleton is one or two of them. One \"code point<TAB>ASCII\" a line.\n")
        .append("# Generated from ICU4J ").append(version(VersionInfo.ICU_VERSION))
        .append(" (Unicode ").append(version(UCharacter.getUnicodeVersion()))
        .append(") by AsciiLookalikesGenerator in the test sources; do not edit.\n");
    for (int cp = 0x80; cp <= Character.MAX_CODE_POINT; cp++) {
      int type = UCharacter.getType(cp);
      if (type == UCharacterCategory.UNASSIGNED || type == UCharacterCategory.SURROGATE
          || type == UCharacterCategory.PRIVATE_USE) {
        continue; // their skeleton is themselves
      }
      String skeleton = checker.getSkeleton(UTF16.valueOf(cp));
      if (skeleton.isEmpty() || skeleton.length() > 2 || !skeleton.chars().allMatch(c -> isAsciiLetterOrDigit((char) c))) {
        continue;
      }
      out.append(String.format(Locale.ROOT, "%04X", cp)).append('\t')
          .append(reading(skeleton, type, readings)).append('\n');
    }
    return out.toString();
  }

  private static String reading(String skeleton, int type, Map<String, List<Character>> readings) {
    List<Character> whole = readings.get(skeleton);
    if (whole != null) {
      return String.valueOf(pick(whole, skeleton.charAt(0), type));
    }
    StringBuilder sb = new StringBuilder();
    for (char c : skeleton.toCharArray()) {
      List<Character> one = readings.get(String.valueOf(c));
      if (one == null) {
        // A skeleton's characters are their own skeletons; TR 39 promises that.
        throw new IllegalStateException("no ASCII character has the skeleton " + c);
      }
      sb.append(pick(one, c, type));
    }
    return sb.toString();
  }

  private static char pick(List<Character> candidates, char prototype, int type) {
    if (candidates.size() == 1) {
      return candidates.get(0);
    }
    for (char c : candidates) {
      boolean fits = switch (type) {
        case UCharacterCategory.UPPERCASE_LETTER, UCharacterCategory.TITLECASE_LETTER -> Character.isUpperCase(c);
        case UCharacterCategory.LOWERCASE_LETTER -> Character.isLowerCase(c);
        case UCharacterCategory.DECIMAL_DIGIT_NUMBER, UCharacterCategory.LETTER_NUMBER,
            UCharacterCategory.OTHER_NUMBER -> Character.isDigit(c);
        default -> false;
      };
      if (fits) {
        return c;
      }
    }
    return prototype;
  }

  private static boolean isAsciiLetterOrDigit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  }

  /** "78.1" for 78.1.0.0. */
  private static String version(VersionInfo v) {
    return v.getMajor() + "." + v.getMinor();
  }
}
