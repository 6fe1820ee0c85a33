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
  void longTextIsCutAndMarked() {
    assertThat(DemoText.printable("x".repeat(300), 200)).isEqualTo("x".repeat(200) + "…");
    assertThat(DemoText.printable("short", 200)).isEqualTo("short");
  }
}
