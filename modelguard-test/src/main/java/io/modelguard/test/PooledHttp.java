package io.modelguard.test;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * Sending on a pooled {@link HttpClient} to a server that closes connections after a refusal (a
 * denial sent before the body was read says {@code Connection: close}).
 */
public final class PooledHttp {
  private PooledHttp() {}

  /**
   * Sends {@code request}, and once more if the first attempt got no response byte at all because
   * the pooled connection it went out on had just been closed by the server (RFC 9112 §9.3.1: the
   * server never saw it); the retry is reported on stderr. Any other failure, or a second one, is
   * thrown.
   *
   * @param <T> the response body type
   * @param client the client whose pool the request goes through
   * @param request the request to send
   * @param body how to read the response body
   * @return the response
   * @throws IOException if both attempts fail, or the first fails in any other way
   * @throws InterruptedException if interrupted while waiting for the response
   */
  public static <T> HttpResponse<T> send(HttpClient client, HttpRequest request, HttpResponse.BodyHandler<T> body)
      throws IOException, InterruptedException {
    try {
      return client.send(request, body);
    } catch (IOException e) {
      if (e.getMessage() == null || !e.getMessage().contains("received no bytes")) {
        throw e;
      }
      System.err.println("http: " + request.method() + " " + request.uri().getPath()
          + " met a connection the server had closed; sent once more");
      return client.send(request, body);
    }
  }
}
