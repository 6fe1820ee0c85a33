package io.modelguard.authn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.RandomSource;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiKeyFormatTest {
  private final RandomSource random = RandomSource.seeded(1);

  @Test
  void generatedKeysParseBackToTheirEnvironmentAndId() {
    String live = ApiKeyFormat.generate(ApiKeyFormat.Environment.LIVE, random);
    String test = ApiKeyFormat.generate(ApiKeyFormat.Environment.TEST, random);

    assertThat(live).startsWith("mg_live_").hasSize(ApiKeyFormat.LENGTH).matches("mg_live_[0-9A-Za-z]{50}");
    assertThat(test).startsWith("mg_test_");
    assertThat(ApiKeyFormat.parse(live)).get().satisfies(p -> {
      assertThat(p.environment()).isEqualTo(ApiKeyFormat.Environment.LIVE);
      assertThat(p.keyId()).isEqualTo(live.substring(8, 20));
    });
    assertThat(ApiKeyFormat.parse(test).orElseThrow().environment()).isEqualTo(ApiKeyFormat.Environment.TEST);
  }

  @Test
  void checksumCatchesEverySingleCharacterChange() {
    String key = ApiKeyFormat.generate(ApiKeyFormat.Environment.LIVE, random);
    for (int i = 8; i < key.length(); i++) {
      char c = key.charAt(i);
      char other = c == 'z' ? 'y' : (char) (c == '9' ? 'A' : c + 1);
      String typo = key.substring(0, i) + other + key.substring(i + 1);
      assertThat(ApiKeyFormat.parse(typo)).as("typo at %d", i).isEmpty();
    }
  }

  @Test
  void checksumCatchesSwappedNeighbours() {
    String key = ApiKeyFormat.generate(ApiKeyFormat.Environment.LIVE, random);
    int caught = 0;
    int swaps = 0;
    for (int i = 8; i < key.length() - 1; i++) {
      if (key.charAt(i) == key.charAt(i + 1)) {
        continue;
      }
      swaps++;
      String swapped = key.substring(0, i) + key.charAt(i + 1) + key.charAt(i) + key.substring(i + 2);
      caught += ApiKeyFormat.parse(swapped).isEmpty() ? 1 : 0;
    }
    assertThat(caught).isEqualTo(swaps);
  }

  @Test
  void refusesWrongPrefixLengthAndAlphabet() {
    String key = ApiKeyFormat.generate(ApiKeyFormat.Environment.LIVE, random);

    assertThat(ApiKeyFormat.parse(null)).isEmpty();
    assertThat(ApiKeyFormat.parse("")).isEmpty();
    assertThat(ApiKeyFormat.parse("mg_prod_" + key.substring(8))).isEmpty();
    assertThat(ApiKeyFormat.parse(key + "0")).isEmpty();
    assertThat(ApiKeyFormat.parse(key.substring(0, key.length() - 1))).isEmpty();
    assertThat(ApiKeyFormat.parse("mg_live_" + "-".repeat(50))).isEmpty();
    assertThat(ApiKeyFormat.parse("x".repeat(1 << 20))).isEmpty();
  }

  @Test
  void keysAreUniqueAndUseTheWholeAlphabet() {
    Set<String> keys = new HashSet<>();
    Set<Character> chars = new HashSet<>();
    RandomSource secure = RandomSource.secure();
    for (int i = 0; i < 2000; i++) {
      String k = ApiKeyFormat.generate(ApiKeyFormat.Environment.LIVE, secure);
      keys.add(k);
      for (char c : k.substring(8, 52).toCharArray()) {
        chars.add(c);
      }
    }
    assertThat(keys).hasSize(2000);
    assertThat(chars).hasSize(62);
  }

  @Test
  void assembleValidatesItsParts() {
    assertThat(ApiKeyFormat.parse(ApiKeyFormat.assemble(ApiKeyFormat.Environment.TEST, "a".repeat(12), "b".repeat(32))))
        .isPresent();
    assertThatThrownBy(() -> ApiKeyFormat.assemble(ApiKeyFormat.Environment.TEST, "short", "b".repeat(32)))
        .hasMessageContaining("keyId");
    assertThatThrownBy(() -> ApiKeyFormat.assemble(ApiKeyFormat.Environment.TEST, "a".repeat(12), "b_".repeat(16)))
        .hasMessageContaining("secret");
  }
}
