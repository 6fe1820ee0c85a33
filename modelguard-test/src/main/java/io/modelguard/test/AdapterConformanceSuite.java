package io.modelguard.test;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.test.input.InputConformance;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The contract every adapter on every runtime must keep, driven over real HTTP on loopback. A
 * runtime's test extends this class and implements {@link #deploy(ConformanceFixture)}: start the
 * runtime on a free loopback port with the endpoints {@link ConformanceFixture} lists, guarded by
 * {@link ConformanceFixture#guard()}.
 *
 * <p>Each test asserts the exact status, headers and body of the error contract. {@link
 * #responsesMatchTheSharedTranscript()} replays a fixed set of requests and compares the whole
 * transcript with one golden file shared by every runtime, so two runtimes that pass it answer the
 * same requests with identical status, headers and bodies.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class AdapterConformanceSuite {

  /** A running runtime. */
  @SuppressWarnings("try") // close() may throw InterruptedException: runtimes stop threads
  public interface Deployment extends AutoCloseable {
    /** {@return the base URI, for example {@code http://127.0.0.1:34567} (no trailing slash)} */
    URI baseUri();

    /** Stops the runtime. */
    @Override
    void close() throws Exception;
  }

  /**
   * A system property naming a file to which {@link #responsesMatchTheSharedTranscript()} writes
   * the transcript it got, for reviewing a difference or a deliberate extension of the golden file.
   */
  public static final String TRANSCRIPT_OUT_PROPERTY = "modelguard.conformance.transcript.out";

  private static final String PROBLEM = "application/problem+json";

  private ConformanceFixture fixture;
  private Deployment deployment;
  private HttpClient client;

  /**
   * Starts the runtime under test with the fixture's endpoints on a loopback port.
   *
   * @param fixture the engine and endpoints to serve
   * @return the running deployment, closed after the suite
   * @throws Exception if the runtime does not start
   */
  protected abstract Deployment deploy(ConformanceFixture fixture) throws Exception;

  /** {@return the fixture this suite deploys; override to customise (listeners, for instance)} */
  protected ConformanceFixture createFixture() {
    return ConformanceFixture.create();
  }

  @BeforeAll
  void startRuntime() throws Exception {
    fixture = createFixture();
    deployment = deploy(fixture);
    client = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  @AfterAll
  void stopRuntime() throws Exception {
    if (deployment != null) {
      deployment.close();
    }
  }

  /** {@return the fixture in use} */
  protected ConformanceFixture fixture() {
    return fixture;
  }

  @Test
  void validKeyGetsThePrediction() {
    Reply r = post("/v1/models/digits/predict", fixture.basicKey());
    assertThat(r.status).isEqualTo(200);
    assertThat(r.body).isEqualTo(ConformanceFixture.prediction("digits"));
    assertThat(r.header("Content-Type")).startsWith("application/json");
  }

  @Test
  void premiumTierReachesBothModels() {
    assertThat(post("/v1/models/iris/predict", fixture.premiumKey()).body)
        .isEqualTo(ConformanceFixture.prediction("iris"));
    assertThat(post("/v1/models/digits/predict", fixture.premiumKey()).body)
        .isEqualTo(ConformanceFixture.prediction("digits"));
  }

  @Test
  void missingKeyIsMissingCredentials() {
    Reply r = post("/v1/models/digits/predict", null);
    assertProblem(r, 401, "auth.missing_credentials", "Missing credentials",
        "This endpoint requires an API key or a bearer token.");
    assertThat(r.header("WWW-Authenticate")).isEqualTo("Bearer realm=\"modelguard\"");
  }

  @Test
  void malformedKeysAreInvalidApiKey() {
    String good = fixture.basicKey();
    char last = good.charAt(good.length() - 1);
    List<String> malformed = List.of(
        "not-a-key",
        "mg_live_short",
        good.replace("mg_test_", "xx_test_"),
        good.substring(0, good.length() - 1) + (last == 'a' ? 'b' : 'a'), // checksum broken
        good + "A",
        "mg_test_" + "!".repeat(50),
        "A".repeat(8000));
    for (String key : malformed) {
      assertInvalidApiKey(post("/v1/models/digits/predict", key));
    }
  }

  @Test
  void unknownKeyIsInvalidApiKey() {
    assertInvalidApiKey(post("/v1/models/digits/predict", fixture.unknownKey()));
  }

  @Test
  void keyWithTheRightIdButWrongSecretIsInvalidApiKey() {
    assertInvalidApiKey(post("/v1/models/digits/predict", fixture.wrongSecretKey()));
  }

  @Test
  void revokedKeyIsInvalidApiKey() {
    assertInvalidApiKey(post("/v1/models/digits/predict", fixture.revokedKey()));
  }

  @Test
  void expiredKeyIsInvalidApiKey() {
    assertInvalidApiKey(post("/v1/models/digits/predict", fixture.expiredKey()));
  }

  @Test
  void twoApiKeyHeadersAreRefused() {
    Reply r = send(HttpRequest.newBuilder(uri("/v1/models/digits/predict"))
        .header("X-API-Key", fixture.basicKey())
        .header("X-API-Key", fixture.premiumKey())
        .POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertInvalidApiKey(r);
  }

  @Test
  void modelOutsideTheTierIsForbiddenNamingTheScope() {
    Reply r = post("/v1/models/iris/predict", fixture.basicKey());
    assertProblem(r, 403, "authz.model_forbidden", "Model forbidden",
        "Your credentials do not allow this model.");
    assertThat(r.header("WWW-Authenticate"))
        .isEqualTo("Bearer error=\"insufficient_scope\", scope=\"model:iris:invoke\"");
  }

  @Test
  void deniedBodyOfUpToOneMebibyteIsReadBeforeTheDenialAndTheConnectionKept() throws IOException {
    // Closed with body bytes still on their way, the connection is reset, and a client still
    // sending may lose the denial (a broken pipe instead of the 403: Jetty, once in a few dozen
    // 16 KB requests). The adapters read a body of up to 1 MiB to its end before denying.
    String head = "POST " + uri("/v1/models/iris/predict").getRawPath() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "X-API-Key: " + fixture.basicKey() + "\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n";
    RawHttp.SlowBody r = RawHttp.slowBody(uri("/"), head.formatted(20_000), 20_000, head.formatted(2) + "{}");
    assertThat(r.beforeTheRest()).as("no denial before the body is in").isEmpty();
    assertThat(r.afterTheRest()).startsWith("HTTP/1.1 403 ").doesNotContainIgnoringCase("Connection: close");
    assertThat(r.next()).as("the connection carries the next request").startsWith("HTTP/1.1 403 ");
  }

  @Test
  void unregisteredModelLooksExactlyLikeAForbiddenOne() {
    Reply unknown = post("/v1/models/resnet/predict", fixture.premiumKey());
    assertProblem(unknown, 403, "authz.model_forbidden", "Model forbidden",
        "Your credentials do not allow this model.");
    assertThat(unknown.header("WWW-Authenticate"))
        .isEqualTo("Bearer error=\"insufficient_scope\", scope=\"model:resnet:invoke\"");
  }

  @Test
  void invalidModelIdInThePathIsForbiddenWithoutEchoingIt() {
    Reply r = post("/v1/models/-x/predict", fixture.premiumKey());
    assertProblem(r, 403, "authz.model_forbidden", "Model forbidden",
        "Your credentials do not allow this model.");
    assertThat(r.header("WWW-Authenticate")).isEqualTo("Bearer error=\"insufficient_scope\"");
  }

  @Test
  void policyThatThrowsIsInternalErrorWithoutExceptionText() {
    int before = fixture.failures();
    Reply r = post(ConformanceFixture.FAILING, fixture.basicKey());
    assertProblem(r, 500, "internal.error", "Internal error", "The request could not be processed.");
    assertThat(r.body).doesNotContain(ConformanceFixture.EXCEPTION_SECRET).doesNotContain("Exception");
    assertThat(fixture.failures()).isEqualTo(before + 1);
  }

  @Test
  void outputPolicyRewritesAnAllowedResponse() {
    Reply r = post("/v1/models/digits/rewrite", fixture.basicKey());
    assertThat(r.status).isEqualTo(200);
    assertThat(r.body).isEqualTo("{\"model\":\"digits\",\"label\":7,\"perturbed\":true}");
    r.optionalHeader("Content-Length").ifPresent(len ->
        assertThat(Integer.parseInt(len)).isEqualTo(r.bytes.length));
  }

  @Test
  void outputPolicyNeverRunsOnADeniedRequest() {
    int before = fixture.outputRuns();
    Reply r = post("/v1/models/digits/rewrite", fixture.revokedKey());
    assertInvalidApiKey(r);
    assertThat(fixture.outputRuns()).isEqualTo(before);
  }

  @Test
  void bodyReadByAPolicyReachesTheHandlerIntact() {
    byte[] body = new byte[ConformanceFixture.BODY_LIMIT];
    for (int i = 0; i < body.length; i++) {
      body[i] = (byte) (i * 7 + 3);
    }
    Reply r = send(HttpRequest.newBuilder(uri("/v1/models/digits/echo"))
        .header("X-API-Key", fixture.basicKey())
        .header("Content-Type", "application/octet-stream")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    assertThat(r.status).isEqualTo(200);
    assertThat(r.bytes).isEqualTo(body);
  }

  @Test
  void bodyOverThePolicysCapIsTooLarge() {
    Reply r = send(HttpRequest.newBuilder(uri("/v1/models/digits/echo"))
        .header("X-API-Key", fixture.basicKey())
        .header("Content-Type", "application/octet-stream")
        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[ConformanceFixture.BODY_LIMIT + 1])));
    assertProblem(r, 413, "input.too_large", "Input too large",
        "The request body is larger than this model accepts.");
  }

  @Test
  void aCompressedRequestBodyIsUnsupportedMediaTypeBeforeAnyPolicy() throws IOException {
    // The input policies would read the coded bytes while a decoding runtime or application hands
    // the model bytes no policy saw; answered alike on every runtime, with or without a key.
    java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(gz)) {
      out.write("{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    for (String coding : List.of("gzip", "identity, gzip", "br")) {
      for (String key : java.util.Arrays.asList(fixture.basicKey(), null)) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri("/v1/models/digits/predict"))
            .header("Content-Type", "application/json")
            .header("Content-Encoding", coding)
            .POST(HttpRequest.BodyPublishers.ofByteArray(gz.toByteArray()));
        if (key != null) {
          b.header("X-API-Key", key);
        }
        Reply r = send(b);
        assertProblem(r, 415, "input.unsupported_media_type", INPUT_TITLES.get("input.unsupported_media_type"),
            "A compressed request body (Content-Encoding) is not accepted here; send it uncompressed.");
      }
    }
    Reply identity = send(HttpRequest.newBuilder(uri("/v1/models/digits/predict"))
        .header("Content-Type", "application/json").header("Content-Encoding", "identity")
        .header("X-API-Key", fixture.basicKey()).POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(identity.status).as("identity is no coding").isEqualTo(200);
  }

  @Test
  void unguardedEndpointIsLeftAlone() {
    Reply r = send(HttpRequest.newBuilder(uri(ConformanceFixture.OPEN)).GET());
    assertThat(r.status).isEqualTo(200);
    assertThat(r.body).isEqualTo("open");
  }

  /**
   * Every {@link InputConformance#cases() input-validation case}, sent to {@value
   * ConformanceFixture#VALIDATE}, gets exactly the status, problem headers and body the engine
   * gives it: the runtime neither changes the body the policy reads nor the refusal it returns.
   */
  @Test
  void inputCasesGetTheirDocumentedAnswers() {
    for (InputConformance.Case c : InputConformance.cases()) {
      Reply r = send(c);
      if (c.status() == 200) {
        assertThat(r.status).as("%s: %s", c.name(), r).isEqualTo(200);
        assertThat(r.body).as(c.name()).isEqualTo(ConformanceFixture.prediction(c.model()));
        assertThat(r.header("Content-Type")).as(c.name()).startsWith("application/json");
        continue;
      }
      assertThat(r.status).as("%s: %s", c.name(), r).isEqualTo(c.status());
      assertProblem(r, c.status(), c.code(), INPUT_TITLES.get(c.code()), c.detail());
      assertThat(r.optionalHeader("WWW-Authenticate")).as(c.name()).isEmpty();
    }
  }

  /**
   * The same requests give the same status, problem headers and bodies on every runtime: the
   * transcript is compared with {@code conformance-transcript.txt}, shared by all of them. It
   * covers the authentication and authorization answers and then every {@link
   * InputConformance#cases() input-validation case}.
   */
  @Test
  void responsesMatchTheSharedTranscript() throws IOException {
    List<String[]> requests = List.of(
        new String[] {"POST", "/v1/models/digits/predict", null},
        new String[] {"POST", "/v1/models/digits/predict", "basic"},
        new String[] {"POST", "/v1/models/digits/predict", "garbage"},
        new String[] {"POST", "/v1/models/digits/predict", "unknown"},
        new String[] {"POST", "/v1/models/digits/predict", "revoked"},
        new String[] {"POST", "/v1/models/digits/predict", "expired"},
        new String[] {"POST", "/v1/models/iris/predict", "basic"},
        new String[] {"POST", "/v1/models/iris/predict", "premium"},
        new String[] {"POST", "/v1/models/resnet/predict", "premium"},
        new String[] {"POST", "/v1/fixed/predict", "basic"},
        new String[] {"POST", "/v1/models/digits/rewrite", "basic"},
        new String[] {"POST", "/v1/models/digits/rewrite", "expired"});
    Function<String, String> keys = name -> {
      switch (name) {
        case "basic": return fixture.basicKey();
        case "premium": return fixture.premiumKey();
        case "unknown": return fixture.unknownKey();
        case "revoked": return fixture.revokedKey();
        case "expired": return fixture.expiredKey();
        default: return name;
      }
    };
    StringBuilder transcript = new StringBuilder();
    for (String[] req : requests) {
      Reply r = post(req[1], req[2] == null ? null : keys.apply(req[2]));
      transcript.append("> ").append(req[0]).append(' ').append(req[1])
          .append(" key=").append(req[2]).append('\n');
      appendReply(transcript, r);
    }
    for (InputConformance.Case c : InputConformance.cases()) {
      Reply r = send(c);
      transcript.append("> POST ").append(c.path()).append(" input=").append(c.name()).append('\n');
      appendReply(transcript, r);
    }
    String out = System.getProperty(TRANSCRIPT_OUT_PROPERTY);
    if (out != null && !out.isBlank()) {
      Files.writeString(Path.of(out), transcript, StandardCharsets.UTF_8);
    }
    String expected;
    try (InputStream in = AdapterConformanceSuite.class.getResourceAsStream("conformance-transcript.txt")) {
      expected = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(transcript.toString()).isEqualTo(expected);
  }

  // --- helpers -----------------------------------------------------------------------------

  /** The problem titles of the input reason codes, as every runtime must send them. */
  private static final Map<String, String> INPUT_TITLES = Map.of(
      "input.too_large", "Input too large",
      "input.unsupported_media_type", "Unsupported media type",
      "input.malformed", "Malformed input",
      "input.invalid", "Invalid input",
      "input.url_blocked", "URL blocked",
      "input.fetch_failed", "Fetch failed");

  /** Status, the headers that must agree across runtimes, and the body, in transcript form. */
  private static void appendReply(StringBuilder transcript, Reply r) {
    transcript.append("< ").append(r.status).append('\n');
    boolean problem = r.status >= 400;
    for (String h : List.of("Content-Type", "WWW-Authenticate", "Retry-After", "Cache-Control", "Content-Length")) {
      if (problem || h.equals("WWW-Authenticate") || h.equals("Retry-After")) {
        String v = r.optionalHeader(h).orElse("(absent)");
        if (!problem && h.equals("Content-Type")) {
          v = v.toLowerCase(Locale.ROOT);
        }
        transcript.append("< ").append(h).append(": ").append(v).append('\n');
      }
    }
    transcript.append("< ").append(r.body).append("\n\n");
  }

  /**
   * Sends an input case: its media type and body, no credentials.
   *
   * @param c the case to send; its path, {@code Content-Type} and body bytes are sent as they are
   * @return the deployment's reply, its body read in full
   */
  protected Reply send(InputConformance.Case c) {
    return send(HttpRequest.newBuilder(uri(c.path()))
        .header("Content-Type", c.contentType())
        .POST(HttpRequest.BodyPublishers.ofByteArray(c.body())));
  }

  private void assertInvalidApiKey(Reply r) {
    assertProblem(r, 401, "auth.invalid_api_key", "Invalid API key", "The API key is not valid.");
    assertThat(r.header("WWW-Authenticate"))
        .isEqualTo("Bearer realm=\"modelguard\", error=\"invalid_token\"");
  }

  /**
   * Asserts an exact problem response: status, media type, no-store, and the whole body.
   *
   * @param r the reply to check
   * @param status the expected HTTP status, which the body's {@code status} must repeat
   * @param code the expected reason code, without the {@code urn:modelguard:problem:} prefix of
   *     {@code type}
   * @param title the expected {@code title}, compared exactly
   * @param detail the expected {@code detail}, compared exactly
   */
  protected static void assertProblem(Reply r, int status, String code, String title, String detail) {
    assertThat(r.status).as("status of %s", r.body).isEqualTo(status);
    assertThat(r.header("Content-Type")).isEqualTo(PROBLEM);
    assertThat(r.header("Cache-Control")).isEqualTo("no-store");
    assertThat(r.body).isEqualTo("{\"type\":\"urn:modelguard:problem:" + code + "\",\"title\":\"" + title
        + "\",\"status\":" + status + ",\"detail\":\"" + detail + "\",\"code\":\"" + code + "\"}");
    r.optionalHeader("Content-Length").ifPresent(len ->
        assertThat(Integer.parseInt(len)).isEqualTo(r.bytes.length));
  }

  /**
   * POSTs {@code {}} as JSON to {@code path}, with {@code key} in X-API-Key when not null.
   *
   * @param path the path on the deployment, starting with {@code /}
   * @param key the API key to send, or null to send no X-API-Key header
   * @return the deployment's reply, its body read in full
   */
  protected Reply post(String path, String key) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{}"));
    if (key != null) {
      b.header("X-API-Key", key);
    }
    return send(b);
  }

  /**
   * {@return the absolute URI of {@code path} on the deployment}
   *
   * @param path the path and query, starting with {@code /}; appended to the base URI as it is
   */
  protected URI uri(String path) {
    return URI.create(deployment.baseUri() + path);
  }

  /**
   * Sends a request with a 10-second timeout, once more if it met a pooled connection the server
   * had just closed ({@link PooledHttp#send}). Any other failure, or a second one, fails the test.
   *
   * @param request the request to send; its timeout is replaced by 10 seconds
   * @return the deployment's reply, its body read in full
   */
  protected Reply send(HttpRequest.Builder request) {
    HttpRequest built = request.timeout(Duration.ofSeconds(10)).build();
    try {
      return new Reply(PooledHttp.send(client, built, HttpResponse.BodyHandlers.ofByteArray()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A received response. */
  protected static final class Reply {
    /** The status. */
    public final int status;
    /** The body bytes. */
    public final byte[] bytes;
    /** The body as UTF-8. */
    public final String body;
    private final HttpResponse<byte[]> response;

    Reply(HttpResponse<byte[]> response) {
      this.response = response;
      this.status = response.statusCode();
      this.bytes = response.body();
      this.body = new String(bytes, StandardCharsets.UTF_8);
    }

    /**
     * {@return the single value of header {@code name}; fails if absent or repeated}
     *
     * @param name the header name, matched case-insensitively
     */
    public String header(String name) {
      List<String> values = response.headers().allValues(name);
      assertThat(values).as("values of header %s", name).hasSize(1);
      return values.get(0);
    }

    /**
     * {@return the first value of header {@code name}, if present}
     *
     * @param name the header name, matched case-insensitively
     */
    public java.util.Optional<String> optionalHeader(String name) {
      return response.headers().firstValue(name);
    }

    /** {@return every header name, lower-cased and sorted} */
    public List<String> headerNames() {
      List<String> names = new ArrayList<>(response.headers().map().keySet());
      names.replaceAll(n -> n.toLowerCase(Locale.ROOT));
      names.sort(null);
      return names;
    }

    @Override
    public String toString() {
      return status + " " + body + " " + Arrays.toString(headerNames().toArray());
    }
  }
}
