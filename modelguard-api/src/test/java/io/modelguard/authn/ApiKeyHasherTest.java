package io.modelguard.authn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.RandomSource;
import java.time.Clock;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ApiKeyHasherTest {

  private static byte[] pepper(long seed) {
    byte[] p = new byte[32];
    RandomSource.seeded(seed).nextBytes(p);
    return p;
  }

  @Test
  void refusesShortOrUniformPeppersNamingTheField() {
    assertThatThrownBy(() -> ApiKeyHasher.withPepper(new byte[31]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ApiKeyHasher.pepper")
        .hasMessageContaining("31 bytes");
    assertThatThrownBy(() -> ApiKeyHasher.withPepper(null)).hasMessageContaining("ApiKeyHasher.pepper");
    byte[] uniform = new byte[64];
    Arrays.fill(uniform, (byte) 'a');
    assertThatThrownBy(() -> ApiKeyHasher.withPepper(uniform)).hasMessageContaining("random");
  }

  @Test
  void hashDependsOnThePepper() {
    ApiKeyHasher a = ApiKeyHasher.withPepper(pepper(1));
    ApiKeyHasher b = ApiKeyHasher.withPepper(pepper(2));

    assertThat(a.hash("mg_live_x")).hasSize(32).isEqualTo(a.hash("mg_live_x"));
    assertThat(a.hash("mg_live_x")).isNotEqualTo(b.hash("mg_live_x"));
    assertThat(a.matches("mg_live_x", a.hash("mg_live_x"))).isTrue();
    assertThat(a.matches("mg_live_y", a.hash("mg_live_x"))).isFalse();
  }

  @Test
  void pepperIsCopiedSoLaterChangesDoNotAffectIt() {
    byte[] p = pepper(3);
    ApiKeyHasher h = ApiKeyHasher.withPepper(p);
    byte[] before = h.hash("k");
    Arrays.fill(p, (byte) 0);
    assertThat(h.hash("k")).isEqualTo(before);
  }

  @Test
  void issuerRefusesToRegisterAMalformedKeyWithoutEchoingIt() {
    ApiKeyIssuer issuer = new ApiKeyIssuer(ApiKeyHasher.withPepper(pepper(4)), RandomSource.seeded(4), Clock.systemUTC());
    assertThatThrownBy(() -> issuer.register("mg_live_secretvalue", "s", "t", "free", null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("secretvalue");
  }
}
