package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How names become partitions: injective, and plain UTF-16 that UTF-8 carries to Redis intact. */
class QuotaKeyEscapingTest {
  @Test
  void separatorsAndLoneSurrogatesAreEncodedAndWholeCharactersKept() {
    assertThat(QuotaKey.forTenant("a:b{c}%", "digits").partition()).isEqualTo("t:a%3Ab%7Bc%7D%25:digits");
    // A lone surrogate would become '?' in UTF-8, merging it with other names.
    assertThat(QuotaKey.forTenant("acme\uD800", "digits").partition()).isEqualTo("t:acme%uD800:digits");
    assertThat(QuotaKey.forTenant("\uDFFFacme", "digits").partition()).isEqualTo("t:%uDFFFacme:digits");
    // A whole supplementary character (a pair) is kept as it is, so such names keep their keys.
    assertThat(QuotaKey.forTenant("caf\u00e9-\uD83D\uDE80", "digits").partition()).isEqualTo("t:caf\u00e9-\uD83D\uDE80:digits");
    assertThat(QuotaKey.forTenant("\uD83D\uDE80\uD83D", "digits").partition()).isEqualTo("t:\uD83D\uDE80%uD83D:digits");
  }
}
