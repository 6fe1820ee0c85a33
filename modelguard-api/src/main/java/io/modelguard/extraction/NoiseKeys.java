package io.modelguard.extraction;

import io.modelguard.internal.SipHash;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Derives the keys of {@link NoiseSource}: HMAC-SHA-256 under a server-side secret of the client
 * id, and of the client id plus the exact feature vector. Without the secret a client can neither
 * predict nor cancel the noise. Thread-safe.
 */
public final class NoiseKeys {
  /** The minimum secret length in bytes. */
  public static final int MIN_SECRET_BYTES = 32;
  private static final String ALGORITHM = "HmacSHA256";

  private final Mac prototype;
  private final ThreadLocal<Mac> macs;
  /** Per-thread scratch for serialising features, so hashing a query allocates no buffer. */
  private final ThreadLocal<byte[]> buffers = ThreadLocal.withInitial(() -> new byte[8 * 512]);

  /** The SipHash key of {@link #repeatKey}, derived under the secret in its own domains. */
  private final long repeatK0;
  private final long repeatK1;

  private NoiseKeys(byte[] secret) {
    try {
      prototype = Mac.getInstance(ALGORITHM);
      prototype.init(new SecretKeySpec(secret, ALGORITHM));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable", e);
    }
    macs = ThreadLocal.withInitial(this::copy);
    repeatK0 = purposeSeed("repeat-key/0");
    repeatK1 = purposeSeed("repeat-key/1");
  }

  /**
   * Keys derived under {@code secret}.
   *
   * @throws IllegalArgumentException if the secret is shorter than {@link #MIN_SECRET_BYTES}
   */
  public static NoiseKeys withSecret(byte[] secret) {
    if (secret == null || secret.length < MIN_SECRET_BYTES) {
      throw new IllegalArgumentException("noise secret must be at least " + MIN_SECRET_BYTES + " bytes");
    }
    return new NoiseKeys(secret.clone());
  }

  /** A noise source for {@code client} answering {@code features}; seeds are derived on first use. */
  public NoiseSource source(String client, double[] features) {
    return source(client, features, 0);
  }

  /**
   * The noise source of the {@code stage}-th perturbation stacked on one answer (0 the first, which
   * is {@link #source(String, double[])}): each stage draws its own numbers. Stages sharing one
   * stream add the same noise twice (the tier's after the level's), and a client that has both
   * answers of an input, one from before a level change and a repeat from after it, cancels it.
   */
  NoiseSource source(String client, double[] features, int stage) {
    if (stage < 0) {
      throw new IllegalArgumentException("stage must not be negative, got " + stage);
    }
    return new NoiseSource() {
      private long querySeed;
      private boolean hasQuerySeed;

      @Override
      public KeyedRandom perQuery() {
        if (!hasQuerySeed) {
          querySeed = stage == 0 ? querySeed(client, features) : stageSeed(querySeed(client, features), stage);
          hasQuerySeed = true;
        }
        return new KeyedRandom(querySeed);
      }

      @Override
      public KeyedRandom perClient() {
        long seed = clientSeed(client);
        return new KeyedRandom(stage == 0 ? seed : stageSeed(seed, stage));
      }
    };
  }

  /** The per-client seed. */
  public long clientSeed(String client) {
    // Whatever can throw comes before the first update: the Mac is the thread's, and bytes left in
    // it by a call that failed half-way would enter every later seed of the thread.
    byte[] id = client.getBytes(StandardCharsets.UTF_8);
    Mac mac = macs.get();
    mac.update((byte) 1);
    mac.update(id);
    return ByteBuffer.wrap(mac.doFinal()).getLong();
  }

  /**
   * A seed for an internal {@code purpose} (for example the layout of the detectors' random
   * projection), derived under the secret in its own domain, so it is never a client's seed.
   */
  long purposeSeed(String purpose) {
    byte[] name = purpose.getBytes(StandardCharsets.UTF_8); // before the first update, as in clientSeed
    Mac mac = macs.get();
    mac.update((byte) 3);
    mac.update(name);
    return ByteBuffer.wrap(mac.doFinal()).getLong();
  }

  /** The per-(client, input) seed; the input is hashed bit-exactly. */
  public long querySeed(String client, double[] features) {
    // Whatever can throw comes before the first update (see clientSeed).
    byte[] id = client.getBytes(StandardCharsets.UTF_8);
    Objects.requireNonNull(features, "features");
    Mac mac = macs.get();
    mac.update((byte) 2);
    byte[] buf = buffers.get();
    for (int b = 0; b < 4; b++) {
      buf[b] = (byte) (id.length >>> (24 - 8 * b));
    }
    mac.update(buf, 0, 4);
    mac.update(id);
    for (int start = 0; start < features.length; start += 512) {
      int n = Math.min(512, features.length - start);
      for (int i = 0; i < n; i++) {
        double f = features[start + i];
        long bits = Double.doubleToLongBits(f == 0.0 ? 0.0 : f); // -0.0 and 0.0 are the same query
        for (int b = 0; b < 8; b++) {
          buf[8 * i + b] = (byte) (bits >>> (56 - 8 * b));
        }
      }
      mac.update(buf, 0, 8 * n);
    }
    return ByteBuffer.wrap(mac.doFinal()).getLong();
  }

  /**
   * The key under which one client's repeated inputs are recognised: a 64-bit SipHash-2-4 of the
   * exact feature vector (-0.0 read as 0.0), keyed under the secret. A keyed hash, not a checksum,
   * so that a client cannot build an input that another one's key matches (passing a new query off
   * as a repeat, which the detectors never see); SipHash rather than {@link #querySeed}'s
   * HMAC-SHA-256 because it is computed for every query and costs about a fifth. Not a noise seed.
   */
  long repeatKey(double[] features) {
    SipHash hash = new SipHash(repeatK0, repeatK1);
    for (double f : features) {
      hash.add(Double.doubleToLongBits(f == 0.0 ? 0.0 : f));
    }
    return hash.finish(0, 0);
  }

  /** The seed of stage {@code stage} (> 0) derived from stage 0's {@code seed}, in its own domain under the secret. */
  private long stageSeed(long seed, int stage) {
    Mac mac = macs.get();
    mac.update((byte) 4);
    byte[] buf = buffers.get();
    for (int b = 0; b < 4; b++) {
      buf[b] = (byte) (stage >>> (24 - 8 * b));
    }
    for (int b = 0; b < 8; b++) {
      buf[4 + b] = (byte) (seed >>> (56 - 8 * b));
    }
    mac.update(buf, 0, 12);
    return ByteBuffer.wrap(mac.doFinal()).getLong();
  }

  private Mac copy() {
    try {
      return (Mac) prototype.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("HmacSHA256 Mac cannot be cloned", e);
    }
  }
}
