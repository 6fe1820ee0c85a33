package io.modelguard.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogTextTest {
  @Test
  void plainTextWithinTheLimitIsReturnedAsItIs() {
    String text = "tenant acme, model digits";

    assertThat(LogText.oneLine(text, 100)).isSameAs(text);
    assertThat(LogText.oneLine(text, text.length())).isSameAs(text);
  }

  @Test
  void controlCharactersAndLineSeparatorsBecomeQuestionMarks() {
    assertThat(LogText.oneLine("a\r\nb\tc\u0000d\u2028e\u2029f\u007fg", 100)).isEqualTo("a??b?c?d?e?f?g");
  }

  @Test
  void longTextIsCutAtTheLimitAndMarked() {
    assertThat(LogText.oneLine("abcdef", 4)).isEqualTo("abcd…");
    assertThat(LogText.oneLine("ab\ncdef", 4)).isEqualTo("ab?c…");
  }

  @Test
  void aCutNeverSplitsASurrogatePair() {
    String emoji = "\uD83D\uDE00"; // one code point, two chars
    assertThat(LogText.oneLine("ab" + emoji + "c", 3)).isEqualTo("ab…");
    assertThat(LogText.oneLine("ab" + emoji + "c", 4)).isEqualTo("ab" + emoji + "…");
  }

  @Test
  void bidirectionalOverridesAndIsolatesCannotReorderTheRestOfALine() {
    // U+202E would display "tenant=evil<RLO>... ok" right to left, hiding what follows.
    assertThat(LogText.oneLine("a\u202Eb\u202Ac\u2066d\u2069e", 100)).isEqualTo("a?b?c?d?e");
    // The implicit marks too: an RLM beside digits or punctuation moves them on display.
    assertThat(LogText.oneLine("a\u200Eb\u200Fc\u061Cd", 100)).isEqualTo("a?b?c?d");
  }
}
