package io.modelguard.internal;

import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/** The content codings a request or response declares. Internal: not part of the public API. */
public final class ContentCodings {
  /** How many bytes {@link #isRawDeflate} inflates at most before deciding that the bytes are deflate. */
  private static final int MAX_TRIAL_INFLATE = 1 << 20;

  private ContentCodings() {}

  /**
   * Both adapters' answer to a request whose body declares a content coding ({@link #declared} is
   * not empty), before any policy runs: the input policies would read the coded bytes, while a
   * runtime or application decoding them would hand the model bytes no policy saw. The same on
   * every adapter: {@code 415 input.unsupported_media_type}.
   *
   * @return a new {@code input.unsupported_media_type} denial
   */
  public static GuardDecision compressedRequestRefusal() {
    return GuardDecision.deny(ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE,
        "A compressed request body (Content-Encoding) is not accepted here; send it uncompressed.");
  }

  /**
   * The codings named by {@code Content-Encoding} header values (each may list several, separated
   * by commas), lower-cased and in order, leaving out {@code identity} and empty members: a body
   * in any of them is bytes the output policies cannot read.
   *
   * @param headerValues the {@code Content-Encoding} values, each turned to text with {@link
   *     String#valueOf}
   * @return the codings, lower-cased, in order; empty if there is none
   */
  public static List<String> declared(Iterable<?> headerValues) {
    List<String> codings = null;
    for (Object value : headerValues) {
      for (String member : String.valueOf(value).split(",")) {
        String coding = member.trim().toLowerCase(Locale.ROOT);
        if (!coding.isEmpty() && !coding.equals("identity")) {
          if (codings == null) {
            codings = new ArrayList<>(1);
          }
          codings.add(coding);
        }
      }
    }
    // Nearly every response declares none: that case allocates nothing.
    return codings == null ? List.of() : codings;
  }

  /**
   * Whether {@code entity} is already in {@code coding}, for a runtime that declares the coding of
   * its own compression before compressing (JAX-RS): gzip by its magic number; deflate as a zlib
   * stream (RFC 1950 header) or as a complete raw deflate stream (RFC 1951), which some servers and
   * clients send under the same name; any other coding is taken as applied, since no runtime applies
   * it later. Errs towards "coded": the caller withholds what it cannot read.
   *
   * @param coding the declared coding, lower-cased
   * @param entity the entity's bytes; not null
   * @return true if the bytes are (or are taken to be) in {@code coding}
   */
  public static boolean isCoded(String coding, byte[] entity) {
    return switch (coding) {
      case "gzip", "x-gzip" -> entity.length >= 2 && (entity[0] & 0xff) == 0x1f && (entity[1] & 0xff) == 0x8b;
      case "deflate" -> isZlib(entity) || isRawDeflate(entity);
      default -> true;
    };
  }

  /** Whether the entity starts with a zlib header: method 8 (deflate) and a check sum divisible by 31. */
  static boolean isZlib(byte[] entity) {
    return entity.length >= 2 && (entity[0] & 0x0f) == 8 && (((entity[0] & 0xff) << 8) | (entity[1] & 0xff)) % 31 == 0;
  }

  /**
   * Whether the entity is one raw deflate stream ending exactly where the bytes do. Text, JSON or
   * an image is not: its bytes read as deflate blocks soon name an invalid block type, code or
   * distance, or leave bytes over. The trial inflates into a small scratch buffer and gives up,
   * answering yes, after {@value #MAX_TRIAL_INFLATE} bytes of output, so a deflate bomb costs it
   * little.
   */
  static boolean isRawDeflate(byte[] entity) {
    if (entity.length == 0) {
      return false;
    }
    Inflater inflater = new Inflater(true);
    try {
      inflater.setInput(entity);
      byte[] scratch = new byte[8192];
      long produced = 0;
      while (!inflater.finished()) {
        int n = inflater.inflate(scratch);
        produced += n;
        if (produced > MAX_TRIAL_INFLATE) {
          return true;
        }
        if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          return false;
        }
      }
      return inflater.getRemaining() == 0;
    } catch (DataFormatException e) {
      return false;
    } finally {
      inflater.end();
    }
  }
}
