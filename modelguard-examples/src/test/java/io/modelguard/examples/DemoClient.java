package io.modelguard.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.StringJoiner;

/** A loopback HTTP client for the demo's endpoints. */
final class DemoClient {
  static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();
  private final URI base;

  DemoClient(URI base) {
    this.base = base;
  }

  HttpResponse<String> get(String path, String key) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).GET();
    if (key != null) {
      b.header("X-API-Key", key);
    }
    return send(b.build());
  }

  HttpResponse<String> post(String path, String key, String json) {
    return post(path, key, "application/json", json);
  }

  HttpResponse<String> post(String path, String key, String contentType, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("X-API-Key", key);
    }
    return send(b.build());
  }

  /** GET with {@code headers} (name, value, name, value, ...). */
  HttpResponse<String> getWith(String path, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).GET();
    if (headers.length > 0) {
      b.headers(headers);
    }
    return send(b.build());
  }

  /** POST of a JSON body with {@code headers} (name, value, name, value, ...). */
  HttpResponse<String> postWith(String path, String json, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return send(b.build());
  }

  /** A request without a body by {@code method} with {@code headers} (name, value, name, value, ...). */
  HttpResponse<String> send(String method, String path, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (headers.length > 0) {
      b.headers(headers);
    }
    return send(b.build());
  }

  /** POST of {@code json} with {@code Authorization: Bearer token}. */
  HttpResponse<String> postBearer(String path, String token, String json) {
    return postWith(path, json, "Authorization", "Bearer " + token);
  }

  /** A demo token from {@code POST /demo/token} for {@code request} (JSON); fails unless 200. */
  String demoToken(String request) {
    HttpResponse<String> r = postWith("/demo/token", request);
    if (r.statusCode() != 200) {
      throw new AssertionError("POST /demo/token " + request + " -> " + r.statusCode() + " " + r.body());
    }
    return json(r).get("access_token").asText();
  }

  private HttpResponse<String> send(HttpRequest request) {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static JsonNode json(HttpResponse<String> response) {
    try {
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException("not JSON: " + response.body(), e);
    }
  }

  /** {@code {"<field>":[values]}}. */
  static String body(String field, double... values) {
    StringJoiner j = new StringJoiner(",", "{\"" + field + "\":[", "]}");
    for (double v : values) {
      j.add(Double.toString(v));
    }
    return j.toString();
  }
}
