package io.modelguard.test;

import io.modelguard.Endpoint;
import io.modelguard.InferenceRequest;
import io.modelguard.input.RequestAttributes;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link FakeRequest} with request attributes, as the servlet and JAX-RS adapters' requests have
 * (over the container's): policies keep per-request state there (the per-address limit its charge
 * until the refund, the input policy its fetched inputs, the extraction defence a request's
 * features), and take other paths for a request without them. The map is made on the first
 * attribute set, as a servlet request's. Not thread-safe, as a request is not.
 */
public final class AttributedRequest implements InferenceRequest, RequestAttributes {
  private final FakeRequest request;
  private Map<String, Object> attributes;

  /**
   * {@code request}, with no attribute set yet.
   *
   * @param request the request to wrap; not null
   */
  public AttributedRequest(FakeRequest request) {
    this.request = Objects.requireNonNull(request, "request");
  }

  /** {@return the request under the attributes (its {@link FakeRequest#bodyReads()}, say)} */
  public FakeRequest request() {
    return request;
  }

  @Override
  public String method() {
    return request.method();
  }

  @Override
  public String path() {
    return request.path();
  }

  @Override
  public Optional<String> header(String name) {
    return request.header(name);
  }

  @Override
  public List<String> headers(String name) {
    return request.headers(name);
  }

  @Override
  public Optional<String> remoteAddress() {
    return request.remoteAddress();
  }

  @Override
  public Endpoint endpoint() {
    return request.endpoint();
  }

  @Override
  public byte[] body(int maxBytes) throws IOException {
    return request.body(maxBytes);
  }

  @Override
  public void setAttribute(String name, Object value) {
    if (value == null) {
      if (attributes != null) {
        attributes.remove(name);
      }
      return;
    }
    if (attributes == null) {
      attributes = new HashMap<>();
    }
    attributes.put(name, value);
  }

  @Override
  public Optional<Object> attribute(String name) {
    return attributes == null ? Optional.empty() : Optional.ofNullable(attributes.get(name));
  }

  /** {@return whether a policy ever set an attribute (a removal afterwards included)} */
  public boolean attributeWasSet() {
    return attributes != null;
  }

  /** {@return a copy of the attributes set and not removed} */
  public Map<String, Object> attributes() {
    return attributes == null ? Map.of() : Map.copyOf(attributes);
  }
}
