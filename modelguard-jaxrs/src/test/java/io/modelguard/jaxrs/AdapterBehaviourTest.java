package io.modelguard.jaxrs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.modelguard.BodyTooLargeException;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.ModelSecured;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import io.modelguard.ResponseContext;
import io.modelguard.Principal;
import io.modelguard.input.FetchedInputs;
import io.modelguard.internal.LogPace;
import io.modelguard.jaxrs.internal.GuardResponseFilter;
import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPolicy;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import io.modelguard.test.ErrorOutputContract;
import io.modelguard.test.ErrorOutputFixture;
import io.modelguard.test.FakeClock;
import io.modelguard.test.LogCapture;
import io.modelguard.test.RawHttp;
import io.modelguard.test.input.FetchedInputsFixture;
import io.modelguard.test.input.LoopbackHttpServer;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.ws.rs.BeanParam;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.container.AsyncResponse;
import jakarta.ws.rs.container.Suspended;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.RuntimeDelegate;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the JAX-RS adapter promises beyond the shared conformance suite, checked on a real runtime
 * over HTTP. Each runtime's test extends this class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class AdapterBehaviourTest implements ErrorOutputContract {
  private static final String MODEL_SECRET_HEADER = "X-Model-Secret";
  /** The most output the feature under test holds for the output policies. */
  private static final int MAX_OUTPUT = 64 * 1024;
  /** The denial of the "deny-quota" chain, with every header a 429 carries. */
  private static final GuardDecision QUOTA_EXCEEDED = GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED)
      .withRetryAfter(Duration.ofSeconds(30))
      .withHeader("RateLimit-Policy", "\"per-minute\";q=10;w=60")
      .withHeader("RateLimit", "\"per-minute\";r=0;t=30");
  /** The decision of the "metered" chains: an allowed request with its quota's fields. */
  private static final GuardDecision METERED = GuardDecision.allow()
      .withHeader("RateLimit-Policy", "\"ample\";q=1000000;w=60")
      .withHeader("RateLimit", "\"ample\";r=999999;t=60");
  /** The denial of the "deny-credentials" chain, with its challenge. */
  private static final GuardDecision MISSING_CREDENTIALS = GuardDecision.deny(ReasonCode.AUTH_MISSING_CREDENTIALS);

  private final Probe probe = new Probe();
  /** The {@value ErrorOutputFixture#CHAIN} chain and what its policies saw. */
  private final ErrorOutputFixture errorOutput = new ErrorOutputFixture();
  /** The image host the {@value FetchedInputsFixture#CHAIN} chain may fetch from. */
  private final LoopbackHttpServer images = LoopbackHttpServer.start()
      .serve("/image.png", 200, "image/png", FetchedInputsFixture.png());
  private Deployment deployment;

  /** The runtime under test. */
  protected abstract JaxrsRuntime runtime();

  @BeforeAll
  void start() throws Exception {
    deployment = runtime().deploy(TestApplication.builder(
            ModelGuardFeature.builder(guard(probe)).maxOutputBytes(MAX_OUTPUT).build())
        .resources(ClassAndMethod.class, Escapes.class, ErrorOutputs.class, PartialPredictionMapper.class,
            LateBody.class, LateBodyThroughTheServletRequest.class, PaddedHeaders.class, PaddingFilter.class,
            ReaderTakingFilter.class, ReaderTaken.class)
        .instances(new Models(probe))
        .build());
  }

  /** One chain per behaviour under test; {@code probe} records what the policies saw. */
  private ModelGuard guard(Probe probe) {
    return ModelGuard.builder()
        .auditLog(false)
        .models("digits", FetchedInputsFixture.MODEL)
        .chain(ModelGuard.DEFAULT_CHAIN, chain -> {})
        .chain(FetchedInputsFixture.CHAIN, FetchedInputsFixture.chain(images.port()))
        .chain(ErrorOutputFixture.CHAIN, errorOutput.chain())
        .chain("failing", chain -> chain.policy(Phase.VALIDATE, "boom", ctx -> {
          throw new IllegalStateException("boom");
        }))
        .chain("inspect", chain -> chain.policy(Phase.VALIDATE, "inspect", ctx -> {
          probe.seen.set(Seen.of(ctx.request()));
          return GuardDecision.allow().withHeader("RateLimit", "limit=10, remaining=9");
        }))
        .chain("peek", chain -> chain.policy(Phase.VALIDATE, "peek", ctx -> {
          try {
            ctx.request().body(16);
          } catch (BodyTooLargeException e) {
            probe.peekedTooLarge.incrementAndGet();
          } catch (IOException e) {
            return GuardDecision.deny(ReasonCode.INPUT_MALFORMED);
          }
          return GuardDecision.allow();
        }))
        .chain("whole", chain -> chain.policy(Phase.VALIDATE, "whole", ctx -> {
          try {
            ctx.request().body(1 << 20);
            return GuardDecision.allow();
          } catch (IOException e) {
            return GuardDecision.deny(ReasonCode.INPUT_MALFORMED);
          }
        }))
        .chain("deny", chain -> chain.policy(Phase.VALIDATE, "deny",
            ctx -> GuardDecision.deny(ReasonCode.INPUT_INVALID)))
        .chain("deny-quota", chain -> chain.policy(Phase.QUOTA, "deny", ctx -> QUOTA_EXCEEDED))
        .chain("two-quotas", chain -> chain
            .policy(Phase.AUTHENTICATE, "anyone",
                ctx -> GuardDecision.authenticated(Principal.builder("quota-user").tenant("quota-tenant").build()))
            .policy(Phase.QUOTA, "burst", quota(QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1))))
            .policy(Phase.QUOTA, "minute", quota(QuotaLimit.tokenBucket("minute", 2, Duration.ofMinutes(1)))))
        .chain("deny-credentials", chain -> chain.policy(Phase.AUTHENTICATE, "deny", ctx -> MISSING_CREDENTIALS))
        // Read the request body in the response phase: what they see must be what the model got.
        .chain("late-body", chain -> chain.output(OutputPhase.PERTURB, "late-body", AdapterBehaviourTest::sawBody))
        .chain("late-body-after-peek", chain -> chain
            .policy(Phase.VALIDATE, "peek", ctx -> {
              try {
                ctx.request().body(4);
              } catch (BodyTooLargeException e) {
                // The start of the body was enough.
              } catch (IOException e) {
                return GuardDecision.deny(ReasonCode.INPUT_MALFORMED);
              }
              return GuardDecision.allow();
            })
            .output(OutputPhase.PERTURB, "late-body", AdapterBehaviourTest::sawBody))
        .chain("late-body-after-whole", chain -> chain
            .policy(Phase.VALIDATE, "whole", ctx -> {
              try {
                ctx.request().body(1024);
                return GuardDecision.allow();
              } catch (IOException e) {
                return GuardDecision.deny(ReasonCode.INPUT_MALFORMED);
              }
            })
            .output(OutputPhase.PERTURB, "late-body", AdapterBehaviourTest::sawBody))
        // An output policy that never asks for the request body.
        .chain("body-blind-output", chain -> chain.output(OutputPhase.PERTURB, "tag", ctx ->
            ModelOutput.of((ctx.output().bodyAsString() + " | tagged").getBytes(UTF_8), "text/plain")))
        .chain("failing-output", chain -> chain
            // As a quota counting the request would: its fields stay on the 500 that replaces the answer.
            .policy(Phase.QUOTA, "counts", ctx -> GuardDecision.allow()
                .withHeader("RateLimit-Policy", "\"ample\";q=1000000;w=60")
                .withHeader("RateLimit", "\"ample\";r=999999;t=60")
                // A policy's header the problem also sets: the problem's documented value stays.
                .withHeader("cache-control", "public, max-age=600"))
            .output(OutputPhase.PERTURB, "boom", ctx -> {
              throw new IllegalStateException("output policy failed");
            }))
        // A quota's fields on an allowed request, without and with an output policy.
        .chain("metered", chain -> chain.policy(Phase.QUOTA, "counts", ctx -> METERED))
        .chain("metered-output", chain -> chain
            .policy(Phase.QUOTA, "counts", ctx -> METERED)
            .output(OutputPhase.PERTURB, "label-only", ctx -> ctx.output().bodyAsString().startsWith("{\"label\":7,")
                ? ModelOutput.json("{\"label\":7}")
                : ctx.output()))
        // Like the built-in perturbation: rewrites the predictions it can read, passes the rest.
        .chain("label-only", chain -> chain.output(OutputPhase.PERTURB, "label-only", ctx ->
            ctx.output().bodyAsString().startsWith("{\"label\":7,")
                ? ModelOutput.json("{\"label\":7}")
                : ctx.output()))
        .chain("retype", chain -> chain.output(OutputPhase.PERTURB, "upper", ctx -> {
          probe.outputType.set(ctx.output().contentType().orElse("(none)"));
          probe.outputRuns.incrementAndGet();
          return ModelOutput.of((ctx.output().bodyAsString().toUpperCase(Locale.ROOT) + "!").getBytes(UTF_8),
              "text/plain");
        }))
        .build();
  }

  @AfterAll
  void stop() throws Exception {
    images.close();
    if (deployment != null) {
      deployment.close();
    }
  }

  @Test
  void onlyThisRuntimeIsOnTheClassPathAndItRunsOnJakartaRest4() throws Exception {
    List<String> delegates = new ArrayList<>();
    ServiceLoader.load(RuntimeDelegate.class).stream().forEach(p -> delegates.add(p.type().getName()));
    assertThat(delegates).isNotEmpty().allMatch(name -> name.startsWith(runtime().runtimeDelegatePrefix()));
    // Added in Jakarta REST 4.0: the adapter compiled against 3.1 runs on a 4.0 runtime.
    assertThat(UriInfo.class.getMethod("getMatchedResourceTemplate")).isNotNull();
  }

  @Test
  void unknownChainFailsDeployment() {
    TestApplication app = TestApplication.builder(new ModelGuardFeature(ModelGuard.builder()
            .auditLog(false)
            .chain(ModelGuard.DEFAULT_CHAIN, chain -> {})
            .build()))
        .resources(Misspelt.class)
        .build();
    assertThatThrownBy(() -> runtime().deploy(app).close())
        .satisfies(e -> assertThat(causes(e))
            .anyMatch(c -> c instanceof IllegalArgumentException
                && String.valueOf(c.getMessage()).contains("No ModelGuard chain named 'no-such-chain'")));
  }

  @Test
  void methodAnnotationOverridesClassAnnotation() throws Exception {
    // The class names the "failing" chain; the method's own annotation names "default".
    HttpResponse<String> method = post("/override/method", "{}");
    assertThat(method.statusCode()).isEqualTo(200);
    assertThat(method.body()).isEqualTo("method");

    HttpResponse<String> inherited = post("/override/class", "{}");
    assertThat(inherited.statusCode()).isEqualTo(500);
    assertThat(inherited.body()).isEqualTo(ProblemRenderer.internalError().bodyAsString());
  }

  @Test
  void matrixParametersAreNotPartOfThePathPoliciesAndTheAuditSee() throws Exception {
    // A ;jsessionid (a session credential) in the path reached DecisionEvent.path and the audit log;
    // the servlet adapter's path (servlet path and path info) never holds path parameters.
    HttpResponse<String> r = post("/v1/models;v=2/digits;jsessionid=SECRET-SESSION/inspect", "{}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(probe.seen.get().path).isEqualTo("/v1/models/digits/inspect");
    assertThat(probe.seen.get().model).contains("digits");
  }

  @Test
  void policiesSeeTheRequestAsTheServletAdapterWould() throws Exception {
    HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/v1/models/digits/inspect?q=1"))
        .header("Content-Type", "application/json")
        .header("X-Probe", "a")
        .header("X-Probe-Multi", "one")
        .header("x-probe-multi", "two")
        .POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(r.statusCode()).isEqualTo(200);
    Seen seen = probe.seen.get();
    assertThat(seen.method).isEqualTo("POST");
    assertThat(seen.path).isEqualTo("/v1/models/digits/inspect");
    assertThat(seen.model).contains("digits");
    assertThat(seen.probe).contains("a");
    assertThat(seen.multi).containsExactly("one", "two");
    assertThat(seen.absent).isEmpty();
    assertThat(seen.contentType).contains("application/json");
    assertThat(seen.remoteAddress).contains("127.0.0.1");
  }

  @Test
  void configuredRemoteAddressReplacesTheServletDefault() throws Exception {
    Probe other = new Probe();
    ModelGuardFeature feature = ModelGuardFeature.builder(guard(other))
        .remoteAddress(request -> Optional.ofNullable(request.getHeaderString("X-Forwarded-For")))
        .build();
    try (Deployment proxied = runtime().deploy(
        TestApplication.builder(feature).instances(new Models(other)).build())) {
      HttpResponse<String> r = JettyHost.client().send(HttpRequest.newBuilder(URI.create(proxied.baseUri() + "/v1/models/digits/inspect"))
          .header("X-Forwarded-For", "203.0.113.7")
          .timeout(Duration.ofSeconds(10))
          .POST(HttpRequest.BodyPublishers.ofString("{}"))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
    }
    assertThat(other.seen.get().remoteAddress).contains("203.0.113.7");
  }

  @Test
  void allowedRequestGetsTheDecisionHeadersAndTheResourceSeesTheDecision() throws Exception {
    HttpResponse<String> r = post("/v1/models/digits/inspect", "{}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().allValues("RateLimit")).containsExactly("limit=10, remaining=9");
    assertThat(r.body()).isEqualTo("allowed=true, request=/v1/models/digits/inspect");
  }

  @Test
  void twoQuotasOfOneRequestSendOneListPerRateLimitFieldAsTheServletAdapterDoes() throws Exception {
    // The same chain and figures as the servlet adapter's FilterBehaviourContract test.
    HttpResponse<String> first = post("/v1/models/digits/two-quotas", "{}");
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().allValues("RateLimit-Policy")).containsExactly("\"burst\";q=5;w=1, \"minute\";q=2;w=60");
    assertThat(first.headers().allValues("RateLimit")).containsExactly("\"burst\";r=4;t=1, \"minute\";r=1;t=30");
    assertThat(post("/v1/models/digits/two-quotas", "{}").statusCode()).isEqualTo(200);

    HttpResponse<String> refused = post("/v1/models/digits/two-quotas", "{}");

    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.headers().allValues("Retry-After")).containsExactly("30");
    assertThat(refused.headers().allValues("RateLimit-Policy")).containsExactly("\"burst\";q=5;w=1, \"minute\";q=2;w=60");
    assertThat(refused.headers().allValues("RateLimit")).containsExactly("\"burst\";r=2;t=1, \"minute\";r=0;t=60");
  }

  /** Appends {@code | policies saw <the request body>} to the output. */
  private static ModelOutput sawBody(ResponseContext ctx) {
    try {
      return ModelOutput.of((ctx.output().bodyAsString() + " | policies saw "
          + new String(ctx.request().body(1024), UTF_8)).getBytes(UTF_8), "text/plain");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A quota of {@code limit} per tenant and model, on a store of its own and a clock that stands still. */
  private static QuotaPolicy quota(QuotaLimit limit) {
    Clock still = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    return QuotaPolicy.builder(InMemoryQuotaStore.builder().clock(still).build()).defaultLimits(limit).build();
  }

  @Test
  void bodyReadPastThePolicysCapReachesTheResourceIntact() throws Exception {
    byte[] body = randomBytes(200_000);
    int before = probe.peekedTooLarge.get();
    HttpResponse<byte[]> r = postBytes("/v1/models/digits/peek", body);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(body);
    assertThat(probe.peekedTooLarge.get()).isEqualTo(before + 1);
  }

  @Test
  void bodyReadWhollyByAPolicyReachesTheResourceIntact() throws Exception {
    byte[] body = randomBytes(300_000);
    HttpResponse<byte[]> r = postBytes("/v1/models/digits/whole", body);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(body);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/late-body/first-line", "/late-body/whole", "/late-body/first-line-after-peek"})
  void anOutputPolicyNeverReadsARequestBodyOtherThanTheOneTheModelGot(String path) throws Exception {
    // No request policy read the body (or only its start), so the resource read the runtime's entity
    // stream itself; an output policy that asked for the body afterwards got what the resource left
    // of it: the decoy after the query the model answered (an extraction detector observing another
    // query than the one answered), or, once the resource had read it all, an empty body.
    HttpResponse<byte[]> r = postBytes(path, "query\ndecoy".getBytes(UTF_8));

    String body = new String(r.body(), UTF_8);
    assertThat(body).as(path).doesNotContain("policies saw").doesNotContain("model saw");
    assertThat(r.statusCode()).as(path).isEqualTo(500);
    assertThat(body).as(path).isEqualTo(ProblemRenderer.internalError().bodyAsString());
  }

  @Test
  void anOutputPolicySeesTheWholeBodyARequestPolicyReadThoughTheModelStoppedEarly() throws Exception {
    HttpResponse<byte[]> r = postBytes("/late-body/first-line-after-whole", "query\ndecoy".getBytes(UTF_8));

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new String(r.body(), UTF_8)).isEqualTo("model saw query | policies saw query\ndecoy");
  }

  @ParameterizedTest
  @ValueSource(strings = {"parameter", "field", "setter", "constructor", "bean-param"})
  void anOutputPolicyNeverReadsWhatTheResourceLeftOfTheServletRequestsBody(String injection) throws Exception {
    // The resource read its query from the stream of the servlet request the runtime injected,
    // which on a servlet-hosted runtime is the one behind the JAX-RS entity stream: read on, an
    // output policy got the decoy after the query the model answered.
    HttpResponse<byte[]> r = postBytes("/late-body-servlet/" + injection, "query\ndecoy".getBytes(UTF_8));

    String body = new String(r.body(), UTF_8);
    assertThat(body).as(injection).doesNotContain("policies saw").doesNotContain("model saw");
    assertThat(r.statusCode()).as(injection).isEqualTo(500);
    assertThat(body).as(injection).isEqualTo(ProblemRenderer.internalError().bodyAsString());
  }

  @Test
  void anOutputPolicyGetsNoMoreOfTheBodyThanTheRequestPoliciesReadThoughTheResourceReadNoneOfIt() throws Exception {
    // Whether the resource read the body, the guard cannot always see (the servlet request's stream):
    // output policies get what the request policies read, here nothing of a body that has bytes.
    HttpResponse<byte[]> r = postBytes("/late-body/ignored", "query\ndecoy".getBytes(UTF_8));

    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(new String(r.body(), UTF_8)).isEqualTo(ProblemRenderer.internalError().bodyAsString());
  }

  @Test
  void anOutputPolicySeesTheEmptyBodyOfARequestWithoutOne() throws Exception {
    HttpResponse<byte[]> r = postBytes("/late-body/ignored", new byte[0]);

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new String(r.body(), UTF_8)).isEqualTo("model saw nothing | policies saw ");
  }

  @Test
  void anOutputPolicyGetsNoneOfAChunkedBodyNoRequestPolicyRead() throws Exception {
    // Telling an empty chunked body would take its first byte from the servlet request's stream,
    // which the resource may read instead of the entity stream: not read, and sealed, even empty.
    String response = RawHttp.exchange(deployment.baseUri(), "POST /late-body/ignored HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n"
        + "Connection: close\r\n\r\n0\r\n\r\n");

    assertThat(response).startsWith("HTTP/1.1 500 ").doesNotContain("saw")
        .endsWith(ProblemRenderer.internalError().bodyAsString());
  }

  @Test
  void aChunkedBodyReachesTheResourceIntactUnderOutputPolicies() throws Exception {
    // Before the resource runs, the guard reads none of a chunked body that no request policy read:
    // the resource gets every byte.
    String response = RawHttp.exchange(deployment.baseUri(), "POST /late-body/whole-under-body-blind-output "
        + "HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
        + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n6\r\nquery\n\r\n5\r\ndecoy\r\n0\r\n\r\n");

    assertThat(response).startsWith("HTTP/1.1 200 ").contains("model saw query\ndecoy | tagged");
  }

  @Test
  void aChunkedBodyReachesAResourceReadingTheServletRequestIntactUnderOutputPolicies() throws Exception {
    // The guard read the first byte of a chunked body no request policy read, to tell an empty one,
    // and replayed it only through the JAX-RS entity stream: the resource reading the servlet
    // request's stream, the one behind it, got "uery" - a body the client never sent.
    String response = RawHttp.exchange(deployment.baseUri(), "POST /late-body-servlet/whole-under-body-blind-output "
        + "HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
        + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n6\r\nquery\n\r\n5\r\ndecoy\r\n0\r\n\r\n");

    assertThat(response).startsWith("HTTP/1.1 200 ").contains("model saw query\ndecoy | tagged");
  }

  @Test
  void aBodyWhoseServletReaderAnEarlierFilterTookIsAServerFaultForAPolicyReadingIt() throws Exception {
    // The deployment's fault, not the client's body: the documented 500 problem, not 400.
    HttpResponse<String> r = JettyHost.client().send(HttpRequest.newBuilder(uri("/reader-taken/whole"))
        .header(ReaderTakingFilter.HEADER, "yes")
        .POST(HttpRequest.BodyPublishers.ofString("{\"x\":1}")).build(), HttpResponse.BodyHandlers.ofString(UTF_8));

    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).contains("\"code\":\"internal.error\"");
  }

  @Test
  void aBodilessRequestWhoseServletReaderAnEarlierFilterTookStillReachesTheResourceUnderOutputPolicies()
      throws Exception {
    // To show the output policies an empty body, the guard opens the body stream of a request that
    // declares none after its check allowed it. On RESTEasy over a servlet container, opening it
    // once an earlier filter took the servlet request's reader throws IllegalStateException: let
    // through, it escaped the request filter of an allowed request, and the client got a 500 from
    // the runtime for a resource that never needed the body.
    HttpResponse<String> r = JettyHost.client().send(HttpRequest.newBuilder(uri("/reader-taken"))
        .header(ReaderTakingFilter.HEADER, "yes")
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString(UTF_8));

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("answered without the body | tagged");
  }

  @Test
  void aResourceReadingOnlyTheServletRequestsHeadersKeepsItsAnswerUnderOutputPoliciesThatReadTheBody()
      throws Exception {
    HttpResponse<byte[]> r = JettyHost.client().send(HttpRequest.newBuilder(uri("/late-body-servlet/headers-only"))
        .header("Content-Type", "application/octet-stream")
        .header("X-Client", "client-7")
        .timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofByteArray("query\ndecoy".getBytes(UTF_8)))
        .build(), HttpResponse.BodyHandlers.ofByteArray());

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new String(r.body(), UTF_8)).isEqualTo("model saw query for client-7 | policies saw query\ndecoy");
  }

  @Test
  void denialSentBeforeTheBodyArrivedSaysTheConnectionCloses() throws Exception {
    // Only the first byte of a 2 MB body is sent: above the 1 MiB the filter would read and discard,
    // so the guard denies without waiting for the rest.
    String head = rawExchange("POST /v1/models/digits/denied HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{");
    assertThat(head).startsWith("HTTP/1.1 422 ").containsIgnoringCase("\r\nConnection: close\r\n");
  }

  @Test
  void denialOfARequestWithoutABodyKeepsTheConnectionOpen() throws Exception {
    String head = rawExchange("POST /v1/models/digits/denied HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Content-Length: 0\r\n\r\n");
    assertThat(head).startsWith("HTTP/1.1 422 ").doesNotContainIgnoringCase("Connection: close");
  }

  /** Sends {@code head} (and nothing more) on a raw socket and returns the response head. */
  private String rawExchange(String head) throws IOException {
    return RawHttp.exchangeHead(deployment.baseUri(), head);
  }

  @Test
  void deniedRequestNeverReachesTheResource() throws Exception {
    int before = probe.resourceCalls.get();
    HttpResponse<String> r = post("/v1/models/digits/denied", "{}");
    ProblemResponse expected = ProblemRenderer.render(GuardDecision.deny(ReasonCode.INPUT_INVALID));
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(r.headers().allValues("Content-Type")).containsExactly(ProblemResponse.CONTENT_TYPE);
    assertThat(r.headers().allValues("Content-Length")).containsExactly(Integer.toString(expected.body().length));
    assertThat(r.body()).isEqualTo(expected.bodyAsString());
    assertThat(probe.resourceCalls.get()).isEqualTo(before);
  }

  @Test
  void failingOutputPolicyWithholdsTheOutputAndItsHeaders() throws Exception {
    HttpResponse<String> r = post("/v1/models/digits/failing-output", "{}");
    ProblemResponse expected = ProblemRenderer.internalError();
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.headers().allValues("Content-Type")).containsExactly(ProblemResponse.CONTENT_TYPE);
    assertThat(r.headers().allValues("Cache-Control")).containsExactly("no-store");
    assertThat(r.headers().allValues("Content-Length")).containsExactly(Integer.toString(expected.body().length));
    assertThat(r.headers().firstValue(MODEL_SECRET_HEADER)).isEmpty();
    assertThat(r.body()).isEqualTo(expected.bodyAsString()).doesNotContain("label");
    // The request was counted: the client still learns its limits, as from the servlet adapter.
    assertThat(r.headers().allValues("RateLimit-Policy")).containsExactly("\"ample\";q=1000000;w=60");
    assertThat(r.headers().allValues("RateLimit")).containsExactly("\"ample\";r=999999;t=60");
  }

  @Test
  void outputPoliciesSeeTheSerialisedEntityAndMayChangeItsMediaTypeAndLength() throws Exception {
    HttpResponse<String> r = post("/v1/models/digits/retype", "{}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"LABEL\":7}!");
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    // The resource declared the length of its own entity; the response must carry the new one.
    assertThat(r.headers().allValues("Content-Length")).containsExactly(Integer.toString(r.body().getBytes(UTF_8).length));
    assertThat(probe.outputType.get()).startsWith("application/json");
  }

  @Test
  void errorResponseOfTheResourcePassesTheOutputPoliciesAndKeepsItsStatus() throws Exception {
    int before = probe.outputRuns.get();
    HttpResponse<String> r = post("/v1/models/digits/missing", "{}");
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.body()).isEqualTo("{\"ERROR\":\"NO SUCH THING\"}!");
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    assertThat(probe.outputRuns.get()).isEqualTo(before + 1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/padded/plain/builder", "/padded/plain/context", "/padded/held/builder",
      "/padded/held/context"})
  void aHeaderNameThatReadsAsAGuardHeaderOnlyOnTheWireDoesNotReachTheClient(String path) throws Exception {
    // Jersey and RESTEasy hand names to Jetty as given, which writes them so: "RateLimit " went out
    // as "RateLimit : ...", which a proxy turns into a second RateLimit (RFC 9112 5.1), and
    // " X-Folded" as a line a recipient appends to the one before it (RESTEasy sorts the names, so
    // that is Jetty's Date or another padded line, Jersey keeps the order); under output policies
    // "ETag " and "Content-Length " passed, as did a second Content-Type.
    String head = RawHttp.exchangeHead(deployment.baseUri(), "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");

    assertThat(head).as(path).startsWith("HTTP/1.1 200 ").doesNotContain(PaddedHeaders.OWN).contains("\r\nX-Own: 1\r\n");
    List<String> fields = List.of(head.split("\r\n")).subList(1, head.split("\r\n").length);
    assertThat(fields).as(path).noneMatch(f -> f.startsWith(" ") || f.startsWith("\t"));
    assertThat(fields).as(path).filteredOn(f -> wireName(f).equalsIgnoreCase("RateLimit-Policy"))
        .containsExactly("RateLimit-Policy: " + METERED.headers().get("RateLimit-Policy"));
    assertThat(fields).as(path).filteredOn(f -> wireName(f).equalsIgnoreCase("RateLimit"))
        .containsExactly("RateLimit: " + METERED.headers().get("RateLimit"));
    if (path.contains("/held/")) {
      // The output policy rewrote the body: no validator or digest of the resource's output, one
      // type and the runtime's own length of what it wrote.
      assertThat(fields).as(path).noneMatch(f -> wireName(f).equalsIgnoreCase("ETag") || wireName(f).equalsIgnoreCase("Digest"));
      assertThat(fields).as(path).filteredOn(f -> wireName(f).equalsIgnoreCase("Content-Type"))
          .singleElement().asString().startsWith("Content-Type: application/json");
      assertThat(fields).as(path).filteredOn(f -> wireName(f).equalsIgnoreCase("Content-Length"))
          .containsExactly("Content-Length: " + "{\"label\":7}".length());
    }
  }

  /** The name of a header line as a lenient recipient reads it: before the colon, trimmed. */
  private static String wireName(String field) {
    int colon = field.indexOf(':');
    return (colon < 0 ? field : field.substring(0, colon)).replaceAll("^[\\s\\p{Z}\\p{Cc}]+|[\\s\\p{Z}\\p{Cc}]+$", "");
  }

  // --- output policies on every status (and ErrorOutputContract) ---------------------------

  @Override
  public ErrorOutputFixture errorOutput() {
    return errorOutput;
  }

  /** {@link ErrorOutputs}, which answers with a {@code Response} of its own. */
  @Override
  public HttpResponse<String> postErrorOutput(String answer) throws IOException, InterruptedException {
    return post("/error-output/" + answer, ErrorOutputFixture.REQUEST);
  }

  @Test
  void predictionInAWebApplicationExceptionsResponsePassesTheOutputPolicies() throws Exception {
    errorOutput.reset();
    errorOutput.assertRewritten(postErrorOutput("thrown"), 422);
  }

  @Test
  void predictionInAnExceptionMappersResponsePassesTheOutputPolicies() throws Exception {
    errorOutput.reset();
    errorOutput.assertRewritten(postErrorOutput("mapped"), 422);
  }

  @Test
  void headersDescribingTheModelsOwnOutputDoNotSurviveTheOutputPolicies() throws Exception {
    // An ETag or digest of the raw prediction identifies it: the exact scores could be confirmed
    // offline, or by a conditional request, although the body carried only the label.
    HttpResponse<String> r = post("/escape/validators", "{}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).doesNotContain(Escapes.SECRET);
    for (String h : new String[] {"ETag", "Last-Modified", "Content-MD5", "Digest", "Repr-Digest", "Content-Digest",
        "Accept-Ranges"}) {
      assertThat(r.headers().allValues(h)).as(h).isEmpty();
    }
    assertThat(r.headers().firstValue("X-Model-Version")).as("other headers stay").hasValue("7");
  }

  @Test
  void headersDescribingTheModelsOwnOutputDoNotSurviveOnAResponseWithoutAnEntity() throws Exception {
    // A HEAD answered by hand carries the validators and digest of what a GET would answer, but no
    // entity: no output policy runs, yet an ETag or digest of the raw prediction identifies it.
    HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/escape/validators"))
        .method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertThat(r.statusCode()).isEqualTo(200);
    for (String h : new String[] {"ETag", "Last-Modified", "Content-MD5", "Digest", "Repr-Digest", "Content-Digest",
        "Accept-Ranges"}) {
      assertThat(r.headers().allValues(h)).as(h).isEmpty();
    }
    assertThat(r.headers().firstValue("X-Model-Version")).as("other headers stay").hasValue("7");
  }

  @Test
  void aReasonPhraseDoesNotCarryOutputPastThePolicies() throws Exception {
    // Like the message of a servlet's sendError: the runtime hands it to the container, whose error
    // page shows it, or puts it on the status line; the output policies never see it.
    String raw = RawHttp.exchange(deployment.baseUri(), "POST /escape/reason HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    assertThat(raw).startsWith("HTTP/1.1 422 ").doesNotContain(Escapes.SECRET);
  }

  @Test
  void conditionalAndRangeHeadersDoNotReachAResourceWhoseOutputIsRewritten() throws Exception {
    // With them, a resource answering 304 to the ETag of its raw output confirms an exact guess.
    HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/escape/conditional"))
        .header("Content-Type", "application/json")
        .header("If-None-Match", "\"" + Escapes.predictionDigest() + "\"")
        .header("Range", "bytes=0-10")
        .POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).doesNotContain(Escapes.SECRET);
    assertThat(r.headers().firstValue("X-Saw-Range")).hasValue("false");
  }

  @Test
  void anEntityTheResourceCodedItselfIsWithheld() throws Exception {
    // The output policies cannot read compressed bytes; sent on, they would carry the raw prediction.
    for (String kind : List.of("pre-coded/gzip", "pre-coded/deflate", "pre-coded/raw-deflate", "pre-coded/br")) {
      HttpResponse<byte[]> r = JettyHost.client().send(HttpRequest.newBuilder(uri("/escape/" + kind))
          .header("Content-Type", "application/json")
          .timeout(Duration.ofSeconds(10))
          .POST(HttpRequest.BodyPublishers.ofString("{}"))
          .build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(r.statusCode()).as(kind).isEqualTo(500);
      assertThat(r.headers().allValues("Content-Encoding")).as(kind).isEmpty();
      assertThat(new String(r.body(), UTF_8)).as(kind).isEqualTo(ProblemRenderer.internalError().bodyAsString());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"gzip?as=Content-Encoding%20", "gzip?as=%20content-encoding", "br?as=Content-Encoding:"})
  void anEntityTheResourceCodedItselfUnderANameThatReadsAsContentEncodingOnTheWireIsWithheld(String kind)
      throws Exception {
    // The runtimes sent "Content-Encoding : gzip" over the gzipped prediction, which the output
    // policy could not read: a proxy strips the space (RFC 9112 5.1) and the client decodes it.
    String raw = RawHttp.exchange(deployment.baseUri(), "POST /escape/pre-coded/" + kind + " HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");

    assertThat(raw).as(kind).startsWith("HTTP/1.1 500 ").endsWith(ProblemRenderer.internalError().bodyAsString());
    List<String> fields = List.of(raw.substring(0, raw.indexOf("\r\n\r\n")).split("\r\n"));
    assertThat(fields).as(kind).noneMatch(f -> wireName(f).equalsIgnoreCase("Content-Encoding"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"identity", "%20identity%20", "identity,%20", "IDENTITY", "%09identity%09", ",%20Identity%20,"})
  void anEntityDeclaredInNoCodingHoweverSpelledPassesThePoliciesAndLeavesWithoutContentEncoding(String coding)
      throws Exception {
    // RFC 9110: codings are case-insensitive tokens in a list with optional whitespace and empty
    // members, and identity is no coding. The policies read this entity; the header, which a
    // recipient may take for a coding it must undo, described the resource's bytes, not the answer.
    String raw = declaredCoding(coding);

    assertThat(raw).as(coding).startsWith("HTTP/1.1 200 ").endsWith("{\"label\":7}");
    List<String> fields = List.of(raw.substring(0, raw.indexOf("\r\n\r\n")).split("\r\n"));
    assertThat(fields).as(coding).noneMatch(f -> wireName(f).equalsIgnoreCase("Content-Encoding"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"identity", "%20IDENTITY,%20"})
  void aResponseWithoutAnEntityLeavesWithoutAContentEncodingNamingNoCoding(String coding) throws Exception {
    // A HEAD answered by hand declares what the POST does, with no entity: the filter dropped such a
    // header from the checked answer only, so HEAD carried a field its counterpart lacked, which a
    // cache freshening its stored answer with the HEAD's fields (RFC 9111, 4.3.5) would add to it.
    String raw = RawHttp.exchange(deployment.baseUri(), "HEAD /escape/declared-coding?coding=" + coding
        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

    assertThat(raw).as(coding).startsWith("HTTP/1.1 200 ").endsWith("\r\n\r\n");
    List<String> fields = List.of(raw.substring(0, raw.indexOf("\r\n\r\n")).split("\r\n"));
    assertThat(fields).as(coding).noneMatch(f -> wireName(f).equalsIgnoreCase("Content-Encoding"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"%20BR%20", "identity,%09br", ",%20compress,"})
  void anEntityDeclaredInACodingNoRuntimeAppliesHoweverSpelledIsWithheld(String coding) throws Exception {
    String raw = declaredCoding(coding);

    assertThat(raw).as(coding).startsWith("HTTP/1.1 500 ").endsWith(ProblemRenderer.internalError().bodyAsString());
    List<String> fields = List.of(raw.substring(0, raw.indexOf("\r\n\r\n")).split("\r\n"));
    assertThat(fields).as(coding).noneMatch(f -> wireName(f).equalsIgnoreCase("Content-Encoding"));
  }

  /** The raw answer of {@code /escape/declared-coding} declaring {@code coding} (percent-encoded). */
  private String declaredCoding(String coding) throws IOException {
    return RawHttp.exchange(deployment.baseUri(), "POST /escape/declared-coding?coding=" + coding
        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        + "Connection: close\r\n\r\n{}");
  }

  @Test
  void outputPoliciesSeeTheEntityBeforeTheRuntimeCompressesIt() throws Exception {
    TestApplication app = TestApplication.builder(
            ModelGuardFeature.builder(guard(new Probe())).maxOutputBytes(MAX_OUTPUT).build())
        .resources(ErrorOutputs.class)
        .resources(runtime().compression())
        .build();
    try (Deployment compressing = runtime().deploy(app)) {
      for (String answer : List.of("ok", "partial")) {
        errorOutput.reset();
        HttpResponse<byte[]> r = JettyHost.client().send(HttpRequest.newBuilder(
                URI.create(compressing.baseUri() + "/error-output/" + answer))
            .header("Content-Type", "application/json")
            .header("Accept-Encoding", "gzip")
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString(ErrorOutputFixture.REQUEST))
            .build(), HttpResponse.BodyHandlers.ofByteArray());
        int status = answer.equals("ok") ? 200 : 422;
        assertThat(r.statusCode()).as(answer).isEqualTo(status);
        assertThat(r.headers().allValues("Content-Encoding")).as(answer).containsExactly("gzip");
        assertThat(gunzip(r.body())).as(answer).isEqualTo(ErrorOutputFixture.ROUNDED);
        assertThat(errorOutput.lastSeen()).as(answer)
            .contains(new ErrorOutputFixture.Seen(status, ErrorOutputFixture.ROUNDED));
      }
    }
  }

  @Test
  void anEntityDeclaredInARuntimesCodingHoweverSpelledIsCompressedByTheRuntimeAfterThePolicies() throws Exception {
    // The runtimes' compression matches the header as set: " GZIP " was no match, and the checked
    // answer left plain under a label that says gzip, which the client could not decode.
    TestApplication app = TestApplication.builder(
            ModelGuardFeature.builder(guard(new Probe())).maxOutputBytes(MAX_OUTPUT).build())
        .resources(Escapes.class)
        .resources(runtime().compression())
        .build();
    try (Deployment compressing = runtime().deploy(app)) {
      for (String coding : List.of("%20GZIP%20", "Gzip", "x-gzip", "%09gzip,%20", "identity,%20gzip")) {
        HttpResponse<byte[]> r = JettyHost.client().send(HttpRequest.newBuilder(
                URI.create(compressing.baseUri() + "/escape/declared-coding?coding=" + coding))
            .header("Content-Type", "application/json")
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString("{}"))
            .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).as(coding).isEqualTo(200);
        assertThat(r.headers().allValues("Content-Encoding")).as(coding).containsExactly("gzip");
        assertThat(gunzip(r.body())).as(coding).isEqualTo("{\"label\":7}");
      }
    }
  }

  @Test
  void denialsKeepTheirStatusHeadersAndProblemUnderTheRuntimesCompression() throws Exception {
    // Response filters, and so the runtime's compression, run on the guard's problem responses too:
    // a length declared for the uncompressed problem would not match the bytes written.
    TestApplication app = TestApplication.builder(new ModelGuardFeature(guard(new Probe())))
        .resources(Denials.class)
        .resources(runtime().compression())
        .build();
    try (Deployment compressing = runtime().deploy(app)) {
      for (var denial : List.of(Map.entry("invalid", GuardDecision.deny(ReasonCode.INPUT_INVALID)),
          Map.entry("quota", QUOTA_EXCEEDED), Map.entry("credentials", MISSING_CREDENTIALS))) {
        HttpResponse<byte[]> r = JettyHost.client().send(HttpRequest.newBuilder(
                URI.create(compressing.baseUri() + "/denials/" + denial.getKey()))
            .header("Content-Type", "application/json")
            .header("Accept-Encoding", "gzip")
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString("{}"))
            .build(), HttpResponse.BodyHandlers.ofByteArray());
        ProblemResponse expected = ProblemRenderer.render(denial.getValue());
        String name = denial.getKey();
        assertThat(r.statusCode()).as(name).isEqualTo(expected.status());
        assertThat(r.headers().allValues("Content-Type")).as(name).containsExactly(ProblemResponse.CONTENT_TYPE);
        expected.headers().forEach((header, value) ->
            assertThat(r.headers().allValues(header)).as(name + " " + header).containsExactly(value));
        assertThat(r.headers().allValues("Content-Encoding")).as(name).containsExactly("gzip");
        r.headers().firstValue("Content-Length").ifPresent(length ->
            assertThat(Integer.parseInt(length)).as(name).isEqualTo(r.body().length));
        assertThat(gunzip(r.body())).as(name).isEqualTo(expected.bodyAsString());
      }
    }
  }

  private static String gunzip(byte[] gzipped) throws IOException {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toString(UTF_8);
    }
  }

  @Test
  void imageFetchedByTheInputPolicyReachesTheResourceAsARequestProperty() throws Exception {
    images.reset();
    String body = FetchedInputsFixture.body(images.url("/image.png"));

    HttpResponse<String> r = post("/v1/models/" + FetchedInputsFixture.MODEL + "/fetched", body);

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(FetchedInputsFixture.expected(FetchedInputsFixture.png()) + " | body " + body.length());
    // Fetched once, by the policy: the resource used those bytes.
    assertThat(images.connections()).isEqualTo(1);
    assertThat(images.requestLines()).containsExactly("GET /image.png HTTP/1.1");
  }

  @Test
  void blockedImageUrlReachesNeitherTheResourceNorTheImageHost() throws Exception {
    images.reset();
    int before = probe.resourceCalls.get();

    HttpResponse<String> r = post("/v1/models/" + FetchedInputsFixture.MODEL + "/fetched",
        FetchedInputsFixture.body("http://localhost:" + images.port() + "/image.png"));

    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(r.body()).contains("\"code\":\"input.url_blocked\"").contains("Field 'imageUrl': ");
    assertThat(images.connections()).isZero();
    assertThat(probe.resourceCalls.get()).isEqualTo(before);
  }

  // --- resources ---------------------------------------------------------------------------

  // --- output that tries to get past the output policies ----------------------------------

  @Test
  void outputOfEveryEntityKindPassesTheOutputPolicy() throws Exception {
    for (String kind : List.of("string", "streaming", "input-stream", "async", "completion-stage")) {
      HttpResponse<String> r = post("/escape/" + kind, "{}");
      assertThat(r.statusCode()).as(kind).isEqualTo(200);
      assertThat(r.body()).as(kind).isEqualTo("{\"label\":7}");
    }
  }

  @Test
  void outputOverTheBufferLimitIsWithheld() throws Exception {
    for (String kind : List.of("huge-streaming", "huge-input-stream")) {
      HttpResponse<String> r = post("/escape/" + kind, "{}");
      ProblemResponse expected = ProblemRenderer.internalError();
      assertThat(r.statusCode()).as(kind).isEqualTo(500);
      assertThat(r.headers().allValues("Content-Type")).as(kind).containsExactly(ProblemResponse.CONTENT_TYPE);
      assertThat(r.body()).as(kind).isEqualTo(expected.bodyAsString()).doesNotContain(Escapes.SECRET);
    }
  }

  @Test
  void outputLimitBelowOneByteIsRejected() {
    assertThatThrownBy(() -> ModelGuardFeature.builder(guard(new Probe())).maxOutputBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxOutputBytes");
  }

  @Test
  void annotationOnASubResourceLocatorFailsDeployment() {
    // The runtime would call the located resource with no filter of ours: unguarded.
    for (Class<?> resource : List.of(GuardedLocator.class, ClassGuardedLocator.class, InheritedGuardedLocator.class)) {
      assertDeploymentRefused(resource, "sub-resource locator", resource.getSimpleName() + ".locator()");
    }
  }

  @Test
  void aComposedAnnotationCarryingModelSecuredFailsDeploymentRatherThanGuardingNothing() {
    // @DigitsSecured looks like a guard; read only where @ModelSecured is written, it would leave
    // the method unguarded.
    assertDeploymentRefused(ComposedGuard.class, "DigitsSecured", "ComposedGuard.predict()", "carries @ModelSecured");
  }

  @Test
  void aModelVariableThePathDoesNotDeclareIsWarnedAboutAtDeployment() throws Exception {
    // {id} in the path, the default {model} in the annotation: no model, so model access and
    // per-model quotas silently do not apply. A catalog path without variables is not warned about.
    try (LogCapture logged = LogCapture.of(ModelGuardFeature.class, Level.WARN)) {
      for (Class<?> resource : List.of(MisnamedModelVariable.class, CatalogWithoutVariables.class, ModelVariableDeclared.class)) {
        runtime().deploy(TestApplication.builder(new ModelGuardFeature(guard(new Probe()))).resources(resource).build())
            .close();
      }
      assertThat(logged.messagesAt(Level.WARN)).filteredOn(m -> m.contains("path variable")).singleElement().asString()
          .contains("MisnamedModelVariable.predict()").contains("{model}").contains("[id]");
    }
    assertThat(ModelGuardFeature.templateVariables("/v1/{ a }/x/{id: [0-9]{3}}/{b:.*}")).containsExactly("a", "id", "b");
  }

  @Test
  void serverSentEventsUnderAChainWithOutputPoliciesFailDeployment() {
    // The events leave through the sink after the response filter: no output policy would see them.
    assertDeploymentRefused(GuardedEvents.class, "server-sent events", "GuardedEvents.events()", "'label-only'");
  }

  @Test
  void aResourceReceivingTheServletResponseUnderAChainWithOutputPoliciesFailsDeployment() {
    // What it writes there leaves without passing the response filter: the raw prediction reached
    // the client without the output policies' rewriting.
    assertDeploymentRefused(ServletResponseWriter.class, "'label-only'", "ServletResponseWriter.predict()",
        "servlet response", "jakarta.servlet.http.HttpServletResponse response", "Answer through JAX-RS");
    assertDeploymentRefused(PlainServletResponseParameter.class, "PlainServletResponseParameter.predict()",
        "jakarta.servlet.ServletResponse");
    assertDeploymentRefused(InheritedServletResponseField.class, "InheritedServletResponseField.predict()",
        "field ServletResponseFieldBase.response");
    assertDeploymentRefused(ServletResponseSetter.class, "ServletResponseSetter.predict()",
        "method ServletResponseSetter.setResponse()");
    assertDeploymentRefused(ServletResponseConstructor.class, "ServletResponseConstructor.predict()",
        "constructor parameter jakarta.servlet.http.HttpServletResponse response");
    assertDeploymentRefused(ServletResponseInABeanParam.class, "ServletResponseInABeanParam.predict()",
        "@BeanParam", "field ServletResponseBean.response");
  }

  @Test
  void aClassBehindAPathInterfaceReceivingTheServletResponseUnderOutputPoliciesNeverSendsWhatItWrites()
      throws Exception {
    // RESTEasy configures the interface's method, which receives nothing, and never shows the
    // class: the raw prediction used to reach the client. Jersey configures the class, without a
    // @Path of its own, when a request first reaches it.
    HttpResponse<String> r = postToDeployed(HiddenServletResponseWriter.class, "/hidden-servlet-response", "{}");
    ProblemResponse expected = ProblemRenderer.internalError();
    assertThat(r.statusCode()).isEqualTo(expected.status());
    assertThat(r.body()).isEqualTo(expected.bodyAsString()).doesNotContain(Escapes.SECRET);
  }

  @Test
  void aResourceReceivingTheServletResponseUnderAChainWithoutOutputPoliciesIsCheckedLikeAnyRequest()
      throws Exception {
    TestApplication app = TestApplication.builder(new ModelGuardFeature(guard(new Probe())))
        .resources(CheckedServletResponseWriter.class)
        .build();
    try (Deployment writer = runtime().deploy(app)) {
      HttpResponse<String> allowed = send(HttpRequest.newBuilder(URI.create(writer.baseUri() + "/checked-servlet-response"))
          .POST(HttpRequest.BodyPublishers.ofString("{}")));
      assertThat(allowed.statusCode()).isEqualTo(200);
      assertThat(allowed.body()).isEqualTo(Escapes.PREDICTION);
      HttpResponse<String> denied = send(HttpRequest.newBuilder(
              URI.create(writer.baseUri() + "/checked-servlet-response/denied"))
          .POST(HttpRequest.BodyPublishers.ofString("{}")));
      assertThat(denied.statusCode()).isEqualTo(ProblemRenderer.render(GuardDecision.deny(ReasonCode.INPUT_INVALID)).status());
      assertThat(denied.body()).doesNotContain(Escapes.SECRET);
    }
  }

  @Test
  void aResourceReceivingTheServletRequestUnderAChainWithOutputPoliciesDeploysAndIsRewritten() throws Exception {
    // The request carries what the input policies stored (FetchedInputs); only the response is refused.
    HttpResponse<String> r = postToDeployed(ServletRequestReader.class, "/servlet-request-reader", "{}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"label\":7}");
  }

  /**
   * Asserts that deploying {@code resource} under this test's guard fails with an {@link
   * IllegalArgumentException} whose message contains each of {@code fragments}.
   */
  protected void assertDeploymentRefused(Class<?> resource, String... fragments) {
    TestApplication app = TestApplication.builder(new ModelGuardFeature(guard(new Probe())))
        .resources(resource)
        .build();
    assertThatThrownBy(() -> runtime().deploy(app).close())
        .as(resource.getSimpleName())
        .satisfies(e -> assertThat(causes(e))
            .anyMatch(c -> c instanceof IllegalArgumentException
                && List.of(fragments).stream().allMatch(String.valueOf(c.getMessage())::contains)));
  }

  /**
   * Deploys {@code resource} alone under this test's guard and POSTs {@code json} to {@code path}
   * on it.
   */
  protected HttpResponse<String> postToDeployed(Class<?> resource, String path, String json) throws Exception {
    TestApplication app = TestApplication.builder(new ModelGuardFeature(guard(new Probe())))
        .resources(resource)
        .build();
    try (Deployment alone = runtime().deploy(app)) {
      return send(HttpRequest.newBuilder(URI.create(alone.baseUri() + path))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(json)));
    }
  }

  @Test
  void serverSentEventsUnderAChainWithoutOutputPoliciesAreCheckedLikeAnyRequest() throws Exception {
    TestApplication app = TestApplication.builder(new ModelGuardFeature(guard(new Probe())))
        .resources(CheckedEvents.class)
        .build();
    try (Deployment events = runtime().deploy(app)) {
      HttpResponse<String> allowed = send(HttpRequest.newBuilder(URI.create(events.baseUri() + "/checked-events"))
          .header("Accept", MediaType.SERVER_SENT_EVENTS));
      assertThat(allowed.statusCode()).isEqualTo(200);
      assertThat(allowed.body()).contains("data: " + CheckedEvents.EVENT);
      HttpResponse<String> denied = send(HttpRequest.newBuilder(URI.create(events.baseUri() + "/checked-events/denied"))
          .header("Accept", MediaType.SERVER_SENT_EVENTS));
      assertThat(denied.statusCode()).isEqualTo(ProblemRenderer.render(GuardDecision.deny(ReasonCode.INPUT_INVALID)).status());
      assertThat(denied.body()).doesNotContain(CheckedEvents.EVENT);
    }
  }

  @Test
  void aResourceThatAClientMakesFailItsOutputIsLoggedAtErrorOnceAMinutePerExceptionClassNotPerRequest()
      throws Exception {
    // Each failure was an ERROR with its stack trace: a client whose input makes the resource
    // answer what the output policies cannot take wrote one per request. Paced by the engine's
    // clock, which the test moves.
    FakeClock clock = FakeClock.standard();
    ModelGuard paced = ModelGuard.builder()
        .auditLog(false)
        .clock(clock)
        .models("digits")
        .chain("held", chain -> chain.output(OutputPhase.PERTURB, "as-is", ctx -> ctx.output()))
        .build();
    TestApplication app = TestApplication.builder(
            ModelGuardFeature.builder(paced).maxOutputBytes(Misbehaving.LIMIT).build())
        .resources(Misbehaving.class)
        .build();
    try (Deployment d = runtime().deploy(app);
        LogCapture logged = LogCapture.of(GuardResponseFilter.class, Level.DEBUG)) {
      String failed = "could not apply the output policies";
      int failures = 5;
      for (int i = 0; i < failures; i++) {
        assertInternalError(postText(d, "/misbehaving", "long " + i));
      }
      assertThat(logged.messagesAt(Level.ERROR)).singleElement().asString()
          .contains(failed, "once a minute per resource method", "0 more since the last");
      assertThat(logged.events()).filteredOn(e -> e.getLevel() == Level.ERROR).singleElement()
          .satisfies(e -> assertThat(e.getThrowableProxy().getClassName()).isEqualTo(UncheckedIOException.class.getName()));
      assertThat(logged.messagesAt(Level.DEBUG)).filteredOn(m -> m.contains(failed)).hasSize(failures - 1);

      assertInternalError(postText(d, "/misbehaving", Misbehaving.UNWRITABLE));
      assertThat(logged.messagesAt(Level.ERROR)).as("another exception class is told at once").hasSize(2);

      clock.advance(LogPace.INTERVAL);
      assertInternalError(postText(d, "/misbehaving", "long again"));
      assertThat(logged.messagesAt(Level.ERROR)).hasSize(3).last().asString()
          .contains(failed, (failures - 1) + " more since the last");
    }
  }

  @Test
  void anOverloadedResourceMethodsOutputFaultIsNotHiddenBehindItsNamesakes() throws Exception {
    // Two resource methods of one class and name (overloads, each for its own model) are two
    // methods: a client repeating one's fault must not keep the other's at DEBUG.
    FakeClock clock = FakeClock.standard();
    ModelGuard paced = ModelGuard.builder()
        .auditLog(false)
        .clock(clock)
        .models("digits", "faces")
        .chain("held", chain -> chain.output(OutputPhase.PERTURB, "as-is", ctx -> ctx.output()))
        .build();
    TestApplication app = TestApplication.builder(
            ModelGuardFeature.builder(paced).maxOutputBytes(Misbehaving.LIMIT).build())
        .resources(Overloads.class)
        .build();
    try (Deployment d = runtime().deploy(app);
        LogCapture logged = LogCapture.of(GuardResponseFilter.class, Level.DEBUG)) {
      for (int i = 0; i < 3; i++) {
        assertInternalError(postText(d, "/overloads/digits", "long " + i));
      }
      assertInternalError(postText(d, "/overloads/faces", "long"));

      assertThat(logged.messagesAt(Level.ERROR)).hasSize(2).last().asString()
          .contains("could not apply the output policies", "model=faces");
    }
  }

  /** Two overloads of one name, each guarding its own model, both answering more than the limit. */
  @Path("/overloads")
  public static class Overloads {
    @POST
    @Path("digits")
    @Consumes("text/plain")
    @ModelSecured(model = "digits", chain = "held")
    public Response answer(String input) {
      return Response.ok("{\"label\":\"" + input.repeat(Misbehaving.LIMIT) + "\"}", "application/json").build();
    }

    @POST
    @Path("faces")
    @Consumes("text/plain")
    @ModelSecured(model = "faces", chain = "held")
    public Response answer(byte[] input) {
      return answer(new String(input, UTF_8));
    }
  }

  /** Asserts that {@code r} is the {@code internal.error} problem. */
  private static void assertInternalError(HttpResponse<String> r) {
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).contains("\"code\":\"internal.error\"");
  }

  /** POSTs {@code text} as {@code text/plain} to {@code path} of {@code app}. */
  private HttpResponse<String> postText(Deployment app, String path, String text) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(app.baseUri() + path))
        .header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofString(text)));
  }

  /**
   * Under output policies, answers what they cannot take, as the client's input decides: an entity
   * no writer can serialise for {@link #UNWRITABLE}, one over {@link #LIMIT} bytes for any other.
   */
  @Path("/misbehaving")
  @ModelSecured(model = "digits", chain = "held")
  public static class Misbehaving {
    /** The most output the feature deploying this resource holds for the output policies. */
    static final int LIMIT = 16;
    /** The body that makes the entity one no writer serialises. */
    static final String UNWRITABLE = "unwritable";

    @POST
    @Consumes("text/plain")
    public Response answer(String input) {
      if (input.equals(UNWRITABLE)) {
        return Response.ok(new Misbehaving(), "application/x-unwritable").build();
      }
      return Response.ok("{\"label\":\"" + input.repeat(LIMIT) + "\"}", "application/json").build();
    }
  }

  /** Class and method both annotated: the method's annotation wins where it has one. */
  @Path("/override")
  @ModelSecured(model = "digits", chain = "failing")
  public static class ClassAndMethod {
    /** Guarded by the method's chain ("default", allows everything). */
    @POST
    @Path("method")
    @ModelSecured(model = "digits", chain = ModelGuard.DEFAULT_CHAIN)
    public String method() {
      return "method";
    }

    /** Guarded by the class's chain ("failing"). */
    @POST
    @Path("class")
    public String inherited() {
      return "class";
    }
  }

  /** Resources that answer {@link #PREDICTION} in the ways a resource can; chain {@code label-only}. */
  @Path("/escape")
  public static class Escapes {
    /** The raw prediction; its probabilities must never reach the client. */
    public static final String PREDICTION = "{\"label\":7,\"probabilities\":[0.0123,0.9731]}";
    /** What only the raw prediction contains. */
    public static final String SECRET = "0.9731";

    /** The base64 SHA-256 of {@link #PREDICTION}: what an ETag or digest of the raw output carries. */
    static String predictionDigest() throws java.security.NoSuchAlgorithmException {
      return java.util.Base64.getEncoder().encodeToString(
          java.security.MessageDigest.getInstance("SHA-256").digest(PREDICTION.getBytes(UTF_8)));
    }

    /** A plain entity. */
    @POST
    @Path("string")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public String string() {
      return PREDICTION;
    }

    /**
     * Evaluates a conditional request itself, against the raw prediction's ETag (304 when the
     * client names it), and reports in {@code X-Saw-Range} whether it saw a {@code Range} header.
     */
    @POST
    @Path("conditional")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public Response conditional(@Context jakarta.ws.rs.core.Request request, @jakarta.ws.rs.HeaderParam("Range") String range)
        throws Exception {
      String digest = predictionDigest();
      Response.ResponseBuilder notModified = request.evaluatePreconditions(new jakarta.ws.rs.core.EntityTag(digest));
      Response.ResponseBuilder answer = notModified != null ? notModified : Response.ok(PREDICTION);
      return answer.header("X-Saw-Range", String.valueOf(range != null)).build();
    }

    /** The prediction with headers computed over it: validators and digests of the raw scores. */
    @POST
    @Path("validators")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public Response validators() throws Exception {
      String digest = predictionDigest();
      return Response.ok(PREDICTION)
          .tag(digest)
          .lastModified(new java.util.Date(1_700_000_000_000L))
          .header("Content-MD5", digest)
          .header("Digest", "sha-256=" + digest)
          .header("Repr-Digest", "sha-256=:" + digest + ":")
          .header("Content-Digest", "sha-256=:" + digest + ":")
          .header("Accept-Ranges", "bytes")
          .header("X-Model-Version", "7")
          .build();
    }

    /** Refuses with the prediction as the reason phrase, and no entity. */
    @POST
    @Path("reason")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public Response reason() {
      return Response.status(422, "Unprocessable: " + PREDICTION).build();
    }

    /** HEAD for {@link #validators()}, by hand: its validators and digests, without the entity. */
    @jakarta.ws.rs.HEAD
    @Path("validators")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public Response validatorsOnly() throws Exception {
      Response full = validators();
      Response.ResponseBuilder head = Response.ok();
      full.getHeaders().forEach((name, values) -> values.forEach(v -> head.header(name, v)));
      return head.build();
    }

    /**
     * The prediction coded by the resource itself and declared as such: gzip, deflate (zlib), raw
     * deflate (declared as deflate), or (for any other coding, which no runtime applies after the
     * filters) the bytes as they are; under the header name {@code as}.
     */
    @POST
    @Path("pre-coded/{coding}")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public Response preCoded(@PathParam("coding") String coding,
        @jakarta.ws.rs.QueryParam("as") @jakarta.ws.rs.DefaultValue("Content-Encoding") String as) throws IOException {
      ByteArrayOutputStream coded = new ByteArrayOutputStream();
      try (OutputStream out = switch (coding) {
        case "gzip" -> new GZIPOutputStream(coded);
        case "deflate" -> new DeflaterOutputStream(coded);
        case "raw-deflate" -> new DeflaterOutputStream(coded, new Deflater(Deflater.DEFAULT_COMPRESSION, true));
        default -> coded;
      }) {
        out.write(PREDICTION.getBytes(UTF_8));
      }
      String declared = coding.equals("raw-deflate") ? "deflate" : coding;
      return Response.ok(coded.toByteArray()).header(as, declared).build();
    }

    /**
     * The prediction as it is, not coded, under the {@code Content-Encoding} the query parameter
     * {@code coding} names, as the resource spells it (spaces, tabs and letter case included).
     */
    @POST
    @Path("declared-coding")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public Response declaredCoding(@jakarta.ws.rs.QueryParam("coding") String coding) {
      return Response.ok(PREDICTION).header("Content-Encoding", coding).build();
    }

    /** HEAD for {@link #declaredCoding}, by hand: its {@code Content-Encoding}, without the entity. */
    @jakarta.ws.rs.HEAD
    @Path("declared-coding")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public Response declaredCodingOnly(@jakarta.ws.rs.QueryParam("coding") String coding) {
      return Response.ok().header("Content-Encoding", coding).build();
    }

    /** A {@link StreamingOutput}. */
    @POST
    @Path("streaming")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public StreamingOutput streaming() {
      return out -> out.write(PREDICTION.getBytes(UTF_8));
    }

    /** An {@link InputStream} entity. */
    @POST
    @Path("input-stream")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public Response inputStream() {
      return Response.ok(new ByteArrayInputStream(PREDICTION.getBytes(UTF_8))).build();
    }

    /** The prediction padded to 1 MiB, as a {@link StreamingOutput}. */
    @POST
    @Path("huge-streaming")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public StreamingOutput hugeStreaming() {
      return out -> out.write(huge());
    }

    /** The prediction padded to 1 MiB, as an {@link InputStream}. */
    @POST
    @Path("huge-input-stream")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public Response hugeInputStream() {
      return Response.ok(new ByteArrayInputStream(huge())).build();
    }

    private static byte[] huge() {
      byte[] body = new byte[1 << 20];
      java.util.Arrays.fill(body, (byte) ' ');
      byte[] prediction = PREDICTION.getBytes(UTF_8);
      System.arraycopy(prediction, 0, body, 0, prediction.length);
      return body;
    }

    /** Resumed from another thread. */
    @POST
    @Path("async")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public void async(@Suspended AsyncResponse response) {
      new Thread(() -> response.resume(PREDICTION)).start();
    }

    /** Completed from another thread. */
    @POST
    @Path("completion-stage")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public CompletionStage<String> completionStage() {
      return CompletableFuture.supplyAsync(() -> PREDICTION);
    }
  }

  /**
   * Chain {@value ErrorOutputFixture#CHAIN}: {@link ErrorOutputFixture#PREDICTION} or {@link
   * ErrorOutputFixture#PROBLEM} with a success or error status, in each way a resource can send one.
   */
  @Path("/error-output")
  @ModelSecured(model = "digits", chain = ErrorOutputFixture.CHAIN)
  @Consumes(MediaType.APPLICATION_JSON)
  @Produces(MediaType.APPLICATION_JSON)
  public static class ErrorOutputs {
    /** The prediction, 200. */
    @POST
    @Path("ok")
    public String ok() {
      return ErrorOutputFixture.PREDICTION;
    }

    /** Partial scores, 422. */
    @POST
    @Path("partial")
    public Response partial() {
      return Response.status(422).entity(ErrorOutputFixture.PREDICTION).build();
    }

    /** The raw probabilities in a debug body, 500. */
    @POST
    @Path("debug")
    public Response debug() {
      return Response.serverError().entity(ErrorOutputFixture.PREDICTION).build();
    }

    /** Partial scores in the response of a {@link WebApplicationException}, 422. */
    @POST
    @Path("thrown")
    public String thrown() {
      throw new WebApplicationException(Response.status(422)
          .entity(ErrorOutputFixture.PREDICTION).type(MediaType.APPLICATION_JSON_TYPE).build());
    }

    /** Partial scores, sent by {@link PartialPredictionMapper}. */
    @POST
    @Path("mapped")
    public String mapped() {
      throw new PartialPrediction();
    }

    /** No content, 204. */
    @POST
    @Path("none")
    public Response none() {
      return Response.noContent().build();
    }

    /** A problem document of the application's own, 422. */
    @POST
    @Path("problem")
    @Produces({MediaType.APPLICATION_JSON, ErrorOutputFixture.PROBLEM_TYPE})
    public Response problem() {
      return Response.status(422).entity(ErrorOutputFixture.PROBLEM).type(ErrorOutputFixture.PROBLEM_TYPE).build();
    }
  }

  /** Thrown by {@link ErrorOutputs#mapped()}. */
  public static final class PartialPrediction extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  /** Answers {@link PartialPrediction} with 422 and the partial scores. */
  public static class PartialPredictionMapper implements ExceptionMapper<PartialPrediction> {
    @Override
    public Response toResponse(PartialPrediction exception) {
      return Response.status(422).entity(ErrorOutputFixture.PREDICTION).type(MediaType.APPLICATION_JSON_TYPE).build();
    }
  }

  /** A sub-resource locator with the annotation, next to a guarded resource method. */
  @Path("/locator")
  public static class GuardedLocator {
    /** Guarded. */
    @POST
    @ModelSecured(model = "digits", chain = "label-only")
    public String direct() {
      return Escapes.PREDICTION;
    }

    /** Locates {@link Located}, whose method has no annotation. */
    @Path("located")
    @ModelSecured(model = "digits", chain = "label-only")
    public Located locator() {
      return new Located();
    }
  }

  /** A sub-resource locator under a class annotation. */
  @Path("/class-locator")
  @ModelSecured(model = "digits", chain = "label-only")
  public static class ClassGuardedLocator {
    /** Guarded by the class's annotation. */
    @POST
    public String direct() {
      return Escapes.PREDICTION;
    }

    /** Locates {@link Located}, whose method has no annotation. */
    @Path("located")
    public Located locator() {
      return new Located();
    }
  }

  /** Declares a guarded sub-resource locator. */
  public interface GuardedLocatorApi {
    /** Guarded, so refused: the annotation would not reach {@link Located}. */
    @Path("located")
    @ModelSecured(model = "digits", chain = "label-only")
    Located locator();
  }

  /** Implements the locator of {@link GuardedLocatorApi} without repeating its annotations. */
  @Path("/inherited-locator")
  public static class InheritedGuardedLocator implements GuardedLocatorApi {
    /** Unguarded. */
    @POST
    public String direct() {
      return "direct";
    }

    @Override
    public Located locator() {
      return new Located();
    }
  }

  /** Located by the locators above. */
  public static class Located {
    /** The raw prediction. */
    @POST
    @Produces(MediaType.APPLICATION_JSON)
    public String predict() {
      return Escapes.PREDICTION;
    }
  }

  /** Takes the model from {model} (the default), but its path names the variable {id}. */
  @Path("/v1/misnamed/{id}/predict")
  public static class MisnamedModelVariable {
    /** Guarded without a model. */
    @POST
    @ModelSecured
    @Produces(MediaType.APPLICATION_JSON)
    public String predict() {
      return Escapes.PREDICTION;
    }
  }

  /** A catalog: no model, no path variable. */
  @Path("/v1/catalog")
  public static class CatalogWithoutVariables {
    /** Guarded without a model, as meant. */
    @GET
    @ModelSecured
    @Produces(MediaType.APPLICATION_JSON)
    public String list() {
      return "[]";
    }
  }

  /** Takes the model from the {model} its path declares. */
  @Path("/v1/declared/{model}/predict")
  public static class ModelVariableDeclared {
    /** Guarded with the path's model. */
    @POST
    @ModelSecured
    @Produces(MediaType.APPLICATION_JSON)
    public String predict() {
      return Escapes.PREDICTION;
    }
  }

  /** A composed annotation: @ModelSecured on an annotation type. */
  @ModelSecured(model = "digits", chain = "label-only")
  @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
  @java.lang.annotation.Target(java.lang.annotation.ElementType.METHOD)
  public @interface DigitsSecured {}

  /** Guarded only by a composed annotation. */
  @Path("/composed")
  public static class ComposedGuard {
    /** The raw prediction. */
    @POST
    @DigitsSecured
    @Produces(MediaType.APPLICATION_JSON)
    public String predict() {
      return Escapes.PREDICTION;
    }
  }

  /** Sends a prediction as a server-sent event under a chain with an output policy. */
  @Path("/guarded-events")
  public static class GuardedEvents {
    /** Never deployed. */
    @GET
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @ModelSecured(model = "digits", chain = "label-only")
    public void events(@Context SseEventSink sink, @Context Sse sse) {
      try (SseEventSink s = sink) {
        s.send(sse.newEvent(Escapes.PREDICTION));
      }
    }
  }

  /** Writes the raw prediction to the injected servlet response, under a chain with an output policy. */
  @Path("/servlet-response-writer")
  public static class ServletResponseWriter {
    /** Never deployed. */
    @POST
    @ModelSecured(model = "digits", chain = "label-only")
    public void predict(@Context HttpServletResponse response) throws IOException {
      response.setContentType(MediaType.APPLICATION_JSON);
      response.getWriter().write(Escapes.PREDICTION);
      response.flushBuffer();
    }
  }

  /** Receives the servlet response as its Servlet API supertype. */
  @Path("/plain-servlet-response")
  public static class PlainServletResponseParameter {
    /** Never deployed. */
    @POST
    @ModelSecured(model = "digits", chain = "label-only")
    public void predict(@Context ServletResponse response) throws IOException {
      response.getOutputStream().write(Escapes.PREDICTION.getBytes(UTF_8));
    }
  }

  /** A superclass receiving the servlet response in a field. */
  public abstract static class ServletResponseFieldBase {
    @Context protected HttpServletResponse response;
  }

  /** Writes to the servlet response its superclass received. */
  @Path("/inherited-servlet-response")
  public static class InheritedServletResponseField extends ServletResponseFieldBase {
    /** Never deployed. */
    @POST
    @ModelSecured(model = "digits", chain = "label-only")
    public void predict() throws IOException {
      response.getWriter().write(Escapes.PREDICTION);
    }
  }

  /** Receives the servlet response through a bean-property setter. */
  @Path("/servlet-response-setter")
  public static class ServletResponseSetter {
    private HttpServletResponse response;

    /** Injected by the runtime. */
    @Context
    public void setResponse(HttpServletResponse response) {
      this.response = response;
    }

    /** Never deployed. */
    @POST
    @ModelSecured(model = "digits", chain = "label-only")
    public void predict() throws IOException {
      response.getWriter().write(Escapes.PREDICTION);
    }
  }

  /** Receives the servlet response in its constructor. */
  @Path("/servlet-response-constructor")
  public static class ServletResponseConstructor {
    private final HttpServletResponse response;

    /** Injected by the runtime. */
    public ServletResponseConstructor(@Context HttpServletResponse response) {
      this.response = response;
    }

    /** Never deployed. */
    @POST
    @ModelSecured(model = "digits", chain = "label-only")
    public void predict() throws IOException {
      response.getWriter().write(Escapes.PREDICTION);
    }
  }

  /** A parameter aggregate carrying the servlet response. */
  public static class ServletResponseBean {
    @Context HttpServletResponse response;
  }

  /** Receives the servlet response inside a {@link BeanParam}. */
  @Path("/servlet-response-bean")
  public static class ServletResponseInABeanParam {
    /** Never deployed. */
    @POST
    @ModelSecured(model = "digits", chain = "label-only")
    public void predict(@BeanParam ServletResponseBean bean) throws IOException {
      bean.response.getWriter().write(Escapes.PREDICTION);
    }
  }

  /**
   * Chain {@code late-body}, whose only policy reads the request body in the response phase: a model
   * that reads its query from the entity stream up to the first line break and leaves the rest
   * unread, as a streaming parser stops after the first JSON value, or reads all of it. Answers
   * {@code model saw <what it read>}.
   */
  @Path("/late-body")
  @ModelSecured(model = "digits", chain = "late-body")
  @Consumes(MediaType.WILDCARD)
  @Produces(MediaType.TEXT_PLAIN)
  public static class LateBody {
    /** Reads up to the first line break. */
    @POST
    @Path("first-line")
    public String firstLine(InputStream body) throws IOException {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      for (int b; (b = body.read()) >= 0 && b != '\n'; ) {
        line.write(b);
      }
      return "model saw " + line.toString(UTF_8);
    }

    /** Reads the whole body. */
    @POST
    @Path("whole")
    public String whole(InputStream body) throws IOException {
      return "model saw " + new String(body.readAllBytes(), UTF_8);
    }

    /** Reads nothing of the body. */
    @POST
    @Path("ignored")
    public String ignored() {
      return "model saw nothing";
    }

    /** Reads the whole body, under an output policy that does not ask for it. */
    @POST
    @Path("whole-under-body-blind-output")
    @ModelSecured(model = "digits", chain = "body-blind-output")
    public String wholeUnderBodyBlindOutput(InputStream body) throws IOException {
      return whole(body);
    }

    /** Reads up to the first line break of a body whose start a request policy read. */
    @POST
    @Path("first-line-after-peek")
    @ModelSecured(model = "digits", chain = "late-body-after-peek")
    public String firstLineAfterPeek(InputStream body) throws IOException {
      return firstLine(body);
    }

    /** Reads up to the first line break of a body a request policy read completely. */
    @POST
    @Path("first-line-after-whole")
    @ModelSecured(model = "digits", chain = "late-body-after-whole")
    public String firstLineAfterWhole(InputStream body) throws IOException {
      return firstLine(body);
    }
  }

  /** A parameter aggregate carrying the servlet request. */
  public static class ServletRequestBean {
    @Context HttpServletRequest request;
  }

  /**
   * Chain {@code late-body}, as {@link LateBody}, for a model that reads its query up to the first
   * line break from the stream of the servlet request, injected in each way the runtimes offer, and
   * leaves the rest unread. Answers {@code model saw <what it read>}.
   */
  @Path("/late-body-servlet")
  @ModelSecured(model = "digits", chain = "late-body")
  @Consumes(MediaType.WILDCARD)
  @Produces(MediaType.TEXT_PLAIN)
  public static class LateBodyThroughTheServletRequest {
    private final HttpServletRequest constructed;
    @Context private HttpServletRequest field;
    private HttpServletRequest set;

    /** Receives the servlet request as a constructor parameter. */
    public LateBodyThroughTheServletRequest(@Context HttpServletRequest constructed) {
      this.constructed = constructed;
    }

    /** Receives the servlet request through a setter. */
    @Context
    public void setRequest(HttpServletRequest request) {
      this.set = request;
    }

    /** Reads the servlet request it receives as a parameter. */
    @POST
    @Path("parameter")
    public String parameter(@Context HttpServletRequest request) throws IOException {
      return "model saw " + firstLine(request.getInputStream());
    }

    /** Reads the servlet request injected into a field. */
    @POST
    @Path("field")
    public String field() throws IOException {
      return "model saw " + firstLine(field.getInputStream());
    }

    /** Reads the servlet request injected through a setter. */
    @POST
    @Path("setter")
    public String setter() throws IOException {
      return "model saw " + firstLine(set.getInputStream());
    }

    /** Reads the servlet request its constructor received. */
    @POST
    @Path("constructor")
    public String constructor() throws IOException {
      return "model saw " + firstLine(constructed.getInputStream());
    }

    /** Reads the servlet request of a {@link BeanParam}. */
    @POST
    @Path("bean-param")
    public String beanParam(@BeanParam ServletRequestBean bean) throws IOException {
      return "model saw " + firstLine(bean.request.getInputStream());
    }

    /** Reads the whole body from the servlet request, under an output policy that does not ask for it. */
    @POST
    @Path("whole-under-body-blind-output")
    @ModelSecured(model = "digits", chain = "body-blind-output")
    public String wholeUnderBodyBlindOutput(@Context HttpServletRequest request) throws IOException {
      return "model saw " + new String(request.getInputStream().readAllBytes(), UTF_8);
    }

    /** Reads the query through JAX-RS, and of the servlet request only a header. */
    @POST
    @Path("headers-only")
    @ModelSecured(model = "digits", chain = "late-body-after-whole")
    public String headersOnly(@Context HttpServletRequest request, InputStream body) throws IOException {
      return "model saw " + firstLine(body) + " for " + request.getHeader("X-Client");
    }

    private static String firstLine(InputStream body) throws IOException {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      for (int b; (b = body.read()) >= 0 && b != '\n'; ) {
        line.write(b);
      }
      return line.toString(UTF_8);
    }
  }

  /** Carries {@code @Path} and the guard for {@link HiddenServletResponseWriter}. */
  @Path("/hidden-servlet-response")
  public interface ServletResponseApi {
    /** The prediction, guarded by a chain with an output policy. */
    @POST
    @ModelSecured(model = "digits", chain = "label-only")
    void predict() throws IOException;
  }

  /** Writes the raw prediction to the servlet response it received in a field. */
  public static class HiddenServletResponseWriter implements ServletResponseApi {
    @Context private HttpServletResponse response;

    @Override
    public void predict() throws IOException {
      response.setContentType(MediaType.APPLICATION_JSON);
      response.getWriter().write(Escapes.PREDICTION);
      response.flushBuffer();
    }
  }

  /** Writes the prediction to the servlet response under chains without output policies. */
  @Path("/checked-servlet-response")
  public static class CheckedServletResponseWriter {
    /** Allowed by the default chain. */
    @POST
    @ModelSecured(model = "digits")
    public void predict(@Context HttpServletResponse response) throws IOException {
      response.setContentType(MediaType.APPLICATION_JSON);
      response.getWriter().write(Escapes.PREDICTION);
      response.flushBuffer();
    }

    /** Denied by its chain before it runs. */
    @POST
    @Path("denied")
    @ModelSecured(model = "digits", chain = "deny")
    public void denied(@Context HttpServletResponse response) throws IOException {
      predict(response);
    }
  }

  /** Reads the servlet request, in a field and a parameter, and answers through JAX-RS under a chain with an output policy. */
  @Path("/servlet-request-reader")
  public static class ServletRequestReader {
    @Context private HttpServletRequest fieldRequest;

    /** The raw prediction, which the output policy rewrites, once the servlet request is seen. */
    @POST
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public String predict(@Context HttpServletRequest request) {
      return request.getMethod().equals(fieldRequest.getMethod()) ? Escapes.PREDICTION : "{}";
    }
  }

  /** Server-sent events under chains without output policies. */
  @Path("/checked-events")
  public static class CheckedEvents {
    static final String EVENT = "{\"label\":7}";

    /** Allowed by the default chain. */
    @GET
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @ModelSecured(model = "digits")
    public void events(@Context SseEventSink sink, @Context Sse sse) {
      try (SseEventSink s = sink) {
        s.send(sse.newEvent(EVENT));
      }
    }

    /** Denied by its chain before it runs. */
    @GET
    @Path("denied")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @ModelSecured(model = "digits", chain = "deny")
    public void denied(@Context SseEventSink sink, @Context Sse sse) {
      events(sink, sse);
    }
  }

  /** One denial per method, each from its own chain; see {@link #QUOTA_EXCEEDED}. */
  @Path("/denials")
  @Produces(MediaType.APPLICATION_JSON)
  public static class Denials {
    /** Denied with {@code input.invalid}. */
    @POST
    @Path("invalid")
    @ModelSecured(model = "digits", chain = "deny")
    public String invalid() {
      return "{}";
    }

    /** Denied with {@code quota.exceeded}. */
    @POST
    @Path("quota")
    @ModelSecured(model = "digits", chain = "deny-quota")
    public String quota() {
      return "{}";
    }

    /** Denied with {@code auth.missing_credentials}. */
    @POST
    @Path("credentials")
    @ModelSecured(model = "digits", chain = "deny-credentials")
    public String credentials() {
      return "{}";
    }
  }

  /** Names a chain the guard does not have. */
  @Path("/misspelt")
  @ModelSecured(model = "digits", chain = "no-such-chain")
  public static class Misspelt {
    /** Never deployed. */
    @POST
    public String post() {
      return "never";
    }
  }

  /**
   * Sets, on the response of a guarded method, headers under names that read on the wire as the
   * guard's rate-limit fields or as headers describing the output ({@code "RateLimit "}, {@code "
   * RateLimit-Policy"}, {@code "ETag "}...) and one starting with a space, which a recipient reads as
   * the end of the line before it; each with {@link #OWN} (the output's with values of their own).
   * Then {@code X-Own: 1} and the raw prediction. Under {@code plain} the chain has no output
   * policy, under {@code held} one.
   */
  @Path("/padded")
  public static class PaddedHeaders {
    /** The value of every padded header: a rate-limit item the quota never counted. */
    public static final String OWN = "\"own\";r=9;t=1";
    /** The padded names and their values, in the order they are set. */
    static final List<Map.Entry<String, String>> HEADERS = List.of(Map.entry("RateLimit ", OWN),
        Map.entry(" RateLimit-Policy", OWN), Map.entry("\tRateLimit", OWN), Map.entry("RateLimit\t", OWN),
        Map.entry("ratelimit\u00a0", OWN), Map.entry("RateLimit:", OWN), Map.entry(" RateLimit-Policy ", OWN),
        Map.entry(" X-Folded", OWN), Map.entry("ETag ", "\"raw\""), Map.entry("Digest:", "sha-256=:raw:"),
        Map.entry("Content-Type ", "text/html"), Map.entry("Content-Length ", "3"));

    /** The padded headers set with {@code how}: {@code builder} (on the {@code Response}) or {@code context}. */
    @POST
    @Path("plain/{how}")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "metered")
    public Response plain(@PathParam("how") String how) {
      return padded(how);
    }

    /** As {@link #plain}, under an output policy. */
    @POST
    @Path("held/{how}")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "metered-output")
    public Response held(@PathParam("how") String how) {
      return padded(how);
    }

    private static Response padded(String how) {
      Response.ResponseBuilder answer = Response.ok(Escapes.PREDICTION);
      if (how.equals("builder")) {
        HEADERS.forEach(h -> answer.header(h.getKey(), h.getValue()));
        answer.header("X-Own", "1");
      }
      return answer.build();
    }
  }

  /**
   * An application response filter (which runs before the guard's) that sets {@link
   * PaddedHeaders#HEADERS} on the response context's headers map, for {@code /padded/.../context}.
   */
  public static class PaddingFilter implements jakarta.ws.rs.container.ContainerResponseFilter {
    @Override
    public void filter(jakarta.ws.rs.container.ContainerRequestContext request,
        jakarta.ws.rs.container.ContainerResponseContext response) {
      String path = request.getUriInfo().getPath(); // with a leading slash on RESTEasy, without on Jersey
      if ((path.startsWith("padded/") || path.startsWith("/padded/")) && path.endsWith("/context")) {
        PaddedHeaders.HEADERS.forEach(h -> response.getHeaders().add(h.getKey(), h.getValue()));
        response.getHeaders().add("X-Own", "1");
      }
    }
  }

  /**
   * Takes the servlet request's reader before any other filter runs, as a request-logging servlet
   * filter may, for a request with {@value #HEADER}: the servlet request's stream can then no longer
   * be opened.
   */
  @jakarta.ws.rs.container.PreMatching
  public static class ReaderTakingFilter implements jakarta.ws.rs.container.ContainerRequestFilter {
    static final String HEADER = "X-Take-Reader";
    @Context private HttpServletRequest servletRequest;

    @Override
    public void filter(jakarta.ws.rs.container.ContainerRequestContext request) throws IOException {
      if (request.getHeaderString(HEADER) != null) {
        servletRequest.getReader();
      }
    }
  }

  /** A resource that never reads the body, under an output policy that does not ask for it either. */
  @Path("/reader-taken")
  public static class ReaderTaken {
    /** Answers without reading the body. */
    @POST
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "body-blind-output")
    public String answer() {
      return "answered without the body";
    }

    /** Answers without reading the body, which a request policy read whole. */
    @POST
    @Path("whole")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "whole")
    public String whole() {
      return "answered";
    }
  }

  /** One instance, sharing the probe with the test. */
  @Path("/v1/models/{model}")
  public static class Models {
    private final Probe probe;

    Models(Probe probe) {
      this.probe = probe;
    }

    /** Reports what the adapter left for the resource in the request properties. */
    @POST
    @Path("inspect")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "{model}", chain = "inspect")
    public String inspect(@Context HttpServletRequest servletRequest) {
      Object decision = servletRequest.getAttribute(ModelGuardFeature.DECISION_PROPERTY);
      Object request = servletRequest.getAttribute(ModelGuardFeature.REQUEST_PROPERTY);
      return "allowed=" + (decision instanceof GuardDecision d && d.isAllowed())
          + ", request=" + (request instanceof InferenceRequest r ? r.path() : null);
    }

    /** Answers a fixed prediction; two quotas decide it. */
    @POST
    @Path("two-quotas")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "{model}", chain = "two-quotas")
    public String twoQuotas() {
      return "{\"label\":7}";
    }

    /**
     * Answers what it found under {@link FetchedInputs#ATTRIBUTE} ({@link
     * FetchedInputsFixture#describe}) and the length of the body it still received.
     */
    @POST
    @Path("fetched")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "{model}", chain = FetchedInputsFixture.CHAIN)
    public String fetched(@Context HttpServletRequest servletRequest, String body) {
      probe.resourceCalls.incrementAndGet();
      return FetchedInputsFixture.describe(servletRequest.getAttribute(FetchedInputs.ATTRIBUTE)) + " | body " + body.length();
    }

    /** Echoes the body a policy read only the start of. */
    @POST
    @Path("peek")
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    @ModelSecured(model = "{model}", chain = "peek")
    public byte[] peek(byte[] body) {
      return body;
    }

    /** Echoes the body a policy read completely. */
    @POST
    @Path("whole")
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    @ModelSecured(model = "{model}", chain = "whole")
    public byte[] whole(byte[] body) {
      return body;
    }

    /** Counts calls; its chain denies every request. */
    @POST
    @Path("denied")
    @ModelSecured(model = "{model}", chain = "deny")
    public String denied() {
      probe.resourceCalls.incrementAndGet();
      return "reached";
    }

    /** A prediction with a header describing it; its chain's output policy fails. */
    @POST
    @Path("failing-output")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "{model}", chain = "failing-output")
    public Response failingOutput() {
      return Response.ok("{\"label\":7}").header(MODEL_SECRET_HEADER, "0.97").build();
    }

    /** A prediction (with its length) that its chain's output policy rewrites into text/plain. */
    @POST
    @Path("retype")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "{model}", chain = "retype")
    public Response retype() {
      byte[] prediction = "{\"label\":7}".getBytes(UTF_8);
      return Response.ok(prediction).header("Content-Length", prediction.length).build();
    }

    /** An error of the resource itself, on a chain with an output policy. */
    @POST
    @Path("missing")
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "{model}", chain = "retype")
    public Response missing() {
      return Response.status(404).entity("{\"error\":\"no such thing\"}").build();
    }
  }

  /** State shared between the test, its policies and its resources. */
  static final class Probe {
    final AtomicReference<Seen> seen = new AtomicReference<>();
    final AtomicInteger peekedTooLarge = new AtomicInteger();
    final AtomicInteger resourceCalls = new AtomicInteger();
    final AtomicInteger outputRuns = new AtomicInteger();
    final AtomicReference<String> outputType = new AtomicReference<>();
  }

  /** What a policy saw of the request. */
  record Seen(String method, String path, Optional<String> model, Optional<String> probe,
      List<String> multi, List<String> absent, Optional<String> contentType, Optional<String> remoteAddress) {
    static Seen of(InferenceRequest r) {
      return new Seen(r.method(), r.path(), r.endpoint().model(), r.header("x-PROBE"),
          r.headers("X-PROBE-MULTI"), r.headers("X-Not-Sent"), r.contentType(), r.remoteAddress());
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  private static List<Throwable> causes(Throwable e) {
    List<Throwable> all = new ArrayList<>();
    for (Throwable t = e; t != null && !all.contains(t); t = t.getCause()) {
      all.add(t);
      for (Throwable s : t.getSuppressed()) {
        all.addAll(causes(s));
      }
    }
    return all;
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    new Random(42).nextBytes(bytes);
    return bytes;
  }

  private URI uri(String path) {
    return URI.create(deployment.baseUri() + path);
  }

  private HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(uri(path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
    return JettyHost.client().send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<byte[]> postBytes(String path, byte[] body) throws IOException, InterruptedException {
    return JettyHost.client().send(HttpRequest.newBuilder(uri(path))
        .header("Content-Type", "application/octet-stream")
        .timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build(), HttpResponse.BodyHandlers.ofByteArray());
  }
}
