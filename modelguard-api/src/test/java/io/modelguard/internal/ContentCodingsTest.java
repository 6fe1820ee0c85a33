package io.modelguard.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ContentCodingsTest {
  @Test
  void everyNamedCodingButIdentityInOrderLowerCased() {
    assertThat(ContentCodings.declared(List.of("identity", " GZip , br", ",deflate,"))).containsExactly("gzip", "br", "deflate");
  }

  @Test
  void noHeaderOrOnlyIdentityDeclaresNone() {
    assertThat(ContentCodings.declared(List.of())).isEmpty();
    assertThat(ContentCodings.declared(List.of("Identity", " "))).isEmpty();
  }
}
