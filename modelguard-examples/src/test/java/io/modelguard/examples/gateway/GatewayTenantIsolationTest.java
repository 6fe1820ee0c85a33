package io.modelguard.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.ReasonCode;
import io.modelguard.examples.AppOptions;
import io.modelguard.examples.ModelServingApp;
import io.modelguard.examples.QuotaClocks;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.problem.ProblemRenderer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.io.PrintStream;
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
import org.junit.jupiter.api.Test;

/**
 * One tenant cannot take the whole edge: every request the gateway relays holds one of the edge's
 * request threads (32 in all) until the upstream answers, so a tenant flooding a model whose upstream
 * is slow or hung (within its quota: an enterprise burst is 100) held them all until the upstream
 * timeout, and every other tenant's predictions, of any model, queued behind. Real upstreams on
 * loopback: a hung one, held on a latch, and a healthy one.
 */
class GatewayTenantIsolationTest {
  private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
  /** More than the edge has request threads. */
  private static final int FLOOD = 48;

  @Test
  void aTenantWaitingOnAHungUpstreamDoesNotHoldUpOtherTenants() throws Exception {
    CountDownLatch arrived = new CountDownLatch(GatewayServlet.MAX_IN_FLIGHT_PER_TENANT);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService clients = Executors.newFixedThreadPool(FLOOD + 1);
    try (RawUpstream hung = hungUpstream(arrived, release);
        RawUpstream healthy = new RawUpstream(seen -> RawUpstream.response("200 OK",
            "{\"model\":\"iris\",\"label\":0,\"probabilities\":[1.0,0.0,0.0]}", "Content-Type: application/json"));
        ModelServingApp edge = ModelServingApp.start(AppOptions.defaults().withPort(0), QUIET,
            GatewayApp.endpoints(Upstreams.none().with(ModelCatalog.DIGITS, hung.baseUri())
                .with(ModelCatalog.IRIS, healthy.baseUri()).withTimeout(Duration.ofSeconds(60))))) {
      String digits = Loopback.body("pixels", edge.models().get(ModelCatalog.DIGITS).orElseThrow().example());
      String enterprise = edge.key("enterprise").orElseThrow().plaintext();
      List<CompletableFuture<HttpResponse<String>>> flood = new ArrayList<>();
      try {
        for (int i = 0; i < FLOOD; i++) {
          flood.add(CompletableFuture.supplyAsync(() -> Loopback.post(edge.baseUri(), "/v1/models/digits/predict",
              "application/json", digits, "X-API-Key", enterprise), clients));
        }
        assertThat(arrived.await(20, TimeUnit.SECONDS)).as("the flood reached the hung upstream").isTrue();

        CompletableFuture<HttpResponse<String>> other = CompletableFuture.supplyAsync(() -> Loopback.post(
            edge.baseUri(), "/v1/models/iris/predict", "application/json", "{\"features\":[5.1,3.5,1.4,0.2]}",
            "X-API-Key", edge.key("pro").orElseThrow().plaintext()), clients);

        assertThat(other).as("another tenant's prediction, from a healthy upstream, while the flood waits")
            .succeedsWithin(Duration.ofSeconds(10))
            .satisfies(r -> assertThat(r.statusCode()).as(r.body()).isEqualTo(200));
        assertThat(hung.seen()).hasSizeLessThanOrEqualTo(GatewayServlet.MAX_IN_FLIGHT_PER_TENANT);
        awaitRefusedBeforeRelease(flood, FLOOD - GatewayServlet.MAX_IN_FLIGHT_PER_TENANT);
      } finally {
        release.countDown();
      }
      assertAnsweredOrRefused(flood, ReasonCode.QUOTA_EXCEEDED, GatewayServlet.MAX_IN_FLIGHT_PER_TENANT);
    } finally {
      clients.shutdownNow();
    }
  }

