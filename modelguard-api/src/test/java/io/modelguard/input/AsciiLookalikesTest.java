package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The look-alike table: derived from Unicode's confusables data, and what it reads as ASCII. */
class AsciiLookalikesTest {
  @Test
  void theCheckedInTableIsWhatIcuDerivesFromUnicodesConfusablesData() throws IOException {
    String expected = AsciiLookalikesGenerator.generate();
    String checkedIn;
    try (InputStream in = AsciiLookalikes.class.getResourceAsStream(AsciiLookalikes.RESOURCE)) {
      assertThat(in).as(AsciiLookalikes.RESOURCE).isNotNull();
      checkedIn = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }
    if (!checkedIn.equals(expected)) {
      // After an ICU upgrade: the table to check in, with the diff to review.
      Path fresh = Path.of("target", AsciiLookalikes.RESOURCE);
      Files.writeString(fresh, expected, StandardCharsets.US_ASCII);
      assertThat(checkedIn).as("src/main/resources/io/modelguard/input/" + AsciiLookalikes.RESOURCE
          + " differs from what ICU's data gives; review and copy " + fresh.toAbsolutePath()).isEqualTo(expected);
    }
    assertThat(AsciiLookalikes.size()).isEqualTo(expected.lines().filter(l -> !l.startsWith("#")).count());
  }

  @Test
  void readsLookalikesOfOtherScriptsAsAsciiAndLeavesEverythingElse() {
    // Cyrillic i, o, e; Greek omicron; Cherokee GO.
    assertThat(AsciiLookalikes.readAsAscii("\u0456gn\u043Er\u0435 \u03BF \u13AA")).isEqualTo("ignore o A");
    // Where l, I and 1 share a look, an uppercase letter reads as I, a lowercase one as l, a digit as 1.
    assertThat(AsciiLookalikes.readAsAscii("\u0406 \u0399 \u04CF \u0661 \u05D5")).isEqualTo("I I l 1 l");
    // Two letters for one (Cyrillic YERU), and a look-alike of m, whose skeleton is rn.
    assertThat(AsciiLookalikes.readAsAscii("\u042B \uD805\uDF00")).isEqualTo("bI m");
    // Beyond the BMP: Deseret capital long O.
    assertThat(AsciiLookalikes.readAsAscii("x\uD801\uDC04y")).isEqualTo("xOy");
    // Read before normalising: only those NFKC turns into no look-alike (lunate sigmas, the halfwidth
    // vertical), not those NFKC reads itself (Roman numeral one is I there) nor the others.
    assertThat(AsciiLookalikes.readBeforeNormalising("\u03F2 \u03F9 \uFFE8 \u2160 \u0456")).isEqualTo("c C l \u2160 \u0456");
    String plain = "\u2160 \u0456gn\u043Er\u0435";
    assertThat(AsciiLookalikes.readBeforeNormalising(plain)).isSameAs(plain);
    // ASCII and other letters stay; text without a look-alike is returned as it is.
    String ascii = "rn m 0 O l I 1 |";
    assertThat(AsciiLookalikes.readAsAscii(ascii)).isSameAs(ascii);
    String other = "\u0418\u0433\u0440\u0430 \u4E2D\u6587 \u00E9\u00EB \u0451 \uD83D\uDE00";
    assertThat(AsciiLookalikes.readAsAscii(other)).isEqualTo("\u0418rpa \u4E2D\u6587 \u00E9\u00EB \u0451 \uD83D\uDE00");
    String none = "\u4E2D\u6587 \u00E9 \uD83D\uDE00";
    assertThat(AsciiLookalikes.readAsAscii(none)).isSameAs(none);
  }
}
