package io.modelguard.authn;

import io.modelguard.RandomSource;
import io.modelguard.internal.Base62;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.zip.CRC32;

/**
 * The API key format: {@code mg_<env>_<key id><secret><checksum>}, for example {@code
 * mg_live_} followed by 50 base62 characters.
 *
 * <ul>
 *   <li>{@code env} is {@code live} or {@code test}, so a leaked test key is told apart at a glance
 *       and production can refuse test keys ({@link ApiKeyAuthenticator.Builder#acceptedEnvironments});
 *       the stored keyed hash covers it, so rewriting a test key's prefix to {@code live} (the
 *       checksum is no secret and is easily recomputed) yields a key that matches no record;
 *   <li>the 12-character key id (about 71 random bits) is the public lookup handle;
 *   <li>the 32-character secret carries about 190 random bits;
 *   <li>the 6-character checksum is the CRC-32 of everything before it, so malformed or mistyped
 *       keys are refused without a store lookup and secret scanners can recognise real keys.
 * </ul>
 */
public final class ApiKeyFormat {
  /** Every key starts with this. */
  public static final String PREFIX = "mg_";
  /** Length of the key id. */
  public static final int KEY_ID_LENGTH = 12;
  /** Length of the secret. */
  public static final int SECRET_LENGTH = 32;
  /** Length of the checksum. */
  public static final int CHECKSUM_LENGTH = 6;

  private static final int BODY_LENGTH = KEY_ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH;
  /** Length of a whole key ({@code mg_live_} + body). */
  public static final int LENGTH = PREFIX.length() + 5 + BODY_LENGTH;

  private ApiKeyFormat() {}

  /** Which environment a key belongs to. */
  public enum Environment {
    /** Production keys: {@code mg_live_…}. */
    LIVE("live"),
    /** Test keys: {@code mg_test_…}. */
    TEST("test");

    private final String tag;

    Environment(String tag) {
      this.tag = tag;
    }

    /** {@return the tag in the key, {@code live} or {@code test}} */
    public String tag() {
      return tag;
    }
  }

  /** A syntactically valid key: its environment and key id. The secret is not exposed. */
  public record Parsed(Environment environment, String keyId) {}

  /**
   * Generates a new key for {@code env} from {@code random}.
   *
   * @param env the environment the key is for, written in its prefix; not null
   * @param random the source of the key id and secret: {@link RandomSource#secure()} outside tests
   * @return the new key, {@link #LENGTH} characters with its checksum
   */
  public static String generate(Environment env, RandomSource random) {
    String head = PREFIX + env.tag() + "_" + Base62.random(KEY_ID_LENGTH + SECRET_LENGTH, random::nextBytes);
    return head + checksum(head);
  }

  /**
   * Assembles a key from its parts, appending the checksum. For importing keys and for tests; new
   * keys come from {@link #generate}.
   *
   * @param env the environment the key is for; not null
   * @param keyId the key id, {@link #KEY_ID_LENGTH} base62 characters
   * @param secret the secret, {@link #SECRET_LENGTH} base62 characters
   * @return the whole key, {@link #LENGTH} characters with its checksum
   * @throws IllegalArgumentException if a part has the wrong length or alphabet
   */
  public static String assemble(Environment env, String keyId, String secret) {
    if (keyId == null || keyId.length() != KEY_ID_LENGTH || !Base62.isBase62(keyId, 0, KEY_ID_LENGTH)) {
      throw new IllegalArgumentException("keyId must be " + KEY_ID_LENGTH + " base62 characters");
    }
    if (secret == null || secret.length() != SECRET_LENGTH || !Base62.isBase62(secret, 0, SECRET_LENGTH)) {
      throw new IllegalArgumentException("secret must be " + SECRET_LENGTH + " base62 characters");
    }
    String head = PREFIX + env.tag() + "_" + keyId + secret;
    return head + checksum(head);
  }

  /**
   * Parses {@code key} without any lookup: prefix, environment, length, alphabet and checksum. Runs
   * in time linear in the (bounded) key length; anything longer than {@link #LENGTH} is refused at
   * once.
   *
   * @param key the presented key, or null
   * @return its environment and key id, or empty if it is not a well-formed key
   */
  public static Optional<Parsed> parse(String key) {
    if (key == null || key.length() != LENGTH || !key.startsWith(PREFIX)) {
      return Optional.empty();
    }
    Environment env;
    if (key.startsWith("live_", PREFIX.length())) {
      env = Environment.LIVE;
    } else if (key.startsWith("test_", PREFIX.length())) {
      env = Environment.TEST;
    } else {
      return Optional.empty();
    }
    int body = PREFIX.length() + 5;
    if (!Base62.isBase62(key, body, LENGTH)) {
      return Optional.empty();
    }
    int checksumAt = LENGTH - CHECKSUM_LENGTH;
    if (!checksum(key.substring(0, checksumAt)).equals(key.substring(checksumAt))) {
      return Optional.empty();
    }
    return Optional.of(new Parsed(env, key.substring(body, body + KEY_ID_LENGTH)));
  }

  private static String checksum(String head) {
    CRC32 crc = new CRC32();
    crc.update(head.getBytes(StandardCharsets.US_ASCII));
    return Base62.fixedWidth(crc.getValue(), CHECKSUM_LENGTH);
  }
}
