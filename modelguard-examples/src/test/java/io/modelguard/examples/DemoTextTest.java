package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DemoTextTest {
  @Test
  void controlCharactersAndLineSeparatorsCannotStartAForgedLogLine() {
    assertThat(DemoText.printable("acme\n12:00 INFO forged\r\u2028\u2029\u0000\u007f", 100))
        .isEqualTo("acme?12:00 INFO forged?????");
  }

  @Test
  void c1ControlsAreControlsToo() {
    // NEL ends a line for many log readers; U+009B is the 8-bit CSI that starts a terminal escape.
    assertThat(DemoText.printable("acme\u0085INFO forged\u009B31m\u0080\u009F", 100))
        .isEqualTo("acme?INFO forged?31m??");
  }

  @Test
  void longTextIsCutAndMarked() {
    assertThat(DemoText.printable("x".repeat(300), 200)).isEqualTo("x".repeat(200) + "…");
    assertThat(DemoText.printable("short", 200)).isEqualTo("short");
  }

  @Test
  void bidirectionalOverridesAndIsolatesCannotReorderTheRestOfALine() {
    assertThat(DemoText.printable("a\u202Eb\u202Ac\u2066d\u2069e", 100)).isEqualTo("a?b?c?d?e");
  }

  @Test
  void theLoggedFormIsThePrintableOneWorkedOutWhenFormatted() {
    assertThat(DemoText.printableWhenLogged("acme\nforged", 100)).hasToString("acme?forged");
    assertThat(DemoText.printableWhenLogged("x".repeat(300), 200)).hasToString("x".repeat(200) + "…");
  }
}
