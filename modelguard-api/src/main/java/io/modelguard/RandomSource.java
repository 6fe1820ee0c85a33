package io.modelguard;

import java.security.SecureRandom;
import java.util.SplittableRandom;

/**
 * The source of randomness every policy uses, injected so tests can be deterministic. Production
 * code uses {@link #secure()}; tests use {@link #seeded(long)}.
 */
public interface RandomSource {

  /**
   * Fills {@code bytes} with random bytes.
   *
   * @param bytes the array to fill, every element of it; not null
   */
  void nextBytes(byte[] bytes);

  /** {@return a uniformly distributed double in {@code [0, 1)}} */
  double nextDouble();

  /** {@return a standard normally distributed double} */
  double nextGaussian();

  /** {@return a thread-safe source backed by {@link SecureRandom}; the default of {@link ModelGuard}} */
  static RandomSource secure() {
    SecureRandom random = new SecureRandom();
    return new RandomSource() {
      @Override
      public void nextBytes(byte[] bytes) {
        random.nextBytes(bytes);
      }

      @Override
      public double nextDouble() {
        return random.nextDouble();
      }

      @Override
      public double nextGaussian() {
        return random.nextGaussian();
      }
    };
  }

  /**
   * A reproducible, <em>not</em> cryptographically secure source for tests and simulations. Not
   * thread-safe: calls are serialised.
   *
   * @param seed the seed: the same seed gives the same bytes
   * @return a new source, safe to share between threads
   */
  static RandomSource seeded(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    return new RandomSource() {
      @Override
      public synchronized void nextBytes(byte[] bytes) {
        random.nextBytes(bytes);
      }

      @Override
      public synchronized double nextDouble() {
        return random.nextDouble();
      }

      @Override
      public synchronized double nextGaussian() {
        // Box-Muller on the seeded stream keeps results identical across JDKs.
        double u1 = 1.0 - random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
      }
    };
  }
}
