package io.modelguard.input;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Arrays;

/**
 * The ASCII letters or digits that code points of other scripts read as: Cyrillic {@code а} and
 * Greek {@code α} as {@code a}, Cyrillic {@code І} and Greek {@code Ι} as {@code I}, Cherokee
 * {@code Ꭺ} as {@code A}. About 1,500 code points, each to one or two ASCII characters, from Unicode
 * TR 39's confusables data: the table {@value #RESOURCE} beside this class is generated from ICU by
 * {@code AsciiLookalikesGenerator} in the test sources (which says how a skeleton becomes ASCII),
 * and a test checks that it still is. Loaded once, when first used; immutable.
 */
final class AsciiLookalikes {
  /** The table, a resource of this package: "code point (hex)<TAB>ASCII" lines, {@code #} comments. */
  static final String RESOURCE = "ascii-lookalikes.txt";
  /** The code points, ascending, all outside ASCII. */
  private static final int[] CODE_POINTS;
  /** What each code point reads as: one ASCII char in the low byte, a second (or 0) in the next. */
  private static final int[] READINGS;
  /**
   * The code points of the table whose NFKC form it does not read as ASCII, ascending: NFKC turns
   * them into characters that look like no ASCII (Greek lunate sigma {@code ϲ}, read as {@code c},
   * into final sigma {@code ς}), so they are read before normalising.
   */
  private static final int[] BEFORE_NFKC_CODE_POINTS;
  /** What each of those reads as, as in {@link #READINGS}. */
  private static final int[] BEFORE_NFKC_READINGS;

  static {
    int[][] table = load();
    CODE_POINTS = table[0];
    READINGS = table[1];
    int[] codePoints = new int[CODE_POINTS.length];
    int[] readings = new int[CODE_POINTS.length];
    int n = 0;
    for (int i = 0; i < CODE_POINTS.length; i++) {
      String normal = Normalizer.normalize(Character.toString(CODE_POINTS[i]), Normalizer.Form.NFKC);
      if (!read(normal, CODE_POINTS, READINGS).chars().allMatch(c -> c < 0x80)) {
        codePoints[n] = CODE_POINTS[i];
        readings[n] = READINGS[i];
        n++;
      }
    }
    BEFORE_NFKC_CODE_POINTS = Arrays.copyOf(codePoints, n);
    BEFORE_NFKC_READINGS = Arrays.copyOf(readings, n);
  }

  private AsciiLookalikes() {}

  /** How many code points the table holds; using it loads the table, so a broken jar fails then. */
  static int size() {
    return CODE_POINTS.length;
  }

  /**
   * {@code text} with every code point of the table replaced by the ASCII it reads as, or {@code
   * text} itself if it holds none. ASCII and every other code point are kept as they are. A code
   * point becomes at most two chars, so a BMP one may double; see {@link TextSpec} for the bound on
   * what deny patterns see.
   */
  static String readAsAscii(String text) {
    return read(text, CODE_POINTS, READINGS);
  }

  /**
   * {@code text} with the code points of the table that NFKC would turn into characters it does not
   * read as ASCII replaced by the ASCII they read as (Greek lunate sigma symbols, the halfwidth
   * vertical line, a few spacing marks), or {@code text} itself if it holds none: what to
   * normalise before {@link #readAsAscii}, so that normalising loses no look-alike. A code point
   * whose NFKC form the table reads as ASCII (Roman numeral one: {@code I}) is left to NFKC.
   */
  static String readBeforeNormalising(String text) {
    return read(text, BEFORE_NFKC_CODE_POINTS, BEFORE_NFKC_READINGS);
  }

  private static String read(String text, int[] codePoints, int[] readings) {
    StringBuilder sb = null;
    for (int i = 0; i < text.length(); ) {
      char c = text.charAt(i);
      if (c < 0x80) {
        if (sb != null) {
          sb.append(c);
        }
        i++;
        continue;
      }
      int cp = text.codePointAt(i);
      int next = i + Character.charCount(cp);
      int at = Arrays.binarySearch(codePoints, cp);
      if (at >= 0) {
        if (sb == null) {
          sb = new StringBuilder(text.length() + 16).append(text, 0, i);
        }
        int reading = readings[at];
        sb.append((char) (reading & 0xff));
        if (reading > 0xff) {
          sb.append((char) (reading >>> 8));
        }
      } else if (sb != null) {
        sb.append(text, i, next);
      }
      i = next;
    }
    return sb == null ? text : sb.toString();
  }

  private static int[][] load() {
    try (InputStream in = AsciiLookalikes.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw broken("is missing");
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
      int[] codePoints = new int[2048];
      int[] readings = new int[2048];
      int n = 0;
      int lineNumber = 0;
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        lineNumber++;
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        int tab = line.indexOf('\t');
        int cp = tab > 0 && tab <= 6 ? parseHex(line, tab) : -1;
        String ascii = tab > 0 ? line.substring(tab + 1) : "";
        if (cp < 0x80 || cp > Character.MAX_CODE_POINT || (n > 0 && cp <= codePoints[n - 1])
            || ascii.isEmpty() || ascii.length() > 2 || !ascii.chars().allMatch(AsciiLookalikes::isAsciiLetterOrDigit)) {
          throw broken("is malformed at line " + lineNumber);
        }
        if (n == codePoints.length) {
          codePoints = Arrays.copyOf(codePoints, 2 * n);
          readings = Arrays.copyOf(readings, 2 * n);
        }
        codePoints[n] = cp;
        readings[n] = ascii.charAt(0) | (ascii.length() > 1 ? ascii.charAt(1) << 8 : 0);
        n++;
      }
      if (n == 0) {
        throw broken("is empty");
      }
      return new int[][] {Arrays.copyOf(codePoints, n), Arrays.copyOf(readings, n)};
    } catch (IOException e) {
      throw new IllegalStateException("modelguard-api's look-alike table " + RESOURCE + " could not be read", e);
    }
  }

  /** The hexadecimal number before {@code tab}, or -1 if it is not one. */
  private static int parseHex(String line, int tab) {
    int value = 0;
    for (int i = 0; i < tab; i++) {
      int digit = Character.digit(line.charAt(i), 16);
      if (digit < 0 || line.charAt(i) > 0x7f) {
        return -1;
      }
      value = value * 16 + digit;
    }
    return value;
  }

  private static boolean isAsciiLetterOrDigit(int c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  }

  private static IllegalStateException broken(String what) {
    return new IllegalStateException("modelguard-api's look-alike table " + RESOURCE + " " + what
        + "; the jar is damaged");
  }
}
