package io.modelguard.jaxrs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.ModelSecured;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Request bodies over HTTP/2, which frames a body of any length: one may come without {@code
 * Content-Length} and, HTTP/2 having no chunking, without {@code Transfer-Encoding} either, which in
 * HTTP/1.1 would mean no body at all. On a real runtime in Jetty with a cleartext HTTP/2 connector;
 * the JDK client's connection is upgraded to HTTP/2 by a first request without a body, and every
 * request after it goes over HTTP/2 on that connection.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class Http2BodiesTest {
  /** Below the 1 MiB a denial reads and discards, many times the stream window of the server. */
  private static final int DISCARDED_BODY = 900_000;

  private Deployment deployment;
  /** The same guard, its client address configured: the protocol must still be known. */
  private Deployment withAddress;

  /** The runtime under test. */
  protected abstract JaxrsRuntime runtime();

  @BeforeAll
  void start() throws Exception {
    deployment = runtime().deployWithHttp2(
        TestApplication.builder(new ModelGuardFeature(guard()))
            .resources(Http2Resources.class, ReaderTakingFilter.class, ConnectionFieldEcho.class).build());
    withAddress = runtime().deployWithHttp2(TestApplication.builder(
            ModelGuardFeature.builder(guard()).remoteAddress(request -> Optional.of("192.0.2.7")).build())
        .resources(Http2Resources.class).build());
  }

  @AfterAll
  void stop() throws Exception {
    for (Deployment d : new Deployment[] {deployment, withAddress}) {
      if (d != null) {
        d.close();
      }
    }
  }

  private static ModelGuard guard() {
    return ModelGuard.builder()
        .auditLog(false)
        .models("digits")
        .chain(ModelGuard.DEFAULT_CHAIN, chain -> {})
        // An output policy that never asks for the request body.
        .chain("body-blind-output", chain -> chain.output(OutputPhase.PERTURB, "tag", ctx ->
            ModelOutput.of((ctx.output().bodyAsString() + " | tagged").getBytes(UTF_8), "text/plain")))
        // An output policy that reads the request body no request policy read.
        .chain("late-body", chain -> chain.output(OutputPhase.PERTURB, "late-body", ctx -> {
          try {
            return ModelOutput.of((ctx.output().bodyAsString() + " | policies saw "
                + new String(ctx.request().body(1024), UTF_8)).getBytes(UTF_8), "text/plain");
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }))
        .chain("deny", chain -> chain.policy(Phase.VALIDATE, "deny",
            ctx -> GuardDecision.deny(ReasonCode.INPUT_INVALID)))
        .build();
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aBodyWithoutLengthReachesAResourceReadingTheServletRequestIntactUnderOutputPolicies(boolean addressConfigured)
      throws Exception {
    // Taken for HTTP/1.1's "no body", the body's first byte was read to tell an empty one and
    // replayed only through JAX-RS: the resource reading the servlet request's stream got "uery".
    Http2 client = Http2.to(addressConfigured ? withAddress : deployment);

    HttpResponse<String> r = client.post("/h2/servlet-stream", "query\ndecoy".getBytes(UTF_8));

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("model saw query\ndecoy | tagged");
  }

  @Test
  void anOutputPolicyGetsNoneOfABodyWithoutLengthNoRequestPolicyReadEvenAnEmptyOne() throws Exception {
    // As for a chunked body in HTTP/1.1: telling an empty one would take the first byte of one that
    // is not from the servlet request's stream, which the resource may read instead.
    Http2 client = Http2.to(deployment);

    HttpResponse<String> r = client.post("/h2/ignored", new byte[0]);

    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).doesNotContain("saw").isEqualTo(ProblemRenderer.internalError().bodyAsString());
  }

  @Test
  void aDeniedBodyWithoutLengthIsReadAndDiscardedBeforeTheDenial() throws Exception {
    // Taken for "no body", it was left unread: the client could send no more of it than the
    // stream's window, and the JDK client, still sending, never got the denial (the request timed
    // out; with a larger window, GOAWAY ended the connection). Read to its end, every byte is taken
    // before the denial is sent.
    Http2 client = Http2.to(deployment);
    AtomicLong sent = new AtomicLong();

    HttpResponse<String> r = client.post("/h2/denied", new byte[DISCARDED_BODY], sent);

    assertThat(sent.get()).as("bytes the client could send before the denial").isEqualTo(DISCARDED_BODY);
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(r.body()).contains("\"code\":\"input.invalid\"");
    // The connection still serves the next request.
    assertThat(client.get("/h2/protocol").body()).isEqualTo("HTTP/2.0");
  }

  @Test
  void aDenialOverHttp2WhoseBodyWasLeftUnreadSaysNoConnectionClose() throws Exception {
    // An earlier filter took the servlet request's reader, so the guard cannot read the body of a
    // request without Content-Length to its end: over HTTP/2 a GET may have one. Connection is an
    // HTTP/1.x field, which makes an HTTP/2 message malformed (RFC 9113, section 8.2.2): Jetty drops
    // it, but Tomcat sends it as set, and a strict client (curl's nghttp2) then resets the stream and
    // never sees the denial. What the runtime was handed is echoed, since Jetty hides it.
    Http2 client = Http2.to(deployment);

    HttpResponse<String> r = client.client().send(HttpRequest.newBuilder(URI.create(deployment.baseUri() + "/h2/denied"))
        .header(ReaderTakingFilter.HEADER, "yes")
        .timeout(Duration.ofSeconds(10))
        .build(), HttpResponse.BodyHandlers.ofString(UTF_8));

    assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(r.headers().allValues(ConnectionFieldEcho.HEADER)).isEmpty();
  }

  /** A JDK client whose one connection to a deployment has been upgraded to HTTP/2. */
  private record Http2(HttpClient client, URI base) {
    static Http2 to(Deployment deployment) throws IOException, InterruptedException {
      HttpClient client = HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_2)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
      // Upgraded from HTTP/1.1 (h2c): the JDK client knows no HTTP/2 over cleartext by prior knowledge.
      HttpResponse<String> upgrade = client.send(HttpRequest.newBuilder(URI.create(deployment.baseUri() + "/h2/protocol"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString(UTF_8));
      assertThat(upgrade.version()).isEqualTo(HttpClient.Version.HTTP_2);
      return new Http2(client, deployment.baseUri());
    }

    /** Gets {@code path}. */
    HttpResponse<String> get(String path) throws IOException, InterruptedException {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + path))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString(UTF_8));
      assertThat(r.version()).as(path).isEqualTo(HttpClient.Version.HTTP_2);
      return r;
    }

    /** Posts {@code body} in DATA frames, without {@code Content-Length}: its length is not known ahead. */
    HttpResponse<String> post(String path, byte[] body) throws IOException, InterruptedException {
      return post(path, body, new AtomicLong());
    }

    /**
     * As {@link #post(String, byte[])}, counting in {@code sent} the bytes the client took of the body
     * to send: as flow control lets it, so at most a stream window (and one buffer) more than the
     * server read.
     */
    HttpResponse<String> post(String path, byte[] body, AtomicLong sent) throws IOException, InterruptedException {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + path))
          .header("Content-Type", "application/octet-stream")
          .timeout(Duration.ofSeconds(10))
          .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new FilterInputStream(new ByteArrayInputStream(body)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
              int n = super.read(b, off, len);
              sent.addAndGet(Math.max(n, 0));
              return n;
            }
          }))
          .build(), HttpResponse.BodyHandlers.ofString(UTF_8));
      assertThat(r.version()).as(path).isEqualTo(HttpClient.Version.HTTP_2);
      return r;
    }
  }

  /** The resources, answering {@code text/plain}. */
  @Path("/h2")
  @Consumes(MediaType.WILDCARD)
  @Produces(MediaType.TEXT_PLAIN)
  public static class Http2Resources {
    /** Unguarded: the protocol the servlet container received the request in. */
    @GET
    @Path("protocol")
    public String protocol(@Context HttpServletRequest request) {
      return request.getProtocol();
    }

    /** Reads the whole body from the servlet request's stream, under an output policy that does not ask for it. */
    @POST
    @Path("servlet-stream")
    @ModelSecured(model = "digits", chain = "body-blind-output")
    public String servletStream(@Context HttpServletRequest request) throws IOException {
      return "model saw " + new String(request.getInputStream().readAllBytes(), UTF_8);
    }

    /** Reads nothing of the body, under an output policy that reads it. */
    @POST
    @Path("ignored")
    @ModelSecured(model = "digits", chain = "late-body")
    public String ignored() {
      return "model saw nothing";
    }

    /** Never reached: every request is denied. */
    @GET
    @Path("denied")
    @ModelSecured(model = "digits", chain = "deny")
    public String deniedGet() {
      return "never";
    }

    /** Never reached: every request is denied. */
    @POST
    @Path("denied")
    @ModelSecured(model = "digits", chain = "deny")
    public String denied() {
      return "never";
    }
  }

  /**
   * Takes the servlet request's reader before any other filter runs, for a request with {@value
   * #HEADER}, as a request-logging servlet filter may: the servlet request's stream can then no
   * longer be opened, so the guard cannot read a body to its end.
   */
  @PreMatching
  public static class ReaderTakingFilter implements ContainerRequestFilter {
    static final String HEADER = "X-Take-Reader";
    @Context private HttpServletRequest servletRequest;

    @Override
    public void filter(ContainerRequestContext request) throws IOException {
      if (request.getHeaderString(HEADER) != null) {
        servletRequest.getReader();
      }
    }
  }

  /**
   * Copies a {@code Connection} field the runtime was handed (a denial's included: response filters
   * run on it too) into {@value #HEADER}, which the container sends whatever the protocol.
   */
  public static class ConnectionFieldEcho implements ContainerResponseFilter {
    static final String HEADER = "X-Handed-Connection";

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
      String connection = response.getHeaderString("Connection");
      if (connection != null) {
        response.getHeaders().putSingle(HEADER, connection);
      }
    }
  }
}
