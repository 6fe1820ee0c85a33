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

  @Test
  void anExceptionKeepsItsFramesAndCauseButItsMessagesLoseTheirLineBreaks() {
    IllegalStateException cause = new IllegalStateException("cause\r\nforged");
    IllegalArgumentException e = new IllegalArgumentException("top\u2028forged", cause);

    Throwable logged = LogText.throwable(e);

    assertThat(logged.getMessage()).isEqualTo("java.lang.IllegalArgumentException: top?forged");
    assertThat(logged.getStackTrace()).containsExactly(e.getStackTrace());
    assertThat(logged.getCause().getMessage()).isEqualTo("java.lang.IllegalStateException: cause??forged");
    assertThat(logged.getCause().getStackTrace()).containsExactly(cause.getStackTrace());
    assertThat(logged.getCause().getCause()).isNull();
  }

  @Test
  void anExceptionsLongMessageIsCut() {
    Throwable logged = LogText.throwable(new RuntimeException("x".repeat(100_000)));

    assertThat(logged.getMessage()).hasSize(LogText.MAX_THROWABLE_CHARS + 1).endsWith("…");
  }

  @Test
  void aCycleOfCausesAndSuppressedEndsInAMarkedLeaf() {
    RuntimeException a = new RuntimeException("a");
    RuntimeException b = new RuntimeException("b", a);
    a.initCause(b);
    a.addSuppressed(b);

    Throwable logged = LogText.throwable(a);

    assertThat(logged.getCause().getMessage()).isEqualTo("java.lang.RuntimeException: b");
    assertThat(logged.getCause().getCause().getMessage()).isEqualTo("[circular reference] java.lang.RuntimeException: a");
    assertThat(logged.getSuppressed()).singleElement()
        .satisfies(s -> assertThat(s.getMessage()).startsWith("[circular reference]"));
  }

  @Test
  void aLongChainOfCausesIsCutAtTheLimit() {
    Throwable e = new RuntimeException("root");
    for (int i = 0; i < 10_000; i++) {
      e = new RuntimeException("level " + i, e);
    }

    int kept = 0;
    for (Throwable t = LogText.throwable(e); t != null; t = t.getCause()) {
      kept++;
    }
    assertThat(kept).isEqualTo(LogText.MAX_THROWABLES);
  }

  @Test
  void anExceptionWhoseMessageThrowsIsLoggedByItsClassName() {
    RuntimeException hostile = new RuntimeException() {
      private static final long serialVersionUID = 1L;

      @Override
      public String toString() {
        throw new IllegalStateException("toString");
      }

      @Override
      public synchronized Throwable getCause() {
        throw new IllegalStateException("getCause");
      }
    };

    Throwable logged = LogText.throwable(hostile);

    assertThat(logged.getMessage()).startsWith(hostile.getClass().getName() + " (message not loggable: ");
    assertThat(logged.getCause()).isNull();
  }
}
