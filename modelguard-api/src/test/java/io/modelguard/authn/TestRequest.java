package io.modelguard.authn;

import io.modelguard.Endpoint;
import io.modelguard.InferenceRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A minimal request for the authentication tests of this module (modelguard-test's FakeRequest is
 * out of reach): headers, a model, a path.
 */
public final class TestRequest implements InferenceRequest {
  private final Map<String, List<String>> headers = new TreeMap<>();
  private Endpoint endpoint = Endpoint.of("digits", "default", 1);
  private String path = "/v1/models/digits/predict";

  public static TestRequest create() {
    return new TestRequest();
  }

  public static TestRequest bearer(String token) {
    return create().header("Authorization", "Bearer " + token);
  }

  public TestRequest header(String name, String value) {
    headers.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(value);
    return this;
  }

  public TestRequest model(String model) {
    this.endpoint = Endpoint.of(model, "default", 1);
    return this;
  }

  public TestRequest path(String p) {
    this.path = p;
    return this;
  }

  @Override
  public String method() {
    return "POST";
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public Optional<String> header(String name) {
    List<String> v = headers(name);
    return v.isEmpty() ? Optional.empty() : Optional.of(v.get(0));
  }

  @Override
  public List<String> headers(String name) {
    return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
  }

  @Override
  public Optional<String> remoteAddress() {
    return Optional.of("127.0.0.1");
  }

  @Override
  public Endpoint endpoint() {
    return endpoint;
  }

  @Override
  public byte[] body(int maxBytes) {
    return new byte[0];
  }
}
