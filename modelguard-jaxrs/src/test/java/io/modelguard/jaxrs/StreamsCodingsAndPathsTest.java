package io.modelguard.jaxrs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.ModelSecured;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/**
 * Output that would leave past the output policies (streams), request bodies the policies would
 * read otherwise than the resource (compressed), a path naming two models, a charset the client
 * picks, and configuration errors found only when a request first reaches a located class: on a
 * real runtime each.
 */
public abstract class StreamsCodingsAndPathsTest {
  /** The model's exact answer; the {@code label-only} chain rewrites it to {@code {"label":7}}. */
  public static final String PREDICTION = "{\"label\":7,\"probabilities\":[0.0123,0.9731]}";
  /** What must never reach a client under {@code label-only}. */
  public static final String SCORE = "0.9731";
  static final AtomicInteger CALLS = new AtomicInteger();

  /** The runtime under test. */
  protected abstract JaxrsRuntime runtime();

  /** The guard every deployment here uses. */
  public static ModelGuard guard() {
    return ModelGuard.builder()
        .auditLog(false)
        .models("digits", "secret")
        .chain(ModelGuard.DEFAULT_CHAIN, chain -> {})
        .chain("label-only", chain -> chain.output(OutputPhase.PERTURB, "label-only", ctx ->
            ctx.output().bodyAsString().startsWith("{\"label\":7,") ? ModelOutput.json("{\"label\":7}") : ctx.output()))
        .chain("whole", chain -> chain.policy(Phase.VALIDATE, "whole", ctx -> {
          try {
            return new String(ctx.request().body(1 << 20), UTF_8).contains("evil")
                ? GuardDecision.deny(ReasonCode.INPUT_INVALID) : GuardDecision.allow();
          } catch (IOException e) {
            return GuardDecision.deny(ReasonCode.INPUT_MALFORMED);
          }
        }))
        .chain("only-digits", chain -> chain.policy(Phase.AUTHORIZE, "only-digits", ctx ->
            ctx.request().endpoint().model().filter("digits"::equals).isPresent()
                ? GuardDecision.allow() : GuardDecision.deny(ReasonCode.AUTHZ_MODEL_FORBIDDEN)))
        .build();
  }

  /** Deploys {@code resources} under {@link #guard()}. */
  protected Deployment deploy(Class<?>... resources) throws Exception {
    return deploy(List.of(resources));
  }

  private Deployment deploy(List<Class<?>> resources) throws Exception {
    return runtime().deploy(TestApplication.builder(new ModelGuardFeature(guard())).resources(resources).build());
  }

  /** Asserts that deploying {@code resource} fails, naming each of {@code fragments}. */
  protected void assertDeploymentRefused(Class<?> resource, String... fragments) {
    assertThatThrownBy(() -> deploy(resource).close())
        .as(resource.getSimpleName())
        .satisfies(e -> {
          List<String> messages = new ArrayList<>();
          for (Throwable c = e; c != null; c = c.getCause()) {
            messages.add(String.valueOf(c.getMessage()));
          }
          assertThat(messages).anyMatch(m -> List.of(fragments).stream().allMatch(m::contains));
        });
  }

  protected static HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
    return JettyHost.client().send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  // --- streams ------------------------------------------------------------------------------

  @Test
  void aPublisherUnderOutputPoliciesFailsDeployment() {
    assertDeploymentRefused(FlowPredictions.class, "Publisher", "FlowPredictions.predictions()", "'label-only'");
  }