  @Test
  void twoTenantsWaitingOnAHungUpstreamLeaveThreadsForModelsServedElsewhere() throws Exception {
    // Each tenant kept to its 16, two of them together held every edge thread (32, the acceptor's
    // and selector's among them) on a hung upstream, and a third tenant's prediction of a model
    // served by a healthy upstream queued behind them until the upstream timeout.
    int perTenant = GatewayServlet.MAX_IN_FLIGHT_PER_TENANT;
    CountDownLatch arrived = new CountDownLatch(GatewayServlet.MAX_IN_FLIGHT_PER_UPSTREAM);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService clients = Executors.newFixedThreadPool(2 * perTenant + 1);
    try (RawUpstream hung = hungUpstream(arrived, release);
        RawUpstream healthy = new RawUpstream(seen -> RawUpstream.response("200 OK",
            "{\"model\":\"sentiment\",\"label\":\"positive\",\"probabilities\":[0.1,0.9]}",
            "Content-Type: application/json"));
        ModelServingApp edge = ModelServingApp.start(AppOptions.defaults().withPort(0), QUIET,
            GatewayApp.endpoints(Upstreams.none().with(ModelCatalog.DIGITS, hung.baseUri())
                .with(ModelCatalog.SENTIMENT, healthy.baseUri()).withTimeout(Duration.ofSeconds(60))))) {
      String digits = Loopback.body("pixels", edge.models().get(ModelCatalog.DIGITS).orElseThrow().example());
      List<CompletableFuture<HttpResponse<String>>> flood = new ArrayList<>();
      try {
        for (String tier : List.of("enterprise", "pro")) {
          String key = edge.key(tier).orElseThrow().plaintext();
          for (int i = 0; i < perTenant; i++) {
            flood.add(CompletableFuture.supplyAsync(() -> Loopback.post(edge.baseUri(), "/v1/models/digits/predict",
                "application/json", digits, "X-API-Key", key), clients));
          }
        }
        assertThat(arrived.await(20, TimeUnit.SECONDS)).as("the flood reached the hung upstream").isTrue();

        CompletableFuture<HttpResponse<String>> other = CompletableFuture.supplyAsync(() -> Loopback.post(
            edge.baseUri(), "/v1/models/sentiment/predict", "application/json", "{\"text\":\"a fine film\"}",
            "X-API-Key", edge.key("free").orElseThrow().plaintext()), clients);

        assertThat(other).as("a third tenant's prediction, from a healthy upstream, while the flood waits")
            .succeedsWithin(Duration.ofSeconds(10))
            .satisfies(r -> assertThat(r.statusCode()).as(r.body()).isEqualTo(200));
        assertThat(hung.seen()).hasSizeLessThanOrEqualTo(GatewayServlet.MAX_IN_FLIGHT_PER_UPSTREAM);
        awaitRefusedBeforeRelease(flood, flood.size() - GatewayServlet.MAX_IN_FLIGHT_PER_UPSTREAM);
      } finally {
        release.countDown();
      }
      assertAnsweredOrRefused(flood, ReasonCode.UPSTREAM_UNAVAILABLE, GatewayServlet.MAX_IN_FLIGHT_PER_UPSTREAM);
    } finally {
      clients.shutdownNow();
    }
  }

