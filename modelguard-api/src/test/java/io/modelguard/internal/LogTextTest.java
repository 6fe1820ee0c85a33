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

  @Test
  void anExceptionWhoseTextIsFitForOneLineIsLoggedItselfWithItsRealClasses() {
    IllegalStateException cause = new IllegalStateException("pool exhausted");
    IllegalArgumentException e = new IllegalArgumentException("tenant acme, model digits", cause);
    e.addSuppressed(new java.io.UncheckedIOException("close failed", new java.io.IOException("broken pipe")));

    assertThat(LogText.throwable(e)).isSameAs(e);
  }

  @Test
  void oneUnfitExceptionAnywhereInTheGraphMakesTheWholeAStandIn() {
    IllegalArgumentException e = new IllegalArgumentException("fine", new IllegalStateException("fine too"));
    e.addSuppressed(new RuntimeException("close failed", new RuntimeException("line\nforged")));

    Throwable logged = LogText.throwable(e);

    assertThat(logged).isNotSameAs(e).isInstanceOf(EscapedThrowable.class);
    assertThat(logged.getSuppressed()).singleElement()
        .satisfies(s -> assertThat(s.getCause().getMessage()).isEqualTo("java.lang.RuntimeException: line?forged"));
  }

  @Test
  void aMessageThatOnlyGetMessageOrGetLocalizedMessageCarriesStillMakesAStandIn() {
    // Logback prints the class name and getMessage(), not toString(); other backends read
    // getLocalizedMessage(): each is checked.
    RuntimeException viaGetMessage = new RuntimeException("shown") {
      private static final long serialVersionUID = 1L;

      @Override
      public String getMessage() {
        return "a\r\nforged";
      }

      @Override
      public String toString() {
        return "clean";
      }
    };
    RuntimeException viaLocalized = new RuntimeException("shown") {
      private static final long serialVersionUID = 1L;

      @Override
      public String getLocalizedMessage() {
        return "a\u2028forged";
      }
    };

    assertThat(LogText.throwable(viaGetMessage)).isInstanceOf(EscapedThrowable.class);
    assertThat(LogText.throwable(viaLocalized)).isInstanceOf(EscapedThrowable.class);
  }

  @Test
  void aFitGraphIsLoggedItselfUpToTheLimitOfExceptionsAndAsAStandInBeyondIt() {
    Throwable atLimit = new RuntimeException("root");
    for (int i = 1; i < LogText.MAX_THROWABLES; i++) {
      atLimit = new RuntimeException("level " + i, atLimit);
    }
    Throwable beyond = new RuntimeException("one more", atLimit);

    assertThat(LogText.throwable(atLimit)).isSameAs(atLimit);
    assertThat(LogText.throwable(beyond)).isInstanceOf(EscapedThrowable.class);
  }
}
