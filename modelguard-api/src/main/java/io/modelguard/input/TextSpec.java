package io.modelguard.input;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a text input (a prompt, a review) may contain: its length in code points, whether invisible
 * Unicode is refused, and deny patterns. Rule-based, like llm-guard's InvisibleText and Regex
 * scanners; model-based scanners (prompt-injection classifiers) are a separate plug-in point.
 * Immutable.
 *
 * <p>Invisible Unicode means format characters (Cf: zero-width spaces and joiners, bidi controls,
 * tag characters), private-use (Co), unassigned (Cn), surrogates without a pair, control
 * characters (Cc) other than tab, line feed and carriage return, the Hangul fillers (U+115F,
 * U+1160, U+3164, U+FFA0), the combining marks that render as nothing (U+17B4, U+17B5), and
 * variation selectors (U+FE00–FE0F, U+E0100–E01EF, Mongolian U+180B–180D, U+180F) and the combining grapheme
 * joiner (U+034F), each of which can carry hidden bytes after any visible character, and the
 * blank symbols U+2800 (Braille pattern blank) and U+1D159 (null notehead). Refused by default, except where writing needs them, so that a
 * hidden message has no more room than a few bits per visible character (an emoji, a letter of a
 * joining script):
 *
 * <ul>
 *   <li>VS15 or VS16 (U+FE0E, U+FE0F) directly after a symbol outside ASCII (or ℹ ‼ ⁉ 〰 〽): emoji
 *       presentation ("❤️");
 *   <li>a zero-width joiner alone between two emoji (emoji sequences, "👨‍👩‍👧"); a zero-width joiner
 *       or non-joiner after an Indic virama, or alone between two letters or marks of one script
 *       that joins (Arabic, Syriac, N'Ko, Thaana, the Indic scripts, Myanmar, Khmer, Tibetan,
 *       Mongolian; a mark counts as its letter's): Persian words, half forms, chillus;
 *   <li>VS16 after a digit, {@code #} or {@code *} only before U+20E3 (a keycap, "1️⃣");
 *   <li>the combining grapheme joiner between two Hebrew points that canonical ordering would swap, a Mongolian free
 *       variation selector directly after a Mongolian letter;
 *   <li>the tag characters of the three subdivision flags (England, Scotland, Wales) after U+1F3F4;
 *   <li>one zero-width space between two letters of Thai, Lao, Khmer or Myanmar, the Mongolian
 *       vowel separator between Mongolian letters, a soft hyphen inside a word of one script
 *       (not ideographs), a byte-order mark at the very start; in text with right-to-left letters,
 *       a left-to-right, right-to-left or Arabic letter mark where it can change the layout (at
 *       the start or end of a line, beside digits or punctuation, between opposite directions);
 *   <li>with {@link Builder#allowIdeographicVariants(boolean)} only, one selector of VS1–VS16 or
 *       VS17–VS256 directly after a CJK ideograph: ideographic variants, as Japanese names use
 *       (葛󠄀). Off by default: a selector per ideograph can carry a byte.
 * </ul>
 *
 * <p>Deny patterns ({@link Builder#denyPattern}) see the text as sent, as it reads (without the
 * characters that render as nothing), in its compatibility form (NFKC, Unicode spaces folded to a
 * plain space) and in that form with look-alike letters of other scripts read as ASCII (a Cyrillic
 * {@code о} as a Latin {@code o}, per Unicode TR 39's confusables), so that neither hidden
 * characters nor fullwidth or mathematical letters, ligatures, other Unicode spaces or letters that
 * only look Latin spell a denied phrase past them.
 *
 * <p>A line break is a line feed, a carriage return, a vertical tab, a form feed, U+0085 (next
 * line), U+2028 (line separator) or U+2029 (paragraph separator); with {@code allowLineBreaks(false)}
 * every one of them is refused.
 */
public final class TextSpec {
  /** Scripts written without spaces between words, where a zero-width space marks them. */
  private static final Set<Character.UnicodeScript> NO_SPACE_SCRIPTS = EnumSet.of(Character.UnicodeScript.THAI,
      Character.UnicodeScript.LAO, Character.UnicodeScript.KHMER, Character.UnicodeScript.MYANMAR);
  /** Scripts written right to left, beside which direction marks are ordinary. */
  private static final Set<Character.UnicodeScript> RTL_SCRIPTS = EnumSet.of(Character.UnicodeScript.HEBREW,
      Character.UnicodeScript.ARABIC, Character.UnicodeScript.SYRIAC, Character.UnicodeScript.THAANA,
      Character.UnicodeScript.NKO, Character.UnicodeScript.ADLAM, Character.UnicodeScript.SAMARITAN,
      Character.UnicodeScript.MANDAIC, Character.UnicodeScript.HANIFI_ROHINGYA, Character.UnicodeScript.YEZIDI);
  /**
   * How many combining marks in a row canonical ordering sorts at once (UAX #15's stream-safe
   * limit); see {@link #compatibilityForm}.
   */
  static final int MAX_NON_STARTERS = 30;
  private static final String GRAPHEME_JOINER = "\u034f";
  /** U+1F3F4, which the subdivision flags' tag characters follow. */
  private static final int BLACK_FLAG = 0x1f3f4;
  /** The tag characters (and cancel tag) of the recommended subdivision flags: gbeng, gbsct, gbwls. */
  private static final List<String> SUBDIVISION_FLAGS = List.of(tags("gbeng"), tags("gbsct"), tags("gbwls"));
  /** Scripts whose writing uses the zero-width joiner and non-joiner between letters. */
  private static final Set<Character.UnicodeScript> JOINING_SCRIPTS = EnumSet.of(
      Character.UnicodeScript.ARABIC, Character.UnicodeScript.SYRIAC, Character.UnicodeScript.NKO,
      Character.UnicodeScript.DEVANAGARI, Character.UnicodeScript.BENGALI, Character.UnicodeScript.GURMUKHI,
      Character.UnicodeScript.GUJARATI, Character.UnicodeScript.ORIYA, Character.UnicodeScript.TAMIL,
      Character.UnicodeScript.TELUGU, Character.UnicodeScript.KANNADA, Character.UnicodeScript.MALAYALAM,
      Character.UnicodeScript.SINHALA, Character.UnicodeScript.MYANMAR, Character.UnicodeScript.KHMER,
      Character.UnicodeScript.TIBETAN, Character.UnicodeScript.MONGOLIAN, Character.UnicodeScript.THAANA);

  private final int minLength;
  private final int maxLength;
  private final boolean rejectInvisible;
  private final boolean allowLineBreaks;
  private final boolean allowIdeographicVariants;
  private final List<String> patternNames;
  private final List<Pattern> patterns;

  private TextSpec(Builder b) {
    this.minLength = b.minLength;
    this.maxLength = b.maxLength;
    this.rejectInvisible = b.rejectInvisible;
    this.allowLineBreaks = b.allowLineBreaks;
    this.allowIdeographicVariants = b.allowIdeographicVariants;
    this.patternNames = List.copyOf(b.patternNames);
    this.patterns = List.copyOf(b.patterns);
  }

  /**
   * Starts a builder: 0 to 4,096 code points, invisible Unicode refused, line breaks allowed, no deny patterns.
   *
   * @return a new builder with those defaults
   */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return the default text spec (see {@link #builder()})} */
  public static TextSpec defaults() {
    return builder().build();
  }

  /**
   * Most code points.
   *
   * @return the limit, at least 1
   */
  public int maxLength() {
    return maxLength;
  }

  /**
   * The rule {@code text} breaks, as a client-safe phrase that never quotes the text; null if it
   * breaks none.
   */
  String violation(String text) {
    int n = text.codePointCount(0, text.length());
    if (n < minLength) {
      return "is shorter than " + minLength + " characters";
    }
    if (n > maxLength) {
      return "is longer than " + maxLength + " characters";
    }
    // Direction marks are ordinary in right-to-left writing: looked for once, where there are any.
    boolean rightToLeft = rejectInvisible && (text.indexOf('\u200e') >= 0 || text.indexOf('\u200f') >= 0
        || text.indexOf('\u061c') >= 0) && hasRightToLeft(text);
    int previous = -1;
    for (int i = 0; i < text.length(); previous = text.codePointBefore(i)) {
      int at = i;
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (cp >= 0x20 && cp < 0x7f) {
        // Printable ASCII, most of a prompt: none of the checks below applies to it. Said here
        // rather than left to them, so that its cost does not hang on the JIT inlining them.
        continue;
      }
      if (rejectInvisible && cp == BLACK_FLAG) {
        int end = subdivisionFlagEnd(text, i);
        if (end > i) {
          i = end; // England, Scotland, Wales: the black flag and its tag characters
          continue;
        }
      }
      if (rejectInvisible && (isSelector(cp) || isJoiner(cp) || isWordMark(cp))) {
        // Invisible, but what writing needs in its place: judged by its neighbours.
        int next = i < text.length() ? text.codePointAt(i) : -1;
        boolean allowed = isSelector(cp) ? selectorAllowed(cp, previous, next)
            : isJoiner(cp) ? joinerAllowed(text, at, next)
            : wordMarkAllowed(text, at, cp, next, rightToLeft);
        if (!allowed) {
          return "contains invisible or control characters";
        }
        continue;
      }
      if (cp == '\t') {
        continue;
      }
      if (isLineBreak(cp)) {
        if (!allowLineBreaks) {
          return "contains a line break";
        }
        if (cp == '\n' || cp == '\r') {
          continue;
        }
      }
      if (rejectInvisible && isInvisible(cp)) {
        return "contains invisible or control characters";
      }
    }
    // Also as it reads: a soft hyphen inside a word (allowed writing) or, where invisible Unicode is
    // allowed, any character that renders as nothing would otherwise split a denied phrase; in its
    // compatibility form, where fullwidth or mathematical letters, ligatures and Unicode spaces
    // spell it as the reader sees it (and as a tokenizer that applies NFKC, as SentencePiece does by
    // default, passes it to the model); and with look-alike letters of other scripts read as the
    // ASCII they look like. ASCII text has neither of the last two forms: one scan finds that.
    String visible = patterns.isEmpty() ? text : withoutIgnorables(text);
    boolean ascii = patterns.isEmpty() || isAscii(visible);
    String compatible = ascii ? visible : compatibilityForm(visible);
    String lookalike = ascii ? compatible : lookalikeForm(visible, compatible);
    for (int p = 0; p < patterns.size(); p++) {
      boolean found;
      try {
        found = patterns.get(p).matcher(text).find()
            || (visible != text && patterns.get(p).matcher(visible).find())
            || (compatible != visible && patterns.get(p).matcher(compatible).find())
            || (lookalike != compatible && patterns.get(p).matcher(lookalike).find());
      } catch (StackOverflowError e) {
        // java.util.regex recurses per repetition of a group such as (.|\n)*: on a long text the
        // stack runs out. Refused (fail closed), as a decision rather than an error.
        return "could not be checked against the denied pattern '" + patternNames.get(p) + "'";
      }
      if (found) {
        return "matches the denied pattern '" + patternNames.get(p) + "'";
      }
    }
    return null;
  }

  /**
   * {@code text} without the characters that render as nothing (format characters such as the soft
   * hyphen, zero-width space, joiners and direction marks; variation selectors and the combining
   * grapheme joiner; the Hangul fillers and U+17B4, U+17B5), or {@code text} itself if it holds
   * none: the text as a reader sees it.
   */
  private static String withoutIgnorables(String text) {
    StringBuilder sb = null;
    for (int i = 0; i < text.length(); ) {
      char c = text.charAt(i);
      if (c < 0x80) { // no ASCII character renders as nothing
        if (sb != null) {
          sb.append(c);
        }
        i++;
        continue;
      }
      int cp = text.codePointAt(i);
      int next = i + Character.charCount(cp);
      if (rendersAsNothing(cp)) {
        if (sb == null) {
          sb = new StringBuilder(text.length()).append(text, 0, i);
        }
      } else if (sb != null) {
        sb.append(text, i, next);
      }
      i = next;
    }
    return sb == null ? text : sb.toString();
  }

  /**
   * {@code visible} in Unicode normalisation form NFKC with every space separator folded to U+0020,
   * or {@code visible} itself if that changes nothing: fullwidth, mathematical and circled letters,
   * ligatures and superscripts become the letters and digits they show, and no-break, em, ideographic
   * and other spaces a plain space. NFKC expands a code point to at most 18 chars (U+FDFA; composing
   * only shortens), so the copy is at most 18 times the text's code points, which {@link #maxLength}
   * bounds. ASCII text is returned after one scan; other text already in NFKC is only scanned, not copied.
   *
   * <p>Normalised as Unicode's stream-safe text format (UAX #15) has it: canonical ordering sorts a
   * run of combining marks by insertion, so its cost grows with the square of the run's length, and
   * a text of nothing but marks (4,096 of them, in descending classes) took about 60 times as long as
   * plain text. So a grapheme joiner (U+034F) goes after every {@value #MAX_NON_STARTERS} marks in a
   * row before normalising, and is taken out again after: marks are ordered within runs of at most
   * that many, which no writing system needs more of.
   */
  static String compatibilityForm(String visible) {
    if (isAscii(visible)) {
      return visible; // ASCII is its own NFKC form, with no marks and no space but U+0020
    }
    String safe = streamSafe(visible);
    String normal = Normalizer.isNormalized(safe, Normalizer.Form.NFKC)
        ? safe : Normalizer.normalize(safe, Normalizer.Form.NFKC);
    if (safe != visible) {
      // Only the joiners put in above: visible text has none, and NFKC makes none.
      normal = normal.replace(GRAPHEME_JOINER, "");
    }
    char[] folded = null;
    for (int i = 0; i < normal.length(); i++) {
      char c = normal.charAt(i);
      // Every space separator is in the BMP; NFKC maps all but the Ogham space mark to U+0020.
      if (c != ' ' && Character.getType(c) == Character.SPACE_SEPARATOR) {
        if (folded == null) {
          folded = normal.toCharArray();
        }
        folded[i] = ' ';
      }
    }
    return folded != null ? new String(folded) : normal;
  }

  /**
   * The look-alike form of {@code visible}, whose {@linkplain #compatibilityForm compatibility form}
   * is {@code compatible}: that form with the look-alikes of other scripts read as ASCII. The few
   * look-alikes NFKC would turn into characters of no ASCII look (Greek lunate sigma {@code ϲ} into
   * final sigma {@code ς}) are read first, and only then is the text normalised again; each becomes
   * at most two ASCII chars, which NFKC keeps, so the bound of the compatibility form holds.
   */
  static String lookalikeForm(String visible, String compatible) {
    String readFirst = AsciiLookalikes.readBeforeNormalising(visible);
    return AsciiLookalikes.readAsAscii(readFirst == visible ? compatible : compatibilityForm(readFirst));
  }

  private static boolean isAscii(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code text} with a grapheme joiner after every {@value #MAX_NON_STARTERS} {@linkplain
   * #mayBeNonStarter non-starters} in a row, or {@code text} itself if it has no longer run.
   */
  private static String streamSafe(String text) {
    StringBuilder sb = null;
    int run = 0;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      int next = i + Character.charCount(cp);
      if (!mayBeNonStarter(cp)) {
        run = 0;
      } else if (++run > MAX_NON_STARTERS) {
        if (sb == null) {
          sb = new StringBuilder(text.length() + text.length() / MAX_NON_STARTERS).append(text, 0, i);
        }
        sb.append(GRAPHEME_JOINER);
        run = 1;
      }
      if (sb != null) {
        sb.append(text, i, next);
      }
      i = next;
    }
    return sb == null ? text : sb.toString();
  }

  /**
   * Whether {@code cp} is, or NFKC decomposes to, a character canonical ordering may move: a
   * combining mark, or a halfwidth katakana sound mark (U+FF9E, U+FF9F, a modifier letter NFKC maps
   * to a combining one). Checked against every code point in a test.
   */
  static boolean mayBeNonStarter(int cp) {
    return isMark(cp) || cp == 0xff9e || cp == 0xff9f;
  }

  private static boolean rendersAsNothing(int cp) {
    return Character.getType(cp) == Character.FORMAT || isSelector(cp)
        || cp == 0x115f || cp == 0x1160 || cp == 0x3164 || cp == 0xffa0 || cp == 0x17b4 || cp == 0x17b5;
  }

  /** {@code code} in tag characters (U+E0020 + ASCII), then the cancel tag U+E007F. */
  private static String tags(String code) {
    StringBuilder b = new StringBuilder();
    code.chars().forEach(c -> b.appendCodePoint(0xe0000 + c));
    return b.appendCodePoint(0xe007f).toString();
  }

  private static boolean isLineBreak(int cp) {
    return cp == '\n' || cp == '\r' || cp == 0x0b || cp == 0x0c || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
  }

  /**
   * Where the tag characters of one of the emoji subdivision flags (England, Scotland, Wales) that
   * start at {@code at}, after the black flag, end; {@code at} if none does. Tag characters are
   * format characters, refused anywhere else: any other tag sequence could spell hidden text.
   */
  private static int subdivisionFlagEnd(String text, int at) {
    for (String flag : SUBDIVISION_FLAGS) {
      if (text.startsWith(flag, at)) {
        return at + flag.length();
      }
    }
    return at;
  }

  /**
   * Format characters that ordinary writing puts between letters: a zero-width space between words
   * of Thai, Lao, Khmer or Myanmar (written without spaces), the Mongolian vowel separator, a soft
   * hyphen inside a word, a left-to-right or right-to-left mark in right-to-left text, and a
   * byte-order mark at the very start.
   */
  private static boolean isWordMark(int cp) {
    return cp == 0x200b || cp == 0x180e || cp == 0x00ad || isDirectionMark(cp) || cp == 0xfeff;
  }

  /**
   * Whether word mark {@code cp} at {@code at}, followed by {@code next} (-1 at the end), is where
   * writing puts it; {@code rightToLeft}: whether the text has right-to-left letters.
   */
  private static boolean wordMarkAllowed(String text, int at, int cp, int next, boolean rightToLeft) {
    if (cp == 0xfeff) {
      return at == 0;
    }
    if (isDirectionMark(cp)) {
      return rightToLeft && directionMarkAllowed(text, at, next);
    }
    if (at == 0 || next < 0 || isHidden(next)) {
      return false;
    }
    int previous = text.codePointBefore(at);
    if (isInvisible(previous)) {
      return false;
    }
    Character.UnicodeScript before = scriptBefore(text, at);
    Character.UnicodeScript after = Character.UnicodeScript.of(next);
    switch (cp) {
      case 0x200b:
        return before == after && NO_SPACE_SCRIPTS.contains(before);
      case 0x180e:
        return before == Character.UnicodeScript.MONGOLIAN && after == Character.UnicodeScript.MONGOLIAN;
      default: // soft hyphen: inside a word of one script that hyphenates (not ideographs)
        return before == after && Character.isLetter(next) && !Character.isIdeographic(next)
            && before != Character.UnicodeScript.COMMON && before != Character.UnicodeScript.HAN;
    }
  }

  private static boolean isDirectionMark(int cp) {
    return cp == 0x200e || cp == 0x200f || cp == 0x061c;
  }

  /**
   * Whether the direction mark at {@code at} (followed by {@code next}, -1 at the end) can change
   * the layout: at the start or end of the text or a line, or beside a character without a strong
   * direction (digits, punctuation), or between characters of opposite directions; never with
   * spaces on both sides, next to another invisible character, or between two characters of one
   * direction.
   */
  private static boolean directionMarkAllowed(String text, int at, int next) {
    int previous = at == 0 ? -1 : text.codePointBefore(at);
    boolean startsLine = previous < 0 || isLineBreak(previous);
    boolean endsLine = next < 0 || isLineBreak(next);
    if ((!startsLine && isHidden(previous)) || (!endsLine && isHidden(next))) {
      return false;
    }
    if (startsLine || endsLine) {
      return !(startsLine && endsLine);
    }
    if (Character.isWhitespace(previous) && Character.isWhitespace(next)) {
      return false;
    }
    int before = strongDirection(previous);
    int after = strongDirection(next);
    return before == 0 || after == 0 || before != after;
  }

  /** 1 for a strong left-to-right character, 2 for a strong right-to-left one, 0 otherwise. */
  private static int strongDirection(int cp) {
    switch (Character.getDirectionality(cp)) {
      case Character.DIRECTIONALITY_LEFT_TO_RIGHT:
        return 1;
      case Character.DIRECTIONALITY_RIGHT_TO_LEFT:
      case Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC:
        return 2;
      default:
        return 0;
    }
  }

  private static boolean hasRightToLeft(String text) {
    return text.codePoints().anyMatch(c -> Character.isLetter(c) && RTL_SCRIPTS.contains(Character.UnicodeScript.of(c)));
  }

  /**
   * Whether {@code cp} shows nothing by itself: an invisible character (joiners and word marks are
   * format characters, so among them) or a selector.
   */
  private static boolean isHidden(int cp) {
    return isInvisible(cp) || isSelector(cp);
  }

  /** Zero-width non-joiner or joiner: visible only in what they join. */
  private static boolean isJoiner(int cp) {
    return cp == 0x200c || cp == 0x200d;
  }

  /** A variation selector or the combining grapheme joiner: visible only as part of what precedes it. */
  private static boolean isSelector(int cp) {
    return (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef) || cp == 0x034f
        || isMongolianSelector(cp);
  }

  /** Mongolian free variation selectors FVS1–FVS4. */
  private static boolean isMongolianSelector(int cp) {
    return (cp >= 0x180b && cp <= 0x180d) || cp == 0x180f;
  }

  /**
   * Whether selector {@code cp}, followed by {@code next} (-1 at the end), may follow {@code
   * previous} (-1 at the start); see the class comment.
   */
  private boolean selectorAllowed(int cp, int previous, int next) {
    if (previous < 0 || isHidden(previous)) {
      return false;
    }
    if (cp == 0x034f) {
      // Between two Hebrew points, to keep their order; elsewhere it only hides.
      return isMark(previous) && next >= 0 && isMark(next)
          && Character.UnicodeScript.of(previous) == Character.UnicodeScript.HEBREW && wouldReorder(previous, next);
    }
    if (isMongolianSelector(cp)) {
      return Character.isLetter(previous) && Character.UnicodeScript.of(previous) == Character.UnicodeScript.MONGOLIAN;
    }
    if (allowIdeographicVariants && Character.isIdeographic(previous)) {
      return true;
    }
    if (cp == 0xfe0f && isKeycapBase(previous)) {
      return next == 0x20e3;
    }
    return (cp == 0xfe0e || cp == 0xfe0f) && isEmojiBase(previous);
  }

  /**
   * Whether the joiner at {@code at} in {@code text}, followed by {@code next}, joins two emoji or
   * two characters of one joining script; see the class comment.
   */
  private static boolean joinerAllowed(String text, int at, int next) {
    if (at == 0) {
      return false;
    }
    if (next < 0) {
      return isVirama(text.codePointBefore(at)); // a half form or chillu ending the text
    }
    int joiner = text.codePointAt(at);
    int previous = text.codePointBefore(at);
    if (previous == 0xfe0f && at > 1) {
      previous = text.codePointBefore(at - 1); // an emoji in emoji presentation (checked when read)
    }
    if (joiner == 0x200d && isEmoji(previous) && isEmoji(next)) {
      return true;
    }
    Character.UnicodeScript script = scriptBefore(text, at);
    if (!JOINING_SCRIPTS.contains(script)) {
      return false;
    }
    if (isVirama(previous)) {
      return true; // a half form or chillu: whatever follows, a space or punctuation included
    }
    return !isHidden(next) && !Character.isWhitespace(next)
        && (Character.UnicodeScript.of(next) == script || isMark(next));
  }

  /** The script of the letter before {@code at}, over any combining marks (shadda, hamza above) after it. */
  private static Character.UnicodeScript scriptBefore(String text, int at) {
    int i = at;
    while (i > 0) {
      int cp = text.codePointBefore(i);
      Character.UnicodeScript script = Character.UnicodeScript.of(cp);
      if (!isMark(cp) || (script != Character.UnicodeScript.INHERITED && script != Character.UnicodeScript.COMMON)) {
        return script;
      }
      i -= Character.charCount(cp);
    }
    return Character.UnicodeScript.UNKNOWN;
  }

  /** Whether canonical ordering would swap mark {@code first} and mark {@code second} (what CGJ prevents). */
  private static boolean wouldReorder(int first, int second) {
    String pair = new StringBuilder().appendCodePoint(first).appendCodePoint(second).toString();
    return !Normalizer.normalize(pair, Normalizer.Form.NFD).equals(pair);
  }

  private static boolean isMark(int cp) {
    int type = Character.getType(cp);
    return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK
        || type == Character.ENCLOSING_MARK;
  }

  /** An Indic virama (halant), after which ZWJ or ZWNJ asks for a half form or a chillu. */
  private static boolean isVirama(int cp) {
    if (cp == 0x0D4D || cp == 0x0BCD || cp == 0x0DCA || cp == 0x1039 || cp == 0x103A || cp == 0x17D2) {
      return true;
    }
    if (Character.getType(cp) != Character.NON_SPACING_MARK) {
      return false;
    }
    String name = Character.getName(cp); // looked up once
    return name != null && name.contains("SIGN VIRAMA");
  }

  /** Pictographs, symbols and emoji modifiers (skin tones). */
  private static boolean isEmoji(int cp) {
    int type = Character.getType(cp);
    return (type == Character.OTHER_SYMBOL || type == Character.MODIFIER_SYMBOL || type == Character.MATH_SYMBOL
        || isNewerPictograph(cp)) && cp > 0x7f && !isInvisible(cp);
  }

  /**
   * A code point of the pictograph blocks that this JDK's Unicode data does not know yet (emoji
   * added after it, such as U+1FAE0): visible wherever they are supported, so not invisible.
   */
  private static boolean isNewerPictograph(int cp) {
    return cp >= 0x1f000 && cp <= 0x1faff && Character.getType(cp) == Character.UNASSIGNED;
  }

  /**
   * What VS15/VS16 may follow (besides a keycap's base, see {@link #selectorAllowed}): a symbol
   * outside ASCII, an emoji not yet in this JDK's Unicode data, or one of ℹ ‼ ⁉ 〰 〽.
   */
  private static boolean isEmojiBase(int cp) {
    if (cp <= 0x7f || isInvisible(cp)) {
      return false;
    }
    int type = Character.getType(cp);
    return type == Character.OTHER_SYMBOL || type == Character.MATH_SYMBOL || isNewerPictograph(cp)
        || cp == 0x2139 || cp == 0x203c || cp == 0x2049 || cp == 0x3030 || cp == 0x303d;
  }

  /** A keycap's base: a digit, {@code #} or {@code *}, followed by VS16 and U+20E3. */
  private static boolean isKeycapBase(int cp) {
    return (cp >= '0' && cp <= '9') || cp == '#' || cp == '*';
  }


  static boolean isInvisible(int cp) {
    if (cp == 0x115f || cp == 0x1160 || cp == 0x3164 || cp == 0xffa0 || cp == 0x17b4 || cp == 0x17b5
        || cp == 0x2800 || cp == 0x1d159) {
      return true;
    }
    if (isNewerPictograph(cp)) {
      return false;
    }
    switch (Character.getType(cp)) {
      case Character.FORMAT:
      case Character.PRIVATE_USE:
      case Character.UNASSIGNED:
      case Character.SURROGATE:
      case Character.CONTROL:
        return true;
      default:
        return false;
    }
  }

  /** Builds a {@link TextSpec}. */
  public static final class Builder {
    private int minLength;
    private int maxLength = 4096;
    private boolean rejectInvisible = true;
    private boolean allowLineBreaks = true;
    private boolean allowIdeographicVariants;
    private final List<String> patternNames = new ArrayList<>();
    private final List<Pattern> patterns = new ArrayList<>();

    private Builder() {}

    /**
     * Fewest code points. Default 0.
     *
     * @param v the least length in code points, at least 0
     * @return this builder
     */
    public Builder minLength(int v) {
      if (v < 0) {
        throw new IllegalArgumentException("TextSpec.minLength must not be negative, was " + v);
      }
      this.minLength = v;
      return this;
    }

    /**
     * Most code points. Default 4,096.
     *
     * @param v the limit in code points, at least 1
     * @return this builder
     */
    public Builder maxLength(int v) {
      if (v < 1) {
        throw new IllegalArgumentException("TextSpec.maxLength must be at least 1, was " + v);
      }
      this.maxLength = v;
      return this;
    }

    /**
     * Whether one variation selector directly after a CJK ideograph is allowed (ideographic
     * variants, as Japanese names use them). Default false: a selector after each ideograph can
     * carry a hidden byte. Has no effect without {@link #rejectInvisible}.
     *
     * @param v true to allow such selectors
     * @return this builder
     */
    public Builder allowIdeographicVariants(boolean v) {
      this.allowIdeographicVariants = v;
      return this;
    }

    /**
     * Whether invisible Unicode is refused. Default true.
     *
     * @param v false to allow invisible characters
     * @return this builder
     */
    public Builder rejectInvisible(boolean v) {
      this.rejectInvisible = v;
      return this;
    }

    /**
     * Whether line breaks (see the class description: line feeds, carriage returns and the other
     * Unicode line terminators) are allowed; tabs always are. Default true.
     *
     * @param v false to refuse line breaks
     * @return this builder
     */
    public Builder allowLineBreaks(boolean v) {
      this.allowLineBreaks = v;
      return this;
    }

    /**
     * Refuses text in which {@code regex} is found, as sent or with the characters that render
     * as nothing removed (format characters such as the soft hyphen, zero-width space, joiners and
     * direction marks, and variation selectors), so that none of them, even where writing allows
     * it, can split a denied phrase (a soft hyphen inside {@code ignore}); or in the compatibility
     * form of that text: Unicode NFKC, with every space separator (no-break, em, ideographic, ...)
     * folded to a plain space, so that fullwidth letters ({@code ｉｇｎｏｒｅ}), mathematical
     * alphanumerics ({@code 𝐢𝐠𝐧𝐨𝐫𝐞}), circled letters and ligatures ({@code ﬆ} for {@code st})
     * match a pattern written in plain letters. NFKC does not fold case: write {@code (?i)} for
     * that. And in the look-alike form: the compatibility form with every code point outside ASCII
     * that Unicode TR 39's confusables data takes for one or two ASCII letters or digits replaced
     * by them (Cyrillic {@code іgnоrе}, Greek {@code ο}, Cherokee {@code Ꭺ}; an uppercase look-alike
     * of {@code I} or {@code l} reads as {@code I}, a lowercase one as {@code l}, a digit as
     * {@code 1}), taken from a table generated from ICU's copy of that data (Unicode 17.0). ASCII
     * and every other code point stay as they are, so a pattern written in ASCII keeps its meaning
     * and one written in another script still sees its letters in the other forms. What remains:
     * text of another script can spell an ASCII word by accident (Russian {@code сор} reads as
     * {@code cop}, so {@code \bcop\b} refuses it); look-alikes made of several ASCII characters
     * ({@code rn} for {@code m}) and look-alikes with marks ({@code ё} for {@code ë}) are not
     * folded. The {@code name} (not the pattern, not the text) appears in the client's detail.
     *
     * <p>Patterns run only on text within {@link #maxLength}; the compatibility and look-alike
     * forms are made only for text with a code point outside ASCII and compared only where they
     * differ. Each is at most 18 times that many chars (U+FDFA, the one code point NFKC expands
     * most; no look-alike grows a code point's NFKD form past that), so a pattern may see up to
     * 73,728 chars at the default maximum, up to three times. Patterns are the operator's: keep them
     * free of catastrophic backtracking. A pattern that overflows the stack on a text
     * (java.util.regex recurses once per repetition of a group such as {@code (.|\n)*}) refuses
     * that text, as if it matched.
     *
     * @param name the name shown to the client when the pattern matches; not blank
     * @param regex the pattern, in {@link java.util.regex.Pattern} syntax; not null
     * @return this builder
     */
    public Builder denyPattern(String name, String regex) {
      Objects.requireNonNull(name, "name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("TextSpec.denyPattern: name must not be blank");
      }
      patternNames.add(name);
      patterns.add(Pattern.compile(Objects.requireNonNull(regex, "regex")));
      return this;
    }

    /**
     * Builds the spec; fails if {@code minLength > maxLength}. With deny patterns, loads the
     * look-alike table (once per JVM) here, so that a damaged jar fails at start-up with an {@link
     * IllegalStateException} (wrapped in an {@link ExceptionInInitializerError}), not on a request.
     *
     * @return the spec, immutable
     * @throws IllegalArgumentException if {@code minLength} exceeds {@code maxLength}
     */
    public TextSpec build() {
      if (minLength > maxLength) {
        throw new IllegalArgumentException("TextSpec.minLength (" + minLength + ") exceeds maxLength (" + maxLength + ")");
      }
      if (!patterns.isEmpty()) {
        AsciiLookalikes.size();
      }
      return new TextSpec(this);
    }
  }
}
