package io.modelguard.input;

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
 * U+1160, U+3164, U+FFA0), the combining marks that render as nothing (U+17B4, U+17B5,
 * U+180B–180F), and variation selectors (U+FE00–FE0F, U+E0100–E01EF) and the combining grapheme
 * joiner (U+034F), each of which can carry hidden bytes after any visible character. Refused by
 * default, except where writing needs them, so that a hidden message has no room there beyond about
 * a bit per character:
 *
 * <ul>
 *   <li>VS15 or VS16 (U+FE0E, U+FE0F) directly after a symbol or an emoji's keycap base (a digit,
 *       {@code #}, {@code *}): emoji presentation ("❤️");
 *   <li>a zero-width joiner or non-joiner (U+200D, U+200C) alone between two emoji, or between two
 *       letters or marks of one Arabic, Syriac, N'Ko or Indic script: emoji sequences ("👨‍👩‍👧"),
 *       Persian words, Indic conjuncts;
 *   <li>the combining grapheme joiner directly after a combining mark (Hebrew);
 *   <li>with {@link Builder#allowIdeographicVariants(boolean)} only, one selector of VS1–VS16 or
 *       VS17–VS256 directly after a CJK ideograph: ideographic variants, as Japanese names use
 *       (葛󠄀). Off by default: a selector per ideograph can carry a byte.
 * </ul>
 *
 * <p>A line break is a line feed, a carriage return, a vertical tab, a form feed, U+0085 (next
 * line), U+2028 (line separator) or U+2029 (paragraph separator); with {@code allowLineBreaks(false)}
 * every one of them is refused.
 */
public final class TextSpec {
  /** Scripts whose writing uses the zero-width joiner and non-joiner between letters. */
  private static final Set<Character.UnicodeScript> JOINING_SCRIPTS = EnumSet.of(
      Character.UnicodeScript.ARABIC, Character.UnicodeScript.SYRIAC, Character.UnicodeScript.NKO,
      Character.UnicodeScript.DEVANAGARI, Character.UnicodeScript.BENGALI, Character.UnicodeScript.GURMUKHI,
      Character.UnicodeScript.GUJARATI, Character.UnicodeScript.ORIYA, Character.UnicodeScript.TAMIL,
      Character.UnicodeScript.TELUGU, Character.UnicodeScript.KANNADA, Character.UnicodeScript.MALAYALAM,
      Character.UnicodeScript.SINHALA);

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

  /** Starts a builder: 0 to 4,096 code points, invisible Unicode refused, line breaks allowed, no deny patterns. */
  public static Builder builder() {
    return new Builder();
  }

  /** The default text spec (see {@link #builder()}). */
  public static TextSpec defaults() {
    return builder().build();
  }

  /** Most code points. */
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
    int previous = -1;
    for (int i = 0; i < text.length(); previous = text.codePointBefore(i)) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (rejectInvisible && isSelector(cp)) {
        if (!selectorAllowed(cp, previous)) {
          return "contains invisible or control characters";
        }
        continue;
      }
      if (rejectInvisible && isJoiner(cp)) {
        if (i >= text.length() || !joinerAllowed(text, i - Character.charCount(cp), text.codePointAt(i))) {
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
    for (int p = 0; p < patterns.size(); p++) {
      if (patterns.get(p).matcher(text).find()) {
        return "matches the denied pattern '" + patternNames.get(p) + "'";
      }
    }
    return null;
  }

  private static boolean isLineBreak(int cp) {
    return cp == '\n' || cp == '\r' || cp == 0x0b || cp == 0x0c || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
  }

  /** Zero-width non-joiner or joiner: visible only in what they join. */
  private static boolean isJoiner(int cp) {
    return cp == 0x200c || cp == 0x200d;
  }

  /** A variation selector or the combining grapheme joiner: visible only as part of what precedes it. */
  private static boolean isSelector(int cp) {
    return (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef) || cp == 0x034f;
  }

  /** Whether selector {@code cp} may follow {@code previous} (-1 at the start); see the class comment. */
  private boolean selectorAllowed(int cp, int previous) {
    if (previous < 0 || isSelector(previous) || isJoiner(previous) || isInvisible(previous)) {
      return false;
    }
    if (cp == 0x034f) {
      int type = Character.getType(previous);
      return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK;
    }
    if (allowIdeographicVariants && Character.isIdeographic(previous)) {
      return true;
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
    int previous = text.codePointBefore(at);
    if (previous == 0xfe0f && at > 1) {
      previous = text.codePointBefore(at - 1); // an emoji in emoji presentation (checked when read)
    }
    if (isEmoji(previous) && isEmoji(next)) {
      return true;
    }
    Character.UnicodeScript script = Character.UnicodeScript.of(previous);
    return JOINING_SCRIPTS.contains(script) && Character.UnicodeScript.of(next) == script
        && !isInvisible(previous) && !isInvisible(next);
  }

  /** Pictographs, symbols and emoji modifiers (skin tones). */
  private static boolean isEmoji(int cp) {
    int type = Character.getType(cp);
    return type == Character.OTHER_SYMBOL || type == Character.MODIFIER_SYMBOL || (cp >= 0x1f3fb && cp <= 0x1f3ff);
  }

  /** What VS15/VS16 may follow: a symbol, or a keycap's digit, {@code #} or {@code *}, or ‼ ⁉ 〰 〽. */
  private static boolean isEmojiBase(int cp) {
    int type = Character.getType(cp);
    return type == Character.OTHER_SYMBOL || type == Character.MATH_SYMBOL || type == Character.MODIFIER_SYMBOL
        || (cp >= '0' && cp <= '9') || cp == '#' || cp == '*' || cp == 0x203c || cp == 0x2049 || cp == 0x3030
        || cp == 0x303d;
  }


  static boolean isInvisible(int cp) {
    if (cp == 0x115f || cp == 0x1160 || cp == 0x3164 || cp == 0xffa0 || cp == 0x17b4 || cp == 0x17b5
        || (cp >= 0x180b && cp <= 0x180f)) {
      return true;
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

    /** Fewest code points. Default 0. */
    public Builder minLength(int v) {
      if (v < 0) {
        throw new IllegalArgumentException("TextSpec.minLength must not be negative, was " + v);
      }
      this.minLength = v;
      return this;
    }

    /** Most code points. Default 4,096. */
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
     */
    public Builder allowIdeographicVariants(boolean v) {
      this.allowIdeographicVariants = v;
      return this;
    }

    /** Whether invisible Unicode is refused. Default true. */
    public Builder rejectInvisible(boolean v) {
      this.rejectInvisible = v;
      return this;
    }

    /**
     * Whether line breaks (see the class description: line feeds, carriage returns and the other
     * Unicode line terminators) are allowed; tabs always are. Default true.
     */
    public Builder allowLineBreaks(boolean v) {
      this.allowLineBreaks = v;
      return this;
    }

    /**
     * Refuses text in which {@code regex} is found. The {@code name} (not the pattern, not the
     * text) appears in the client's detail. Patterns run only on text within {@link #maxLength},
     * but they are the operator's: keep them free of catastrophic backtracking.
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

    /** Builds the spec; fails if {@code minLength > maxLength}. */
    public TextSpec build() {
      if (minLength > maxLength) {
        throw new IllegalArgumentException("TextSpec.minLength (" + minLength + ") exceeds maxLength (" + maxLength + ")");
      }
      return new TextSpec(this);
    }
  }
}
