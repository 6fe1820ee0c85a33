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
      "hi\uFE00", "hi\uFE0D", "hi\uDB40\uDD00", "hi\uDB40\uDDEF", // variation selectors VS1, VS14, VS17, VS256
      "a\u034Fb", "a\u115Fb", "a\u1160b", "a\u3164b", "a\uFFA0b"}) // CGJ, Hangul fillers
  void charactersThatRenderAsNothingAreInvisible(String text) {
    assertThat(TextSpec.defaults().violation(text)).isEqualTo("contains invisible or control characters");
    assertThat(TextSpec.builder().rejectInvisible(false).build().violation(text)).isNull();
  }

  @Test
  void emojiPresentationSelectorsAndOrdinaryTextPass() {
    // VS16 follows most emoji ("❤️"), VS15 asks for the text form: neither is hidden content.
    assertThat(TextSpec.defaults().violation("I love it \u2764\uFE0F \u263A\uFE0E")).isNull();
    assertThat(TextSpec.defaults().violation("한국어 텍스트, café, 日本語")).isNull();
  }
}