  @Test
  void twoTenantsWaitingOnTwoHungUpstreamsLeaveThreadsForHealthChecksAndRefusals() throws Exception {
    // The per-upstream limit bounds what one hung model server holds, not what two hold: a tenant on
    // each (16 apiece, within their limits) held every request thread the edge has (32, its acceptor
    // and selector among them), and a health check or the guard's own 401 queued behind them until
    // the upstream timeout.
    int perTenant = GatewayServlet.MAX_IN_FLIGHT_PER_TENANT;
    CountDownLatch arrived = new CountDownLatch(perTenant);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService clients = Executors.newFixedThreadPool(2 * perTenant + 2);
    try (RawUpstream digitsServer = hungUpstream(arrived, release);
        RawUpstream irisServer = hungUpstream(arrived, release);
        ModelServingApp edge = ModelServingApp.start(AppOptions.defaults().withPort(0), QUIET,
            GatewayApp.endpoints(Upstreams.none().with(ModelCatalog.DIGITS, digitsServer.baseUri())
                .with(ModelCatalog.IRIS, irisServer.baseUri()).withTimeout(Duration.ofSeconds(60))))) {
      String digits = Loopback.body("pixels", edge.models().get(ModelCatalog.DIGITS).orElseThrow().example());
      String iris = "{\"features\":[5.1,3.5,1.4,0.2]}";
      List<CompletableFuture<HttpResponse<String>>> flood = new ArrayList<>();
      try {
        String enterprise = edge.key("enterprise").orElseThrow().plaintext();
        String pro = edge.key("pro").orElseThrow().plaintext();
        for (int i = 0; i < perTenant; i++) {
          flood.add(CompletableFuture.supplyAsync(() -> Loopback.post(edge.baseUri(), "/v1/models/digits/predict",
              "application/json", digits, "X-API-Key", enterprise), clients));
          flood.add(CompletableFuture.supplyAsync(() -> Loopback.post(edge.baseUri(), "/v1/models/iris/predict",
              "application/json", iris, "X-API-Key", pro), clients));
        }
        assertThat(arrived.await(20, TimeUnit.SECONDS)).as("the flood reached the hung upstreams").isTrue();

        CompletableFuture<HttpResponse<String>> health = CompletableFuture.supplyAsync(
            () -> Loopback.get(edge.baseUri(), "/healthz"), clients);
        CompletableFuture<HttpResponse<String>> refusal = CompletableFuture.supplyAsync(() -> Loopback.post(
            edge.baseUri(), "/v1/models/iris/predict", "application/json", iris), clients);

        assertThat(health).as("a health check while both upstreams hang").succeedsWithin(Duration.ofSeconds(10))
            .satisfies(r -> assertThat(r.statusCode()).as(r.body()).isEqualTo(200));
        assertThat(refusal).as("the guard's refusal while both upstreams hang").succeedsWithin(Duration.ofSeconds(10))
            .satisfies(r -> assertThat(r.body()).contains(ReasonCode.AUTH_MISSING_CREDENTIALS.code()));
        assertThat(digitsServer.seen().size() + irisServer.seen().size()).as("predictions waiting on upstreams")
            .isLessThanOrEqualTo(GatewayServlet.MAX_IN_FLIGHT);
      } finally {
        release.countDown();
      }
      for (CompletableFuture<HttpResponse<String>> f : flood) {
        HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
        if (r.statusCode() != 200) {
          assertThat(r.body()).contains(ReasonCode.UPSTREAM_UNAVAILABLE.code());
        }
      }
    } finally {
      clients.shutdownNow();
    }
  }

  /** The enterprise tier's burst, its fewest units: what {@code RateLimit} reports while the quota clock stands. */
  private static final int ENTERPRISE_BURST = 100;

  @Test
  void predictionsRefusedAtTheTenantsInFlightCapCostTheTenantNoQuota() throws Exception {
    // The guard charges a prediction before the gateway sees it: refused at the cap, never
    // forwarded, each was charged all the same, and the tenant paid for answers it never got.
    int cap = GatewayServlet.MAX_IN_FLIGHT_PER_TENANT;
    int refused = 8;
    CountDownLatch arrived = new CountDownLatch(cap);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService clients = Executors.newFixedThreadPool(cap);
    try (RawUpstream hung = hungUpstream(arrived, release);
        ModelServingApp edge = ModelServingApp.start(QuotaClocks.frozen(AppOptions.defaults().withPort(0)), QUIET,
            GatewayApp.endpoints(Upstreams.none().with(ModelCatalog.DIGITS, hung.baseUri())
                .withTimeout(Duration.ofSeconds(60))))) {
      String digits = Loopback.body("pixels", edge.models().get(ModelCatalog.DIGITS).orElseThrow().example());
      String enterprise = edge.key("enterprise").orElseThrow().plaintext();
      List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
      List<HttpResponse<String>> refusals = new ArrayList<>();
      try {
        for (int i = 0; i < cap; i++) {
          waiting.add(CompletableFuture.supplyAsync(() -> Loopback.post(edge.baseUri(), "/v1/models/digits/predict",
              "application/json", digits, "X-API-Key", enterprise), clients));
        }
        assertThat(arrived.await(20, TimeUnit.SECONDS)).as("the tenant's cap waits on the hung upstream").isTrue();
        for (int i = 0; i < refused; i++) {
          refusals.add(Loopback.post(edge.baseUri(), "/v1/models/digits/predict", "application/json", digits,
              "X-API-Key", enterprise));
        }
      } finally {
        release.countDown();
      }
      for (CompletableFuture<HttpResponse<String>> f : waiting) {
        HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      }
      assertThat(refusals).allSatisfy(r -> {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
        assertThat(r.body()).contains(ReasonCode.QUOTA_EXCEEDED.code());
      });
      assertThat(refusals.stream().map(r -> r.headers().firstValue("RateLimit").orElseThrow()).distinct())
          .as("no refusal's charge stays to be counted by the next refusal").hasSize(1);
      assertThat(hung.seen()).hasSize(cap);

      HttpResponse<String> next = Loopback.post(edge.baseUri(), "/v1/models/digits/predict", "application/json",
          digits, "X-API-Key", enterprise);
      assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
      assertThat(next.headers().firstValue("RateLimit")).as("the answered predictions and this one charged, "
          + "none of the %d refused", refused).hasValue("\"burst\";r=" + (ENTERPRISE_BURST - cap - 1) + ";t=1");
    } finally {
      clients.shutdownNow();
    }
  }

