package io.modelguard.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.modelguard.ReasonCode;
import io.modelguard.examples.AppOptions;
import io.modelguard.examples.ModelServingApp;
import io.modelguard.examples.QuotaClocks;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.test.LogCapture;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A client cannot flood the operator's log through the gateway: a prediction refused at an in-flight
 * cap, or sent to an upstream that refuses connections, costs it no quota, and each was a WARN line,
 * so one client wrote lines as fast as the edge answered. Real edge and upstreams on loopback; the
 * gateway's warnings paced by a ticker the test moves.
 */
class GatewayLogPaceTest {
  private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

  @Test
  void anUpstreamRefusingConnectionsIsWarnedOnceAMinuteNotOncePerPrediction() throws Exception {
    URI closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = URI.create("http://127.0.0.1:" + s.getLocalPort());
    }
    AtomicLong ticker = new AtomicLong();
    int predictions = 12; // more than the free tier's burst of 5, which the frozen quota clock never refills
    try (ModelServingApp edge = ModelServingApp.start(QuotaClocks.frozen(AppOptions.defaults().withPort(0)), QUIET,
            paced(Upstreams.none().with(ModelCatalog.DIGITS, closed), ticker));
        LogCapture log = LogCapture.of(GatewayServlet.class, Level.DEBUG)) {
      String digits = Loopback.body("pixels", edge.models().get(ModelCatalog.DIGITS).orElseThrow().example());
      String free = edge.key("free").orElseThrow().plaintext();
      for (int i = 0; i < predictions; i++) {
        HttpResponse<String> r = post(edge, digits, free);
        assertThat(r.statusCode()).as("each refused unserved, its charge given back: %s", r.body()).isEqualTo(502);
      }

      assertThat(log.messagesAt(Level.WARN)).singleElement().asString()
          .contains(closed.toString(), "ConnectException", "0 more since the last");
      assertThat(log.messagesAt(Level.DEBUG)).hasSize(predictions - 1)
          .allSatisfy(line -> assertThat(line).contains(closed.toString(), "ConnectException"));

      ticker.addAndGet(WarningPace.INTERVAL.toNanos());
      assertThat(post(edge, digits, free).statusCode()).isEqualTo(502);
      assertThat(log.messagesAt(Level.WARN)).hasSize(2).last().asString()
          .contains(closed.toString(), (predictions - 1) + " more since the last");
    }
  }

  @Test
  void predictionsRefusedAtTheTenantsInFlightCapAreWarnedOnceAMinute() throws Exception {
    int cap = GatewayServlet.MAX_IN_FLIGHT_PER_TENANT;
    int refused = 8;
    CountDownLatch arrived = new CountDownLatch(cap);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService clients = Executors.newFixedThreadPool(cap);
    try (RawUpstream hung = GatewayTenantIsolationTest.hungUpstream(arrived, release);
        ModelServingApp edge = ModelServingApp.start(QuotaClocks.frozen(AppOptions.defaults().withPort(0)), QUIET,
            paced(Upstreams.none().with(ModelCatalog.DIGITS, hung.baseUri()).withTimeout(Duration.ofSeconds(60)),
                new AtomicLong()));
        LogCapture log = LogCapture.of(GatewayServlet.class, Level.DEBUG)) {
      String digits = Loopback.body("pixels", edge.models().get(ModelCatalog.DIGITS).orElseThrow().example());
      String enterprise = edge.key("enterprise").orElseThrow().plaintext();
      List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
      try {
        for (int i = 0; i < cap; i++) {
          waiting.add(CompletableFuture.supplyAsync(() -> post(edge, digits, enterprise), clients));
        }
        assertThat(arrived.await(20, TimeUnit.SECONDS)).as("the tenant's cap waits on the hung upstream").isTrue();
        for (int i = 0; i < refused; i++) {
          HttpResponse<String> r = post(edge, digits, enterprise);
          assertThat(r.body()).contains(ReasonCode.QUOTA_EXCEEDED.code());
        }
      } finally {
        release.countDown();
      }
      for (CompletableFuture<HttpResponse<String>> f : waiting) {
        assertThat(f.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      }

      assertThat(log.messagesAt(Level.WARN)).singleElement().asString()
          .contains("already has " + cap + " predictions waiting on upstreams", "0 more since the last");
      assertThat(log.messagesAt(Level.DEBUG)).filteredOn(line -> line.contains("waiting on upstreams; refused"))
          .hasSize(refused - 1);
    } finally {
      clients.shutdownNow();
    }
  }

  /** The gateway's endpoints with its warnings paced by {@code ticker}. */
  private static ModelServingApp.Endpoints paced(Upstreams upstreams, AtomicLong ticker) {
    return ModelServingApp.Endpoints.leavingUnserved(site -> ModelServingApp.context(
        new GatewayServlet(upstreams, GatewayServlet.client(upstreams), ticker::get), site));
  }

  private static HttpResponse<String> post(ModelServingApp edge, String body, String key) {
    return Loopback.post(edge.baseUri(), "/v1/models/digits/predict", "application/json", body, "X-API-Key", key);
  }
}
