package io.modelguard.extraction;

import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/**
 * A deterministic random stream seeded from a keyed hash. Same seed, same numbers, on every JDK.
 * Not thread-safe.
 */
public final class KeyedRandom {
  private final SplittableRandom random;
  /** The seed of the second Gaussian stream of a {@linkplain #mixing mixing} stream, or null. */
  private final LongSupplier partnerSeed;
  private SplittableRandom partner;

  /**
   * A stream seeded with {@code seed}.
   *
   * @param seed the seed; the same seed gives the same numbers
   */
  public KeyedRandom(long seed) {
    this.random = new SplittableRandom(seed);
    this.partnerSeed = null;
  }

  private KeyedRandom(long seed, LongSupplier partnerSeed) {
    this.random = new SplittableRandom(seed);
    this.partnerSeed = partnerSeed;
  }

  /**
   * A stream whose uniform numbers come from {@code seed} alone, and whose Gaussian numbers are
   * {@code (a + b) / √2}, {@code a} drawn from {@code seed}'s stream and {@code b} from a second
   * stream seeded by {@code partnerSeed} (asked on the first Gaussian draw): still standard normal,
   * half of its variance shared by every stream of {@code seed}, half by those of both seeds.
   */
  static KeyedRandom mixing(long seed, LongSupplier partnerSeed) {
    return new KeyedRandom(seed, java.util.Objects.requireNonNull(partnerSeed, "partnerSeed"));
  }

  /**
   * A uniform double in {@code [0, 1)}.
   *
   * @return the next value
   */
  public double nextDouble() {
    return random.nextDouble();
  }

  /**
   * A uniform int in {@code [0, bound)}.
   *
   * @param bound the exclusive upper bound, positive
   * @return the next value
   */
  public int nextInt(int bound) {
    return random.nextInt(bound);
  }

  /**
   * A standard normal double (Box–Muller, so identical across JDKs).
   *
   * @return the next value
   */
  public double nextGaussian() {
    double a = gaussian(random);
    if (partnerSeed == null) {
      return a;
    }
    if (partner == null) {
      partner = new SplittableRandom(partnerSeed.getAsLong());
    }
    return (a + gaussian(partner)) * HALF_SQRT_2;
  }

  /** 1/√2. */
  private static final double HALF_SQRT_2 = Math.sqrt(0.5);

  private static double gaussian(SplittableRandom r) {
    double u1 = 1.0 - r.nextDouble();
    double u2 = r.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }
}
