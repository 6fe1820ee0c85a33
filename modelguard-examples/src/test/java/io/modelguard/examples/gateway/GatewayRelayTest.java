package io.modelguard.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelguard.ReasonCode;
import io.modelguard.examples.AppOptions;
import io.modelguard.examples.ModelServingApp;
import io.modelguard.examples.StartupException;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.problem.ProblemRenderer;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/**
 * What the gateway makes of upstream answers that are well formed enough to be read but not to be
 * relayed as they are: coded, ambiguously framed, with headers too many for the edge to send, or
 * with headers that contradict what the gateway checked or that name the upstream. Each upstream is
 * a {@link RawUpstream} on loopback.
 */
class GatewayRelayTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
  private static final String DIGITS = "/v1/models/digits/predict";
  private static final String ALL_TEN = "{\"model\":\"digits\",\"label\":3,\"probabilities\":"
      + "[0.01,0.02,0.03,0.6,0.04,0.05,0.06,0.07,0.08,0.04]}";

  /** All ten of {@link #ALL_TEN}'s probabilities, as an upstream may put them outside the codec's member. */
  private static final String SCORES = "[0.01,0.02,0.03,0.6,0.04,0.05,0.06,0.07,0.08,0.04]";

  private static ModelServingApp gatewayTo(RawUpstream raw) throws Exception {
    return gatewayTo(Upstreams.none().withDefault(raw.baseUri()).withTimeout(Duration.ofSeconds(3)));
  }

  private static ModelServingApp gatewayTo(Upstreams upstreams) throws Exception {
    return ModelServingApp.start(AppOptions.defaults().withPort(0), QUIET, GatewayApp.endpoints(upstreams));
  }

  private static HttpResponse<String> predict(ModelServingApp edge, String label) {
    return Loopback.post(edge.baseUri(), DIGITS, "application/json",
        Loopback.body("pixels", edge.models().get(ModelCatalog.DIGITS).orElseThrow().example()),
        "X-API-Key", edge.key(label).orElseThrow().plaintext());
  }

  private static void assertProblem(HttpResponse<String> r, ReasonCode code) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(ProblemRenderer.status(code));
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.get("code").asText()).isEqualTo(code.code());
  }

  private static byte[] latin1(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void aCompressedAnswerIsNeitherAskedForNorAnInternalError() throws Exception {
    // Without Accept-Encoding any coding is acceptable (RFC 9110, 12.5.3): an upstream, or a proxy in
    // front of it, may well gzip. The output policies cannot read it: the upstream's broken answer, not
    // the edge's fault; and the gateway should say it wants none.
    ByteArrayOutputStream zipped = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(zipped)) {
      gzip.write(ALL_TEN.getBytes(StandardCharsets.UTF_8));
    }
    byte[] answer = RawUpstream.concat(latin1("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + "Content-Encoding: gzip\r\nContent-Length: " + zipped.size() + "\r\n\r\n"), zipped.toByteArray());
    try (RawUpstream raw = new RawUpstream(seen -> answer);
        ModelServingApp edge = gatewayTo(raw)) {
      HttpResponse<String> r = predict(edge, "pro");

      assertThat(raw.seen()).isNotEmpty().allSatisfy(seen ->
          assertThat(seen.head().toLowerCase(Locale.ROOT)).contains("\r\naccept-encoding: identity\r\n"));
      assertProblem(r, ReasonCode.UPSTREAM_UNAVAILABLE);
    }
  }

  @Test
  void anAnswerWithBothContentLengthAndTransferEncodingIsNotRelayed() throws Exception {
    // RFC 9112, 6.3: Transfer-Encoding overrides Content-Length, and such a message "ought to be handled
    // as an error". The JDK client reads the Content-Length instead, so the chunk framing was relayed.
    byte[] answer = latin1("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    try (RawUpstream raw = new RawUpstream(seen -> answer);
        ModelServingApp edge = gatewayTo(raw)) {
      HttpResponse<String> r = predict(edge, "pro");

      assertThat(r.body()).doesNotContain("5\r\nhe");
      assertProblem(r, ReasonCode.UPSTREAM_UNAVAILABLE);
    }
  }

  @Test
  void anAnswerWithAnUnreadableOrConflictingContentLengthIsAnUnavailableUpstreamNotAnInternalError()
      throws Exception {
    // A Content-Length the JDK client cannot parse ("5, 5", a list RFC 9112 lets a recipient refuse)
    // failed the servlet with an IllegalArgumentException: 500 internal.error, the edge blamed and a
    // stack trace logged at ERROR for each such answer. Two Content-Lengths that differ are as
    // ambiguous as Transfer-Encoding with Content-Length (RFC 9112, 6.3): the client read the first,
    // and the gateway relayed it.
    String[] heads = {"Content-Length: 5, 5", "Content-Length: five",
        "Content-Length: " + ALL_TEN.length() + "\r\nContent-Length: " + (ALL_TEN.length() + 40)};
    for (String lengths : heads) {
      byte[] answer = latin1("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + lengths + "\r\n\r\n" + ALL_TEN);
      try (RawUpstream raw = new RawUpstream(seen -> answer);
          ModelServingApp edge = gatewayTo(raw)) {
        HttpResponse<String> r = predict(edge, "pro");

        assertThat(r.body()).as(lengths).doesNotContain("0.6");
        assertProblem(r, ReasonCode.UPSTREAM_UNAVAILABLE);
      }
    }
  }

  @Test
  void headersTooManyForTheEdgeToSendAreAnUnavailableUpstreamNotAnInternalError() throws Exception {
    // Well under the JDK client's limit, well over what the edge's Jetty sends (8 KiB of response
    // header): the answer failed at the edge with Jetty's 500, without the guard's headers. A header
    // the gateway does not relay (X-Debug) costs the edge nothing; one it relays counts.
    try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response("200 OK", ALL_TEN,
            "Content-Type: application/json", "X-Model-Version: " + "7".repeat(20_000),
            "X-Debug: " + "a".repeat(20_000)));
        ModelServingApp edge = gatewayTo(raw)) {
      HttpResponse<String> r = predict(edge, "pro");

      assertProblem(r, ReasonCode.UPSTREAM_UNAVAILABLE);
      assertThat(r.headers().firstValue("RateLimit")).isPresent();
    }
  }

  @Test
  void theContentTypeRelayedIsTheOneTheGatewayChecked() throws Exception {
    // The gateway checked the first Content-Type and relayed both: a browser takes the last one.
    try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response("200 OK", ALL_TEN,
            "Content-Type: application/json", "Content-Type: text/html"));
        ModelServingApp edge = gatewayTo(raw)) {
      HttpResponse<String> r = predict(edge, "pro");

      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.headers().allValues("Content-Type")).containsExactly("application/json");
    }
  }

  @Test
  void headersThatNameTheUpstreamsHostsOrSoftwareAreNotRelayed() throws Exception {
    try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response("200 OK", ALL_TEN,
            "Content-Type: application/json", "X-Model-Version: 7", "Via: 1.1 10.0.0.7:9000 (nginx/1.18.0)",
            "X-Powered-By: Express 4.17.1"));
        ModelServingApp edge = gatewayTo(raw)) {
      HttpResponse<String> r = predict(edge, "pro");

      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.headers().firstValue("X-Model-Version")).contains("7");
      assertThat(r.headers().firstValue("Via")).isEmpty();
      assertThat(r.headers().firstValue("X-Powered-By")).isEmpty();
      assertThat(r.headers().map().toString()).doesNotContain("10.0.0.7").doesNotContain("Express");
    }
  }

  @Test
  void onlyTheHeadersKnownToCarryNothingOfThePredictionAreRelayed() throws Exception {
    // The output policies read the body alone: a header the gateway relayed because no deny list named
    // it (X-Raw-Scores) took all ten probabilities past the free tier's top-3 cut, on a 200 as on a 204.
    for (String status : List.of("204 No Content", "200 OK")) {
      String body = status.startsWith("200") ? ALL_TEN : "";
      try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response(status, body,
              "Content-Type: application/json", "X-Model-Version: 7", "X-Raw-Scores: " + SCORES,
              "X-Request-Id: r-1"));
          ModelServingApp edge = gatewayTo(raw)) {
        HttpResponse<String> r = predict(edge, "free");

        assertThat(r.headers().firstValue("X-Raw-Scores")).as(status).isEmpty();
        assertThat(r.headers().firstValue("X-Request-Id")).as(status).isEmpty();
        // The top 3 are 0.6, 0.08 and 0.07: the free tier sees neither 0.01 nor 0.02 anywhere.
        assertThat(r.headers().map().toString()).as(status).doesNotContain("0.01").doesNotContain("0.02");
        assertThat(r.body()).as(status).doesNotContain("0.01").doesNotContain("0.02");
        assertThat(r.statusCode()).as(status).isEqualTo(Integer.parseInt(status.substring(0, 3)));
        assertThat(r.headers().firstValue("X-Model-Version")).as(status).contains("7");
      }
    }
  }

  @Test
  void anOperatorNamesTheFurtherHeadersTheGatewayRelays() throws Exception {
    try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response("200 OK", ALL_TEN,
            "Content-Type: application/json", "X-Model-Version: 7", "X-Request-Id: r-1", "X-Raw-Scores: " + SCORES));
        ModelServingApp edge = gatewayTo(Upstreams.none().withDefault(raw.baseUri())
            .withTimeout(Duration.ofSeconds(3)).withRelayedHeader("x-request-id"))) {
      HttpResponse<String> r = predict(edge, "free");

      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.headers().firstValue("X-Request-Id")).contains("r-1");
      assertThat(r.headers().firstValue("X-Model-Version")).contains("7");
      assertThat(r.headers().firstValue("X-Raw-Scores")).isEmpty();
    }
  }

  @Test
  void aRelayedHeaderIsNamedOnTheCommandLineAndOneTheEdgeSetsIsRefused() throws Exception {
    List<String> rest = new ArrayList<>();
    Upstreams u = GatewayApp.parse(new String[] {"--upstream", "http://127.0.0.1:9000", "--relay-header",
        "X-Request-Id", "--relay-header=X-Trace", "--port", "0"}, rest);

    assertThat(rest).containsExactly("--port", "0");
    assertThat(u.relayedHeaders()).containsExactlyInAnyOrder("x-model-version", "x-request-id", "x-trace");
    // The guard's and the gateway's own headers, and those framing the message, are not the upstream's to set.
    for (String name : List.of("RateLimit-Policy", "Retry-After", "Content-Length", "Cache-Control", "Connection")) {
      assertThatThrownBy(() -> GatewayApp.parse(new String[] {"--upstream", "http://127.0.0.1:9000",
          "--relay-header", name}, new ArrayList<>()))
          .as(name).isInstanceOf(StartupException.class).hasMessageStartingWith("--relay-header: ");
    }
    assertThatThrownBy(() -> Upstreams.none().withRelayedHeader("X-Bad Name"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a header name");
  }

  @Test
  void anUpstreamProblemIsRelayedWithItsStandardMembersOnly() throws Exception {
    // The codec finds no prediction in it, so the output policies pass it as it is: its "scores" reached
    // the free tier whole. Non-string members, over-long ones and a status other than the answer's go too.
    String problem = "{\"type\":\"https://models.example/problems/out-of-range\",\"title\":\"Out of range\","
        + "\"status\":200,\"detail\":\"" + "pixel 3 is over 16".repeat(100) + "\",\"instance\":{\"id\":1},"
        + "\"code\":\"input.out_of_range\",\"scores\":" + SCORES + ",\"label\":3}";
    try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response("422 Unprocessable Content", problem,
            "Content-Type: application/problem+json; charset=utf-8"));
        ModelServingApp edge = gatewayTo(raw)) {
      HttpResponse<String> r = predict(edge, "free");

      assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
      assertThat(r.headers().allValues("Content-Type")).containsExactly("application/problem+json");
      assertThat(r.body()).isEqualTo("{\"type\":\"https://models.example/problems/out-of-range\","
          + "\"title\":\"Out of range\",\"status\":422,\"code\":\"input.out_of_range\"}");
    }
  }

  @Test
  void anUpstreamProblemsInstanceIsRelayedOnlyIfItNamesNoHost() throws Exception {
    // The occurrence's URL on the upstream names its host, as a Location would (which is dropped).
    for (String instance : List.of("http://10.0.0.7:9000/requests/42", "//10.0.0.7/requests/42", "urn:x:42", "%%")) {
      String problem = "{\"title\":\"Out of range\",\"status\":422,\"instance\":\"" + instance + "\"}";
      try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response("422 Unprocessable Content", problem,
              "Content-Type: application/problem+json"));
          ModelServingApp edge = gatewayTo(raw)) {
        HttpResponse<String> r = predict(edge, "free");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
        assertThat(r.body()).as(instance).isEqualTo("{\"title\":\"Out of range\",\"status\":422}");
      }
    }
    String relative = "{\"title\":\"Out of range\",\"status\":422,\"instance\":\"/requests/42\"}";
    try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response("422 Unprocessable Content", relative,
            "Content-Type: application/problem+json"));
        ModelServingApp edge = gatewayTo(raw)) {
      assertThat(predict(edge, "free").body()).isEqualTo(relative);
    }
  }

  @Test
  void anUpstreamProblemThatCarriesThePredictionIsLeftToTheOutputPolicies() throws Exception {
    // A 422's partial scores where the codec reads them: the free tier's cut rewrites the answer after the
    // gateway, dropping what the codec does not keep; the gateway must not strip the prediction first.
    String problem = "{\"title\":\"Low confidence\",\"status\":422,\"model\":\"digits\",\"label\":3,"
        + "\"probabilities\":" + SCORES + ",\"scores\":" + SCORES + "}";
    try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response("422 Unprocessable Content", problem,
            "Content-Type: application/problem+json"));
        ModelServingApp edge = gatewayTo(raw)) {
      HttpResponse<String> free = predict(edge, "free");
      HttpResponse<String> pro = predict(edge, "pro");

      assertThat(free.statusCode()).as(free.body()).isEqualTo(422);
      JsonNode cut = JSON.readTree(free.body());
      assertThat(cut.has("scores")).as(free.body()).isFalse();
      assertThat(cut.get("label").asInt()).isEqualTo(3);
      long nonZero = 0;
      for (JsonNode p : cut.get("probabilities")) {
        nonZero += p.asDouble() != 0 ? 1 : 0;
      }
      assertThat(nonZero).as(free.body()).isEqualTo(3);
      // A tier of full fidelity gets the model server's answer as it wrote it.
      assertThat(pro.statusCode()).isEqualTo(422);
      assertThat(JSON.readTree(pro.body())).isEqualTo(JSON.readTree(problem));
    }
  }

  @Test
  void theContentTypeRelayedCarriesNoParameterOfTheUpstreams() throws Exception {
    // Content-Type was relayed as the upstream spelled it, so its parameters, or a +json subtype's name,
    // took all ten probabilities past the free tier's cut, as X-Raw-Scores did; on a 204 as well.
    String[][] answers = {
        {"200 OK", ALL_TEN, "application/json; scores=\"" + SCORES + "\"", "application/json"},
        {"200 OK", ALL_TEN, "application/vnd.s-0.01-0.02-0.03-0.6-0.04-0.05+json", "application/json"},
        {"422 Unprocessable Content", ALL_TEN, "application/problem+json; scores=\"" + SCORES + "\"",
            "application/problem+json"},
        {"204 No Content", "", "text/plain; scores=\"" + SCORES + "\"", null}};
    for (String[] a : answers) {
      try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response(a[0], a[1], "Content-Type: " + a[2]));
          ModelServingApp edge = gatewayTo(raw)) {
        HttpResponse<String> r = predict(edge, "free");

        assertThat(r.statusCode()).as(a[2]).isEqualTo(Integer.parseInt(a[0].substring(0, 3)));
        assertThat(r.headers().map().toString()).as(a[2]).doesNotContain("0.01").doesNotContain("0.02");
        assertThat(r.headers().allValues("Content-Type")).as(a[2])
            .isEqualTo(a[3] == null ? List.of() : List.of(a[3]));
      }
    }
  }

  @Test
  void anUpstreamProblemInTheGuardsOwnWordsAboutTheGatewayIsNotRelayed() throws Exception {
    // An upstream behind a guard of its own refuses the gateway (which forwards no credentials) or its
    // quota there: relayed, the client read the edge's auth.missing_credentials or quota.exceeded, in the
    // edge's own words, while the edge's RateLimit said it had quota left.
    String[][] refused = {
        {"401 Unauthorized", "{\"type\":\"urn:modelguard:problem:auth.missing_credentials\","
            + "\"title\":\"Missing credentials\",\"status\":401,\"code\":\"auth.missing_credentials\"}"},
        {"429 Too Many Requests", "{\"title\":\"Quota exceeded\",\"code\":\"quota.exceeded\"}"},
        {"422 Unprocessable Content", "{\"title\":\"Invalid token\",\"code\":\"auth.invalid_token\"}"},
        {"400 Bad Request", "{\"type\":\"urn:modelguard:problem:input.invalid\",\"title\":\"Invalid input\"}"},
        {"403 Forbidden", "{\"type\":\"urn:modelguard:problem:whatever\"}"}};
    for (String[] a : refused) {
      try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response(a[0], a[1],
              "Content-Type: application/problem+json"));
          ModelServingApp edge = gatewayTo(raw)) {
        HttpResponse<String> r = predict(edge, "pro");

        assertThat(r.body()).as(a[1]).doesNotContain("auth.").doesNotContain("quota.exceeded")
            .doesNotContain("input.invalid");
        assertProblem(r, ReasonCode.UPSTREAM_UNAVAILABLE);
      }
    }
    // The model server's own input refusal, with the status the contract gives it, is relayed.
    String invalid = "{\"type\":\"urn:modelguard:problem:input.invalid\",\"title\":\"Invalid input\","
        + "\"status\":422,\"code\":\"input.invalid\"}";
    try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response("422 Unprocessable Content", invalid,
            "Content-Type: application/problem+json"));
        ModelServingApp edge = gatewayTo(raw)) {
      HttpResponse<String> r = predict(edge, "pro");

      assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
      assertThat(r.body()).isEqualTo(invalid);
    }
  }

  @Test
  void anUpstreamProblemThatIsNotAJsonObjectIsNotRelayed() throws Exception {
    for (String body : List.of("scores: " + SCORES, SCORES, "\"" + SCORES + "\"", "")) {
      try (RawUpstream raw = new RawUpstream(seen -> RawUpstream.response("422 Unprocessable Content", body,
              "Content-Type: application/problem+json"));
          ModelServingApp edge = gatewayTo(raw)) {
        HttpResponse<String> r = predict(edge, "free");

        assertThat(r.body()).as(body).doesNotContain("0.01");
        assertProblem(r, ReasonCode.UPSTREAM_UNAVAILABLE);
      }
    }
  }
}
