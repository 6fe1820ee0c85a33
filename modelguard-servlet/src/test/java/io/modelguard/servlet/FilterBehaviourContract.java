package io.modelguard.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.modelguard.BodyTooLargeException;
import io.modelguard.EndpointSpec;
import io.modelguard.GuardDecision;
import io.modelguard.ModelOutput;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.internal.LogPace;
import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPolicy;
import io.modelguard.servlet.testapp.AliasForwardingServlet;
import io.modelguard.servlet.testapp.AsyncResettingServlet;
import io.modelguard.servlet.testapp.AsyncServlet;
import io.modelguard.servlet.testapp.CappedEchoServlet;
import io.modelguard.servlet.testapp.CappedNonBlockingEchoServlet;
import io.modelguard.servlet.testapp.CountedTemplateServlet;
import io.modelguard.servlet.testapp.DeclaredCodingServlet;
import io.modelguard.servlet.testapp.DispatchingServlet;
import io.modelguard.servlet.testapp.ErrorOutputServlet;
import io.modelguard.servlet.testapp.ErrorServlet;
import io.modelguard.servlet.testapp.GuardedDispatchingServlet;
import io.modelguard.servlet.testapp.GuardedErrorPageServlet;
import io.modelguard.servlet.testapp.EscapingOutputServlet;
import io.modelguard.servlet.testapp.EscapingOutputServlet.Mode;
import io.modelguard.servlet.testapp.FetchedImageServlet;
import io.modelguard.servlet.testapp.FirstLineServlet;
import io.modelguard.servlet.testapp.GuardedProbeServlet;
import io.modelguard.servlet.testapp.GetPredictionServlet;
import io.modelguard.servlet.testapp.LeakyOutputServlet;
import io.modelguard.servlet.testapp.NotFoundServlet;
import io.modelguard.servlet.testapp.OpenServlet;
import io.modelguard.servlet.testapp.OverflowingServlet;
import io.modelguard.servlet.testapp.OwnRateLimitServlet;
import io.modelguard.servlet.testapp.PaddedHeadersServlet;
import io.modelguard.servlet.testapp.PredictionErrorPageServlet;
import io.modelguard.servlet.testapp.PeekEchoServlet;
import io.modelguard.servlet.testapp.CharsetAfterWriterServlet;
import io.modelguard.servlet.testapp.CommitThenDispatchServlet;
import io.modelguard.servlet.testapp.EarlyHintsServlet;
import io.modelguard.servlet.testapp.EncodingEchoServlet;
import io.modelguard.servlet.testapp.IncludingPageServlet;
import io.modelguard.servlet.testapp.IncludingServlet;
import io.modelguard.servlet.testapp.PeekAsyncContextEchoServlet;
import io.modelguard.servlet.testapp.PeekNonBlockingEchoServlet;
import io.modelguard.servlet.testapp.PredictServlet;
import io.modelguard.servlet.testapp.RedirectServlet;
import io.modelguard.servlet.testapp.RedispatchingServlet;
import io.modelguard.servlet.testapp.ResettingServlet;
import io.modelguard.servlet.testapp.RewritingProbeServlet;
import io.modelguard.servlet.testapp.ServletDef;
import io.modelguard.servlet.testapp.ServletRuntime;
import io.modelguard.servlet.testapp.StreamingServlet;
import io.modelguard.servlet.testapp.ThrowingServlet;
import io.modelguard.servlet.testapp.UnknownChainServlet;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import io.modelguard.test.RawHttp;
import io.modelguard.test.ConformanceFixture;
import io.modelguard.test.ErrorOutputContract;
import io.modelguard.test.ErrorOutputFixture;
import io.modelguard.test.LogCapture;
import io.modelguard.test.input.FetchedInputsFixture;
import io.modelguard.test.input.LoopbackHttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What {@link ModelGuardFilter} does beyond the conformance suite, on a real container: path rules
 * given in code, when the response is (not) wrapped, body replay, and start-up validation. The app
 * is deployed under the context path {@code /app}, so every path rule and template below is
 * matched against the path within the context.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class FilterBehaviourContract implements ErrorOutputContract {
  /** How many bytes the {@code peek} chain's policy reads of a longer body. */
  static final int PEEK = 8;

  /** The most output the filter under test buffers for the output policies. */
  static final int MAX_OUTPUT = 64 * 1024;

  /** The chain whose requests two quotas decide: a burst of 5 a second and 2 a minute. */
  static final String TWO_QUOTAS = "two-quotas";

  /** A chain whose quota (ample, on a clock that stands still) adds rate-limit headers; no output policies. */
  static final String METERED = "metered";

  /** As {@link #METERED}, with an output policy that marks the body. */
  static final String METERED_OUTPUT = "metered-output";

  /** The image host the {@value FetchedInputsFixture#CHAIN} chain may fetch from. */
  private final LoopbackHttpServer images = LoopbackHttpServer.start()
      .serve("/image.png", 200, "image/png", FetchedInputsFixture.png());
  private final CountDownLatch streamRelease = new CountDownLatch(1);
  private final CountDownLatch asyncRelease = new CountDownLatch(1);
  private final CountDownLatch escapeRelease = new CountDownLatch(1);
  /** The {@value ErrorOutputFixture#CHAIN} chain and what its policies saw. */
  private final ErrorOutputFixture errorOutput = new ErrorOutputFixture();
  /** How many requests the {@code counted} chain checked: what a quota would charge. */
  private final AtomicInteger countedChecks = new AtomicInteger();
  private ConformanceFixture fixture;
  private Deployment deployment;

  /** The container under test. */
  abstract ServletRuntime runtime();

  /** Whether the container implements Servlet 6.1 (new {@code sendRedirect} overloads). */
  abstract boolean servlet61();

  /** Starts the container with {@link UnknownChainServlet} and asserts the start-up failure it reports. */
  @Test
  abstract void unknownChainInAnAnnotationFailsStartUp() throws Exception;

  /**
   * A fixture with extra chains: {@code peek}, {@code counted} (reads the whole body and counts the
   * checks in {@link #countedChecks}), {@code failing-output}, {@code label-only}, {@value
   * ErrorOutputFixture#CHAIN}, and {@value FetchedInputsFixture#CHAIN}, which fetches image URLs
   * from {@link #images} only.
   */
  ConformanceFixture filterFixture() {
    return ConformanceFixture.create(b -> b
        .chain(FetchedInputsFixture.CHAIN, FetchedInputsFixture.chain(images.port()))
        .chain(ErrorOutputFixture.CHAIN, errorOutput.chain())
        .chain("peek", c -> c.policy(Phase.VALIDATE, "peek", ctx -> {
          try {
            ctx.request().body(PEEK);
          } catch (BodyTooLargeException e) {
            // Longer bodies are fine: this policy only looks at their start.
          } catch (IOException e) {
            return GuardDecision.deny(ReasonCode.INPUT_MALFORMED);
          }
          return GuardDecision.allow();
        }))
        .chain("counted", c -> c.policy(Phase.VALIDATE, "counted", ctx -> {
          countedChecks.incrementAndGet();
          try {
            ctx.request().body(1024);
          } catch (IOException e) {
            return GuardDecision.deny(ReasonCode.INPUT_MALFORMED);
          }
          return GuardDecision.allow();
        }))
        // U+010D U+010A: characters HTTP/1.1 cannot carry, whose low bytes are CR LF.
        .chain("beyond-latin-1", c -> c.policy(Phase.VALIDATE, "beyond-latin-1",
            ctx -> GuardDecision.allow().withHeader("X-Note", "a\u010D\u010AX-Injected: yes")))
        .chain(METERED, c -> c.policy(Phase.AUTHENTICATE, "anyone", FilterBehaviourContract::anyone)
            .policy(Phase.QUOTA, "ample", quota(ample())))
        .chain(METERED_OUTPUT, c -> c.policy(Phase.AUTHENTICATE, "anyone", FilterBehaviourContract::anyone)
            .policy(Phase.QUOTA, "ample", quota(ample()))
            .output(OutputPhase.PERTURB, "mark", ctx -> mark(ctx.output(), "checked")))
        .chain(TWO_QUOTAS, c -> c
            .policy(Phase.AUTHENTICATE, "anyone",
                ctx -> GuardDecision.authenticated(Principal.builder("quota-user").tenant("quota-tenant").build()))
            .policy(Phase.QUOTA, "burst", quota(QuotaLimit.tokenBucket("burst", 5, Duration.ofSeconds(1))))
            .policy(Phase.QUOTA, "minute", quota(QuotaLimit.tokenBucket("minute", 2, Duration.ofMinutes(1)))))
        // Reads the request body only in the response phase: what it sees must be what the model got.
        .chain("late-body", c -> c.output(OutputPhase.PERTURB, "late-body", ctx -> {
          try {
            return mark(ctx.output(), "| policies saw " + new String(ctx.request().body(1024), StandardCharsets.UTF_8));
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }))
        .chain("failing-output", c -> c.policy(Phase.AUTHENTICATE, "anyone", FilterBehaviourContract::anyone)
            .policy(Phase.QUOTA, "ample", quota(ample()))
            .output(OutputPhase.PERTURB, "explodes", ctx -> {
              throw new IllegalStateException("output policy failed");
            }))
        // Like the built-in perturbation: rewrites the predictions it can read, passes the rest.
        .chain("label-only", c -> c.output(OutputPhase.PERTURB, "label-only", ctx ->
            ctx.output().bodyAsString().startsWith("{\"label\":7,")
                ? ModelOutput.json("{\"label\":7}")
                : ctx.output())));
  }

  /** Authenticates every request as one user of one tenant, for the quotas. */
  private static GuardDecision anyone(io.modelguard.GuardContext ctx) {
    return GuardDecision.authenticated(Principal.builder("quota-user").tenant("quota-tenant").build());
  }

  /** A quota no test exhausts. */
  private static QuotaLimit ample() {
    return QuotaLimit.tokenBucket("ample", 1_000_000, Duration.ofMinutes(1));
  }

  /** A quota of {@code limit} per tenant and model, on a store of its own and a clock that stands still. */
  private static QuotaPolicy quota(QuotaLimit limit) {
    Clock still = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    return QuotaPolicy.builder(InMemoryQuotaStore.builder().clock(still).build()).defaultLimits(limit).build();
  }

  /** Deploys {@link UnknownChainServlet} next to an unguarded servlet at {@code /app/open}. */
  Deployment deployWithUnknownChain() throws Exception {
    return runtime().start("/app", new ModelGuardFilter(filterFixture().guard()), List.of(
        ServletDef.of(UnknownChainServlet.class, "/predict"),
        ServletDef.of(OpenServlet.class, "/open")));
  }

  @BeforeAll
  void start() throws Exception {
    fixture = filterFixture();
    ModelGuardFilter filter = ModelGuardFilter.builder(fixture.guard())
        .route("/api/models/{model}/predict", EndpointSpec.of("{model}", "default", 1))
        .route("/api/quotas/{model}/predict", EndpointSpec.of("{model}", TWO_QUOTAS, 1))
        .route("/routed/probe", EndpointSpec.of("digits", "rewriting", 1))
        .route("/beyond-latin-1", EndpointSpec.of("digits", "beyond-latin-1", 1))
        .route("/reset/plain", EndpointSpec.of("digits", METERED, 1))
        .route("/reset/held", EndpointSpec.of("digits", METERED_OUTPUT, 1))
        .route("/reset/held-fails", EndpointSpec.of("digits", METERED_OUTPUT, 1))
        .route("/own-limits/plain", EndpointSpec.of("digits", METERED, 1))
        .route("/own-limits/held", EndpointSpec.of("digits", METERED_OUTPUT, 1))
        .route("/async-reset", EndpointSpec.of("digits", METERED, 1))
        .route("/get/held/{how}", EndpointSpec.of("digits", METERED_OUTPUT, 1))
        .route("/padded/plain", EndpointSpec.of("digits", METERED, 1))
        .route("/padded/held", EndpointSpec.of("digits", METERED_OUTPUT, 1))
        .route("/padded/label-only", EndpointSpec.of("digits", "label-only", 1))
        .maxOutputBytes(MAX_OUTPUT)
        .build();
    deployment = runtime().start("/app", filter, List.of(
        ServletDef.of(OpenServlet.class, "/api/*", "/beyond-latin-1"),
        ServletDef.of(AliasForwardingServlet.class, "/alias/*"),
        ServletDef.of(CountedTemplateServlet.class, "/counted/*"),
        ServletDef.of(GuardedProbeServlet.class, "/probe"),
        new ServletDef("routed-probe", GuardedProbeServlet.class, null, List.of("/routed/probe")),
        ServletDef.of(RewritingProbeServlet.class, "/probe-rewrite"),
        ServletDef.of("streaming", new StreamingServlet(streamRelease), "/stream"),
        ServletDef.of("capped-reader", new CappedEchoServlet(true), "/capped/reader"),
        ServletDef.of("capped-stream", new CappedEchoServlet(false), "/capped/stream"),
        ServletDef.of("peek-reader", new PeekEchoServlet(true), "/peek/reader"),
        ServletDef.of("peek-stream", new PeekEchoServlet(false), "/peek/stream"),
        ServletDef.of(CappedNonBlockingEchoServlet.class, "/capped/non-blocking"),
        ServletDef.of(PeekNonBlockingEchoServlet.class, "/peek/non-blocking"),
        ServletDef.of(PeekAsyncContextEchoServlet.class, "/peek/async-context"),
        ServletDef.of(EncodingEchoServlet.class, "/encoding-echo"),
        ServletDef.of(EarlyHintsServlet.class, "/early-hints"),
        ServletDef.of(IncludingPageServlet.class, "/including-page"),
        ServletDef.of(CharsetAfterWriterServlet.class, "/charset-after-writer"),
        ServletDef.of(LeakyOutputServlet.class, "/leaky"),
        ServletDef.of(ErrorServlet.class, "/error"),
        ServletDef.of(ErrorOutputServlet.class, "/error-output/*"),
        ServletDef.of(RedirectServlet.class, "/redirect"),
        ServletDef.of(ResettingServlet.class, "/reset/*"),
        ServletDef.of(OwnRateLimitServlet.class, "/own-limits/*"),
        ServletDef.of(AsyncResettingServlet.class, "/async-reset"),
        ServletDef.of(GetPredictionServlet.class, "/get/*"),
        ServletDef.of(PaddedHeadersServlet.class, "/padded/*"),
        ServletDef.of(IncludingServlet.class, "/include/*"),
        ServletDef.of("async", new AsyncServlet(asyncRelease), "/async"),
        ServletDef.of(FetchedImageServlet.class, "/fetched"),
        ServletDef.of("late-body-first-line", new FirstLineServlet(false), "/late-body/first-line"),
        ServletDef.of("late-body-whole", new FirstLineServlet(true), "/late-body/whole"),
        ServletDef.of(PredictServlet.class, "/v1/models/*"),
        ServletDef.of(DispatchingServlet.class, "/dispatch/forward", "/dispatch/include", "/dispatch/async"),
        ServletDef.of(GuardedDispatchingServlet.class,
            "/guarded-dispatch/forward", "/guarded-dispatch/include", "/guarded-dispatch/async"),
        ServletDef.of(RedispatchingServlet.class, "/redispatch"),
        ServletDef.of("escape-gzip", new EscapingOutputServlet(Mode.GZIP), "/escape/gzip"),
        ServletDef.of("escape-gzip-padded", new EscapingOutputServlet(Mode.GZIP_UNDER_A_PADDED_NAME),
            "/escape/gzip-padded"),
        ServletDef.of(DeclaredCodingServlet.class, "/declared-coding"),
        ServletDef.of("escape-huge", new EscapingOutputServlet(Mode.HUGE), "/escape/huge"),
        ServletDef.of("escape-async", new EscapingOutputServlet(Mode.ASYNC_ORIGINAL_RESPONSE, escapeRelease), "/escape/async"),
        ServletDef.of("escape-error-message", new EscapingOutputServlet(Mode.ERROR_MESSAGE), "/escape/error-message"),
        ServletDef.of("escape-after-error", new EscapingOutputServlet(Mode.WRITE_AFTER_ERROR), "/escape/after-error"),
        ServletDef.of("escape-after-redirect", new EscapingOutputServlet(Mode.WRITE_AFTER_REDIRECT), "/escape/after-redirect"),
        ServletDef.of("escape-trailer", new EscapingOutputServlet(Mode.TRAILER), "/escape/trailer"),
        ServletDef.of("escape-exception", new EscapingOutputServlet(Mode.EXCEPTION), "/escape/exception",
            "/escape/exception/*"),
        ServletDef.of("escape-validators", new EscapingOutputServlet(Mode.VALIDATORS), "/escape/validators"),
        ServletDef.of("escape-conditional", new EscapingOutputServlet(Mode.CONDITIONAL), "/escape/conditional"),
        ServletDef.of("escape-utf-16", new EscapingOutputServlet(Mode.UTF_16), "/escape/utf-16"),
        ServletDef.of("escape-content-type-header",
            new EscapingOutputServlet(Mode.CONTENT_TYPE_HEADER_AFTER_WRITER), "/escape/content-type-header"),
        ServletDef.of("escape-untyped-writer",
            new EscapingOutputServlet(Mode.WRITER_WITHOUT_CONTENT_TYPE), "/escape/untyped-writer"),
        ServletDef.of("overflow-writer-tail",
            new OverflowingServlet(MAX_OUTPUT, OverflowingServlet.Mode.UNFLUSHED_WRITER_TAIL), "/overflow/writer-tail"),
        ServletDef.of("overflow-send-error",
            new OverflowingServlet(MAX_OUTPUT, OverflowingServlet.Mode.SEND_ERROR), "/overflow/send-error"),
        ServletDef.of("overflow-redirect",
            new OverflowingServlet(MAX_OUTPUT, OverflowingServlet.Mode.REDIRECT), "/overflow/redirect")));
  }

  @AfterAll
  void stop() throws Exception {
    streamRelease.countDown();
    asyncRelease.countDown();
    escapeRelease.countDown();
    images.close();
    if (deployment != null) {
      deployment.close();
    }
  }

  // --- path rules ---------------------------------------------------------------------------

  @Test
  void pathRuleGuardsAnUnannotatedServlet() throws Exception {
    HttpResponse<String> missing = post("/api/models/digits/predict", null);
    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(missing.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(missing.body()).contains("\"code\":\"auth.missing_credentials\"");

    HttpResponse<String> allowed = post("/api/models/digits/predict", fixture.basicKey());
    assertThat(allowed.statusCode()).isEqualTo(200);
    assertThat(allowed.body()).isEqualTo("open");
  }

  @Test
  void pathRuleBindsTheModelFromItsTemplate() throws Exception {
    HttpResponse<String> r = post("/api/models/iris/predict", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.headers().firstValue("WWW-Authenticate"))
        .hasValue("Bearer error=\"insufficient_scope\", scope=\"model:iris:invoke\"");
  }

  @Test
  void twoQuotasOfOneRequestSendOneListPerRateLimitField() throws Exception {
    HttpResponse<String> first = post("/api/quotas/digits/predict", null);
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().allValues("RateLimit-Policy")).containsExactly("\"burst\";q=5;w=1, \"minute\";q=2;w=60");
    assertThat(first.headers().allValues("RateLimit")).containsExactly("\"burst\";r=4;t=1, \"minute\";r=1;t=30");
    assertThat(post("/api/quotas/digits/predict", null).statusCode()).isEqualTo(200);

    HttpResponse<String> refused = post("/api/quotas/digits/predict", null);

    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.headers().allValues("Retry-After")).as("the refusing quota's").containsExactly("30");
    assertThat(refused.headers().allValues("RateLimit")).as("the burst's true count next to the refusal")
        .containsExactly("\"burst\";r=2;t=1, \"minute\";r=0;t=60");
  }

  @Test
  void trailingSlashDoesNotSidestepAPathRule() throws Exception {
    HttpResponse<String> r = post("/api/models/digits/predict/", null);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("\"code\":\"auth.missing_credentials\"");
  }

  @Test
  void aPathThatNamesNoModelForATemplatesVariableIsDeniedWhateverTheChain() throws Exception {
    // Chain "counted" has no ModelAccessPolicy: before, a request the servlet's template did not
    // match (or with an invalid model id) had no model and went to the servlet, past every
    // per-model policy, while the servlet could still read a model from its path.
    int before = countedChecks.get();
    for (String path : List.of("/counted/models/digits/explain", "/counted/models/-x/predict",
        "/counted/models/digits/predict/more")) {
      HttpResponse<String> r = post(path, null);
      assertThat(r.statusCode()).as(path).isEqualTo(403);
      assertThat(r.body()).as(path).contains("\"code\":\"authz.model_forbidden\"").doesNotContain("explain");
    }
    assertThat(countedChecks.get()).as("no policy of the chain ran").isEqualTo(before);

    HttpResponse<String> named = post("/counted/models/digits/predict", null);
    assertThat(named.statusCode()).isEqualTo(200);
    assertThat(countedChecks.get()).isEqualTo(before + 1);
  }

  @Test
  void emptySegmentsInADispatchedPathDoNotSidestepAPathRule() throws Exception {
    // The alias forwards to /api//models/{model}/predict: Tomcat merges the slashes, Jetty
    // dispatches the path as it is to the servlet at /api/*, which answers it as any other.
    HttpResponse<String> missing = post("/alias/models/digits/predict", null);
    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(missing.body()).contains("\"code\":\"auth.missing_credentials\"").doesNotContain("open");

    HttpResponse<String> otherModel = post("/alias/models/iris/predict", fixture.basicKey());
    assertThat(otherModel.statusCode()).isEqualTo(403);
    assertThat(otherModel.headers().firstValue("WWW-Authenticate"))
        .hasValue("Bearer error=\"insufficient_scope\", scope=\"model:iris:invoke\"");

    HttpResponse<String> allowed = post("/alias/models/digits/predict", fixture.basicKey());
    assertThat(allowed.statusCode()).isEqualTo(200);
    assertThat(allowed.body()).isEqualTo("open");
  }

  @Test
  void pathOutsideEveryRuleOnAnUnannotatedServletIsLeftAlone() throws Exception {
    HttpResponse<String> r = post("/api/models/digits/other", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("open");
  }

  @Test
  void pathRuleTakesPrecedenceOverTheServletsAnnotation() throws Exception {
    // The servlet's annotation says chain "default"; the rule says "rewriting", whose output
    // policy tags the body.
    HttpResponse<String> r = post("/routed/probe", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"requestWrapped\":true,\"responseWrapped\":true,\"subject\":\"client-basic\",\"perturbed\":true}");
  }

  // --- annotations --------------------------------------------------------------------------

  @Test
  void annotationTemplateIsMatchedWithinTheContextPath() throws Exception {
    HttpResponse<String> r = post("/v1/models/digits/predict", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(ConformanceFixture.prediction("digits"));
  }

  @Test
  void annotationTemplateIgnoresATrailingSlash() throws Exception {
    HttpResponse<String> r = post("/v1/models/iris/predict/", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.headers().firstValue("WWW-Authenticate"))
        .hasValue("Bearer error=\"insufficient_scope\", scope=\"model:iris:invoke\"");
  }

  @Test
  void pathThatMissesTheAnnotationTemplateHasNoModelAndIsDenied() throws Exception {
    // Same servlet (mapped to /v1/models/*), but the path does not fit /v1/models/{model}/predict.
    HttpResponse<String> r = post("/v1/models/digits/explain", fixture.premiumKey());
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer error=\"insufficient_scope\"");
  }

  // --- methods the servlet does not serve ------------------------------------------------------

  @Test
  void aMethodTheServletDoesNotServeIsCheckedByTheGuardBeforeTheServletAnswers405() throws Exception {
    // The filter cannot know which methods a servlet serves (service() may dispatch any way it
    // likes): every method is checked first, and the servlet's own 405 comes once the guard allowed.
    int calls = FetchedImageServlet.CALLS.get();
    HttpResponse<String> noBody = client().send(request("/fetched", fixture.basicKey()).GET().build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    assertThat(noBody.statusCode()).as("the input policy refuses the missing body first").isEqualTo(415);
    assertThat(noBody.body()).contains("\"code\":\"input.unsupported_media_type\"");
    assertThat(FetchedImageServlet.CALLS.get()).isEqualTo(calls);

    HttpResponse<String> anonymous = client().send(request("/probe", null).GET().build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    assertThat(anonymous.statusCode()).as("no method is revealed before authentication").isEqualTo(401);

    HttpResponse<String> allowed = client().send(request("/probe", fixture.basicKey()).GET().build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    assertThat(allowed.statusCode()).as("the servlet's own answer to a method it lacks").isEqualTo(405);
  }

  // --- connection handling ----------------------------------------------------------------

  @Test
  void denialSentBeforeTheBodyArrivedSaysTheConnectionCloses() throws Exception {
    // Only the first byte of a 2 MB body is sent: above the 1 MiB the filter would read and discard,
    // so the guard denies without waiting for the rest.
    String head = rawExchange("POST /app/v1/models/digits/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{");
    assertThat(head).startsWith("HTTP/1.1 401 ").containsIgnoringCase("\r\nConnection: close\r\n");
  }

  @Test
  void denialOfARequestWithoutABodyKeepsTheConnectionOpen() throws Exception {
    String head = rawExchange("POST /app/v1/models/digits/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Content-Length: 0\r\n\r\n");
    assertThat(head).startsWith("HTTP/1.1 401 ").doesNotContainIgnoringCase("Connection: close");
  }

  // --- response wrapping --------------------------------------------------------------------

  @Test
  void responseIsNotWrappedWhenTheChainHasNoOutputPolicies() throws Exception {
    HttpResponse<String> r = post("/probe", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"requestWrapped\":false,\"responseWrapped\":false,\"subject\":\"client-basic\"}");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/reset/plain", "/reset/held"})
  void theGuardsHeadersSurviveAResetByTheServlet(String path) throws Exception {
    // Without output policies the response went unwrapped to the servlet, and its reset() (as
    // before an error page) dropped the rate-limit headers the client paces itself by.
    HttpResponse<String> r = post(path, null);
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.headers().firstValue("RateLimit-Policy")).as(path).hasValue("\"ample\";q=1000000;w=60");
    assertThat(r.headers().firstValue("RateLimit").orElseThrow()).as(path).startsWith("\"ample\";r=");
    assertThat(r.headers().firstValue("X-Before-Reset")).as(path).isEmpty();
    assertThat(r.body()).as(path).startsWith(ResettingServlet.BODY).doesNotContain("started");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/own-limits/plain", "/own-limits/held"})
  void theGuardsRateLimitFieldsWinOverTheServletsOwn(String path) throws Exception {
    // As in the JAX-RS adapter: the quota counted the request, and a servlet that sets (or adds)
    // RateLimit fields of its own must not tell the client other limits than the guard's.
    HttpResponse<String> r = post(path, null);
    assertThat(r.statusCode()).as(path).isEqualTo(200);
    assertThat(r.headers().allValues("RateLimit-Policy")).as(path).containsExactly("\"ample\";q=1000000;w=60");
    assertThat(r.headers().allValues("RateLimit")).as(path).singleElement().asString().startsWith("\"ample\";r=");
    assertThat(r.headers().firstValue("X-Own")).as(path).hasValue("1");
    assertThat(r.body()).as(path).startsWith(OwnRateLimitServlet.BODY);
  }

  @Test
  void aPolicyHeaderValueBeyondLatin1IsAFailedPolicyNotAnAlteredOrDroppedHeader() throws Exception {
    // Jetty sent it as "X-Note: a  X-Injected: yes" and Tomcat left it out, both with the servlet's
    // 200; a container writing each character's low byte would have sent a header of its own.
    String head = RawHttp.exchangeHead(deployment.baseUri(), "POST /app/beyond-latin-1 HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    assertThat(head).startsWith("HTTP/1.1 500 ").containsIgnoringCase("\r\nContent-Type: application/problem+json")
        .doesNotContainIgnoringCase("X-Note").doesNotContainIgnoringCase("X-Injected");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/padded/plain", "/padded/held"})
  void aHeaderNameThatReadsAsAGuardHeaderOnlyOnTheWireDoesNotReachTheClient(String path) throws Exception {
    // Jetty and Tomcat write a name as given: "RateLimit " went out as "RateLimit : ...", which a
    // proxy turns into a second RateLimit (RFC 9112 5.1) and Java's client refuses; " X-Folded"
    // as a line a recipient appends to the one before it, the guard's RateLimit.
    String head = RawHttp.exchangeHead(deployment.baseUri(), "POST /app" + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");

    assertThat(head).as(path).startsWith("HTTP/1.1 200 ").doesNotContain(PaddedHeadersServlet.OWN).contains("\r\nX-Own: 1\r\n");
    List<String> fields = List.of(head.split("\r\n")).subList(1, head.split("\r\n").length);
    assertThat(fields).as(path).noneMatch(f -> f.startsWith(" ") || f.startsWith("\t"));
    assertThat(fields).as(path).filteredOn(f -> wireName(f).equalsIgnoreCase("RateLimit-Policy"))
        .containsExactly("RateLimit-Policy: \"ample\";q=1000000;w=60");
    assertThat(fields).as(path).filteredOn(f -> wireName(f).equalsIgnoreCase("RateLimit"))
        .singleElement().asString().startsWith("RateLimit: \"ample\";r=");
    if (path.endsWith("held")) {
      // The output policies rewrite the body: no validator of the servlet's output, and one type.
      assertThat(fields).as(path).noneMatch(f -> wireName(f).equalsIgnoreCase("ETag"));
      assertThat(fields).as(path).filteredOn(f -> wireName(f).equalsIgnoreCase("Content-Type")).hasSize(1);
    }
  }

  @Test
  void underOutputPoliciesWithoutDecisionHeadersANameThatContinuesThePreviousLineDoesNotReachTheClient()
      throws Exception {
    // A chain with an output policy and no quota: the decision has no headers for the guard to
    // protect, but " X-Folded" still went out as a line a recipient appends to the one before it,
    // perhaps the Content-Type the output policies chose (JAX-RS removed it already).
    String head = RawHttp.exchangeHead(deployment.baseUri(), "POST /app/padded/label-only HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");

    assertThat(head).startsWith("HTTP/1.1 200 ").contains("\r\nX-Own: 1\r\n");
    List<String> fields = List.of(head.split("\r\n")).subList(1, head.split("\r\n").length);
    assertThat(fields).noneMatch(f -> f.startsWith(" ") || f.startsWith("\t"));
    assertThat(fields).filteredOn(f -> wireName(f).equalsIgnoreCase("Content-Type")).hasSize(1);
  }

  /** The name of a header line as a lenient recipient reads it: before the colon, trimmed. */
  private static String wireName(String field) {
    int colon = field.indexOf(':');
    return (colon < 0 ? field : field.substring(0, colon)).replaceAll("^[\\s\\p{Z}\\p{Cc}]+|[\\s\\p{Z}\\p{Cc}]+$", "");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/get/held/stream", "/get/held/writer"})
  void aHeadUnderOutputPoliciesCarriesTheLengthOfTheCheckedGet(String path) throws Exception {
    // HttpServlet's default doHead runs doGet: the filter sees the body and sends the length it has
    // once the policies rewrote it, as the container counts it for an unguarded servlet.
    String get = RawHttp.exchange(deployment.baseUri(), "GET /app" + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    String head = RawHttp.exchange(deployment.baseUri(), "HEAD /app" + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

    assertThat(get).as(path).startsWith("HTTP/1.1 200 ").endsWith(GetPredictionServlet.BODY + " checked");
    String length = "Content-Length: " + (GetPredictionServlet.BODY + " checked").length() + "\r\n";
    assertThat(get).as(path).contains("\r\n" + length);
    assertThat(head).as(path).startsWith("HTTP/1.1 200 ").contains("\r\n" + length).endsWith("\r\n\r\n");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/get/held/own-head", "/get/held/own-head-untold"})
  void aHeadAnsweredWithoutTheBodyUnderOutputPoliciesClaimsNoLength(String path) throws Exception {
    // The servlet's own doHead writes no body: the filter sent Content-Length: 0, although the GET
    // has a body; the servlet's own length describes the output before the policies rewrote it.
    String head = RawHttp.exchange(deployment.baseUri(), "HEAD /app" + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

    assertThat(head).as(path).startsWith("HTTP/1.1 200 ").doesNotContainIgnoringCase("\r\nContent-Length:")
        .contains("\r\nRateLimit: \"ample\";r=").endsWith("\r\n\r\n");
  }

  @Test
  void theGuardsHeadersSurviveAResetThroughTheContextOfABareStartAsync() throws Exception {
    // startAsync() on the container's request held the container's response: a reset there (an
    // asynchronous error page) dropped the guard's headers, and the servlet's own RateLimit replaced them.
    HttpResponse<String> r = post("/async-reset", null);
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.headers().allValues("RateLimit-Policy")).containsExactly("\"ample\";q=1000000;w=60");
    assertThat(r.headers().allValues("RateLimit")).singleElement().asString().startsWith("\"ample\";r=");
    assertThat(r.headers().firstValue("X-Before-Reset")).isEmpty();
    assertThat(r.body()).startsWith(AsyncResettingServlet.BODY).doesNotContain("started");
  }

  @Test
  void theOutputAWithheldAnswerReplacesKeepsTheGuardsRateLimitFields() throws Exception {
    // The servlet fails after writing: its output is withheld behind a 500, and the filter's own
    // reset of the response for that answer dropped the rate-limit fields of a request the quota
    // had counted.
    HttpResponse<String> r = post("/reset/held-fails", null);
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).contains("internal.error").doesNotContain("started");
    assertThat(r.headers().firstValue("RateLimit-Policy")).hasValue("\"ample\";q=1000000;w=60");
    assertThat(r.headers().firstValue("RateLimit").orElseThrow()).startsWith("\"ample\";r=");
  }

  @Test
  void responseWrittenThroughTheWriterPassesTheOutputPolicyWithItsFinalLength() throws Exception {
    HttpResponse<String> r = post("/probe-rewrite", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"requestWrapped\":true,\"responseWrapped\":true,\"subject\":\"client-basic\",\"perturbed\":true}");
    assertThat(r.headers().firstValue("Content-Length"))
        .hasValue(Integer.toString(r.body().getBytes(StandardCharsets.UTF_8).length));
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/json");
  }

  @Test
  void responseStreamsWhenTheChainHasNoOutputPolicies() throws Exception {
    CompletableFuture<HttpResponse<InputStream>> pending = client().sendAsync(
        request("/stream", fixture.basicKey()).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    // The servlet is still waiting for the release: only a streamed response has arrived yet.
    HttpResponse<InputStream> r = pending.get(5, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(200);
    try (BufferedReader body = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.US_ASCII))) {
      assertThat(body.readLine()).isEqualTo("first");
      streamRelease.countDown();
      assertThat(body.readLine()).isEqualTo("second");
      assertThat(body.readLine()).isNull();
    }
  }

  @Test
  void failedOutputPolicyWithholdsTheServletsBodyAndHeaders() throws Exception {
    HttpResponse<String> r = post("/leaky", null);
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(r.body()).isEqualTo("{\"type\":\"urn:modelguard:problem:internal.error\","
        + "\"title\":\"Internal error\",\"status\":500,\"detail\":\"The request could not be processed.\","
        + "\"code\":\"internal.error\"}");
    assertThat(r.headers().firstValue("Content-Length")).hasValue(Integer.toString(r.body().length()));
    assertThat(r.headers().firstValue(LeakyOutputServlet.HEADER)).isEmpty();
    // The quota counted the request: the 500 still tells the client its limits, as in JAX-RS.
    assertThat(r.headers().allValues("RateLimit-Policy")).containsExactly("\"ample\";q=1000000;w=60");
    assertThat(r.headers().firstValue("RateLimit").orElseThrow()).startsWith("\"ample\";r=");
  }

  @Test
  void containerErrorPageIsNotModelOutput() throws Exception {
    int before = fixture.outputRuns();
    HttpResponse<String> r = post("/error", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(409);
    assertThat(r.body()).doesNotContain("partial output").doesNotContain("perturbed");
    assertThat(fixture.outputRuns()).isEqualTo(before);
  }

  @Test
  void redirectIsNotModelOutput() throws Exception {
    int before = fixture.outputRuns();
    HttpResponse<String> r = post("/redirect", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(servlet61() ? 307 : 302);
    assertThat(r.headers().firstValue("Location").orElseThrow()).endsWith("/app/elsewhere");
    assertThat(r.body()).doesNotContain("partial output").doesNotContain("perturbed");
    assertThat(fixture.outputRuns()).isEqualTo(before);
  }

  // --- output policies on the servlet's own error responses (ErrorOutputContract) ---------

  @Override
  public ErrorOutputFixture errorOutput() {
    return errorOutput;
  }

  /** {@link ErrorOutputServlet}, which answers with {@code setStatus} and a body it writes. */
  @Override
  public HttpResponse<String> postErrorOutput(String answer) throws IOException, InterruptedException {
    return client().send(request("/error-output/" + answer, null)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(ErrorOutputFixture.REQUEST)).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  @Test
  void asynchronousOutputThatTheOutputPoliciesCannotSeeIsWithheld() throws Exception {
    int before = fixture.outputRuns();
    HttpResponse<String> r = post("/async", fixture.basicKey());
    asyncRelease.countDown();
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).contains("\"code\":\"internal.error\"").doesNotContain("label");
    assertThat(fixture.outputRuns()).isEqualTo(before);
  }

  // --- output that tries to get past the output policies ----------------------------------

  @Test
  void forwardToAGuardedServletIsChecked() throws Exception {
    assertDispatchToTheRewritingProbeIsChecked("/dispatch/forward");
  }

  @Test
  void includeOfAGuardedServletIsChecked() throws Exception {
    // An include cannot set the status: the denial is the included content.
    HttpResponse<String> missing = post("/dispatch/include", null);
    assertThat(missing.body()).contains("\"code\":\"auth.missing_credentials\"").doesNotContain("subject");

    HttpResponse<String> allowed = post("/dispatch/include", fixture.basicKey());
    assertThat(allowed.statusCode()).isEqualTo(200);
    assertThat(allowed.body()).contains("\"subject\":\"client-basic\"").endsWith(",\"perturbed\":true}");
  }

  @Test
  void asyncDispatchToAGuardedServletIsChecked() throws Exception {
    assertDispatchToTheRewritingProbeIsChecked("/dispatch/async");
  }

  /**
   * {@code path} is an unguarded servlet that dispatches to {@code /probe-rewrite}: without
   * credentials the client gets the denial and none of the probe's output; with them, the probe's
   * answer as its output policy rewrote it.
   */
  private void assertDispatchToTheRewritingProbeIsChecked(String path) throws Exception {
    HttpResponse<String> missing = post(path, null);
    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(missing.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(missing.body()).contains("\"code\":\"auth.missing_credentials\"").doesNotContain("subject");

    HttpResponse<String> allowed = post(path, fixture.basicKey());
    assertThat(allowed.statusCode()).isEqualTo(200);
    assertThat(allowed.body()).contains("\"subject\":\"client-basic\"").endsWith(",\"perturbed\":true}");
  }

  @Test
  void errorDispatchToAGuardedServletIsChecked() throws Exception {
    // An unguarded servlet answers 404, whose error page is a guarded servlet.
    try (Deployment errorPages = runtime().start("/app", new ModelGuardFilter(fixture.guard()),
        List.of(ServletDef.of(GuardedErrorPageServlet.class, "/error-page"), ServletDef.of(NotFoundServlet.class, "/missing")),
        Map.of(404, "/error-page"))) {
      URI missingPath = URI.create(errorPages.baseUri() + "/missing");

      HttpResponse<String> missing = client().send(HttpRequest.newBuilder(missingPath).GET().build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      assertThat(missing.statusCode()).isEqualTo(401);
      assertThat(missing.body()).contains("\"code\":\"auth.missing_credentials\"").doesNotContain("error page");

      HttpResponse<String> allowed = client().send(HttpRequest.newBuilder(missingPath)
          .header("X-API-Key", fixture.basicKey()).GET().build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      assertThat(allowed.statusCode()).isEqualTo(404);
      assertThat(allowed.body()).isEqualTo("error page 404");
    }
  }

  @Test
  void anErrorPageOfAServletUnderOutputPoliciesAnswersThroughThem() throws Exception {
    // The servlet leaves its prediction for the application's error page, which is not guarded, and
    // sends 422: the page rendered the raw prediction to the client, past the output policy.
    try (Deployment errorPages = runtime().start("/app", new ModelGuardFilter(fixture.guard()),
        List.of(ServletDef.of("escape-error-page", new EscapingOutputServlet(Mode.ERROR_PAGE), "/escape/error-page"),
            ServletDef.of(PredictionErrorPageServlet.class, "/error-page")),
        Map.of(422, "/error-page"))) {
      String r = RawHttp.exchange(errorPages.baseUri(), "POST /app/escape/error-page HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          + "X-API-Key: " + fixture.basicKey() + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
          + "Connection: close\r\n\r\n{}");

      assertThat(r).startsWith("HTTP/1.1 422 ").doesNotContain(EscapingOutputServlet.SECRET).endsWith("\r\n\r\n{\"label\":7}");
    }
  }

  @Test
  void aGuardedServletReachedByALaterDispatchAnswersThroughItsOwnOutputPolicies() throws Exception {
    // A guarded front servlet without output policies hands the allowed request on to a guarded
    // servlet whose chain has one: the later dispatch passed through unwrapped, and the model's
    // answer left without that policy.
    for (String path : List.of("/guarded-dispatch/async", "/guarded-dispatch/forward", "/guarded-dispatch/include")) {
      int before = fixture.outputRuns();
      HttpResponse<String> allowed = post(path, fixture.basicKey());
      assertThat(allowed.statusCode()).as(path).isEqualTo(200);
      assertThat(allowed.body()).as(path).contains("\"subject\":\"client-basic\"").endsWith(",\"perturbed\":true}");
      assertThat(fixture.outputRuns()).as(path).isEqualTo(before + 1);

      HttpResponse<String> missing = post(path, null);
      assertThat(missing.statusCode()).as(path).isEqualTo(401);
      assertThat(missing.body()).as(path).contains("\"code\":\"auth.missing_credentials\"").doesNotContain("subject");
    }
  }

  @Test
  void asyncDispatchOfACheckedRequestIsNotCheckedAgain() throws Exception {
    // The chain's policy read the whole body at the first dispatch: checking again would charge
    // the client twice and find the body gone.
    int before = countedChecks.get();
    HttpResponse<String> r = post("/redispatch", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("dispatched");
    assertThat(countedChecks.get()).isEqualTo(before + 1);
  }

  @Test
  void aSecondModelGuardFilterInTheSameChainChecksTheRequestToo() throws Exception {
    // A platform-wide filter (here: one that reads the body and allows) and an application's own
    // filter behind it: the second one's policies ran on nothing once the first had marked the
    // request checked, so its refusal never came.
    AtomicInteger outerChecks = new AtomicInteger();
    ConformanceFixture stacked = ConformanceFixture.create(b -> b
        .chain("outer", c -> c.policy(Phase.VALIDATE, "outer", ctx -> {
          outerChecks.incrementAndGet();
          try {
            ctx.request().body(1024);
          } catch (IOException e) {
            return GuardDecision.deny(ReasonCode.INPUT_MALFORMED);
          }
          return GuardDecision.allow();
        }).output(OutputPhase.PERTURB, "outer-mark", ctx -> mark(ctx.output(), "outer")))
        .chain("inner", c -> c.output(OutputPhase.PERTURB, "inner-mark", ctx -> mark(ctx.output(), "inner"))
            .policy(Phase.VALIDATE, "inner", ctx -> {
              try {
                return new String(ctx.request().body(1024), StandardCharsets.UTF_8).contains("\"ok\"")
                    ? GuardDecision.allow()
                    : GuardDecision.deny(ReasonCode.INPUT_INVALID);
              } catch (IOException e) {
                return GuardDecision.deny(ReasonCode.INPUT_MALFORMED);
              }
            })));
    ModelGuardFilter outer = ModelGuardFilter.builder(stacked.guard())
        .route("/stacked", EndpointSpec.of("digits", "outer", 1)).build();
    ModelGuardFilter inner = ModelGuardFilter.builder(stacked.guard())
        .route("/stacked", EndpointSpec.of("digits", "inner", 1)).build();
    try (Deployment two = runtime().start("/app", List.of(outer, inner),
        List.of(ServletDef.of("stacked-echo", new CappedEchoServlet(false), "/stacked")), Map.of())) {
      URI uri = URI.create(two.baseUri() + "/stacked");

      HttpResponse<String> refused = client().send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(15))
              .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"x\":1}")).build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      assertThat(refused.statusCode()).isEqualTo(422);
      assertThat(refused.body()).contains("\"code\":\"input.invalid\"");

      HttpResponse<String> allowed = client().send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(15))
              .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"ok\":1}")).build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      assertThat(allowed.statusCode()).isEqualTo(200);
      // Read by both filters' policies and still whole for the servlet; its answer went through the
      // inner filter's output policies, then the outer one's.
      assertThat(allowed.body()).isEqualTo("{\"ok\":1} inner outer");
      assertThat(outerChecks.get()).isEqualTo(2);
    }
  }

  @Test
  void aBodyAnEarlierFilterTookAsAReaderIsAServerFaultAnsweredWithTheProblemNotTheContainersPage()
      throws Exception {
    // A filter ahead of the guard took the reader (a request logger, say): the container refuses
    // the guard's policies the stream with an IllegalStateException. It is the deployment's fault,
    // not the client's body: the documented 500 problem, never the container's error page with the
    // exception, nor a 400 that blames the client.
    ConformanceFixture reads = ConformanceFixture.create(b -> b
        .chain("reads-body", c -> c.policy(Phase.VALIDATE, "reads-body", ctx -> {
          try {
            ctx.request().body(1024);
          } catch (IOException e) {
            return GuardDecision.deny(ReasonCode.INPUT_MALFORMED);
          }
          return GuardDecision.allow();
        })));
    ModelGuardFilter guard = ModelGuardFilter.builder(reads.guard())
        .route("/reader-taken", EndpointSpec.of("digits", "reads-body", 1)).build();
    jakarta.servlet.Filter takesTheReader = (request, response, chain) -> {
      request.getReader();
      chain.doFilter(request, response);
    };
    try (Deployment app = runtime().start("/app", List.of(takesTheReader, guard),
        List.of(ServletDef.of("reader-taken-echo", new CappedEchoServlet(false), "/reader-taken")), Map.of());
        LogCapture engineLog = LogCapture.of(io.modelguard.ModelGuard.class, Level.ERROR)) {
      for (int i = 0; i < 2; i++) {
        HttpResponse<String> r = client().send(HttpRequest.newBuilder(URI.create(app.baseUri() + "/reader-taken"))
                .timeout(Duration.ofSeconds(15)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"x\":1}")).build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));

        assertInternalError(r);
        assertThat(r.body()).isEqualTo("{\"type\":\"urn:modelguard:problem:internal.error\","
            + "\"title\":\"Internal error\",\"status\":500,\"detail\":\"The request could not be processed.\","
            + "\"code\":\"internal.error\"}");
      }
      // The operator learns why, with the container's exception.
      assertThat(engineLog.lines()).anyMatch(line -> line.contains("IllegalStateException"));
    }
  }

  @Test
  void aSpecificRuleAddedBeforeACatchAllGuardsItsPathsAndTheCatchAllTheRest() throws Exception {
    // The order the builder accepts (the other one it refuses): the specific rule is tried first.
    ConformanceFixture ordered = ConformanceFixture.create(b -> b
        .chain("strict", c -> c.policy(Phase.VALIDATE, "strict", ctx -> GuardDecision.deny(ReasonCode.INPUT_INVALID)))
        .chain("general", c -> c.output(OutputPhase.PERTURB, "general-mark", ctx -> mark(ctx.output(), "general"))));
    ModelGuardFilter filter = ModelGuardFilter.builder(ordered.guard())
        .route("/ordered/models/digits/predict", EndpointSpec.of("digits", "strict", 1))
        .route("/ordered/models/{model}/predict", EndpointSpec.of("{model}", "general", 1))
        .build();
    try (Deployment app = runtime().start("/app", List.of(filter),
        List.of(ServletDef.of("ordered-echo", new CappedEchoServlet(false), "/ordered/*")), Map.of())) {
      for (String path : List.of("/ordered/models/digits/predict", "/ordered/models/digits/predict/")) {
        HttpResponse<String> specific = client().send(HttpRequest.newBuilder(URI.create(app.baseUri() + path))
                .timeout(Duration.ofSeconds(15)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"x\":1}")).build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertThat(specific.statusCode()).as(path).isEqualTo(422);
        assertThat(specific.body()).as(path).contains("\"code\":\"input.invalid\"");
      }

      HttpResponse<String> general = client().send(
          HttpRequest.newBuilder(URI.create(app.baseUri() + "/ordered/models/iris/predict"))
              .timeout(Duration.ofSeconds(15)).header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString("{\"x\":1}")).build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      assertThat(general.statusCode()).isEqualTo(200);
      assertThat(general.body()).isEqualTo("{\"x\":1} general");
    }
  }

  private static ModelOutput mark(ModelOutput output, String mark) {
    return ModelOutput.of((output.bodyAsString() + " " + mark).getBytes(StandardCharsets.UTF_8), "text/plain");
  }

  @Test
  void outputThePolicyCanReadIsRewritten() throws Exception {
    // The control for the tests below: this servlet's plain prediction loses its probabilities.
    HttpResponse<String> r = post("/escape/trailer", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"label\":7}");
  }

  @Test
  void headersDescribingTheModelsOwnOutputDoNotSurviveTheOutputPolicies() throws Exception {
    // An ETag or digest of the raw prediction identifies it: the exact scores could be confirmed
    // offline, or by a conditional request, although the body carried only the label.
    HttpResponse<String> r = post("/escape/validators", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"label\":7}");
    for (String h : new String[] {"ETag", "Last-Modified", "Content-MD5", "Digest", "Repr-Digest", "Content-Digest",
        "Accept-Ranges"}) {
      assertThat(r.headers().allValues(h)).as(h).isEmpty();
    }
    assertThat(r.headers().firstValue("X-Model-Version")).as("other headers stay").hasValue("7");
  }

  @Test
  void conditionalAndRangeHeadersDoNotReachAServletWhoseOutputIsRewritten() throws Exception {
    // With them, a servlet answering 304 to the ETag of its raw output confirms an exact guess.
    String guess = "\"" + EscapingOutputServlet.digestOf(EscapingOutputServlet.PREDICTION.getBytes(StandardCharsets.UTF_8)) + "\"";
    HttpResponse<String> r = client().send(request("/escape/conditional", fixture.basicKey())
        .header("Content-Type", "application/json")
        .header("If-None-Match", guess)
        .header("Range", "bytes=0-10")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"label\":7}");
    assertThat(r.headers().firstValue("X-Saw-Range")).hasValue("false");
  }

  @Test
  void compressedOutputThePolicyCannotReadIsWithheld() throws Exception {
    HttpResponse<String> r = post("/escape/gzip", fixture.basicKey());
    assertInternalError(r);
    assertThat(r.headers().firstValue("Content-Encoding")).isEmpty();
  }

  @Test
  void compressedOutputDeclaredUnderANameThatReadsAsContentEncodingOnTheWireIsWithheld() throws Exception {
    // The containers sent "Content-Encoding : gzip" over the gzipped prediction the output policy
    // could not read: a proxy strips the space (RFC 9112 5.1) and the client decodes it.
    String r = RawHttp.exchange(deployment.baseUri(), "POST /app/escape/gzip-padded HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "X-API-Key: " + fixture.basicKey() + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        + "Connection: close\r\n\r\n{}");

    assertThat(r).startsWith("HTTP/1.1 500 ").contains("\"code\":\"internal.error\"");
    List<String> fields = List.of(r.substring(0, r.indexOf("\r\n\r\n")).split("\r\n"));
    assertThat(fields).noneMatch(f -> wireName(f).equalsIgnoreCase("Content-Encoding"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"identity", "%20identity%20", "identity,%20", "IDENTITY", "%09identity%09", ",%20Identity%20,"})
  void outputDeclaredInNoCodingHoweverSpelledPassesThePoliciesAndLeavesWithoutContentEncoding(String coding)
      throws Exception {
    // RFC 9110: codings are case-insensitive tokens in a list with optional whitespace and empty
    // members, and identity is no coding. The policies read these bytes; the header, which a
    // recipient may take for a coding it must undo, described the servlet's bytes, not the answer.
    String r = declaredCoding(coding);

    assertThat(r).as(coding).startsWith("HTTP/1.1 200 ").endsWith("{\"label\":7}");
    List<String> fields = List.of(r.substring(0, r.indexOf("\r\n\r\n")).split("\r\n"));
    assertThat(fields).as(coding).noneMatch(f -> wireName(f).equalsIgnoreCase("Content-Encoding"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"identity", "%20IDENTITY,%20"})
  void aHeadAnsweredWithoutTheBodyLeavesWithoutAContentEncodingNamingNoCoding(String coding) throws Exception {
    // The servlet's own doHead declares what its POST does, with no body: the filter dropped such a
    // header from the checked answer only, so HEAD carried a field its counterpart lacked, which a
    // cache freshening its stored answer with the HEAD's fields (RFC 9111, 4.3.5) would add to it.
    String head = RawHttp.exchange(deployment.baseUri(), "HEAD /app/declared-coding?coding=" + coding
        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + fixture.basicKey() + "\r\nConnection: close\r\n\r\n");

    assertThat(head).as(coding).startsWith("HTTP/1.1 200 ").endsWith("\r\n\r\n");
    List<String> fields = List.of(head.substring(0, head.indexOf("\r\n\r\n")).split("\r\n"));
    assertThat(fields).as(coding).noneMatch(f -> wireName(f).equalsIgnoreCase("Content-Encoding"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"%20GZIP%20", "identity,%09br", ",%20x-gzip,"})
  void outputDeclaredInACodingHoweverSpelledIsWithheld(String coding) throws Exception {
    String r = declaredCoding(coding);

    assertThat(r).as(coding).startsWith("HTTP/1.1 500 ").contains("\"code\":\"internal.error\"")
        .doesNotContain(EscapingOutputServlet.SECRET);
    List<String> fields = List.of(r.substring(0, r.indexOf("\r\n\r\n")).split("\r\n"));
    assertThat(fields).as(coding).noneMatch(f -> wireName(f).equalsIgnoreCase("Content-Encoding"));
  }

  /** The raw answer of {@link DeclaredCodingServlet} declaring {@code coding} (percent-encoded). */
  private String declaredCoding(String coding) throws IOException {
    return RawHttp.exchange(deployment.baseUri(), "POST /app/declared-coding?coding=" + coding
        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + fixture.basicKey()
        + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
  }

  @Test
  void outputOverTheBufferLimitIsWithheld() throws Exception {
    HttpResponse<String> r = post("/escape/huge", fixture.basicKey());
    assertInternalError(r);
  }

  @Test
  void writerOutputOverTheLimitIsWithheldWhenItsLastCharactersWereNeverFlushed() throws Exception {
    HttpResponse<String> r = post("/overflow/writer-tail", fixture.basicKey());
    assertInternalError(r);
  }

  @Test
  void errorSentAfterAnOverflowIsLeftToTheContainer() throws Exception {
    HttpResponse<String> r = post("/overflow/send-error", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).doesNotStartWith("application/problem+json");
    assertThat(r.body()).doesNotContain("Exception").doesNotContain("io.modelguard");
  }

  @Test
  void redirectSentAfterAnOverflowIsLeftToTheContainer() throws Exception {
    HttpResponse<String> r = post("/overflow/redirect", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(302);
    assertThat(r.headers().firstValue("Location").orElseThrow()).endsWith("/app/elsewhere");
    assertThat(r.body()).doesNotContain("Exception").doesNotContain("io.modelguard");
  }

  @Test
  void asyncOutputWrittenToTheContainersOwnResponseIsWithheld() throws Exception {
    HttpResponse<String> r = post("/escape/async", fixture.basicKey());
    escapeRelease.countDown();
    assertInternalError(r);
  }

  @Test
  void errorMessageDoesNotCarryOutputPastThePolicy() throws Exception {
    HttpResponse<String> r = post("/escape/error-message", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(r.body()).doesNotContain(EscapingOutputServlet.SECRET);
  }

  @Test
  void exceptionMessageDoesNotCarryOutputPastThePolicy() throws Exception {
    // The container's error page for an exception shows its message, which the output policy never
    // saw: like sendError's message, it must not carry the prediction to the client.
    HttpResponse<String> r = post("/escape/exception", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).doesNotContain(EscapingOutputServlet.SECRET);
  }

  @Test
  void thePathOfAFailedServletIsLoggedOnOneLineWhateverTheClientPutInIt() throws Exception {
    // At DEBUG too: other tests make the same servlet fail, which may have taken the minute's ERROR.
    try (LogCapture logged = LogCapture.of(ModelGuardFilter.class, Level.DEBUG)) {
      // The container decodes the path: NEL, U+2028 (line breaks to many log readers) and the 8-bit
      // CSI of a terminal escape reach the filter as characters.
      HttpResponse<String> r = post("/escape/exception/x%C2%85FORGED%E2%80%A8ERROR%C2%9B31m", fixture.basicKey());

      assertThat(r.statusCode()).isEqualTo(500);
      List<String> lines = logged.messages().stream().filter(m -> m.contains("the servlet on")).toList();
      assertThat(lines).hasSize(1);
      assertThat(lines.get(0)).contains("/escape/exception/x?FORGED?ERROR?31m")
          .doesNotContainPattern("[\\p{Cc}\\u2028\\u2029]");
    }
  }

  @Test
  void aServletThatAClientMakesThrowIsLoggedAtErrorOnceAMinutePerExceptionClassNotPerRequest() throws Exception {
    // Each failure was an ERROR with its stack trace: a client whose input makes the application
    // throw wrote one per request. Paced by the engine's clock, which the test moves.
    ConformanceFixture paced = ConformanceFixture.create(b -> b
        .chain("held", c -> c.output(OutputPhase.PERTURB, "as-is", ctx -> ctx.output())));
    ModelGuardFilter guard = ModelGuardFilter.builder(paced.guard())
        .route("/throws", EndpointSpec.of("digits", "held", 1)).build();
    try (Deployment app = runtime().start("/app", List.of(guard),
            List.of(ServletDef.of("throws", new ThrowingServlet(), "/throws")), Map.of());
        LogCapture logged = LogCapture.of(ModelGuardFilter.class, Level.DEBUG)) {
      int failures = 5;
      for (int i = 0; i < failures; i++) {
        assertInternalError(postTo(app, "/throws", "state " + i));
      }
      assertThat(logged.messagesAt(Level.ERROR)).singleElement().asString()
          .contains("the servlet on /throws failed", "once a minute per servlet", "0 more since the last");
      assertThat(logged.events()).filteredOn(e -> e.getLevel() == Level.ERROR).singleElement()
          .satisfies(e -> assertThat(e.getThrowableProxy().getClassName()).isEqualTo("java.lang.IllegalStateException"));
      assertThat(logged.messagesAt(Level.DEBUG)).filteredOn(m -> m.contains("the servlet on /throws failed"))
          .hasSize(failures - 1);

      assertInternalError(postTo(app, "/throws", "argument"));
      assertThat(logged.messagesAt(Level.ERROR)).as("another exception class is told at once").hasSize(2);

      paced.clock().advance(LogPace.INTERVAL);
      assertInternalError(postTo(app, "/throws", "state again"));
      assertThat(logged.messagesAt(Level.ERROR)).hasSize(3).last().asString()
          .contains((failures - 1) + " more since the last");
    }
  }

  @Test
  void oneRoutesFaultThatAClientRepeatsHidesNoOtherRouteServedByTheSameServlet() throws Exception {
    // A front servlet serving several routes (as a framework's dispatcher does): a client making
    // one route's servlet throw, as often as it likes, must not keep another route's fault of the
    // same exception class at DEBUG.
    ConformanceFixture paced = ConformanceFixture.create(b -> b
        .chain("held", c -> c.output(OutputPhase.PERTURB, "as-is", ctx -> ctx.output())));
    ModelGuardFilter guard = ModelGuardFilter.builder(paced.guard())
        .route("/api/a", EndpointSpec.of("digits", "held", 1))
        .route("/api/b", EndpointSpec.of("digits", "held", 1)).build();
    try (Deployment app = runtime().start("/app", List.of(guard),
            List.of(ServletDef.of("api", new ThrowingServlet(), "/api/*")), Map.of());
        LogCapture logged = LogCapture.of(ModelGuardFilter.class, Level.DEBUG)) {
      for (int i = 0; i < 3; i++) {
        assertInternalError(postTo(app, "/api/a", "state " + i));
      }
      assertInternalError(postTo(app, "/api/b", "state"));

      assertThat(logged.messagesAt(Level.ERROR)).hasSize(2).last().asString()
          .contains("the servlet on /api/b failed");
    }
  }

  @Test
  void aProblemThatCannotBeSentOnACommittedResponseIsLoggedAtErrorOnceAMinutePerServletNotPerRequest()
      throws Exception {
    // A page that flushed its head, then handed the request to a guarded path that refuses it: the
    // problem cannot be sent, and each refusal was an ERROR, as often as the client asked.
    ConformanceFixture paced = ConformanceFixture.create(b -> b
        .chain("refusing", c -> c.policy(Phase.VALIDATE, "deny", ctx -> GuardDecision.deny(ReasonCode.INPUT_INVALID))));
    ModelGuardFilter guard = ModelGuardFilter.builder(paced.guard())
        .route("/refused", EndpointSpec.of("digits", "refusing", 1)).build();
    try (Deployment app = runtime().start("/app", List.of(guard),
            List.of(ServletDef.of("front", new CommitThenDispatchServlet(), "/front"),
                ServletDef.of("refused", new CommitThenDispatchServlet(), "/refused")), Map.of());
        LogCapture logged = LogCapture.of(ModelGuardFilter.class, Level.DEBUG)) {
      String committed = "response already committed; cannot send problem 4";
      int refusals = 5;
      for (int i = 0; i < refusals; i++) {
        assertThat(postTo(app, "/front", "{}").body()).isEqualTo(CommitThenDispatchServlet.STARTED);
      }
      assertThat(logged.messagesAt(Level.ERROR)).singleElement().asString()
          .contains(committed, "once a minute per servlet", "0 more since the last");
      assertThat(logged.messagesAt(Level.DEBUG)).filteredOn(m -> m.contains(committed)).hasSize(refusals - 1);

      paced.clock().advance(LogPace.INTERVAL);
      postTo(app, "/front", "{}");
      assertThat(logged.messagesAt(Level.ERROR)).hasSize(2).last().asString()
          .contains(committed, (refusals - 1) + " more since the last");
    }
  }

  /** POSTs {@code body} as text to {@code path} of {@code app}. */
  private static HttpResponse<String> postTo(Deployment app, String path, String body) throws Exception {
    return client().send(HttpRequest.newBuilder(URI.create(app.baseUri() + path))
            .timeout(Duration.ofSeconds(15)).header("Content-Type", "text/plain")
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  @Test
  void outputInAnotherCharsetReachesThePolicyAsUtf8AndLeavesLabelledSo() throws Exception {
    HttpResponse<byte[]> r = client().send(request("/escape/utf-16", fixture.basicKey())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofByteArray());

    assertThat(r.statusCode()).isEqualTo(200);
    String type = r.headers().firstValue("Content-Type").orElseThrow();
    // Read as the client reads it: in the charset the response names.
    String body = new String(r.body(), java.nio.charset.Charset.forName(
        type.replaceAll("(?i).*charset=\"?([^;\"]+).*", "$1").strip()));
    assertThat(body).as(type).doesNotContain(EscapingOutputServlet.SECRET).isEqualTo("{\"label\":7}");
  }

  @Test
  void aContentTypeHeaderSetAfterTheWriterDoesNotRelabelTheHeldBody() throws Exception {
    // The UTF-8 the writer wrote, relabelled UTF-16, reached the policy as text it could not
    // recognise, so it passed unchanged; the client reads it back as UTF-16 to get the scores.
    HttpResponse<byte[]> r = client().send(request("/escape/content-type-header", fixture.basicKey())
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofByteArray());

    assertThat(r.statusCode()).isEqualTo(200);
    String type = r.headers().firstValue("Content-Type").orElseThrow();
    assertThat(type.toLowerCase(Locale.ROOT)).doesNotContain("utf-16");
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("{\"label\":7}");
  }

  @Test
  void writerOutputWithoutAContentTypeReachesThePolicyAsUtf8() throws Exception {
    // No Content-Type names the writer's UTF-16: the policy read the bytes as UTF-8, could not
    // recognise them, and they reached the client whole.
    HttpResponse<byte[]> r = client().send(request("/escape/untyped-writer", fixture.basicKey())
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofByteArray());

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new String(r.body(), StandardCharsets.UTF_16BE)).doesNotContain(EscapingOutputServlet.SECRET);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("{\"label\":7}");
  }

  @Test
  void outputWrittenAfterAnErrorNeverReachesTheClient() throws Exception {
    HttpResponse<String> r = post("/escape/after-error", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(409);
    assertThat(r.body()).doesNotContain(EscapingOutputServlet.SECRET);
  }

  @Test
  void outputWrittenAfterARedirectNeverReachesTheClient() throws Exception {
    HttpResponse<String> r = post("/escape/after-redirect", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(302);
    assertThat(r.body()).doesNotContain(EscapingOutputServlet.SECRET);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/escape/after-error", "/escape/after-redirect"})
  void outputAnIncludedServletWritesAfterAnErrorOrRedirectTheContainerIgnoresNeverReachesTheClient(String path)
      throws Exception {
    // In an include, the container ignores sendError and sendRedirect: the filter handed the
    // servlet the page's own output stream from then on, and the prediction went out unchecked.
    HttpResponse<String> r = post("/include" + path, fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).startsWith("before:").endsWith(":after").doesNotContain(EscapingOutputServlet.SECRET);
  }

  @Test
  void trailerFieldsDoNotCarryOutputPastThePolicy() throws Exception {
    String raw = RawHttp.exchange(deployment.baseUri(), "POST /app/escape/trailer HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\nX-API-Key: " + fixture.basicKey() + "\r\nTE: trailers\r\n"
        + "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    assertThat(raw).startsWith("HTTP/1.1 200 ").contains("{\"label\":7}")
        .doesNotContain(EscapingOutputServlet.SECRET);
  }

  private static void assertInternalError(HttpResponse<String> r) {
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(r.body()).contains("\"code\":\"internal.error\"")
        .doesNotContain(EscapingOutputServlet.SECRET);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/late-body/first-line", "/late-body/whole"})
  void anOutputPolicyNeverReadsARequestBodyOtherThanTheOneTheModelGot(String path) throws Exception {
    // No request policy read the body, so the servlet read the container's stream itself; an output
    // policy that asked for the body afterwards got what the servlet left of it: the decoy after
    // the query the model answered (an extraction detector observing another query than the one
    // answered), or, once the servlet had read it all, an empty body.
    HttpResponse<byte[]> r = postBytes(path, "text/plain", "query\ndecoy".getBytes(StandardCharsets.UTF_8));

    String body = new String(r.body(), StandardCharsets.UTF_8);
    assertThat(body).as(path).doesNotContain("policies saw").doesNotContain("model saw");
    assertThat(r.statusCode()).as(path).isEqualTo(500);
    assertThat(body).as(path).contains("\"code\":\"internal.error\"");
  }

  // --- body replay --------------------------------------------------------------------------

  @Test
  void bodyReadByAPolicyIsReplayedThroughGetInputStream() throws Exception {
    byte[] body = new byte[ConformanceFixture.BODY_LIMIT];
    new Random(1).nextBytes(body);
    HttpResponse<byte[]> r = postBytes("/capped/stream", "application/octet-stream", body);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(body);
    assertThat(r.headers().firstValue("X-Other-Body-Accessor")).hasValue("refused");
  }

  @Test
  void bodyReadByAPolicyIsReplayedThroughGetReaderInTheRequestsCharset() throws Exception {
    String text = "Grüße, 世界: ünïcödé";
    HttpResponse<byte[]> r = postBytes("/capped/reader", "text/plain; charset=UTF-8",
        text.getBytes(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(text);
    assertThat(r.headers().firstValue("X-Other-Body-Accessor")).hasValue("refused");
  }

  @ParameterizedTest
  @ValueSource(strings = {"application/json", "Application/JSON; v=2", "application/vnd.example+json"})
  void jsonBodyReadByAPolicyIsReplayedThroughGetReaderAsTheUtf8ItWasValidatedAs(String contentType) throws Exception {
    // No charset: JSON is UTF-8 (RFC 8259), which the input policy validated; decoding it as
    // ISO-8859-1 would hand the servlet other text ("\u00c3\u00a9" and C1 controls for "\u00e9").
    String text = "{\"prompt\":\"caf\u00e9 \u2026 \u4e16\u754c\"}";
    HttpResponse<byte[]> r = postBytes("/capped/reader", contentType, text.getBytes(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(text);
  }

  @Test
  void bodyPartlyReadByAPolicyIsReplayedAndThenContinuedThroughGetInputStream() throws Exception {
    byte[] body = new byte[200_000];
    new Random(2).nextBytes(body);
    HttpResponse<byte[]> r = postBytes("/peek/stream", "application/octet-stream", body);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(body);
  }

  @Test
  void bodyPartlyReadByAPolicyIsReplayedAndThenContinuedThroughGetReader() throws Exception {
    String text = "é-ü-世界 ".repeat(20_000); // the policy's 8-byte peek ends inside a character
    HttpResponse<byte[]> r = postBytes("/peek/reader", "text/plain; charset=UTF-8",
        text.getBytes(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(text);
  }

  @Test
  void bodyReadByAPolicyIsReplayedToTheBulkReadMethods() throws Exception {
    byte[] body = new byte[ConformanceFixture.BODY_LIMIT];
    new Random(5).nextBytes(body);
    HttpResponse<byte[]> r = postBytes("/capped/stream", "application/octet-stream", body, "X-Read", "bulk");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(withoutBytes3To9(body));
  }

  @Test
  void bodyPartlyReadByAPolicyIsReplayedAndThenContinuedThroughTheBulkReadMethods() throws Exception {
    byte[] body = new byte[200_000]; // the policy peeked at 8 bytes: the skip crosses the replay's end
    new Random(6).nextBytes(body);
    HttpResponse<byte[]> r = postBytes("/peek/stream", "application/octet-stream", body, "X-Read", "bulk");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(withoutBytes3To9(body));
  }

  private static byte[] withoutBytes3To9(byte[] body) {
    byte[] out = new byte[body.length - 7];
    System.arraycopy(body, 0, out, 0, 3);
    System.arraycopy(body, 10, out, 3, body.length - 10);
    return out;
  }

  @Test
  void bodyReadByAPolicyIsReplayedToAReadListener() throws Exception {
    byte[] body = new byte[ConformanceFixture.BODY_LIMIT];
    new Random(3).nextBytes(body);
    HttpResponse<byte[]> r = postBytes("/capped/non-blocking", "application/octet-stream", body);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(body);
  }

  @Test
  void bodyPartlyReadByAPolicyIsReplayedAndThenContinuedToAReadListener() throws Exception {
    byte[] body = new byte[300_000];
    new Random(4).nextBytes(body);
    HttpResponse<byte[]> r = postBytes("/peek/non-blocking", "application/octet-stream", body);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(body);
  }

  @Test
  void bodyPartlyReadByAPolicyReachesAServletReadingThroughItsAsyncContext() throws Exception {
    // startAsync() without arguments binds the context to the request the servlet was given: the
    // bytes the policy read are replayed there too, not lost from the start of the body.
    byte[] body = new byte[300_000];
    new Random(5).nextBytes(body);
    HttpResponse<byte[]> r = postBytes("/peek/async-context", "application/octet-stream", body);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(body);
  }

  @Test
  void anEncodingTheServletSetsBeforeGetReaderAppliesToTheReplayedBody() throws Exception {
    // Jetty ignores setCharacterEncoding once the input stream was taken, as the policy took it.
    String text = "caf\u00e9 \u4e16\u754c";
    HttpResponse<byte[]> r = postBytes("/encoding-echo", "text/plain", text.getBytes(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(text);
  }

  // --- output past the policies ---------------------------------------------------------------

  @Test
  void earlyHintsLeaveTheAnswerToTheOutputPolicies() throws Exception {
    String r = RawHttp.exchange(deployment.baseUri(), "POST /app/early-hints HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "X-API-Key: " + fixture.basicKey() + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        + "Connection: close\r\n\r\n{}");
    assertThat(r).startsWith("HTTP/1.1 103 ").contains("\r\nHTTP/1.1 200 ")
        .endsWith("{\"label\":7,\"probabilities\":[0.1,0.9],\"perturbed\":true}");
  }

  @Test
  void aGuardedServletIncludedByAPageWritingThroughItsWriterIsAnsweredThroughIt() throws Exception {
    // The page took the writer: the filter's rewritten output (or its problem) goes in as text.
    HttpResponse<String> allowed = post("/including-page", fixture.basicKey());
    HttpResponse<String> denied = post("/including-page", null);

    assertThat(allowed.statusCode()).isEqualTo(200);
    assertThat(allowed.body()).startsWith("prefix:{").contains("\"perturbed\":true").endsWith("}:suffix");
    assertThat(denied.body()).startsWith("prefix:").contains("\"code\":\"auth.missing_credentials\"")
        .doesNotContain("requestWrapped");
  }

  @Test
  void aGuardedServletIncludedAfterThePageCommittedItsResponseIsStillAnsweredThroughIt() throws Exception {
    // A page that flushed its head before the include: the filter took the committed response for
    // one the container had completed, and dropped the included servlet's checked output.
    HttpResponse<String> allowed = client().send(request("/including-page", fixture.basicKey()).header("X-Flush", "1")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    HttpResponse<String> denied = client().send(request("/including-page", null).header("X-Flush", "1")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));

    assertThat(allowed.statusCode()).isEqualTo(200);
    assertThat(allowed.body()).startsWith("prefix:{").contains("\"perturbed\":true").endsWith("}:suffix");
    assertThat(denied.body()).startsWith("prefix:").contains("\"code\":\"auth.missing_credentials\"")
        .doesNotContain("requestWrapped").endsWith(":suffix");
  }

  @Test
  void aRequestDeniedInAnIncludeIsDeniedAgainWhenThePageIncludesAGuardedServletOnceMore() throws Exception {
    // The first include was denied and marked the request checked: the second include of the same
    // guarded servlet ran it without any decision (and without its output policy).
    HttpResponse<String> denied = client().send(request("/including-page", null).header("X-Include-Twice", "1")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));

    assertThat(denied.body()).startsWith("prefix:").contains(":suffix:again:")
        .doesNotContain("requestWrapped").doesNotContain("no-decision");
    assertThat(denied.body().split("\"code\":\"auth.missing_credentials\"", -1)).hasSize(3);
  }

  @Test
  void aGuardedServletIncludedTwiceHasBothAnswersThroughTheOutputPolicies() throws Exception {
    // The second include of a checked request passed through unwrapped: the model's answer left
    // without the output policies of the servlet's chain.
    int before = fixture.outputRuns();
    HttpResponse<String> allowed = client().send(request("/including-page", fixture.basicKey())
        .header("X-Include-Twice", "1").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));

    assertThat(allowed.statusCode()).isEqualTo(200);
    String[] parts = allowed.body().split(":suffix:again:", -1);
    assertThat(parts).hasSize(2);
    assertThat(parts[0]).startsWith("prefix:{").contains("\"subject\":\"client-basic\"").endsWith(",\"perturbed\":true}");
    assertThat(parts[1]).contains("\"subject\":\"client-basic\"").endsWith(",\"perturbed\":true}");
    assertThat(fixture.outputRuns()).isEqualTo(before + 2);
  }

  @Test
  void noInformationalStatusLetsTheAnswerPastTheOutputPolicies() throws Exception {
    // Jetty sends 102 as an interim response too; a container that made one final withholds.
    for (String interim : List.of("100", "102")) {
      String r = RawHttp.exchange(deployment.baseUri(), "POST /app/early-hints HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          + "X-API-Key: " + fixture.basicKey() + "\r\nX-Interim: " + interim + "\r\nContent-Type: application/json\r\n"
          + "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
      assertThat(r).as(interim).doesNotContain("{\"label\":7,\"probabilities\":[0.1,0.9]}");
    }
  }

  @Test
  void aCharsetSetAfterTheWriterDoesNotRelabelTheHeldBody() throws Exception {
    HttpResponse<String> r = post("/charset-after-writer", fixture.basicKey());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow().toLowerCase(Locale.ROOT)).doesNotContain("utf-16");
    assertThat(r.body()).isEqualTo("{\"label\":7,\"name\":\"cafe\",\"perturbed\":true}");
  }

  // --- fetched inputs -----------------------------------------------------------------------

  @Test
  void imageFetchedByTheInputPolicyReachesTheServletAsARequestAttribute() throws Exception {
    images.reset();
    String body = FetchedInputsFixture.body(images.url("/image.png"));

    HttpResponse<byte[]> r = postBytes("/fetched", "application/json", body.getBytes(StandardCharsets.UTF_8));

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new String(r.body(), StandardCharsets.UTF_8))
        .isEqualTo(FetchedInputsFixture.expected(FetchedInputsFixture.png()) + " | body " + body.length());
    // Fetched once, by the policy: the servlet used those bytes.
    assertThat(images.connections()).isEqualTo(1);
    assertThat(images.requestLines()).containsExactly("GET /image.png HTTP/1.1");
  }

  @Test
  void blockedImageUrlReachesNeitherTheServletNorTheImageHost() throws Exception {
    images.reset();
    int calls = FetchedImageServlet.CALLS.get();

    HttpResponse<byte[]> r = postBytes("/fetched", "application/json",
        FetchedInputsFixture.body("http://localhost:" + images.port() + "/image.png").getBytes(StandardCharsets.UTF_8));

    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(new String(r.body(), StandardCharsets.UTF_8))
        .contains("\"code\":\"input.url_blocked\"").contains("Field 'imageUrl': ");
    assertThat(images.connections()).isZero();
    assertThat(FetchedImageServlet.CALLS.get()).isEqualTo(calls);
  }

  // --- helpers ------------------------------------------------------------------------------

  HttpRequest.Builder request(String path, String key) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(deployment.baseUri() + path))
        .timeout(Duration.ofSeconds(15));
    if (key != null) {
      b.header("X-API-Key", key);
    }
    return b;
  }

  /** Sends {@code head} (and nothing more) on a raw socket and returns the response head. */
  String rawExchange(String head) throws IOException {
    return RawHttp.exchangeHead(deployment.baseUri(), head);
  }

  HttpResponse<String> post(String path, String key) throws IOException, InterruptedException {
    return client().send(request(path, key)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  HttpResponse<byte[]> postBytes(String path, String contentType, byte[] body, String... headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder request = request(path, fixture.basicKey()).header("Content-Type", contentType);
    if (headers.length > 0) {
      request.headers(headers);
    }
    return client().send(request.POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  /**
   * An HTTP/1.1 client for one request: each request goes on a connection of its own. Jetty ends a
   * connection, without a {@code Connection: close}, when a response is complete before the
   * request's body has arrived and nothing has read it (most test servlets never read theirs), and
   * a request sent on that connection next fails with no response at all, about once in ten
   * thousand on loopback.
   */
  private static HttpClient client() {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  /** GETs {@code uri} and returns the status. */
  int statusOf(URI uri) throws IOException, InterruptedException {
    return client().send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
