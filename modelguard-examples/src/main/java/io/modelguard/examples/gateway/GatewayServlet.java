package io.modelguard.examples.gateway;

import io.modelguard.GuardDecision;
import io.modelguard.ModelSecured;
import io.modelguard.PathTemplate;
import io.modelguard.ReasonCode;
import io.modelguard.examples.http.PredictServlet;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/models/{model}/predict} in gateway mode: forwards the request to the model's
 * upstream ({@link Upstreams}) and relays the answer. It is a {@code @ModelSecured} servlet like
 * {@link PredictServlet}, so {@code ModelGuardFilter} applies the whole default chain at the edge
 * before it runs (authentication, model access, quota, input validation, extraction detection) and
 * the output policies after it, on the upstream's answer (the extraction defence's observation and
 * perturbation, the free tier's top-k).
 *
 * <p>What crosses the edge:
 *
 * <ul>
 *   <li>to the upstream: the body (at most {@value #MAX_REQUEST_BYTES} bytes, already validated),
 *       {@code Content-Type} and {@code Accept}; never the caller's credentials ({@code X-API-Key},
 *       {@code Authorization}, cookies) nor hop-by-hop headers;
 *   <li>to the client: the upstream's status and body (at most {@value #MAX_RESPONSE_BYTES} bytes)
 *       and its end-to-end headers, less the hop-by-hop ones ({@code Connection} and the headers
 *       it names, {@code Keep-Alive}, {@code Transfer-Encoding}, {@code TE}, {@code Trailer},
 *       {@code Upgrade}, {@code Proxy-*}), {@code Content-Length} (recomputed) and {@code
 *       Set-Cookie}.
 * </ul>
 *
 * <p>Failures are problem responses, never the upstream's internals: no answer within the timeout
 * is {@code 504 upstream.timeout}; no connection, a broken or oversized answer, or an upstream 5xx
 * is {@code 502 upstream.unavailable}; a model without an upstream is {@code 502
 * upstream.unavailable} too (and logged). An upstream 4xx is relayed as it is (the upstream's own
 * input checks). Thread-safe.
 */
@ModelSecured(model = "{model}", path = PredictServlet.PATH)
public final class GatewayServlet extends HttpServlet {
  /** The largest request body forwarded (the largest a demo model accepts). */
  public static final int MAX_REQUEST_BYTES = PredictServlet.MAX_BODY_BYTES;
  /** The largest upstream answer relayed; a prediction is well under 1 KiB. */
  public static final int MAX_RESPONSE_BYTES = 64 * 1024;

  private static final long serialVersionUID = 1L;
  private static final Logger log = LoggerFactory.getLogger(GatewayServlet.class);
  private static final PathTemplate TEMPLATE = PathTemplate.compile(PredictServlet.PATH);
  private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "transfer-encoding", "te",
      "trailer", "upgrade", "proxy-authenticate", "proxy-authorization", "proxy-connection");
  /** Answer headers the gateway sets itself or never relays. */
  private static final Set<String> NOT_RELAYED = Set.of("content-length", "set-cookie", "date", "server");
  private static final List<String> FORWARDED_REQUEST_HEADERS = List.of("Content-Type", "Accept");

  private final transient Upstreams upstreams;
  private final transient HttpClient http;

  /** Forwards to {@code upstreams} with {@code http}. */
  public GatewayServlet(Upstreams upstreams, HttpClient http) {
    this.upstreams = Objects.requireNonNull(upstreams, "upstreams");
    this.http = Objects.requireNonNull(http, "http");
  }

  /** A client for upstreams: HTTP/1.1, no redirects, connecting within the upstream timeout. */
  public static HttpClient client(Upstreams upstreams) {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(upstreams.timeout())
        .build();
  }

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
    Optional<String> model = Optional.ofNullable(TEMPLATE.variable(path, "model"));
    if (model.isEmpty()) {
      response.sendError(HttpServletResponse.SC_NOT_FOUND);
      return;
    }
    Optional<URI> target = upstreams.predictUri(model.get());
    if (target.isEmpty()) {
      log.error("POST {}: model '{}' has no upstream (see --upstream)", path, model.get());
      send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    }
    byte[] body;
    try (InputStream in = request.getInputStream()) {
      body = in.readNBytes(MAX_REQUEST_BYTES + 1);
    }
    if (body.length > MAX_REQUEST_BYTES) {
      send(response, ReasonCode.INPUT_TOO_LARGE);
      return;
    }
    HttpRequest.Builder forward = HttpRequest.newBuilder(target.get())
        .timeout(upstreams.timeout())
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    for (String name : FORWARDED_REQUEST_HEADERS) {
      String value = request.getHeader(name);
      if (value != null) {
        forward.header(name, value);
      }
    }
    HttpResponse<InputStream> answer;
    byte[] answerBody;
    try {
      answer = http.send(forward.build(), HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = answer.body()) {
        answerBody = in.readNBytes(MAX_RESPONSE_BYTES + 1);
      }
    } catch (HttpTimeoutException e) {
      log.warn("POST {}: upstream {} did not answer within {} ms", path, target.get(), upstreams.timeout().toMillis());
      send(response, ReasonCode.UPSTREAM_TIMEOUT);
      return;
    } catch (IOException e) {
      log.warn("POST {}: upstream {} unavailable ({})", path, target.get(), e.getClass().getSimpleName());
      send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    }
    if (answerBody.length > MAX_RESPONSE_BYTES) {
      log.warn("POST {}: upstream {} answered more than {} bytes; not relayed", path, target.get(), MAX_RESPONSE_BYTES);
      send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    }
    if (answer.statusCode() >= 500 || answer.statusCode() < 200) {
      log.warn("POST {}: upstream {} answered {}; not relayed", path, target.get(), answer.statusCode());
      send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    }
    relay(answer, answerBody, response);
  }

  private static void relay(HttpResponse<?> answer, byte[] body, HttpServletResponse response) throws IOException {
    Map<String, List<String>> headers = answer.headers().map();
    Set<String> named = new HashSet<>();
    answer.headers().allValues("connection").forEach(v -> {
      for (String token : v.split(",")) {
        named.add(token.strip().toLowerCase(Locale.ROOT));
      }
    });
    response.setStatus(answer.statusCode());
    headers.forEach((name, values) -> {
      String lower = name.toLowerCase(Locale.ROOT);
      if (lower.startsWith(":") || HOP_BY_HOP.contains(lower) || lower.startsWith("proxy-")
          || NOT_RELAYED.contains(lower) || named.contains(lower)) {
        return;
      }
      values.forEach(v -> response.addHeader(name, v));
    });
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }

  private static void send(HttpServletResponse response, ReasonCode reason) throws IOException {
    ProblemResponse problem = ProblemRenderer.render(GuardDecision.deny(reason));
    response.setStatus(problem.status());
    problem.headers().forEach(response::setHeader);
    response.setContentType(problem.contentType());
    response.setContentLength(problem.body().length);
    response.getOutputStream().write(problem.body());
  }
}
