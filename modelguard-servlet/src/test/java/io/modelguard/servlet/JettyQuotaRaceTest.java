package io.modelguard.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.EndpointSpec;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPolicy;
import io.modelguard.servlet.testapp.JettyRuntime;
import io.modelguard.servlet.testapp.OpenServlet;
import io.modelguard.servlet.testapp.ServletDef;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import io.modelguard.test.FakeClock;
import io.modelguard.test.PooledHttp;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One tenant's many connections racing through a real Jetty against its quota, while some of its
 * requests are refused by a later policy (their reservation released) or turn out unused (refunded
 * by the settlement), and a neighbour tenant asks alongside: on a clock that stands still, every
 * count below is exact whatever the interleaving.
 */
class JettyQuotaRaceTest {
  private static final int QUOTA = 30;
  private static final String PATH = "/race/digits/predict";

  private final FakeClock clock = FakeClock.standard();
  private final ExecutorService clientThreads = Executors.newFixedThreadPool(8);
  private Deployment deployment;
  private HttpClient http;

  @BeforeEach
  void start() throws Exception {
    QuotaPolicy quota = QuotaPolicy.builder(InMemoryQuotaStore.builder().clock(clock).build())
        .defaultLimits(QuotaLimit.tokenBucket("burst", QUOTA, Duration.ofDays(1)))
        .reserve(ctx -> 1, ctx -> ctx.request().header("X-Unused").isPresent() ? 0 : 1)
        .build();
    ModelGuard guard = ModelGuard.builder()
        .clock(clock)
        .models("digits")
        .chain("race", c -> c
            .policy(Phase.AUTHENTICATE, "tenant", ctx -> GuardDecision.authenticated(
                Principal.builder("user").tenant(ctx.request().header("X-Tenant").orElse("none")).build()))
            .policy(Phase.QUOTA, "quota", quota)
            .policy(Phase.VALIDATE, "invalid", ctx -> ctx.request().header("X-Invalid").isPresent()
                ? GuardDecision.deny(ReasonCode.INPUT_MALFORMED) : GuardDecision.allow())
            .output(OutputPhase.RECORD, "settle", quota.settlement()))
        .build();
    ModelGuardFilter filter = ModelGuardFilter.builder(guard)
        .route("/race/{model}/predict", EndpointSpec.of("{model}", "race", 1))
        .build();
    deployment = new JettyRuntime().start("", List.of(filter), List.of(ServletDef.of(OpenServlet.class, "/race/*")),
        Map.of(), false);
    http = HttpClient.newBuilder().executor(clientThreads).build();
  }

  @AfterEach
  void stop() throws Exception {
    try {
      if (deployment != null) {
        deployment.close();
      }
    } finally {
      clientThreads.shutdownNow();
    }
  }

  @Test
  void racingConnectionsGetExactlyTheQuotaAndRefundsReturnExactlyWhatTheyRefunded() throws Exception {
    // Per kind of request, per status: how many answers.
    Map<String, AtomicInteger> answers = new ConcurrentHashMap<>();
    List<String[]> requests = new ArrayList<>();
    for (int i = 0; i < 48; i++) {
      String kind = i % 3 == 0 ? "X-Invalid" : i % 3 == 1 ? "X-Unused" : "X-Used";
      requests.add(new String[] {"acme", kind});
    }
    for (int i = 0; i < 16; i++) {
      requests.add(new String[] {"globex", "X-Used"});
    }
    ExecutorService pool = Executors.newFixedThreadPool(requests.size());
    CountDownLatch go = new CountDownLatch(1);
    try {
      List<Future<?>> sent = new ArrayList<>();
      for (String[] r : requests) {
        sent.add(pool.submit(() -> {
          go.await();
          int status = send(r[0], r[1]);
          answers.computeIfAbsent(r[0] + " " + r[1] + " " + status, k -> new AtomicInteger()).incrementAndGet();
          return null;
        }));
      }
      go.countDown();
      for (Future<?> f : sent) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    int used = count(answers, "acme X-Used 200");
    int unused = count(answers, "acme X-Unused 200");
    int invalid = count(answers, "acme X-Invalid 400");
    assertThat(used + count(answers, "acme X-Used 429")).as("%s", answers).isEqualTo(16);
    assertThat(unused + count(answers, "acme X-Unused 429")).as("%s", answers).isEqualTo(16);
    assertThat(invalid + count(answers, "acme X-Invalid 429")).as("%s", answers).isEqualTo(16);
    assertThat(used).as("used units never beyond the quota").isLessThanOrEqualTo(QUOTA);

    // Only the used units stay charged: what is left is exactly the rest, refunds counted once.
    int more = 0;
    while (send("acme", "X-Used") == 200) {
      more++;
      assertThat(more).as("the quota holds").isLessThanOrEqualTo(QUOTA);
    }
    assertThat(used + more).as("%s", answers).isEqualTo(QUOTA);
    assertThat(count(answers, "globex X-Used 200")).as("the neighbour pays for none of it").isEqualTo(16);
    int neighbour = 16;
    while (send("globex", "X-Used") == 200) {
      neighbour++;
    }
    assertThat(neighbour).isEqualTo(QUOTA);
  }

  private int send(String tenant, String kind) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(deployment.baseUri().resolve(PATH))
        .header("X-Tenant", tenant)
        .header(kind, "1")
        .POST(HttpRequest.BodyPublishers.noBody())
        .build();
    return PooledHttp.send(http, request, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static int count(Map<String, AtomicInteger> answers, String key) {
    AtomicInteger n = answers.get(key);
    return n == null ? 0 : n.get();
  }
}
