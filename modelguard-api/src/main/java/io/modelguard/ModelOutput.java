package io.modelguard;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/** The body a model endpoint produced, as bytes with their media type. Immutable. */
public final class ModelOutput {
  private final byte[] body;
  private final String contentType;

  private ModelOutput(byte[] body, String contentType) {
    this.body = Objects.requireNonNull(body, "body").clone();
    this.contentType = contentType;
  }

  /**
   * {@return an output of {@code body} with {@code contentType} (which may be null if unknown)}
   *
   * @param body the output bytes; not null
   * @param contentType the media type, or null if unknown
   */
  public static ModelOutput of(byte[] body, String contentType) {
    return new ModelOutput(body, contentType);
  }

  /**
   * {@return a UTF-8 JSON output}
   *
   * @param json the JSON text, encoded as UTF-8; not null
   */
  public static ModelOutput json(String json) {
    return new ModelOutput(json.getBytes(StandardCharsets.UTF_8), "application/json");
  }

  /** {@return a copy of the body bytes} */
  public byte[] body() {
    return body.clone();
  }

  /** {@return the body decoded as UTF-8} */
  public String bodyAsString() {
    return new String(body, StandardCharsets.UTF_8);
  }

  /** {@return the body's length in bytes} */
  public int length() {
    return body.length;
  }

  /** {@return the media type, if known} */
  public Optional<String> contentType() {
    return Optional.ofNullable(contentType);
  }
}