  @Test
  void aPlainValueProducedAsJsonOrAsAnEventStreamIsAnsweredThroughThePolicies() throws Exception {
    // Not a stream: the filter serialises the value and the policies see it, whichever type is chosen.
    try (Deployment d = deploy(JsonOrEvents.class)) {
      for (String accept : List.of(MediaType.APPLICATION_JSON, MediaType.SERVER_SENT_EVENTS)) {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(d.baseUri() + "/json-or-events"))
            .header("Accept", accept));
        assertThat(r.statusCode()).as(accept).isEqualTo(200);
        assertThat(r.body()).as(accept).isEqualTo("{\"label\":7}");
      }
    }
  }

  /** Returns its predictions as a {@link Flow.Publisher}, under a chain with an output policy. */
  @Path("/flow")
  public static class FlowPredictions {
    /** Never deployed. */
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public Flow.Publisher<String> predictions() {
      return subscriber -> subscriber.onComplete();
    }
  }

  /** A plain value, as JSON or as an event stream, under a chain with an output policy. */
  @Path("/json-or-events")
  public static class JsonOrEvents {
    /** The prediction. */
    @GET
    @Produces({MediaType.APPLICATION_JSON, MediaType.SERVER_SENT_EVENTS})
    @ModelSecured(model = "digits", chain = "label-only")
    public String predict() {
      return PREDICTION;
    }
  }

  // --- request bodies -------------------------------------------------------------------------

  @Test
  void aCompressedRequestBodyIsRefusedBeforeAnyPolicyReadsIt() throws Exception {
    // With a decoding reader interceptor the resource would read the decoded body, while the
    // policies read the gzip bytes, in which "evil" does not appear.
    ByteArrayOutputStream gzip = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gzip)) {
      out.write("{\"evil\":1}".getBytes(UTF_8));
    }
    List<Class<?>> resources = new ArrayList<>(runtime().requestDecoding());
    resources.add(WholeBody.class);
    int calls = CALLS.get();
    try (Deployment d = deploy(resources)) {
      HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(d.baseUri() + "/whole"))
          .header("Content-Type", "application/json").header("Content-Encoding", "gzip")
          .POST(HttpRequest.BodyPublishers.ofByteArray(gzip.toByteArray())));
      HttpResponse<String> plain = send(HttpRequest.newBuilder(URI.create(d.baseUri() + "/whole"))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"fine\":1}")));

      assertThat(r.statusCode()).isEqualTo(415);
      assertThat(r.body()).contains("\"code\":\"input.unsupported_media_type\"").doesNotContain("evil");
      assertThat(plain.statusCode()).isEqualTo(200);
      assertThat(plain.body()).isEqualTo("read {\"fine\":1}");
      assertThat(CALLS.get()).as("only the plain request reached the resource").isEqualTo(calls + 1);
    }
  }

  /** Echoes the body a policy read whole. */
  @Path("/whole")
  public static class WholeBody {
    /** Echoes the body. */
    @POST
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "whole")
    public String read(String body) {
      CALLS.incrementAndGet();
      return "read " + body;
    }
  }

  // --- paths ----------------------------------------------------------------------------------

  @Test
  void aPathNamingTheModelTwiceDifferentlyIsRefused() throws Exception {
    try (Deployment d = deploy(TwoModels.class)) {
      HttpResponse<String> mixed = postEmptyJson(d, "/two/digits/x/secret");
      HttpResponse<String> same = postEmptyJson(d, "/two/digits/x/digits");
      HttpResponse<String> other = postEmptyJson(d, "/two/secret/x/secret");

      assertThat(mixed.statusCode()).isEqualTo(400);
      assertThat(mixed.body()).contains("\"code\":\"input.malformed\"").doesNotContain("served");
      assertThat(same.statusCode()).isEqualTo(200);
      assertThat(same.body()).isEqualTo("served digits");
      assertThat(other.statusCode()).isEqualTo(403);
    }
  }

  @Test
  void aPathWhoseModelVariableHoldsNoModelIdIsDeniedThoughTheChainHasNoAccessPolicy() throws Exception {
    // The default chain here has no policy at all: before, "-x" (not a model id) left the request
    // without a model, and the resource served "-x".
    try (Deployment d = deploy(AnyChainModel.class)) {
      HttpResponse<String> invalid = postEmptyJson(d, "/any/-x");
      HttpResponse<String> named = postEmptyJson(d, "/any/digits");

      assertThat(invalid.statusCode()).isEqualTo(403);
      assertThat(invalid.body()).contains("\"code\":\"authz.model_forbidden\"").doesNotContain("served");
      assertThat(named.statusCode()).isEqualTo(200);
      assertThat(named.body()).isEqualTo("served digits");
    }
  }

  /** POSTs {@code {}} to {@code path} of {@code d}. */
  private static HttpResponse<String> postEmptyJson(Deployment d, String path) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(d.baseUri() + path)).POST(HttpRequest.BodyPublishers.ofString("{}")));
  }

  /** A model from the path, on the default chain (which has no policy here). */
  @Path("/any/{model}")
  public static class AnyChainModel {
    /** Names the model it serves. */
    @POST
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "{model}")
    public String serve(@PathParam("model") String model) {
      return "served " + model;
    }
  }

  /** The model variable in both the class's and the method's path (RESTEasy injects the last). */
  @Path("/two/{model}")
  public static class TwoModels {
    /** Names the model it serves. */
    @POST
    @Path("x/{model}")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "{model}", chain = "only-digits")
    public String serve(@PathParam("model") String model) {
      return "served " + model;
    }
  }

  // --- charsets -------------------------------------------------------------------------------

  @Test
  void theOutputPoliciesReadTheAnswerInUtf8WhateverCharsetTheClientAsksFor() throws Exception {
    try (Deployment d = deploy(NoProduces.class)) {
      for (String accept : List.of("application/json;charset=UTF-16", "application/json;charset=UTF-32")) {
        HttpResponse<byte[]> r = JettyHost.client().send(HttpRequest.newBuilder(URI.create(d.baseUri() + "/no-produces"))
            .header("Accept", accept).timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofByteArray());

        assertThat(r.statusCode()).as(accept).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("").toUpperCase(Locale.ROOT)).as(accept)
            .doesNotContain("UTF-16").doesNotContain("UTF-32");
        assertThat(new String(r.body(), UTF_8)).as(accept).isEqualTo("{\"label\":7}");
      }
    }
  }

  @Test
  void anEntityInTheResourcesOwnCharsetReachesThePoliciesAndTheClientAsUtf8() throws Exception {
    try (Deployment d = deploy(Latin1Bytes.class)) {
      HttpResponse<byte[]> r = JettyHost.client().send(HttpRequest.newBuilder(URI.create(d.baseUri() + "/latin1"))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());

      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT)).contains("charset=utf-8");
      assertThat(new String(r.body(), UTF_8)).isEqualTo("caf\u00e9 au lait");
    }
  }

  @Test
  void binaryBytesAreNeverTranscodedAndInACharsetThePoliciesCannotReadAreWithheld() throws Exception {
    try (Deployment d = deploy(Latin1Bytes.class)) {
      HttpResponse<byte[]> utf8 = JettyHost.client().send(HttpRequest.newBuilder(
          URI.create(d.baseUri() + "/latin1/binary?charset=utf8")).timeout(Duration.ofSeconds(10)).GET().build(),
          HttpResponse.BodyHandlers.ofByteArray()); // an alias of UTF-8
      HttpResponse<byte[]> ascii = JettyHost.client().send(HttpRequest.newBuilder(
          URI.create(d.baseUri() + "/latin1/binary?charset=US-ASCII")).timeout(Duration.ofSeconds(10)).GET().build(),
          HttpResponse.BodyHandlers.ofByteArray());

      assertThat(utf8.statusCode()).isEqualTo(200);
      assertThat(utf8.body()).isEqualTo(Latin1Bytes.BINARY);
      // Not rewritten as if it were text: withheld, as the policies could not read it either.
      assertThat(ascii.statusCode()).isEqualTo(500);
      assertThat(new String(ascii.body(), UTF_8)).isEqualTo(ProblemRenderer.internalError().bodyAsString());
    }
  }

  @Test
  void textThatGrowsPastTheOutputCapInUtf8IsWithheld() throws Exception {
    TestApplication app = TestApplication.builder(ModelGuardFeature.builder(guard()).maxOutputBytes(10).build())
        .resources(Latin1Bytes.class).build();
    try (Deployment d = runtime().deploy(app)) {
      // Ten bytes in windows-1252, thirty in UTF-8 ("€" ten times).
      HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(d.baseUri() + "/latin1/euros")));

      assertThat(r.statusCode()).isEqualTo(500);
      assertThat(r.body()).isEqualTo(ProblemRenderer.internalError().bodyAsString());
    }
  }

  @Test
  void textOfEveryTextTypeInAnotherCharsetReachesThePoliciesAndOtherTypesAreWithheld() throws Exception {
    try (Deployment d = deploy(Utf16Prediction.class)) {
      for (String type : List.of("application/x-ndjson", "application/jsonl", "application/json-seq", "application/yaml",
          "application/javascript", "application/vnd.api+json", "text/plain", "image/svg+xml", "application/toml")) {
        HttpResponse<byte[]> r = JettyHost.client().send(HttpRequest.newBuilder(URI.create(d.baseUri() + "/utf16"))
            .header("X-Type", type).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).as(type).isEqualTo(200);
        assertThat(new String(r.body(), UTF_8)).as(type).isEqualTo("{\"label\":7}");
      }
      // Not known as text: the policies cannot read it, and its bytes are not transcoded.
      HttpResponse<String> unknown = send(HttpRequest.newBuilder(URI.create(d.baseUri() + "/utf16"))
          .header("X-Type", "application/x-custom"));
      assertThat(unknown.statusCode()).isEqualTo(500);
      assertThat(unknown.body()).isEqualTo(ProblemRenderer.internalError().bodyAsString());
    }
  }

  @Test
  void aClientAskingForAnotherCharsetOfATextTypeGetsThePolicedAnswer() throws Exception {
    try (Deployment d = deploy(Ndjson.class)) {
      HttpResponse<byte[]> r = JettyHost.client().send(HttpRequest.newBuilder(URI.create(d.baseUri() + "/ndjson"))
          .header("Accept", "application/x-ndjson;charset=UTF-16").timeout(Duration.ofSeconds(10))
          .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofByteArray());

      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(new String(r.body(), UTF_8)).isEqualTo("{\"label\":7}");
    }
  }

  /** The prediction in UTF-16, under the media type the request names. */
  @Path("/utf16")
  public static class Utf16Prediction {
    /** The prediction. */
    @GET
    @ModelSecured(model = "digits", chain = "label-only")
    public jakarta.ws.rs.core.Response predict(@jakarta.ws.rs.HeaderParam("X-Type") String type) {
      return jakarta.ws.rs.core.Response.ok(PREDICTION.getBytes(java.nio.charset.StandardCharsets.UTF_16),
          type + ";charset=UTF-16").build();
    }
  }

  /** The prediction as newline-delimited JSON. */
  @Path("/ndjson")
  public static class Ndjson {
    /** The prediction. */
    @POST
    @Produces("application/x-ndjson")
    @ModelSecured(model = "digits", chain = "label-only")
    public String predict() {
      return PREDICTION;
    }
  }

  /** Bytes the resource encoded itself, in ISO-8859-1, and labelled so. */
  @Path("/latin1")
  public static class Latin1Bytes {
    /** Not a prediction: the policy passes it unchanged. */
    @GET
    @ModelSecured(model = "digits", chain = "label-only")
    public jakarta.ws.rs.core.Response text() {
      return jakarta.ws.rs.core.Response.ok("caf\u00e9 au lait".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1),
          "text/plain;charset=ISO-8859-1").build();
    }

    /** Bytes that are no text in any charset. */
    static final byte[] BINARY = {0x00, (byte) 0x80, (byte) 0xFF, (byte) 0xC3, 0x28, 0x7F, (byte) 0x9D};

    /** Binary bytes under a type that carries a charset anyway. */
    @GET
    @Path("binary")
    @ModelSecured(model = "digits", chain = "label-only")
    public jakarta.ws.rs.core.Response binary(@jakarta.ws.rs.QueryParam("charset") String charset) {
      return jakarta.ws.rs.core.Response.ok(BINARY, "application/octet-stream;charset=" + charset).build();
    }

    /** Ten euro signs in windows-1252. */
    @GET
    @Path("euros")
    @ModelSecured(model = "digits", chain = "label-only")
    public jakarta.ws.rs.core.Response euros() {
      byte[] euros = new byte[10];
      java.util.Arrays.fill(euros, (byte) 0x80);
      return jakarta.ws.rs.core.Response.ok(euros, "text/plain;charset=windows-1252").build();
    }
  }

  /** No {@code @Produces}: the client's {@code Accept} picks the media type, charset included. */
  @Path("/no-produces")
  public static class NoProduces {
    /** The prediction. */
    @POST
    @ModelSecured(model = "digits", chain = "label-only")
    public String predict() {
      return PREDICTION;
    }
  }

  // --- located classes ------------------------------------------------------------------------

  @Test
  void aLocatedClassTheGuardCannotConfigureIsRefusedWithTheProblemNotTheReason() throws Exception {
    ProblemResponse expected = ProblemRenderer.internalError();
    try (Deployment d = deploy(Locators.class)) {
      for (String path : List.of("/located/misspelt", "/located/events")) {
        int calls = CALLS.get();
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(d.baseUri() + path))
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")));

        assertThat(r.statusCode()).as(path).isEqualTo(500);
        assertThat(r.body()).as(path).doesNotContain("chain").doesNotContain("io.modelguard").doesNotContain(SCORE);
        assertThat(CALLS.get()).as(path).isEqualTo(calls);
        if (r.headers().firstValue("Content-Type").orElse("").startsWith(ProblemResponse.CONTENT_TYPE)) {
          assertThat(r.body()).isEqualTo(expected.bodyAsString());
        }
      }
    }
  }

  /** Unguarded locators returning classes whose annotation the guard refuses. */
  @Path("/located")
  public static class Locators {
    /** Located: a chain the guard does not have. */
    @Path("misspelt")
    public Misspelt misspelt() {
      return new Misspelt();
    }

    /** Located: server-sent events under output policies. */
    @Path("events")
    public Events events() {
      return new Events();
    }
  }

  /** Names a chain the guard does not have. */
  public static class Misspelt {
    /** Never reached. */
    @POST
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "no-such-chain")
    public String predict() {
      CALLS.incrementAndGet();
      return PREDICTION;
    }
  }

  /** Returns a publisher under a chain with output policies. */
  public static class Events {
    /** Never reached. */
    @POST
    @Produces(MediaType.APPLICATION_JSON)
    @ModelSecured(model = "digits", chain = "label-only")
    public Flow.Publisher<String> events() {
      CALLS.incrementAndGet();
      return subscriber -> subscriber.onComplete();
    }
  }
}
