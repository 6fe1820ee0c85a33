package io.modelguard.input;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What a text input (a prompt, a review) may contain: its length in code points, whether invisible
 * Unicode is refused, and deny patterns. Rule-based, like llm-guard's InvisibleText and Regex
 * scanners; model-based scanners (prompt-injection classifiers) are a separate plug-in point.
 * Immutable.
 *
 * <p>Invisible Unicode means format characters (Cf: zero-width spaces and joiners, bidi controls,
 * tag characters), private-use (Co), unassigned (Cn), surrogates without a pair, control
 * characters (Cc) other than tab, line feed and carriage return, the Hangul fillers U+115F,
 * U+1160, U+3164 and U+FFA0, and a variation selector (U+FE00–FE0F, U+E0100–E01EF) or combining
 * grapheme joiner (U+034F) that does not directly follow a visible character: one at the start,
 * after a space, a control or another selector. One selector after a character is how emoji
 * choose their presentation ("❤️") and Japanese names their ideographic variant (葛󠄀); a run of
 * them renders as nothing and can carry hidden bytes. Likewise a zero-width non-joiner or joiner
 * (U+200C, U+200D, format characters otherwise) is allowed alone between two visible characters, as
 * in emoji sequences ("👨‍👩‍👧") and Persian and Indic writing, and refused anywhere else. Refused by
 * default.
 *
 * <p>A line break is a line feed, a carriage return, a vertical tab, a form feed, U+0085 (next
 * line), U+2028 (line separator) or U+2029 (paragraph separator); with {@code allowLineBreaks(false)}
 * every one of them is refused.
 */
public final class TextSpec {
  private final int minLength;
  private final int maxLength;
  private final boolean rejectInvisible;
  private final boolean allowLineBreaks;
  private final List<String> patternNames;
  private final List<Pattern> patterns;

  private TextSpec(Builder b) {
    this.minLength = b.minLength;
    this.maxLength = b.maxLength;
    this.rejectInvisible = b.rejectInvisible;
    this.allowLineBreaks = b.allowLineBreaks;
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
        if (previous < 0 || !isVisible(previous)) {
          return "contains invisible or control characters";
        }
        continue;
      }
      if (rejectInvisible && isJoiner(cp)) {
        // Between two visible characters (a selector may end the first): emoji sequences,
        // Persian and Indic writing. Anywhere else it only hides.
        if (previous < 0 || !(isVisible(previous) || isSelector(previous)) || i >= text.length()
            || !isVisible(text.codePointAt(i))) {
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

  /** A character that shows by itself: not a space, a control, an invisible character, a selector or a joiner. */
  private static boolean isVisible(int cp) {
    return !Character.isWhitespace(cp) && !Character.isSpaceChar(cp) && !isInvisible(cp) && !isSelector(cp)
        && !isJoiner(cp);
  }

  /** A variation selector or the combining grapheme joiner: visible only as part of what precedes it. */
  private static boolean isSelector(int cp) {
    return (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef) || cp == 0x034f;
  }

  static boolean isInvisible(int cp) {
    if (cp == 0x115f || cp == 0x1160 || cp == 0x3164 || cp == 0xffa0) {
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
