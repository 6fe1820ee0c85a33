package io.modelguard.test.input;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.input.FetchResult;
import io.modelguard.input.SafeUrlFetcher;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The loopback server the fetch tests rely on: it serves what it is told and counts every connection. */
class LoopbackHttpServerTest {

  @Test
  void servesRegisteredPathsAnd404sTheRest() throws Exception {
    try (LoopbackHttpServer server = LoopbackHttpServer.start()) {
      server.serve("/a.txt", 200, "text/plain", "hello".getBytes(StandardCharsets.US_ASCII));
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

      HttpResponse<String> ok = client.send(HttpRequest.newBuilder(server.uri("/a.txt")).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> missing = client.send(HttpRequest.newBuilder(server.uri("/b.txt")).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());

      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.body()).isEqualTo("hello");
      assertThat(ok.headers().firstValue("Content-Type")).hasValue("text/plain");
      assertThat(missing.statusCode()).isEqualTo(404);
      assertThat(server.requestLines()).hasSize(2).allMatch(l -> l.startsWith("GET /"));
      assertThat(server.connections()).isEqualTo(2);
    }
  }

  @Test
  void countsAConnectionThatSendsNothingAndResetForgetsIt() throws Exception {
    try (LoopbackHttpServer server = LoopbackHttpServer.start()) {
      try (Socket s = new Socket("127.0.0.1", server.port())) {
        s.getOutputStream().flush();
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (server.connections() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(server.connections()).isEqualTo(1);
      assertThat(server.requestLines()).isEmpty();

      server.reset();
      assertThat(server.connections()).isZero();
    }
  }

  @Test
  void theFixturesImageIsFetchedThroughAnExemptedEndpointOnly() {
    try (LoopbackHttpServer server = LoopbackHttpServer.start()) {
      byte[] png = FetchedInputsFixture.png();
      server.serve("/i.png", 200, "image/png", png);

      FetchResult fetched = SafeUrlFetcher.builder().allowInternalEndpoint("127.0.0.1", server.port()).build()
          .fetch(server.url("/i.png"));
      FetchResult refused = SafeUrlFetcher.ofDefaults().fetch(server.url("/i.png"));

      assertThat(fetched.body()).hasValueSatisfying(b -> assertThat(b).isEqualTo(png));
      assertThat(refused.refusal()).isPresent();
      assertThat(server.connections()).isEqualTo(1);
    }
  }
}
