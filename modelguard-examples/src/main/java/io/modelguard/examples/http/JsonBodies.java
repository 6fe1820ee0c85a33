package io.modelguard.examples.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelguard.ReasonCode;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * Reads a handler's JSON body: at most {@code maxBytes} (a declared or actual excess answers
 * {@code 413 input.too_large}), parsed by the handler's mapper (a parse failure answers {@code 400
 * input.malformed} with the generic detail: the parser's message may echo the input).
 */
final class JsonBodies {
  private JsonBodies() {}

  /** The parsed body, or empty once the problem response has been sent. */
  static Optional<JsonNode> read(HttpServletRequest request, HttpServletResponse response,
      ObjectMapper json, int maxBytes) throws IOException {
    if (request.getContentLengthLong() > maxBytes) {
      Problems.send(response, ReasonCode.INPUT_TOO_LARGE);
      return Optional.empty();
    }
    byte[] body;
    try (InputStream in = request.getInputStream()) {
      body = in.readNBytes(maxBytes + 1);
    }
    if (body.length > maxBytes) {
      Problems.send(response, ReasonCode.INPUT_TOO_LARGE);
      return Optional.empty();
    }
    try {
      return Optional.of(json.readTree(body));
    } catch (JsonProcessingException e) {
      Problems.send(response, ReasonCode.INPUT_MALFORMED);
      return Optional.empty();
    }
  }
}
