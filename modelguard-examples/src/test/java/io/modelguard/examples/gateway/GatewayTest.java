package io.modelguard.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import io.modelguard.examples.AppOptions;
import io.modelguard.examples.ModelServingApp;
import io.modelguard.examples.StartupException;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.problem.ProblemRenderer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Gateway mode enforces the demo's contract in front of a separate upstream process: {@link
 * UpstreamServer} runs in its own JVM (started with this test's class path) on a free loopback
 * port, and every request goes through the gateway. Stubs on loopback stand in for misbehaving
 * upstreams (silent, failing, stalling or trickling after the headers, chatty with hop-by-hop
 * headers and with headers that are the guard's to set).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String DIGITS = "/v1/models/digits/predict";
  private static final String IRIS = "/v1/models/iris/predict";
  private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

  private static Process upstreamProcess;
  private static URI upstream;
  private static ModelServingApp gateway;

  // Misbehaving upstreams, behind a second gateway: digits → silent socket, iris → the stub, which
  // misbehaves as the first feature asks (see FAIL, STALL, TRICKLE, CHALLENGE, REDIRECT, TOO_LONG).
  private static ServerSocket silent;
  private static final List<Socket> held = new CopyOnWriteArrayList<>();
  private static HttpServer stub;
  private static ExecutorService stubThreads;
  private static final Map<String, String> stubSaw = new ConcurrentHashMap<>();
  /** Lets go of the stub's stalled and trickling answers when the tests are done. */
  private static final CountDownLatch releaseStub = new CountDownLatch(1);
  /** Completes when a write of the trickling answer fails: the gateway closed the connection. */
  private static final CompletableFuture<Void> trickleCutOff = new CompletableFuture<>();
  private static final String FAIL = "[9.9,";
  private static final String STALL = "[8.8,";
  private static final String TRICKLE = "[7.7,";
  private static final String CHALLENGE = "[6.6,";
  private static final String REDIRECT = "[5.5,";
  private static final String TOO_LONG = "[4.4,";
  private static final String HTML_ERROR = "[3.3,";
  /** Where the upstream's Jetty error page says the request went. */
  private static final String INTERNAL_URL = "http://10.0.0.7:9000/internal-api/v1/models/iris/predict";
  private static ModelServingApp edgeOfStubs;

  @BeforeAll
  static void start() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    upstreamProcess = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        UpstreamServer.class.getName(), "--port", "0").redirectErrorStream(true).start();
    CompletableFuture<String> ready = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader out = new BufferedReader(
          new InputStreamReader(upstreamProcess.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          if (line.startsWith(UpstreamServer.READY)) {
            ready.complete(line.substring(UpstreamServer.READY.length()).strip());
          }
        }
      } catch (Exception e) {
        ready.completeExceptionally(e);
      }
      ready.completeExceptionally(new IllegalStateException("the upstream process ended before it listened"));
    }, "upstream-stdout");
    reader.setDaemon(true);
    reader.start();
    upstream = URI.create(ready.get(120, TimeUnit.SECONDS));
    assertThat(upstream.getHost()).isEqualTo("127.0.0.1");
    gateway = ModelServingApp.start(AppOptions.defaults().withPort(0), QUIET,
        GatewayApp.endpoints(Upstreams.none().withDefault(upstream)));

    InetAddress loopback = InetAddress.getLoopbackAddress();
    silent = new ServerSocket(0, 50, loopback);
    Thread acceptor = new Thread(() -> {
      while (!silent.isClosed()) {
        try {
          held.add(silent.accept()); // reads nothing, answers nothing
        } catch (Exception e) {
          return;
        }
      }
    }, "silent-upstream");
    acceptor.setDaemon(true);
    acceptor.start();
    stub = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
    stubThreads = Executors.newCachedThreadPool(); // a stalled answer must not hold up the others
    stub.setExecutor(stubThreads);
    stub.createContext("/", exchange -> {
      exchange.getRequestHeaders().forEach((k, v) -> stubSaw.put(k.toLowerCase(), String.join(",", v)));
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      stubSaw.put(":path", exchange.getRequestURI().getRawPath());
      if (body.contains(STALL) || body.contains(TRICKLE)) {
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, 60_000);
        OutputStream o = exchange.getResponseBody();
        o.write("{\"label\":".getBytes(StandardCharsets.UTF_8));
        o.flush();
        try {
          // Stalls, or sends a byte every 50 ms: 50 minutes for the declared length.
          while (!releaseStub.await(50, TimeUnit.MILLISECONDS)) {
            if (body.contains(TRICKLE)) {
              o.write('1');
              o.flush();
            }
          }
        } catch (IOException e) {
          trickleCutOff.complete(null);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        exchange.close();
        return;
      }
      byte[] out;
      if (body.contains(FAIL)) {
        out = "java.lang.IllegalStateException: upstream secret at Model.java:42".getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(500, out.length);
      } else if (body.contains(TOO_LONG)) {
        out = new byte[GatewayServlet.MAX_RESPONSE_BYTES + 1];
        exchange.sendResponseHeaders(200, out.length);
      } else if (body.contains(HTML_ERROR)) {
        // Jetty's default error page, as an upstream behind a wrong base path answers.
        out = ("<html><body><h2>HTTP ERROR 400 Bad Request</h2><table><tr><th>URI:</th><td>" + INTERNAL_URL
            + "</td></tr></table><hr/><a href=\"https://jetty.org/\">Powered by Jetty:// 12.1.14</a></body></html>")
            .getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "text/html;charset=iso-8859-1");
        exchange.sendResponseHeaders(400, out.length);
      } else if (body.contains(REDIRECT)) {
        out = new byte[0];
        exchange.getResponseHeaders().add("Location", "http://10.0.0.7:9000/internal/predict");
        exchange.sendResponseHeaders(302, -1);
      } else {
        out = "{\"model\":\"iris\",\"label\":0,\"probabilities\":[1.0,0.0,0.0]}".getBytes(StandardCharsets.UTF_8);
        // The refusal is the model server's own, for the client: problem+json.
        exchange.getResponseHeaders().add("Content-Type",
            body.contains(CHALLENGE) ? "application/problem+json" : "application/json");
        exchange.getResponseHeaders().add("X-Model-Version", "7");
        exchange.getResponseHeaders().add("Connection", "X-Hop");
        exchange.getResponseHeaders().add("X-Hop", "for-the-next-hop-only");
        exchange.getResponseHeaders().add("Keep-Alive", "timeout=5");
        exchange.getResponseHeaders().add("Proxy-Authenticate", "Basic");
        exchange.getResponseHeaders().add("Set-Cookie", "upstream=1");
        // Headers that are the guard's to set, or that name the upstream.
        exchange.getResponseHeaders().add("RateLimit", "\"burst\";r=999;t=0");
        exchange.getResponseHeaders().add("RateLimit-Policy", "\"burst\";q=999;w=1");
        exchange.getResponseHeaders().add("X-RateLimit-Remaining", "999");
        exchange.getResponseHeaders().add("Retry-After", "0");
        exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"upstream\"");
        exchange.getResponseHeaders().add("Cache-Control", "public, max-age=86400");
        exchange.getResponseHeaders().add("Location", "http://10.0.0.7:9000/internal/predict");
        exchange.getResponseHeaders().add("Content-Location", "http://10.0.0.7:9000/internal/answers/1");
        exchange.sendResponseHeaders(body.contains(CHALLENGE) ? 401 : 200, out.length);
      }
      if (out.length > 0) {
        try (OutputStream o = exchange.getResponseBody()) {
          o.write(out);
        }
      }
      exchange.close();
    });
    stub.start();
    Upstreams stubs = Upstreams.none()
        .with(ModelCatalog.DIGITS, URI.create("http://127.0.0.1:" + silent.getLocalPort()))
        .with(ModelCatalog.IRIS, URI.create("http://127.0.0.1:" + stub.getAddress().getPort()))
        // The real upstream behind a base path it does not serve: its errors must not reach the client.
        .with(ModelCatalog.SENTIMENT, URI.create(upstream + "/internal-api"))
        // Long enough for a first, cold request to the stub on a busy machine; the silent upstream takes it in full.
        .withTimeout(Duration.ofSeconds(3));
    edgeOfStubs = ModelServingApp.start(AppOptions.defaults().withPort(0), QUIET, GatewayApp.endpoints(stubs));
  }

  @AfterAll
  static void stop() throws Exception {
    for (ModelServingApp app : new ModelServingApp[] {gateway, edgeOfStubs}) {
      if (app != null) {
        app.close();
      }
    }
    if (upstreamProcess != null) {
      upstreamProcess.destroy();
      upstreamProcess.waitFor(30, TimeUnit.SECONDS);
    }
    releaseStub.countDown();
    if (stub != null) {
      stub.stop(0);
    }
    if (stubThreads != null) {
      stubThreads.shutdownNow();
    }
    if (silent != null) {
      silent.close();
    }
    for (Socket s : held) {
      s.close();
    }
  }

  private static String key(ModelServingApp app, String label) {
    return app.key(label).orElseThrow().plaintext();
  }

  private static String example(String model, String field) {
    return Loopback.body(field, gateway.models().get(model).orElseThrow().example());
  }

  private static HttpResponse<String> post(ModelServingApp app, String path, String body, String label) {
    return Loopback.post(app.baseUri(), path, "application/json", body, "X-API-Key", key(app, label));
  }

  /** An iris prediction through {@code edgeOfStubs}, whose stub misbehaves as {@code scenario} asks. */
  private static HttpResponse<String> askStub(String scenario) {
    return post(edgeOfStubs, IRIS, "{\"features\":" + scenario + "3.5,1.4,0.2]}", "pro");
  }

  /** The response is exactly the problem ModelGuard renders for {@code code}. */
  private static void assertProblem(HttpResponse<String> r, ReasonCode code) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(ProblemRenderer.status(code));
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.get("code").asText()).isEqualTo(code.code());
    assertThat(body.get("type").asText()).isEqualTo("urn:modelguard:problem:" + code.code());
  }

  @Test
  @Order(1)
  void refusalsAtTheEdgeAreTheDemosProblems() throws Exception {
    HttpResponse<String> noKey = Loopback.post(gateway.baseUri(), DIGITS, "application/json",
        example(ModelCatalog.DIGITS, "pixels"));
    assertThat(noKey.body())
        .isEqualTo(ProblemRenderer.render(GuardDecision.deny(ReasonCode.AUTH_MISSING_CREDENTIALS)).bodyAsString());
    assertProblem(noKey, ReasonCode.AUTH_MISSING_CREDENTIALS);
    assertThat(noKey.headers().firstValue("WWW-Authenticate")).contains("Bearer realm=\"modelguard\"");

    assertProblem(post(gateway, DIGITS, example(ModelCatalog.DIGITS, "pixels"), "revoked"),
        ReasonCode.AUTH_INVALID_API_KEY);
    HttpResponse<String> forbidden = post(gateway, IRIS, example(ModelCatalog.IRIS, "features"), "free");
    assertProblem(forbidden, ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(forbidden.headers().firstValue("WWW-Authenticate").orElse("")).contains("scope=\"model:iris:invoke\"");
    assertProblem(post(gateway, DIGITS, "{\"pixels\":[" + "1,".repeat(8_200) + "1]}", "pro"),
        ReasonCode.INPUT_TOO_LARGE);
    HttpResponse<String> invalid = post(gateway, DIGITS, "{\"pixels\":[1,2,3]}", "pro");
    assertProblem(invalid, ReasonCode.INPUT_INVALID);
    assertProblem(post(gateway, DIGITS, "{\"pixels\":", "pro"), ReasonCode.INPUT_MALFORMED);
    assertProblem(Loopback.post(gateway.baseUri(), DIGITS, "text/plain", "1", "X-API-Key", key(gateway, "pro")),
        ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE);
  }

  @Test
  @Order(2)
  void allowedPredictionsComeFromTheUpstreamProcess() throws Exception {
    String body = example(ModelCatalog.DIGITS, "pixels");
    HttpResponse<String> direct = Loopback.post(upstream, DIGITS, "application/json", body);
    assertThat(direct.statusCode()).isEqualTo(200);

    HttpResponse<String> viaGateway = post(gateway, DIGITS, body, "pro");

    assertThat(viaGateway.statusCode()).isEqualTo(200);
    assertThat(viaGateway.body()).isEqualTo(direct.body());
    assertThat(viaGateway.headers().firstValue("RateLimit-Policy")).isPresent();
    assertThat(Loopback.get(gateway.baseUri(), "/v1/models", "X-API-Key", key(gateway, "free")).body())
        .isEqualTo("{\"models\":[\"digits\",\"sentiment\"]}");
  }

  @Test
  @Order(2)
  void aTrailingSlashReachesTheUpstreamOfTheModelTheGuardAdmitted() {
    // The guard admits, charges and audits /v1/models/digits/predict/ as digits: relay it, not 404.
    String body = example(ModelCatalog.DIGITS, "pixels");

    HttpResponse<String> viaGateway = post(gateway, DIGITS + "/", body, "enterprise");

    assertThat(viaGateway.statusCode()).as(viaGateway.body()).isEqualTo(200);
    assertThat(viaGateway.body()).isEqualTo(Loopback.post(upstream, DIGITS, "application/json", body).body());
  }

  @Test
  @Order(3)
  void outputPoliciesRewriteTheUpstreamsAnswer() throws Exception {
    String body = example(ModelCatalog.DIGITS, "pixels");
    JsonNode direct = JSON.readTree(Loopback.post(upstream, DIGITS, "application/json", body).body());
    HttpResponse<String> free = post(gateway, DIGITS, body, "free");

    assertThat(free.statusCode()).isEqualTo(200);
    JsonNode edge = JSON.readTree(free.body());
    assertThat(nonZero(direct.get("probabilities"))).isGreaterThan(3);
    // The free tier sees the top 3 probabilities only: the gateway rewrote the upstream's answer.
    assertThat(nonZero(edge.get("probabilities"))).isEqualTo(3);
    assertThat(edge.get("label")).isEqualTo(direct.get("label"));
  }

  @Test
  @Order(4)
  void quotaIsCountedAtTheEdge() throws Exception {
    String body = example(ModelCatalog.DIGITS, "pixels");
    HttpResponse<String> last = null;
    // Free: a burst of 5 and 60 a minute; the 61st request within a minute is refused whatever the pace.
    for (int i = 0; i < 61; i++) {
      last = post(gateway, DIGITS, body, "free");
      if (last.statusCode() != 200) {
        break;
      }
    }
    assertProblem(last, ReasonCode.QUOTA_EXCEEDED);
    assertThat(last.headers().firstValue("Retry-After")).isPresent();
    assertThat(last.headers().firstValue("RateLimit-Policy")).isPresent();
  }

  @Test
  @Order(5)
  void hopByHopHeadersAndCredentialsStayOnTheirSide() throws Exception {
    HttpResponse<String> r = post(edgeOfStubs, IRIS, "{\"features\":[5.1,3.5,1.4,0.2]}", "pro");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"model\":\"iris\",\"label\":0,\"probabilities\":[1.0,0.0,0.0]}");
    assertThat(r.headers().firstValue("X-Model-Version")).contains("7");
    for (String h : new String[] {"X-Hop", "Keep-Alive", "Proxy-Authenticate", "Set-Cookie"}) {
      assertThat(r.headers().firstValue(h)).as(h).isEmpty();
    }
    assertThat(stubSaw).containsEntry(":path", IRIS).containsEntry("content-type", "application/json")
        .doesNotContainKeys("x-api-key", "authorization", "cookie");
  }

  @Test
  @Order(5)
  void headersTheGuardSetsComeFromTheGuardAlone() throws Exception {
    HttpResponse<String> r = post(edgeOfStubs, IRIS, "{\"features\":[5.1,3.5,1.4,0.2]}", "pro");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    // One RateLimit and one RateLimit-Policy, the guard's: the upstream's 999 would contradict them.
    assertThat(r.headers().allValues("RateLimit")).hasSize(1).noneMatch(v -> v.contains("999"));
    assertThat(r.headers().allValues("RateLimit-Policy")).hasSize(1).noneMatch(v -> v.contains("999"));
    assertThat(r.headers().allValues("Cache-Control")).containsExactly("no-store");
    for (String h : new String[] {"X-RateLimit-Remaining", "Retry-After", "WWW-Authenticate", "Location",
        "Content-Location"}) {
      assertThat(r.headers().firstValue(h)).as(h).isEmpty();
    }
    assertThat(r.headers().firstValue("X-Model-Version")).contains("7");
  }

  @Test
  @Order(5)
  void anUpstreamRefusalIsRelayedWithoutItsChallenge() throws Exception {
    HttpResponse<String> r = askStub(CHALLENGE);

    // The upstream's problem+json 4xx is its own input check, relayed; its challenge is for credentials the
    // gateway never forwards, and its Retry-After would pose as the quota's.
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate")).isEmpty();
    assertThat(r.headers().firstValue("Retry-After")).isEmpty();
    assertThat(r.headers().allValues("RateLimit")).hasSize(1).noneMatch(v -> v.contains("999"));
  }

  @Test
  @Order(5)
  void anUpstreamErrorPageIsNotRelayed() throws Exception {
    HttpResponse<String> r = askStub(HTML_ERROR);

    // Not problem+json: the upstream container's page, naming its URL and version, not a refusal.
    assertProblem(r, ReasonCode.UPSTREAM_UNAVAILABLE);
    assertThat(r.body()).doesNotContain("10.0.0.7").doesNotContain("internal-api").doesNotContain("Jetty");
  }

  @Test
  @Order(5)
  void anUpstreamBehindAWrongBasePathIsUnavailableWithoutItsUrl() throws Exception {
    HttpResponse<String> r = post(edgeOfStubs, "/v1/models/sentiment/predict", "{\"text\":\"a fine film\"}", "pro");

    assertProblem(r, ReasonCode.UPSTREAM_UNAVAILABLE);
    assertThat(r.body()).doesNotContain("internal-api").doesNotContain(upstream.toString()).doesNotContain("Jetty");
  }

  @Test
  @Order(5)
  void theUpstreamServersOwnErrorsAreQuietProblems() throws Exception {
    HttpResponse<String> r = Loopback.post(upstream, "/internal-api/v1/models/sentiment/predict", "application/json",
        "{\"text\":\"a fine film\"}", "Accept", "text/html");

    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
        t -> assertThat(t).startsWith("application/problem+json"));
    assertThat(r.headers().firstValue("Server")).isEmpty();
    assertThat(r.body()).isEqualTo("{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404}");
  }

  @Test
  @Order(5)
  void anUpstreamRedirectIsNeitherRelayedNorFollowed() throws Exception {
    HttpResponse<String> r = askStub(REDIRECT);

    assertProblem(r, ReasonCode.UPSTREAM_UNAVAILABLE);
    assertThat(r.headers().firstValue("Location")).isEmpty();
    assertThat(r.body()).doesNotContain("10.0.0.7");
  }

  @Test
  @Order(6)
  void anUpstreamFailureIsAProblemWithoutItsInternals() throws Exception {
    HttpResponse<String> r = askStub(FAIL);

    assertProblem(r, ReasonCode.UPSTREAM_UNAVAILABLE);
    assertThat(r.body()).doesNotContain("secret").doesNotContain("Exception");
    // An answer over the cap is a failure too, not relayed in part.
    assertProblem(askStub(TOO_LONG), ReasonCode.UPSTREAM_UNAVAILABLE);
  }

  @Test
  @Order(7)
  void aSilentUpstreamIsATimeout() throws Exception {
    HttpResponse<String> r = post(edgeOfStubs, DIGITS, example(ModelCatalog.DIGITS, "pixels"), "pro");

    assertProblem(r, ReasonCode.UPSTREAM_TIMEOUT);
    assertThat(r.body()).isEqualTo(ProblemRenderer.render(GuardDecision.deny(ReasonCode.UPSTREAM_TIMEOUT))
        .bodyAsString());
  }

  @Test
  @Order(7)
  void anAnswerThatStallsOrTricklesAfterItsHeadersIsATimeoutAndItsConnectionIsDropped() throws Exception {
    // The timeout covers the whole answer, not only the wait for the headers (the client here gives
    // up after 20 s). STALL sends 9 of the 60,000 bytes it promises, then nothing until the tests
    // end; TRICKLE sends a byte every 50 ms, 50 minutes in all, which no deadline per read would end.
    assertProblem(askStub(STALL), ReasonCode.UPSTREAM_TIMEOUT);
    assertProblem(askStub(TRICKLE), ReasonCode.UPSTREAM_TIMEOUT);
    // The gateway closed the connection rather than leave it to the upstream: the stub's next write
    // failed (it would otherwise trickle on until the tests end).
    assertThat(trickleCutOff).succeedsWithin(Duration.ofSeconds(30));
  }

  @Test
  @Order(99)
  void aStoppedUpstreamIsUnavailableAndTheEdgeStillRefusesFirst() throws Exception {
    upstreamProcess.destroy();
    assertThat(upstreamProcess.waitFor(30, TimeUnit.SECONDS)).isTrue();

    assertProblem(post(gateway, DIGITS, example(ModelCatalog.DIGITS, "pixels"), "pro"),
        ReasonCode.UPSTREAM_UNAVAILABLE);
    assertProblem(Loopback.post(gateway.baseUri(), DIGITS, "application/json", "{}"),
        ReasonCode.AUTH_MISSING_CREDENTIALS);
  }

  @Test
  void helpListsTheGatewaysOwnOptionsBeforeTheDemos() {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    int code = GatewayApp.run(new String[] {"--help"}, Map.of(),
        new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8),
        new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));

    assertThat(code).isZero();
    String usage = out.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(usage).contains("--upstream URL", "--upstream MODEL=URL", "--upstream-timeout MS", "default 5000")
        .contains(io.modelguard.examples.AppOptions.USAGE);
    assertThat(usage.indexOf("--upstream-timeout")).isLessThan(usage.indexOf(io.modelguard.examples.AppOptions.USAGE));
    assertThat(err.toString(java.nio.charset.StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void optionsNameTheUpstreamsAndRefuseBadOnes() throws Exception {
    List<String> rest = new ArrayList<>();
    Upstreams u = GatewayApp.parse(new String[] {"--upstream", "http://127.0.0.1:9000/", "--port", "0",
        "--upstream=iris=http://127.0.0.1:9001/base", "--upstream-timeout=250"}, rest);
    assertThat(rest).containsExactly("--port", "0");
    assertThat(u.predictUri("digits")).contains(URI.create("http://127.0.0.1:9000/v1/models/digits/predict"));
    assertThat(u.predictUri("iris")).contains(URI.create("http://127.0.0.1:9001/base/v1/models/iris/predict"));
    assertThat(u.timeout()).isEqualTo(Duration.ofMillis(250));

    assertThatThrownBy(() -> GatewayApp.parse(new String[] {"--port", "0"}, new ArrayList<>()))
        .isInstanceOf(StartupException.class).hasMessageContaining("--upstream URL is required");
    assertThatThrownBy(() -> GatewayApp.parse(new String[] {"--upstream", "file:///etc/passwd"}, new ArrayList<>()))
        .isInstanceOf(StartupException.class).hasMessageStartingWith("--upstream: an upstream must be an http");
    assertThatThrownBy(() -> GatewayApp.parse(new String[] {"--upstream", "http://u:p@127.0.0.1:1"},
        new ArrayList<>())).isInstanceOf(StartupException.class);
    assertThatThrownBy(() -> GatewayApp.parse(new String[] {"--upstream-timeout", "soon"}, new ArrayList<>()))
        .isInstanceOf(StartupException.class).hasMessage("--upstream-timeout must be a number of milliseconds");
    assertThatThrownBy(() -> GatewayApp.parse(new String[] {"--upstream"}, new ArrayList<>()))
        .isInstanceOf(StartupException.class).hasMessage("--upstream needs a value");
    // Accepted before: a mistyped model stayed on the default upstream, and a timeout too long to
    // add to an instant failed every prediction instead of the start.
    assertThatThrownBy(() -> GatewayApp.parse(new String[] {"--upstream", "http://127.0.0.1:9000",
        "--upstream", "IRIS=http://127.0.0.1:9001"}, new ArrayList<>()))
        .isInstanceOf(StartupException.class).hasMessageStartingWith("--upstream: no model 'IRIS'");
    assertThatThrownBy(() -> GatewayApp.parse(new String[] {"--upstream", "http://127.0.0.1:9000",
        "--upstream-timeout", Long.toString(Long.MAX_VALUE)}, new ArrayList<>()))
        .isInstanceOf(StartupException.class).hasMessage("--upstream-timeout: the upstream timeout must be at most "
            + "3600000 ms");
  }

  /** A digits answer from a fake upstream: ten probabilities, none zero, as the model's own are. */
  private static final String ALL_TEN = "{\"model\":\"digits\",\"label\":3,\"probabilities\":"
      + "[0.01,0.02,0.03,0.6,0.04,0.05,0.06,0.07,0.08,0.04]}";

  /** A gateway whose every model's upstream is {@code raw}; closed by the caller. */
  private static ModelServingApp gatewayTo(RawUpstream raw) throws Exception {
    return ModelServingApp.start(AppOptions.defaults().withPort(0), QUIET,
        GatewayApp.endpoints(Upstreams.none().withDefault(raw.baseUri()).withTimeout(Duration.ofSeconds(3))));
  }

  @Test
  void theClientsAcceptCannotChooseAnAnswerTheOutputPoliciesCannotRead() throws Exception {
    // A model server that negotiates, as many do: CSV when asked for it, JSON otherwise. The output
    // policies read JSON only, so a CSV answer would reach the free tier with all ten probabilities.
    try (RawUpstream raw = new RawUpstream(seen -> seen.head().toLowerCase(Locale.ROOT).contains("text/csv")
            ? RawUpstream.response("200 OK", "0.01,0.02,0.03,0.6,0.04,0.05,0.06,0.07,0.08,0.04",
                "Content-Type: text/csv")
            : RawUpstream.response("200 OK", ALL_TEN, "Content-Type: application/json"));
        ModelServingApp edge = gatewayTo(raw)) {
      HttpResponse<String> r = Loopback.post(edge.baseUri(), DIGITS, "application/json",
          example(ModelCatalog.DIGITS, "pixels"), "X-API-Key", key(edge, "free"), "Accept", "text/csv");

      assertThat(raw.seen()).isNotEmpty().allSatisfy(
          seen -> assertThat(seen.head().toLowerCase(Locale.ROOT)).doesNotContain("text/csv"));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(nonZero(JSON.readTree(r.body()).get("probabilities"))).isEqualTo(3);
    }
  }

  @Test
  void anAnswerTheOutputPoliciesCannotReadIsNotRelayed() throws Exception {
    // Whatever made the upstream answer in another form, the free tier's top-3 cut (and the
    // extraction defence's noise) cannot apply to it: it must not reach the client.
    String body = "0.01,0.02,0.03,0.6,0.04,0.05,0.06,0.07,0.08,0.04";
    for (String type : new String[] {"text/csv", "text/plain", "application/octet-stream", null}) {
      try (RawUpstream raw = new RawUpstream(seen -> type == null ? RawUpstream.response("200 OK", body)
              : RawUpstream.response("200 OK", body, "Content-Type: " + type));
          ModelServingApp edge = gatewayTo(raw)) {
        HttpResponse<String> r = post(edge, DIGITS, example(ModelCatalog.DIGITS, "pixels"), "free");

        assertThat(r.body()).as(String.valueOf(type)).doesNotContain("0.01").doesNotContain("0.02");
        assertProblem(r, ReasonCode.UPSTREAM_UNAVAILABLE);
      }
    }
  }

  @Test
  void aJsonAnswerTheCodecCannotReadIsWithheldFromEveryTier() throws Exception {
    // JSON, but not where the codec looks for the probabilities: the free tier's top-3 cut passed
    // it whole, and for any tier the query reached no extraction detector.
    String other = "{\"model\":\"digits\",\"scores\":[0.01,0.02,0.03,0.6,0.04,0.05,0.06,0.07,0.08,0.04]}";
    try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response("200 OK", other,
            "Content-Type: application/json"));
        ModelServingApp edge = gatewayTo(raw)) {
      for (String tier : List.of("free", "pro")) {
        HttpResponse<String> answer = post(edge, DIGITS, example(ModelCatalog.DIGITS, "pixels"), tier);
        assertThat(answer.body()).as(tier).doesNotContain("0.01").doesNotContain("0.02");
        assertProblem(answer, ReasonCode.INTERNAL_ERROR);
      }
    }
  }

  @Test
  void theFreeTierGetsNoMemberBesideTheLabelAndProbabilitiesEvenWhenTheCutKeepsThemAll() throws Exception {
    // Two classes, within the free tier's top 3: the cut changes no probability, but the member the
    // codec does not know (per-word weights, logits) is no more the free tier's than with ten.
    String answer = "{\"model\":\"sentiment\",\"label\":\"positive\",\"probabilities\":[0.1,0.9],"
        + "\"logits\":[-1.0986122886681098,1.0986122886681098],\"weights\":{\"fine\":2.302585}}";
    try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response("200 OK", answer,
            "Content-Type: application/json"));
        ModelServingApp edge = gatewayTo(raw)) {
      HttpResponse<String> free = post(edge, "/v1/models/sentiment/predict", "{\"text\":\"a fine film\"}", "free");

      assertThat(free.statusCode()).as(free.body()).isEqualTo(200);
      JsonNode body = JSON.readTree(free.body());
      assertThat(body.get("label").asText()).isEqualTo("positive");
      assertThat(body.has("logits")).as(free.body()).isFalse();
      assertThat(body.has("weights")).as(free.body()).isFalse();
    }
  }

  @Test
  void upstreamHeadersThatRedirectOrNameTheUpstreamOrSetTheEdgesPoliciesAreNotRelayed() throws Exception {
    try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response("200 OK", ALL_TEN,
            "Content-Type: application/json", "X-Model-Version: 7",
            // a redirect in all but status, and the upstream's own URLs
            "Refresh: 0; url=http://10.0.0.7:9000/internal/predict",
            "Link: <http://10.0.0.7:9000/internal/models/digits>; rel=\"describedby\"",
            "Alt-Svc: h2=\"10.0.0.7:9443\"; ma=86400",
            // a cookie by its other name, and policies for the whole origin, which is the edge's
            "Set-Cookie2: upstream=1; Version=1", "Clear-Site-Data: \"*\"",
            "Strict-Transport-Security: max-age=0",
            // reporting policies for the whole origin, for a year, sending its error reports to the upstream's URL
            "NEL: {\"report_to\":\"internal\",\"max_age\":31536000}",
            "Report-To: {\"group\":\"internal\",\"max_age\":31536000,\"endpoints\":[{\"url\":"
                + "\"http://10.0.0.7:9000/reports\"}]}",
            "Reporting-Endpoints: internal=\"http://10.0.0.7:9000/reports\""));
        ModelServingApp edge = gatewayTo(raw)) {
      HttpResponse<String> r = post(edge, DIGITS, example(ModelCatalog.DIGITS, "pixels"), "pro");

      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.headers().firstValue("X-Model-Version")).contains("7");
      for (String h : new String[] {"Refresh", "Link", "Alt-Svc", "Set-Cookie2", "Clear-Site-Data",
          "Strict-Transport-Security", "NEL", "Report-To", "Reporting-Endpoints"}) {
        assertThat(r.headers().firstValue(h)).as(h).isEmpty();
      }
      assertThat(r.headers().map().toString()).doesNotContain("10.0.0.7");
    }
  }

  private static long nonZero(JsonNode probabilities) {
    long n = 0;
    for (JsonNode p : probabilities) {
      n += p.asDouble() != 0 ? 1 : 0;
    }
    return n;
  }
}
