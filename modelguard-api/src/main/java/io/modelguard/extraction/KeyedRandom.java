package io.modelguard.extraction;

import java.util.SplittableRandom;

/**
 * A deterministic random stream seeded from a keyed hash. Same seed, same numbers, on every JDK.
 * Not thread-safe.
 */
public final class KeyedRandom {
  private final SplittableRandom random;

  /** A stream seeded with {@code seed}. */
  public KeyedRandom(long seed) {
    this.random = new SplittableRandom(seed);
  }

  /** A uniform double in {@code [0, 1)}. */
  public double nextDouble() {
    return random.nextDouble();
  }

  /** A uniform int in {@code [0, bound)}. */
  public int nextInt(int bound) {
    return random.nextInt(bound);
  }

  /** A standard normal double (Box–Muller, so identical across JDKs). */
  public double nextGaussian() {
    double u1 = 1.0 - random.nextDouble();
    double u2 = random.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }
}
