package io.modelguard.authn.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenShapeTest {

  @Test
  void acceptsWhatAStandardEncoderProducesForEveryLength() {
    Random random = new Random(1);
    for (int n = 1; n < 80; n++) {
      byte[] bytes = new byte[n];
      random.nextBytes(bytes);
      String seg = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);

      assertThat(TokenShape.isCanonicalCompactJws(seg + "." + seg + "." + seg)).as("length %d", n).isTrue();
    }
  }

  @Test
  void refusesEveryNonCanonicalSpellingOfTheLastCharacter() {
    Random random = new Random(2);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int n = 1; n < 40; n++) {
      byte[] bytes = new byte[n];
      random.nextBytes(bytes);
      String seg = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
      String head = seg.substring(0, seg.length() - 1);
      int accepted = 0;
      for (char c : alphabet.toCharArray()) {
        String variant = head + c;
        boolean ok = TokenShape.isCanonicalCompactJws("e30.e30." + variant);
        if (ok) {
          accepted++;
          // every accepted spelling decodes to bytes that re-encode to itself
          assertThat(Base64.getUrlEncoder().withoutPadding().encodeToString(Base64.getUrlDecoder().decode(variant)))
              .isEqualTo(variant);
        }
      }
      int expected = n % 3 == 1 ? 4 : n % 3 == 2 ? 16 : 64;
      assertThat(accepted).as("last characters accepted for %d bytes", n).isEqualTo(expected);
    }
  }

  @Test
  void refusesWrongSegmentCountsEmptySegmentsAndForeignCharacters() {
    for (String t : new String[] {"", ".", "..", "...", "a.b", "e30.e30", "e30.e30.e30.e30", "e30..e30",
        ".e30.e30", "e30.e30.", "e30.e30.e3=", "e30.e30.e3+", "e30.e30.e3/", "e30 .e30.e30", "e30.e30.e\u00e9A"}) {
      assertThat(TokenShape.isCanonicalCompactJws(t)).as("'%s'", t).isFalse();
    }
  }
}