  @Test
  void aPredictionWhoseUpstreamRefusesTheConnectionCostsTheTenantNoQuota() throws Exception {
    URI closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = URI.create("http://127.0.0.1:" + s.getLocalPort());
    }
    try (ModelServingApp edge = ModelServingApp.start(QuotaClocks.frozen(AppOptions.defaults().withPort(0)), QUIET,
        GatewayApp.endpoints(Upstreams.none().with(ModelCatalog.DIGITS, closed)))) {
      String digits = Loopback.body("pixels", edge.models().get(ModelCatalog.DIGITS).orElseThrow().example());
      String enterprise = edge.key("enterprise").orElseThrow().plaintext();
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> r = Loopback.post(edge.baseUri(), "/v1/models/digits/predict", "application/json",
            digits, "X-API-Key", enterprise);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
        assertThat(r.body()).contains(ReasonCode.UPSTREAM_UNAVAILABLE.code());
        // Decided with the request: the refusal counts its own unit, never an earlier refusal's.
        assertThat(r.headers().firstValue("RateLimit")).hasValue("\"burst\";r=" + (ENTERPRISE_BURST - 1) + ";t=1");
      }
    }
  }

  /** An upstream that counts each prediction in on {@code arrived} and answers it once {@code release} opens. */
  static RawUpstream hungUpstream(CountDownLatch arrived, CountDownLatch release) throws Exception {
    String answer = "{\"model\":\"digits\",\"label\":3,\"probabilities\":[0.01,0.02,0.03,0.6,0.04,0.05,0.06,0.07,"
        + "0.08,0.04]}";
    return new RawUpstream(seen -> {
      arrived.countDown();
      try {
        release.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return RawUpstream.response("200 OK", answer, "Content-Type: application/json");
    });
  }

  /**
   * Waits until {@code refused} requests of the flood have their answer while the others still wait
   * on the hung upstream, and fails if they do not: released before, a request still on its way
   * (queued in the client pool, connecting) found a slot the released ones freed and was answered,
   * and the count of answered requests came out one too many.
   */
  private static void awaitRefusedBeforeRelease(List<CompletableFuture<HttpResponse<String>>> flood, int refused)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (flood.stream().filter(CompletableFuture::isDone).count() < refused && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(flood.stream().filter(CompletableFuture::isDone).count()).as("answered while the others wait")
        .isEqualTo(refused);
  }

  /** Exactly {@code answered} of the flood got 200, every other one the problem {@code refusal}. */
  private static void assertAnsweredOrRefused(List<CompletableFuture<HttpResponse<String>>> flood, ReasonCode refusal,
      int answered) throws Exception {
    List<Integer> statuses = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> f : flood) {
      HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
      statuses.add(r.statusCode());
      if (r.statusCode() != 200) {
        assertThat(r.body()).contains(refusal.code());
        if (refusal == ReasonCode.QUOTA_EXCEEDED) {
          assertThat(r.headers().firstValue("Retry-After")).isPresent();
        }
      }
    }
    assertThat(statuses).containsOnly(200, ProblemRenderer.status(refusal)).filteredOn(s -> s == 200).hasSize(answered);
  }
}
