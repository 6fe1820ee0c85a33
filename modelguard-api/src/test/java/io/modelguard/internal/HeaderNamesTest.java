package io.modelguard.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link HeaderNames}: a name as a client or proxy may read it on the wire. */
class HeaderNamesTest {

  @Test
  void readsANameWithoutTheWhitespaceAndControlsAroundItInAnyCase() {
    for (String name : new String[] {"RateLimit", "ratelimit", "RateLimit ", " RateLimit", "\tRateLimit\t",
        "RateLimit\r", "RateLimit\u00a0", "RateLimit\u0085", "RateLimit\u3000", "RateLimit:", " RateLimit : x"}) {
      assertThat(HeaderNames.reads(name, "RateLimit")).as("[%s]", name).isTrue();
    }
  }

  @Test
  void doesNotReadAnotherNameAsTheField() {
    for (String name : new String[] {"RateLimit-Policy", "Rate Limit", "RateLimit.", "X-RateLimit", "", " ", ":RateLimit"}) {
      assertThat(HeaderNames.reads(name, "RateLimit")).as("[%s]", name).isFalse();
    }
    assertThat(HeaderNames.reads(null, "RateLimit")).isFalse();
  }

  @Test
  void bareCutsOnlyWhatARecipientDrops() {
    String plain = "ETag";
    assertThat(HeaderNames.bare(plain)).isSameAs(plain);
    assertThat(HeaderNames.bare(" ETag\t")).isEqualTo("ETag");
    assertThat(HeaderNames.bare("ETag: x")).isEqualTo("ETag");
    assertThat(HeaderNames.bare(null)).isNull();
  }

  @Test
  void aNameStartingWithWhitespaceOrAControlContinuesThePreviousLine() {
    assertThat(HeaderNames.continuesThePreviousLine(" X-Folded")).isTrue();
    assertThat(HeaderNames.continuesThePreviousLine("\tX-Folded")).isTrue();
    assertThat(HeaderNames.continuesThePreviousLine("\rX-Folded")).isTrue();
    assertThat(HeaderNames.continuesThePreviousLine("X-Folded ")).isFalse();
    assertThat(HeaderNames.continuesThePreviousLine("")).isFalse();
  }
}
