package io.modelguard.test;

import io.modelguard.CappedBody;
import io.modelguard.Endpoint;
import io.modelguard.InferenceRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An in-memory {@link InferenceRequest} for unit-testing policies without a server. Built with
 * {@link #builder()}; immutable except for the lazily read body.
 */
public final class FakeRequest implements InferenceRequest {
  private final String method;
  private final String path;
  private final Map<String, List<String>> headers;
  private final String remoteAddress;
  private final Endpoint endpoint;
  private final CappedBody body;
  private int bodyReads;

  private FakeRequest(Builder b) {
    this.method = b.method;
    this.path = b.path;
    this.headers = b.headers;
    this.remoteAddress = b.remoteAddress;
    this.endpoint = b.endpoint;
    byte[] bytes = b.body;
    this.body = new CappedBody(() -> new ByteArrayInputStream(bytes));
  }

  /** {@return a POST to {@code /v1/models/digits/predict} for model {@code digits}, chain {@code default}, cost 1} */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String method() {
    return method;
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public Optional<String> header(String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
  }

  @Override
  public List<String> headers(String name) {
    return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
  }

  @Override
  public Optional<String> remoteAddress() {
    return Optional.ofNullable(remoteAddress);
  }

  @Override
  public Endpoint endpoint() {
    return endpoint;
  }

  @Override
  public byte[] body(int maxBytes) throws IOException {
    bodyReads++;
    return body.read(maxBytes);
  }

  /** {@return how many times a policy asked for the body} */
  public int bodyReads() {
    return bodyReads;
  }

  /** Builds a {@link FakeRequest}. */
  public static final class Builder {
    private String method = "POST";
    private String path = "/v1/models/digits/predict";
    private final Map<String, List<String>> headers = new TreeMap<>();
    private String remoteAddress = "127.0.0.1";
    private Endpoint endpoint = Endpoint.of("digits", "default", 1);
    private byte[] body = new byte[0];

    private Builder() {}

    /**
     * The HTTP method. Default POST.
     *
     * @param m the method name, such as {@code GET}, kept as given (not upper-cased)
     * @return this builder
     */
    public Builder method(String m) {
      this.method = m;
      return this;
    }

    /**
     * The path. Default {@code /v1/models/digits/predict}.
     *
     * @param p the request path, starting with {@code /}, without query
     * @return this builder
     */
    public Builder path(String p) {
      this.path = p;
      return this;
    }

    /**
     * Adds a header value (repeat to send a header twice).
     *
     * @param name the header name; stored lower-cased, so look-ups ignore case
     * @param value the value, added after any earlier value of the same header
     * @return this builder
     */
    public Builder header(String name, String value) {
      headers.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(value);
      return this;
    }

    /**
     * The client address. Default 127.0.0.1; null for unknown.
     *
     * @param address the client's IP address as text, or null if unknown
     * @return this builder
     */
    public Builder remoteAddress(String address) {
      this.remoteAddress = address;
      return this;
    }

    /**
     * The endpoint. Default model digits, chain default, cost 1.
     *
     * @param e the endpoint the request is routed to, or null for none
     * @return this builder
     */
    public Builder endpoint(Endpoint e) {
      this.endpoint = e;
      return this;
    }

    /**
     * A shortcut for an endpoint of {@code model} on chain {@code default}, cost 1.
     *
     * @param model the model id of the endpoint
     * @return this builder
     */
    public Builder model(String model) {
      return endpoint(Endpoint.of(model, "default", 1));
    }

    /**
     * The body bytes. Default empty.
     *
     * @param bytes the body; copied, so later changes to the array are not seen
     * @return this builder
     */
    public Builder body(byte[] bytes) {
      this.body = bytes.clone();
      return this;
    }

    /**
     * A UTF-8 body with its Content-Type.
     *
     * @param json the body as text, encoded as UTF-8; the {@code Content-Type} header is {@code
     *     application/json}
     * @return this builder
     */
    public Builder jsonBody(String json) {
      header("Content-Type", "application/json");
      return body(json.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Builds the request.
     *
     * @return a new request; the builder can go on being used for another
     */
    public FakeRequest build() {
      return new FakeRequest(this);
    }
  }
}
