package io.modelguard.examples.gateway;

import io.modelguard.test.PooledHttp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.stream.Collectors;

/** A client of the demo variants on 127.0.0.1, for the JAX-RS and gateway tests. */
public final class Loopback {
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  private Loopback() {}

  /** POST {@code body} as {@code contentType} to {@code base + path} with {@code headers} (name, value, ...). */
  public static HttpResponse<String> post(URI base, String path, String contentType, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path))
        .timeout(Duration.ofSeconds(20))
        .header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return send(b.build());
  }

  /** GET {@code base + path} with {@code headers} (name, value, ...). */
  public static HttpResponse<String> get(URI base, String path, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(20)).GET();
    if (headers.length > 0) {
      b.headers(headers);
    }
    return send(b.build());
  }

  /** {@code method} {@code base + path} without a body, with {@code headers} (name, value, ...). */
  public static HttpResponse<String> send(URI base, String method, String path, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(20))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (headers.length > 0) {
      b.headers(headers);
    }
    return send(b.build());
  }

  /** Sends, once more if it met a pooled connection the server had just closed ({@link PooledHttp#send}). */
  private static HttpResponse<String> send(HttpRequest request) {
    try {
      return PooledHttp.send(HTTP, request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** {@code {"<field>":[v1,v2,...]}}. */
  public static String body(String field, double[] values) {
    return "{\"" + field + "\":" + Arrays.stream(values).mapToObj(Double::toString)
        .collect(Collectors.joining(",", "[", "]")) + "}";
  }
}
