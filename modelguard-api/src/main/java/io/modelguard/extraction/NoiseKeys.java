package io.modelguard.extraction;

import io.modelguard.internal.SipHash;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Derives the keys of {@link NoiseSource}: HMAC-SHA-256 under a server-side secret of the client
 * id, and of the client id plus the exact feature vector ({@link #source(String, double[])}) or,
 * as {@link ExtractionDefence} keys its noise, plus the input's neighbourhood (see {@link
 * ExtractionDefence.Builder#noiseRadius}). Without the secret a client can neither predict nor
 * cancel the noise. Thread-safe.
 *
 * <p>One per model: the keys carry no model's identity, so two {@link ExtractionDefence}s built
 * from one {@code NoiseKeys} add the same noise to one client's same input, and a client asking two
 * related models (v1 and v2 of one model, or two sharing an input space) gets answers whose
 * difference is the models' exact difference. Give each model's defence keys {@link #derive
 * derived} under its own name, e.g. {@code keys.derive("digits")}: independent noise per model,
 * and the same noise for the same secret and name in every JVM. (Several endpoints serving one
 * model share one defence, and so its keys.) A second defence built on keys that were not derived
 * logs a warning (see {@link ExtractionDefence.Builder#build}); keys derived per model never do.
 */
public final class NoiseKeys {
  /** The minimum secret length in bytes. */
  public static final int MIN_SECRET_BYTES = 32;
  /** The longest domain label {@link #derive} takes, in characters. */
  public static final int MAX_DOMAIN_LENGTH = 128;
  /** The HMAC domain of {@link #derive}'s subkeys, apart from every seed's (1 to 7). */
  private static final byte DERIVED_KEY = 8;
  private static final String ALGORITHM = "HmacSHA256";

  private final Mac prototype;
  private final ThreadLocal<Mac> macs;
  /** Per-thread scratch for serialising features, so hashing a query allocates no buffer. */
  private final ThreadLocal<byte[]> buffers = ThreadLocal.withInitial(() -> new byte[8 * 512]);

  /**
   * How many keyed directions {@link #neighbourhoodSeed} quantises an input along: a ball of
   * diameter one cell meets at most two cells along each, so at most 2^4 = 16 neighbourhoods.
   */
  static final int NEIGHBOURHOOD_DIRECTIONS = 4;

  /** The seed of the signs of the neighbourhood directions, and the grid's offsets in cells. */
  private final long directionSeed;
  private final double[] gridOffsets = new double[NEIGHBOURHOOD_DIRECTIONS];

  /** The HMAC domain of {@link #neighbourhoodSeed}'s seed for an input that has no cell. */
  private static final byte NO_CELL = 7;

  /** The SipHash key of {@link #repeatKey}, derived under the secret in its own domains. */
  private final long repeatK0;
  private final long repeatK1;

  /** Whether these keys came from {@link #derive}: one model's, by the caller's choice. */
  private final boolean derived;
  /** Whether a defence has been built on these keys, and whether a second one has. */
  private final AtomicBoolean inDefence = new AtomicBoolean();
  private final AtomicBoolean inSecondDefence = new AtomicBoolean();

  private NoiseKeys(byte[] secret, boolean derived) {
    this.derived = derived;
    try {
      prototype = Mac.getInstance(ALGORITHM);
      prototype.init(new SecretKeySpec(secret, ALGORITHM));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable", e);
    }
    macs = ThreadLocal.withInitial(this::copy);
    repeatK0 = purposeSeed("repeat-key/0");
    repeatK1 = purposeSeed("repeat-key/1");
    directionSeed = purposeSeed("neighbourhood/directions");
    SplittableRandom offsets = new SplittableRandom(purposeSeed("neighbourhood/offsets"));
    for (int j = 0; j < NEIGHBOURHOOD_DIRECTIONS; j++) {
      gridOffsets[j] = offsets.nextDouble();
    }
  }

  /**
   * Keys derived under {@code secret}. They name no model: {@link #derive} one set per model (see
   * the class documentation).
   *
   * @param secret the secret, at least {@link #MIN_SECRET_BYTES} bytes; copied
   * @return keys under that secret
   * @throws IllegalArgumentException if the secret is shorter than {@link #MIN_SECRET_BYTES}
   */
  public static NoiseKeys withSecret(byte[] secret) {
    if (secret == null || secret.length < MIN_SECRET_BYTES) {
      throw new IllegalArgumentException("noise secret must be at least " + MIN_SECRET_BYTES + " bytes");
    }
    return new NoiseKeys(secret.clone(), false);
  }

  /**
   * Whether {@code label} is 1 to {@link #MAX_DOMAIN_LENGTH} printable ASCII characters (space to
   * {@code ~}): a {@link #derive} label, and a {@link RiskRaise#label()}.
   */
  static boolean isValidLabel(String label) {
    return label != null && !label.isEmpty() && label.length() <= MAX_DOMAIN_LENGTH
        && label.chars().allMatch(c -> c >= 0x20 && c <= 0x7e);
  }

  /**
   * Keys for one model (or one defence), derived under {@code domain}: their secret is the
   * HMAC-SHA-256 under this secret of the label, in a domain of its own, so keys derived under two
   * labels draw independent noise (and repeat keys, projections and detector layouts), while one
   * label gives the same keys for the same secret in every JVM and every run. Use one label per
   * model, such as its name ({@code keys.derive("digits")}); a label is not secret. Derived keys can
   * be derived from again. Costs one HMAC and the set-up of {@link #withSecret}: derive once, at
   * start-up.
   *
   * @param domain the label: 1 to {@link #MAX_DOMAIN_LENGTH} printable ASCII characters (space to
   *     {@code ~}), compared exactly (case counts)
   * @return the derived keys
   * @throws IllegalArgumentException if the label is null, empty, longer than {@link
   *     #MAX_DOMAIN_LENGTH} or has a character outside printable ASCII
   */
  public NoiseKeys derive(String domain) {
    if (!isValidLabel(domain)) {
      throw new IllegalArgumentException("noise key domain must be 1 to " + MAX_DOMAIN_LENGTH
          + " printable ASCII characters, got " + (domain == null ? "null" : domain.length() + " characters"));
    }
    byte[] label = domain.getBytes(StandardCharsets.US_ASCII); // before the first update, as in clientSeed
    Mac mac = macs.get();
    mac.update(DERIVED_KEY);
    mac.update(label);
    byte[] subkey = mac.doFinal(); // 32 bytes: MIN_SECRET_BYTES
    try {
      return new NoiseKeys(subkey, true);
    } finally {
      Arrays.fill(subkey, (byte) 0);
    }
  }

  /**
   * Records that a defence has been built on these keys; true exactly once, for the second such
   * defence, if these keys were not {@link #derive derived} (the sign that one set of keys serves
   * several models). Keys derived under a model's name are that model's, and a second defence on
   * them is taken for the same model's.
   */
  boolean secondDefenceOnUnderivedKeys() {
    if (derived || inDefence.compareAndSet(false, true)) {
      return false;
    }
    return inSecondDefence.compareAndSet(false, true);
  }

  /**
   * A noise source for {@code client} answering {@code features}; seeds are derived on first use.
   *
   * @param client the client's key; not null
   * @param features the query's input features; not null
   * @return a noise source keyed by both
   */
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
    return source(client, features, features.length, stage, 0);
  }

  /**
   * {@link #source(String, double[], int)} for {@code features} reduced from an input of {@code
   * inputLength} features (its own length if it was not), with the per-query stream keyed by the
   * neighbourhood of {@code features} in cells of width {@code cell} ({@link #neighbourhoodSeed}),
   * or by the exact features if {@code cell} is 0.
   */
  NoiseSource source(String client, double[] features, int inputLength, int stage, double cell) {
    if (stage < 0) {
      throw new IllegalArgumentException("stage must not be negative, got " + stage);
    }
    return new NoiseSource() {
      private long querySeed;
      private boolean hasQuerySeed;

      private long exactQuerySeed;
      private boolean hasExactQuerySeed;

      @Override
      public KeyedRandom perQuery() {
        if (!hasQuerySeed) {
          long seed = cell > 0
              ? neighbourhoodSeed(client, features, inputLength, cell)
              : exactSeed(client, features, inputLength);
          querySeed = stage == 0 ? seed : stageSeed(seed, stage);
          hasQuerySeed = true;
        }
        // With cells: Gaussian noise half the cell's, half the exact input's, so slight variations
        // can average away only the exact half, and two inputs of one cell still differ by noise
        // (with the cell's alone, by the model's exact difference: its local slopes).
        return cell > 0 ? KeyedRandom.mixing(querySeed, this::exactQuerySeed) : new KeyedRandom(querySeed);
      }

      private long exactQuerySeed() {
        if (!hasExactQuerySeed) {
          long seed = exactSeed(client, features, inputLength);
          exactQuerySeed = stage == 0 ? seed : stageSeed(seed, stage);
          hasExactQuerySeed = true;
        }
        return exactQuerySeed;
      }

      @Override
      public KeyedRandom perClient() {
        long seed = clientSeed(client);
        return new KeyedRandom(stage == 0 ? seed : stageSeed(seed, stage));
      }
    };
  }

  /**
   * The per-client seed.
   *
   * @param client the client's key; not null
   * @return the seed, the same for the same client and keys
   */
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

  /**
   * The per-(client, input) seed; the input is hashed bit-exactly.
   *
   * @param client the client's key; not null
   * @param features the query's input features; not null
   * @return the seed, the same for the same client, input and keys
   */
  public long querySeed(String client, double[] features) {
    return exactSeed(client, features, features.length);
  }

  /**
   * {@link #querySeed} of {@code features} reduced from an input of {@code inputLength} features:
   * the length is hashed too (in its own domain) when they differ, since the projection maps an
   * input and the input padded with zeros to the same features, which the model may answer apart.
   */
  private long exactSeed(String client, double[] features, int inputLength) {
    return exactSeed(client, features, inputLength, inputLength != features.length ? (byte) 6 : (byte) 2);
  }

  /**
   * The exact input's seed in {@code domain}: 2 for an input as it came, 6 for one reduced from
   * {@code inputLength} features, 7 for {@link #neighbourhoodSeed}'s fallback; the length is hashed
   * in all but domain 2.
   */
  private long exactSeed(String client, double[] features, int inputLength, byte domain) {
    // Whatever can throw comes before the first update (see clientSeed).
    byte[] id = client.getBytes(StandardCharsets.UTF_8);
    Objects.requireNonNull(features, "features");
    Mac mac = macs.get();
    mac.update(domain);
    byte[] buf = buffers.get();
    mac.update(buf, 0, putInt(buf, 0, id.length));
    mac.update(id);
    if (domain != 2) {
      mac.update(buf, 0, putInt(buf, 0, inputLength));
    }
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
   * The per-(client, neighbourhood) seed: the input is read along {@link #NEIGHBOURHOOD_DIRECTIONS}
   * keyed directions ({@link #neighbourhoodCoordinates}) and each coordinate is rounded down to a
   * grid of width {@code cell} at a keyed offset; the seed is an HMAC of the client, the length of
   * the input ({@code inputLength}: before any projection, as for {@link #repeatKey(double[], int)})
   * and those cells. Each direction has unit length, so moving an input by a distance r
   * moves every coordinate by at most r, and all inputs within a ball of diameter {@code cell}
   * (however an attacker places it on the grid's boundaries) get one of at most 2^4 seeds; an
   * exact repeat gets its seed again. An input with a feature that is not a number within float
   * range, or a coordinate too large for {@code cell} to count in a double, falls back to a seed of
   * the exact input in its own domain: not the exact input's seed itself, which the per-query
   * stream's Gaussian draws mix with this one (the same stream twice would double their variance).
   */
  long neighbourhoodSeed(String client, double[] features, int inputLength, double cell) {
    // Whatever can throw comes before the first update (see clientSeed).
    byte[] id = client.getBytes(StandardCharsets.UTF_8);
    if (!FeatureRange.storable(features)) {
      return exactSeed(client, features, inputLength, NO_CELL);
    }
    double[] cells = neighbourhoodCoordinates(features);
    for (int j = 0; j < NEIGHBOURHOOD_DIRECTIONS; j++) {
      double index = Math.floor(cells[j] / cell + gridOffsets[j]);
      if (!Double.isFinite(index)) {
        return exactSeed(client, features, inputLength, NO_CELL); // a coordinate beyond a double's range of cells
      }
      cells[j] = index == 0.0 ? 0.0 : index; // -0.0 and 0.0 are one cell
    }
    Mac mac = macs.get();
    mac.update((byte) 5);
    byte[] buf = buffers.get();
    mac.update(buf, 0, putInt(buf, 0, id.length));
    mac.update(id);
    int at = putInt(buf, 0, inputLength);
    for (double index : cells) {
      at = putLong(buf, at, Double.doubleToLongBits(index));
    }
    mac.update(buf, 0, at);
    return ByteBuffer.wrap(mac.doFinal()).getLong();
  }

  /**
   * {@code features} read along the {@link #NEIGHBOURHOOD_DIRECTIONS} keyed directions of its
   * length: unit vectors of entries ±1/√n, their signs derived under the secret, so a client cannot
   * compute them. Linear in the features, O(n) work and no table.
   */
  double[] neighbourhoodCoordinates(double[] features) {
    double[] c = new double[NEIGHBOURHOOD_DIRECTIONS];
    SplittableRandom signs = new SplittableRandom(directionSeed);
    for (double f : features) {
      long bits = signs.nextLong();
      for (int j = 0; j < NEIGHBOURHOOD_DIRECTIONS; j++) {
        c[j] += (bits & (1L << j)) == 0 ? f : -f;
      }
    }
    double scale = features.length == 0 ? 0 : 1 / Math.sqrt(features.length);
    for (int j = 0; j < NEIGHBOURHOOD_DIRECTIONS; j++) {
      c[j] *= scale;
    }
    return c;
  }

  private static int putInt(byte[] buf, int at, int v) {
    for (int b = 0; b < 4; b++) {
      buf[at + b] = (byte) (v >>> (24 - 8 * b));
    }
    return at + 4;
  }

  private static int putLong(byte[] buf, int at, long v) {
    for (int b = 0; b < 8; b++) {
      buf[at + b] = (byte) (v >>> (56 - 8 * b));
    }
    return at + 8;
  }

  /**
   * The key under which one client's repeated inputs are recognised: a 64-bit SipHash-2-4 of the
   * exact feature vector (-0.0 read as 0.0), keyed under the secret. A keyed hash, not a checksum,
   * so that a client cannot build an input that another one's key matches (passing a new query off
   * as a repeat, which the detectors never see); SipHash rather than {@link #querySeed}'s
   * HMAC-SHA-256 because it is computed for every query and costs about a fifth. Not a noise seed.
   */
  long repeatKey(double[] features) {
    return repeatKey(features, features.length);
  }

  /**
   * {@link #repeatKey(double[])} of {@code features} reduced from an input of {@code inputLength}
   * features, which is hashed too: the projection maps an input and the input padded with zeros to
   * the same features, and the model may answer them apart, so one must not pass for a repeat of
   * the other (unseen by the detectors).
   */
  long repeatKey(double[] features, int inputLength) {
    SipHash hash = new SipHash(repeatK0, repeatK1);
    hash.add(inputLength);
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
