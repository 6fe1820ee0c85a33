package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NoiseKeysTest {
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(secret(1));

  private static byte[] secret(int first) {
    byte[] s = new byte[NoiseKeys.MIN_SECRET_BYTES];
    s[0] = (byte) first;
    return s;
  }

  @Test
  void aRepeatKeyIsTheInputsExactBitsWithBothZerosAlike() {
    double[] x = {0.0, 1.5, -2.25};
    assertThat(KEYS.repeatKey(x.clone())).isEqualTo(KEYS.repeatKey(x));
    assertThat(KEYS.repeatKey(new double[] {-0.0, 1.5, -2.25})).isEqualTo(KEYS.repeatKey(x));
    assertThat(KEYS.repeatKey(new double[] {0.0, Math.nextUp(1.5), -2.25})).isNotEqualTo(KEYS.repeatKey(x));
    // The length counts: a trailing zero is another input.
    assertThat(KEYS.repeatKey(new double[] {0.0, 1.5, -2.25, 0.0})).isNotEqualTo(KEYS.repeatKey(x));
    assertThat(KEYS.repeatKey(new double[0])).isNotEqualTo(KEYS.repeatKey(new double[] {0.0}));
  }

  @Test
  void aRepeatKeyDependsOnTheSecret() {
    double[] x = {3, 1, 4, 1, 5, 9, 2, 6};
    assertThat(NoiseKeys.withSecret(secret(2)).repeatKey(x)).isNotEqualTo(KEYS.repeatKey(x));
    assertThat(NoiseKeys.withSecret(secret(1)).repeatKey(x)).isEqualTo(KEYS.repeatKey(x));
  }

  @Test
  void inputsDifferingInOneFeatureGetDistinctRepeatKeys() {
    // 20,000 single-feature variations of one 64-feature input: any shared key would make the
    // defence take a new query for a repeat.
    SplittableRandom random = new SplittableRandom(5);
    double[] base = new double[64];
    for (int i = 0; i < base.length; i++) {
      base[i] = random.nextInt(17);
    }
    Set<Long> keys = new HashSet<>();
    for (int n = 0; n < 20_000; n++) {
      double[] x = base.clone();
      x[n % 64] = 17 + n;
      keys.add(KEYS.repeatKey(x));
    }
    assertThat(keys).hasSize(20_000);
  }
}
