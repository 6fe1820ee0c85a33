package io.modelguard.examples.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelguard.input.FetchedInputs;
import io.modelguard.input.ImageFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.Optional;

/**
 * {@value ModelCatalog#IMAGE_CLASSIFIER}'s input as the gateway forwards it to a model server: the
 * image ModelGuard fetched and checked at the edge, never its URL, so that the model server classifies
 * exactly those bytes and fetches nothing (a second fetch would resolve the name again and could
 * reach another address, undoing the edge's SSRF check).
 *
 * <pre>
 * {"image":{"contentType":"image/png","base64":"iVBORw0KGgo..."}}
 * </pre>
 *
 * <p>{@code contentType} is the media type of the format read from the image's magic bytes, and
 * {@code base64} the image in standard base64 with padding (RFC 4648, section 4). The body is at
 * most {@value #MAX_BODY_BYTES} bytes: an image of {@value ModelCatalog#IMAGE_MAX_BYTES} bytes
 * and the form around it. Internal to the gateway and its model servers: a client still sends
 * {@code {"imageUrl":"..."}}, which is all the edge accepts.
 */
public final class ForwardedImage {
  /** The one field of the form. */
  public static final String FIELD = "image";
  /** The longest {@code base64} value: the base64 of {@value ModelCatalog#IMAGE_MAX_BYTES} bytes. */
  public static final int MAX_BASE64_CHARS = 4 * ((ModelCatalog.IMAGE_MAX_BYTES + 2) / 3);
  /** The largest body of the form: the longest {@code base64} value and 1 KiB for the rest. */
  public static final int MAX_BODY_BYTES = MAX_BASE64_CHARS + 1024;

  private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder()
              .maxNestingDepth(4)
              .maxNumberLength(64)
              .maxStringLength(MAX_BASE64_CHARS)
              .build())
          .build())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .build();

  private ForwardedImage() {}

  /** The body of the form for {@code image}, as the gateway sends it. */
  public static byte[] body(FetchedInputs.FetchedImage image) {
    ObjectNode body = JSON.createObjectNode();
    body.putObject(FIELD)
        .put("contentType", image.header().format().mediaType())
        .put("base64", Base64.getEncoder().encodeToString(image.bytes()));
    try {
      return JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The image bytes of a body of the form: empty if it is JSON of another shape (a field other than
   * {@code image}, {@code contentType} and {@code base64}, or one missing), if {@code base64} is
   * not valid base64 or {@code contentType} not the media type of the bytes' format (PNG, JPEG,
   * GIF; {@link ImageFormat#sniff}).
   *
   * @throws JsonProcessingException if the body is not JSON, has a duplicate field or a string
   *     longer than {@value #MAX_BASE64_CHARS} characters (reading bytes in memory fails in no other way)
   */
  static Optional<byte[]> read(byte[] body) throws IOException {
    JsonNode root = JSON.readTree(body);
    JsonNode image = root != null && root.isObject() && root.size() == 1 ? root.get(FIELD) : null;
    if (image == null || !image.isObject() || image.size() != 2) {
      return Optional.empty();
    }
    JsonNode type = image.get("contentType");
    JsonNode base64 = image.get("base64");
    if (type == null || !type.isTextual() || base64 == null || !base64.isTextual()) {
      return Optional.empty();
    }
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(base64.asText());
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    Optional<ImageFormat> declared = ImageFormat.forMediaType(type.asText());
    if (declared.isEmpty() || !declared.equals(ImageFormat.sniff(bytes))) {
      return Optional.empty();
    }
    return Optional.of(bytes);
  }
}
