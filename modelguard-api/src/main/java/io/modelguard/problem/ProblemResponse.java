package io.modelguard.problem;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A fully rendered RFC 9457 problem response: status, headers in a fixed order, and the body
 * bytes. Adapters copy it to the wire verbatim, which is what makes every adapter's responses
 * identical byte for byte. Immutable.
 *
 * @param status the HTTP status
 * @param headers response headers in the order to write them (Content-Type excluded)
 * @param body the UTF-8 JSON body
 */
public record ProblemResponse(int status, Map<String, String> headers, byte[] body) {
  /** The media type of every problem body. */
  public static final String CONTENT_TYPE = "application/problem+json";

  /**
   * Copies the headers so the record stays immutable.
   *
   * @param status the HTTP status
   * @param headers the headers in the order to write them; copied
   * @param body the UTF-8 JSON body; copied
   */
  public ProblemResponse {
    headers = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(headers));
    body = body.clone();
  }

  /** {@return the body bytes (a copy)} */
  @Override
  public byte[] body() {
    return body.clone();
  }

  /** {@return the media type, always {@value #CONTENT_TYPE}} */
  public String contentType() {
    return CONTENT_TYPE;
  }

  /** {@return the body as a string} */
  public String bodyAsString() {
    return new String(body, StandardCharsets.UTF_8);
  }
}
