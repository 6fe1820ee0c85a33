package io.modelguard;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * A prediction request for the {@code digits} model on the {@code default} chain, from
 * 203.0.113.9, without headers; its body is refused past a policy's cap as the adapters refuse it.
 */
public final class DigitsRequest implements InferenceRequest {
  private final byte[] body;

  /** With an empty body. */
  public DigitsRequest() {
    this("");
  }

  /** With {@code body} in UTF-8. */
  public DigitsRequest(String body) {
    this.body = body.getBytes(StandardCharsets.UTF_8);
  }

  @Override public String method() { return "POST"; }
  @Override public String path() { return "/v1/models/digits/predict"; }
  @Override public Optional<String> header(String n) { return Optional.empty(); }
  @Override public List<String> headers(String n) { return List.of(); }
  @Override public Optional<String> remoteAddress() { return Optional.of("203.0.113.9"); }
  @Override public Endpoint endpoint() { return Endpoint.of("digits", "default", 1); }

  @Override
  public byte[] body(int max) throws BodyTooLargeException {
    if (body.length > max) {
      throw new BodyTooLargeException(max);
    }
    return body;
  }
}
