package io.modelguard.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SecretsTest {
  @Test
  void aBufferOfOneRepeatedByteIsRecognised() {
    assertThat(Secrets.isOneRepeatedByte(new byte[32])).isTrue();
    assertThat(Secrets.isOneRepeatedByte("aaaaaaaa".getBytes(java.nio.charset.StandardCharsets.US_ASCII))).isTrue();
    assertThat(Secrets.isOneRepeatedByte(new byte[0])).isTrue();
  }

  @Test
  void oneDifferentByteAnywhereIsVariety() {
    byte[] last = new byte[32];
    last[31] = 1;
    byte[] first = new byte[32];
    first[0] = -1;

    assertThat(Secrets.isOneRepeatedByte(last)).isFalse();
    assertThat(Secrets.isOneRepeatedByte(first)).isFalse();
  }
}
