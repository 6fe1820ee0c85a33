package io.modelguard.servlet;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.EndpointSpec;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import io.modelguard.servlet.testapp.OpenServlet;
import io.modelguard.servlet.testapp.ServletDef;
import io.modelguard.servlet.testapp.ServletRuntime;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Request bodies over HTTP/2, which frames a body of any length: one may come without {@code
 * Content-Length} and, HTTP/2 having no chunking, without {@code Transfer-Encoding} either, which in
 * HTTP/1.1 would mean no body at all. On a real container with cleartext HTTP/2; the JDK client's
 * connection is upgraded to HTTP/2 by a first request without a body, and every request after it
 * goes over HTTP/2 on that connection.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class Http2BodiesContract {
  /** Below the 1 MiB a denial reads and discards, many times the server's stream window. */
  private static final int DISCARDED_BODY = 900_000;

  private Deployment deployment;

  /** The container under test. */
  abstract ServletRuntime runtime();

  @BeforeAll
  void start() throws Exception {
    ModelGuardFilter filter = ModelGuardFilter.builder(denyingGuard())
        .route("/denied", EndpointSpec.of("digits", "deny", 1))
        .build();
    deployment = runtime().startWithHttp2("/app", filter, List.of(ServletDef.of(OpenServlet.class, "/open", "/denied")));
  }

  /** A guard whose chain {@code deny} denies every request ({@code 422 input.invalid}). */
  private static ModelGuard denyingGuard() {
    return ModelGuard.builder()
        .auditLog(false)
        .models("digits")
        .chain(ModelGuard.DEFAULT_CHAIN, chain -> {})
        .chain("deny", chain -> chain.policy(Phase.VALIDATE, "deny",
            ctx -> GuardDecision.deny(ReasonCode.INPUT_INVALID)))
        .build();
  }

  @AfterAll
  void stop() throws Exception {
    if (deployment != null) {
      deployment.close();
    }
  }

  @Test
  void aDeniedBodyWithoutLengthIsReadAndDiscardedBeforeTheDenial() throws Exception {
    // Taken for HTTP/1.1's "no body", it was left unread: the client could send no more of it than
    // the stream's window, and the JDK client, still sending, never got the denial (the request
    // timed out). Read to its end, every byte is taken before the denial is sent.
    HttpClient client = upgradedClient();
    AtomicLong sent = new AtomicLong();

    HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri("/denied"))
        .header("Content-Type", "application/octet-stream")
        .timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> counting(new byte[DISCARDED_BODY], sent)))
        .build(), HttpResponse.BodyHandlers.ofString(UTF_8));

    assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(sent.get()).as("bytes the client could send before the denial").isEqualTo(DISCARDED_BODY);
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(r.body()).contains("\"code\":\"input.invalid\"");
    // The connection still serves the next request.
    HttpResponse<String> next = client.send(HttpRequest.newBuilder(uri("/open")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString(UTF_8));
    assertThat(next.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(next.body()).isEqualTo("open");
  }

  @Test
  void aDenialOverHttp2WhoseBodyWasLeftUnreadSaysNoConnectionClose() throws Exception {
    // A filter ahead of the guard took the reader, so the guard cannot read the body of a request
    // without Content-Length to its end: over HTTP/2 a GET may have one. Connection is an HTTP/1.x
    // field, which makes an HTTP/2 message malformed (RFC 9113, section 8.2.2); Tomcat sent it as
    // set, and a strict client (curl's nghttp2) resets the stream and never sees the denial.
    jakarta.servlet.Filter takesTheReader = (request, response, chain) -> {
      request.getReader();
      chain.doFilter(request, response);
    };
    ModelGuardFilter filter = ModelGuardFilter.builder(denyingGuard())
        .route("/denied", EndpointSpec.of("digits", "deny", 1))
        .build();
    try (Deployment readerTaken = runtime().start("/app", List.of(takesTheReader, filter),
        List.of(ServletDef.of(OpenServlet.class, "/open", "/denied")), Map.of(), true)) {
      HttpClient client = upgradedClient(readerTaken);

      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(readerTaken.baseUri() + "/denied"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString(UTF_8));

      assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
      assertThat(r.statusCode()).isEqualTo(422);
      assertThat(r.headers().allValues("Connection")).isEmpty();
    }
  }

  /** A JDK client whose one connection to the deployment has been upgraded to HTTP/2 (h2c). */
  private HttpClient upgradedClient() throws IOException, InterruptedException {
    return upgradedClient(deployment);
  }

  /** A JDK client whose one connection to {@code to} has been upgraded to HTTP/2 (h2c). */
  private static HttpClient upgradedClient(Deployment to) throws IOException, InterruptedException {
    HttpClient client = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_2)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
    // The JDK client knows no HTTP/2 over cleartext by prior knowledge, and upgrades only a request
    // without a body reliably.
    HttpResponse<String> upgrade = client.send(HttpRequest.newBuilder(URI.create(to.baseUri() + "/open"))
            .timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString(UTF_8));
    assertThat(upgrade.version()).isEqualTo(HttpClient.Version.HTTP_2);
    return client;
  }

  /**
   * {@code body}, counting in {@code sent} the bytes the client took of it to send: as flow control
   * lets it, so at most a stream window (and one buffer) more than the server read.
   */
  private static FilterInputStream counting(byte[] body, AtomicLong sent) {
    return new FilterInputStream(new ByteArrayInputStream(body)) {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        sent.addAndGet(Math.max(n, 0));
        return n;
      }
    };
  }

  private URI uri(String path) {
    return URI.create(deployment.baseUri() + path);
  }
}
