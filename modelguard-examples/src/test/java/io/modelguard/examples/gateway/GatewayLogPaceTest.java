package io.modelguard.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.modelguard.ReasonCode;
import io.modelguard.examples.AppOptions;
import io.modelguard.examples.ModelServingApp;
import io.modelguard.examples.QuotaClocks;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.internal.LogPace;
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
import java.util.concurrent.atomic.AtomicReference;
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

      ticker.addAndGet(LogPace.INTERVAL.toMillis());
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

  @Test
  void aFailureAClientRepeatsDoesNotHideAnotherModelsOrAnotherKindOnTheSameUpstream() throws Exception {
    // One upstream serves both models: iris predictions make it fail (a client can send those at
    // will), while digits is answered 503 and, later, iris 200 as HTML: faults the operator must see.
    AtomicReference<String> irisAnswer = new AtomicReference<>("500 Internal Server Error");
    AtomicLong ticker = new AtomicLong();
    try (RawUpstream upstream = new RawUpstream(seen -> seen.head().startsWith("POST /v1/models/digits/")
            ? RawUpstream.response("503 Service Unavailable", "")
            : irisAnswer.get().startsWith("500") ? RawUpstream.response(irisAnswer.get(), "")
            : RawUpstream.response(irisAnswer.get(), "<html>oops</html>", "Content-Type: text/html"));
        ModelServingApp edge = ModelServingApp.start(QuotaClocks.frozen(AppOptions.defaults().withPort(0)), QUIET,
            paced(Upstreams.none().withDefault(upstream.baseUri()), ticker));
        LogCapture log = LogCapture.of(GatewayServlet.class, Level.DEBUG)) {
      String enterprise = edge.key("enterprise").orElseThrow().plaintext();
      String iris = Loopback.body("features", edge.models().get(ModelCatalog.IRIS).orElseThrow().example());
      String digits = Loopback.body("pixels", edge.models().get(ModelCatalog.DIGITS).orElseThrow().example());
      int repeated = 3;
      for (int i = 0; i < repeated; i++) {
        assertThat(post(edge, "iris", iris, enterprise).statusCode()).isEqualTo(502);
      }
      assertThat(post(edge, "digits", digits, enterprise).statusCode()).isEqualTo(502);
      irisAnswer.set("200 OK");
      assertThat(post(edge, "iris", iris, enterprise).statusCode()).isEqualTo(502);

      assertThat(log.messagesAt(Level.WARN)).as("each fault's first line, within the same minute").hasSize(3)
          .satisfiesExactly(
              first -> assertThat(first).contains("/v1/models/iris/predict answered 500"),
              other -> assertThat(other).contains("/v1/models/digits/predict answered 503", "0 more since"),
              kind -> assertThat(kind).contains("/v1/models/iris/predict answered 200 as text/html", "0 more since"));

      ticker.addAndGet(LogPace.INTERVAL.toMillis());
      irisAnswer.set("500 Internal Server Error");
      assertThat(post(edge, "iris", iris, enterprise).statusCode()).isEqualTo(502);
      assertThat(log.messagesAt(Level.WARN)).hasSize(4).last().asString()
          .as("counts the lines like it, not the other faults'")
          .contains("answered 500", (repeated - 1) + " more since the last");
    }
  }

  /** The gateway's endpoints with its warnings paced by {@code ticker} (milliseconds). */
  private static ModelServingApp.Endpoints paced(Upstreams upstreams, AtomicLong ticker) {
    return ModelServingApp.Endpoints.leavingUnserved(site -> ModelServingApp.context(
        new GatewayServlet(upstreams, GatewayServlet.client(upstreams), ticker::get), site));
  }

  private static HttpResponse<String> post(ModelServingApp edge, String body, String key) {
    return post(edge, "digits", body, key);
  }

  private static HttpResponse<String> post(ModelServingApp edge, String model, String body, String key) {
    return Loopback.post(edge.baseUri(), "/v1/models/" + model + "/predict", "application/json", body, "X-API-Key",
        key);
  }
}
