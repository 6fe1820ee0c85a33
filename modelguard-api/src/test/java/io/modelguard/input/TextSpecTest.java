package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What {@link TextSpec} counts as a line break and as invisible, character by character. */
class TextSpecTest {
  @ParameterizedTest
  @ValueSource(strings = {"a\nb", "a\rb", "a\u000Bb", "a\u000Cb", "a\u0085b", "a\u2028b", "a\u2029b"})
  void everyUnicodeLineTerminatorIsALineBreak(String text) {
    TextSpec oneLine = TextSpec.builder().allowLineBreaks(false).rejectInvisible(false).build();

    assertThat(oneLine.violation(text)).isEqualTo("contains a line break");
    assertThat(oneLine.violation("a\tb")).isNull();
  }

  @Test
  void withLineBreaksAllowedLineFeedAndCarriageReturnPassAndTheSeparatorsToo() {
    TextSpec text = TextSpec.defaults();

    assertThat(text.violation("one\r\ntwo\n")).isNull();
    assertThat(text.violation("one\u2028two\u2029")).isNull();
    // Controls stay invisible characters, line terminators or not.
    assertThat(text.violation("one\u000Btwo")).isEqualTo("contains invisible or control characters");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "hi\uFE00\uFE01", "hi\uDB40\uDD00\uDB40\uDD01\uDB40\uDDEF", // runs of selectors
      "\uFE0Fhi", "a \uFE00b", "a\n\uDB40\uDD00b", "a\u034F\u034Fb", // selectors after nothing visible
      "h\uFE01e\uFE02l\uFE03l\uFE04o", "h\uDB40\uDD41i\uDB40\uDD42", // a selector per letter: a byte each
      "h\uFE0Fi\uFE0E", "a\u034Fb", // emoji selectors and CGJ after plain letters
      "a\uFE0F\u200Db\uFE0F\u200Cc", // selector and joiner per letter
      "x\u17B4\uFE00\u17B4\uFE01", "a\u180Bb", // marks that render as nothing
      "\u845B\uDB40\uDD00\u98FE", "\u8279\uFE00", // ideographic variants, unless allowed
      "a\u115Fb", "a\u1160b", "a\u3164b", "a\uFFA0b", // Hangul fillers
      "a\u200Db", "a\u200D\u200Db", "\u200Cab", "ab\u200D", "a \u200Cb", // joiners outside writing that uses them
      "\u0628\u200C\u0915", "\u2764\u200Da", // a joiner between two scripts, an emoji and a letter
      "a\u200B", "a\u2060b"}) // zero-width space, word joiner
  void charactersThatRenderAsNothingAreInvisible(String text) {
    assertThat(TextSpec.defaults().violation(text)).isEqualTo("contains invisible or control characters");
    assertThat(TextSpec.builder().rejectInvisible(false).build().violation(text)).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "I love it \u2764\uFE0F \u263A\uFE0E 1\uFE0F\u20E3 \u2194\uFE0F", // emoji and text presentation, a keycap
      "\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67 \uD83C\uDFF3\uFE0F\u200D\uD83C\uDF08", // emoji ZWJ sequences
      "\uD83D\uDC69\uD83C\uDFFD\u200D\uD83D\uDCBB", // with a skin tone
      "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645", // Persian: ZWNJ inside a word
      "\u0915\u094D\u200D\u0937", // Devanagari: a conjunct with ZWJ after the virama
      "\u05D0\u05B8\u034F\u05B7", // Hebrew: CGJ between two marks
      "한국어 텍스트, café, 日本語"})
  void writingThatNeedsThemPasses(String text) {
    assertThat(TextSpec.defaults().violation(text)).isNull();
  }

  @Test
  void ideographicVariantsPassOnlyWhenAllowedAndOnlyAfterAnIdeograph() {
    TextSpec japanese = TextSpec.builder().allowIdeographicVariants(true).build();

    assertThat(japanese.violation("\u845B\uDB40\uDD00\u98FE\u533A")).isNull(); // 葛󠄀飾区
    assertThat(japanese.violation("\u8FBB\uDB40\uDD00\u3055\u3093")).isNull();
    assertThat(japanese.violation("\u8279\uFE00")).isNull();
    assertThat(japanese.violation("h\uDB40\uDD41i")).as("after a letter").isNotNull();
    assertThat(japanese.violation("\u845B\uDB40\uDD00\uDB40\uDD01")).as("a run").isNotNull();
  }
}
