package io.modelguard;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The framework-neutral view of one HTTP request that policies see. Adapters implement it over
 * their native request; tests use {@code io.modelguard.test.FakeRequest}. Implementations need not
 * be thread-safe: one request is checked by one thread.
 */
public interface InferenceRequest {

  /** {@return the HTTP method, upper case} */
  String method();

  /** {@return the request path relative to the application (no context path, no query string)} */
  String path();

  /**
   * {@return the first value of header {@code name} (case-insensitive), if present}
   *
   * @param name the header name, matched ignoring case
   */
  Optional<String> header(String name);

  /**
   * {@return every value of header {@code name} (case-insensitive), in order; empty if absent}
   *
   * @param name the header name, matched ignoring case
   */
  List<String> headers(String name);

  /** {@return the client's network address as the container sees it, if known} */
  Optional<String> remoteAddress();

  /** {@return the {@code Content-Type} header, if present} */
  default Optional<String> contentType() {
    return header("Content-Type");
  }

  /** {@return the declared {@code Content-Length}, if present and valid} */
  default OptionalLong contentLength() {
    Optional<String> value = header("Content-Length");
    if (value.isEmpty()) {
      return OptionalLong.empty();
    }
    try {
      long n = Long.parseLong(value.get().trim());
      return n >= 0 ? OptionalLong.of(n) : OptionalLong.empty();
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  /** {@return the guarded endpoint this request is for} */
  Endpoint endpoint();

  /**
   * The request body, read on first call and never more than {@code maxBytes} (plus one byte to
   * detect excess). Later calls return the same bytes; the adapter replays them to the
   * application, so nothing is lost by reading here.
   *
   * @param maxBytes the most bytes to accept, not negative
   * @return the whole body, empty if there is none; shared, so callers must not modify it
   * @throws BodyTooLargeException if the body is longer than {@code maxBytes}
   * @throws IOException if reading fails
   */
  byte[] body(int maxBytes) throws IOException;
}
