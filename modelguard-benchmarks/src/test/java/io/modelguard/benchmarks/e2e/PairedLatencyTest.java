package io.modelguard.benchmarks.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.modelguard.benchmarks.e2e.PairedLatency.Exchange;
import io.modelguard.benchmarks.e2e.PairedLatency.Latencies;
import io.modelguard.benchmarks.e2e.PairedLatency.Load;
import io.modelguard.benchmarks.e2e.PairedLatency.Result;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PairedLatencyTest {
  private static final Load LOAD =
      new Load(List.of("{\"a\":1}", "{\"b\":2}", "{\"fail\":true}"), List.of("k1", "k2"), "Authorization", "Bearer ");

  private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
  /** Which server got each request, in order of arrival. */
  private final List<String> arrivals = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    servers.forEach(s -> s.stop(0));
  }

  /**
   * A loopback server that records each request's credential and body and answers 200, or {@code
   * failStatus} to a body containing "fail"; chunked or with a Content-Length.
   */
  private URI server(String name, List<String> seen, boolean chunked, int failStatus) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/v1/models/digits/predict", exchange -> {
      arrivals.add(name);
      answer(exchange, seen, chunked, failStatus);
    });
    server.start();
    servers.add(server);
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/models/digits/predict");
  }

  private static void answer(HttpExchange exchange, List<String> seen, boolean chunked, int failStatus)
      throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    seen.add(exchange.getRequestHeaders().getFirst("Authorization") + " " + body);
    byte[] answer = "{\"label\":3,\"probabilities\":[0.1,0.9]}".getBytes(StandardCharsets.UTF_8);
    int status = body.contains("fail") ? failStatus : 200;
    exchange.sendResponseHeaders(status, chunked ? 0 : answer.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(answer);
    }
  }

  private static String expected(long i) {
    return LOAD.credential(i) + " " + LOAD.body(i);
  }

  @Test
  void bothServersGetEveryPairsRequestInTurnAndEveryResponseIsReadWhole() throws IOException {
    List<String> seenA = new CopyOnWriteArrayList<>();
    List<String> seenB = new CopyOnWriteArrayList<>();
    URI a = server("a", seenA, false, 200);
    URI b = server("b", seenB, true, 503);

    Result result = PairedLatency.run(LOAD, Duration.ZERO, Duration.ofMillis(300), a, b);

    int n = result.a().count();
    assertThat(n).isPositive();
    assertThat(result.b().count()).isEqualTo(n);
    // Same request to both, in order; a response read short or long would desynchronise the
    // connection and fail the run, or shift these sequences.
    assertThat(seenA).hasSize(n);
    assertThat(seenB).isEqualTo(seenA);
    for (int i = 0; i < n; i++) {
      assertThat(seenA.get(i)).isEqualTo(expected(i));
      // Each server goes first in every other pair.
      assertThat(arrivals.subList(2 * i, 2 * i + 2)).containsExactly(i % 2 == 0 ? "a" : "b", i % 2 == 0 ? "b" : "a");
    }
    assertThat(result.a().non2xx()).isZero();
    assertThat(result.b().non2xx()).isEqualTo((int) IntStream.range(0, n).filter(i -> i % 3 == 2).count());
    assertThat(result.line()).startsWith("PAIRED_RESULT requests=" + n + " ").contains(" b_non2xx=" + result.b().non2xx());
  }

  @Test
  void aRefusalThatClosesTheConnectionIsCountedAndTheNextRequestGoesOnANewOne() throws IOException {
    // As a guarded server may answer a refusal (say 503 quota.unavailable under load): the run
    // went on rather than ending the benchmark script.
    List<String> seenA = new CopyOnWriteArrayList<>();
    List<String> seenB = new CopyOnWriteArrayList<>();
    URI a = server("a", seenA, false, 200);
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/v1/models/digits/predict", exchange -> {
      arrivals.add("b");
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      seenB.add(body);
      boolean refuse = body.contains("fail");
      if (refuse) {
        exchange.getResponseHeaders().set("Connection", "keep-alive, Close"); // a token list, any case
      }
      byte[] answer = "{}".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(refuse ? 503 : 200, answer.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(answer);
      }
    });
    server.start();
    servers.add(server);
    URI b = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/models/digits/predict");

    Result result = PairedLatency.run(LOAD, Duration.ZERO, Duration.ofMillis(300), a, b);

    int n = result.a().count();
    int refusals = (int) IntStream.range(0, n).filter(i -> i % 3 == 2).count();
    assertThat(refusals).isPositive();
    assertThat(result.b().count()).isEqualTo(n);
    assertThat(result.b().non2xx()).isEqualTo(refusals);
    assertThat(seenA).hasSize(n);
    assertThat(seenB).hasSize(n);
  }

  @Test
  void warmUpPairsAreSentButNotCountedAndTheNumberingGoesOn() throws IOException {
    List<String> seenA = new CopyOnWriteArrayList<>();
    List<String> seenB = new CopyOnWriteArrayList<>();
    URI a = server("a", seenA, true, 200);
    URI b = server("b", seenB, false, 200);

    Result result = PairedLatency.run(LOAD, Duration.ofMillis(200), Duration.ofMillis(200), a, b);

    int counted = result.a().count();
    assertThat(counted).isPositive();
    assertThat(seenA.size()).isGreaterThan(counted);
    assertThat(seenB).isEqualTo(seenA);
    for (int i = 0; i < seenA.size(); i++) {
      assertThat(seenA.get(i)).isEqualTo(expected(i));
    }
  }

  @Test
  void percentilesAreNearestRankInMicroseconds() {
    Latencies latencies = new Latencies();
    assertThat(latencies.percentileMicros(99)).isZero();
    for (int us = 100; us >= 1; us--) { // added out of order
      latencies.add(new Exchange(us == 7 ? 500 : 200, us * 1_000L + 999));
    }
    assertThat(latencies.count()).isEqualTo(100);
    assertThat(latencies.non2xx()).isEqualTo(1);
    assertThat(latencies.percentileMicros(50)).isEqualTo(50);
    assertThat(latencies.percentileMicros(99)).isEqualTo(99);
    assertThat(latencies.percentileMicros(99.9)).isEqualTo(100);
    assertThat(latencies.percentileMicros(0)).isEqualTo(1);
    latencies.add(new Exchange(200, 500)); // added after a percentile was read: counted in the next
    assertThat(latencies.percentileMicros(0)).isZero();
    assertThat(latencies.percentileMicros(100)).isEqualTo(100);
  }

  @Test
  void moreSamplesThanTheFirstArrayHoldsAreKept() {
    Latencies latencies = new Latencies();
    int n = (1 << 16) + 5;
    for (int i = 1; i <= n; i++) {
      latencies.add(new Exchange(200, i * 1_000L));
    }
    assertThat(latencies.count()).isEqualTo(n);
    assertThat(latencies.percentileMicros(100)).isEqualTo(n);
  }
}
