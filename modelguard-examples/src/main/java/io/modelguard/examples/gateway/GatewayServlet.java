package io.modelguard.examples.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelguard.GuardDecision;
import io.modelguard.ModelSecured;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.examples.DemoText;
import io.modelguard.examples.ModelServingApp;
import io.modelguard.examples.http.PredictServlet;
import io.modelguard.examples.model.ForwardedImage;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.examples.model.Predictions;
import io.modelguard.input.FetchedInputs;
import io.modelguard.internal.LogPace;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import io.modelguard.servlet.ModelGuardFilter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

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
 *   <li>to the upstream: the body (at most {@value #MAX_REQUEST_BYTES} bytes, already validated) and
 *       {@code Content-Type}; for {@code image-classifier}, instead of the client's body with its
 *       {@code imageUrl}, the image ModelGuard fetched and checked at the edge ({@link
 *       FetchedInputs}), in {@link ForwardedImage}'s form as {@code application/json}, so that the
 *       upstream classifies exactly those bytes and never fetches (nor learns) the URL; never the
 *       caller's credentials ({@code X-API-Key}, {@code Authorization}, cookies), nor hop-by-hop
 *       headers, nor the caller's {@code Accept}: the gateway asks for {@value #ACCEPT}, the only
 *       forms the output policies read, so that a client cannot have a model server that
 *       negotiates answer in a form (CSV, say) that would pass them unread, and for {@code
 *       Accept-Encoding: identity}, since they read no coded body either;
 *   <li>to the client: the upstream's status and body (at most {@value #MAX_RESPONSE_BYTES} bytes;
 *       an upstream 4xx's body as below) and, of its headers, only those known to carry nothing of
 *       the prediction: {@code Content-Type}, the first one, checked, and relayed as the bare {@code
 *       application/json} or {@code application/problem+json} it is (parameters and a {@code +json}
 *       subtype's name are the upstream's free text; none for an empty body), and {@link
 *       Upstreams#relayedHeaders()} ({@link Upstreams#DEFAULT_RELAYED_HEADERS} and the names an
 *       operator adds with {@code --relay-header}), unless the answer's {@code Connection} names
 *       them (then they are for one hop). Every other header is dropped. The output policies read
 *       the body alone, so a header of the upstream's own (an {@code X-Raw-Scores}, say) would take
 *       the model's exact answer past the tier's cut and the extraction defence's noise; and most
 *       others are the edge's to set ({@code RateLimit*}, {@code Retry-After}, {@code
 *       WWW-Authenticate}, {@code Set-Cookie}, {@code Strict-Transport-Security}, ...), name the
 *       upstream's hosts, URLs or software ({@code Location}, {@code Link}, {@code Via}, ...) or
 *       are for one hop. The gateway sets {@code Content-Length} and {@code Cache-Control: no-store},
 *       as the in-process {@link PredictServlet} does, because the answer is per caller (tier
 *       fidelity, the extraction defence's perturbation, quota headers) whatever the upstream thinks
 *       of it. An upstream redirect (3xx) is neither relayed nor followed.
 * </ul>
 *
 * <p>A successful (2xx) answer with a body is relayed only if its {@code Content-Type} is JSON
 * ({@code application/json} or {@code application/*+json}): the output policies read JSON, and an
 * answer in any other form would pass them unread, all its probabilities with it. Any other is
 * {@code 502 upstream.unavailable}, logged with its type.
 *
 * <p>Failures are problem responses, never the upstream's internals: an answer (headers and whole
 * body) not complete within {@link Upstreams#timeout()} is {@code 504 upstream.timeout}, and the
 * connection to the upstream is closed; no connection, a broken or oversized answer (more than
 * {@value #MAX_RESPONSE_BYTES} bytes of body or {@value #MAX_RELAYED_HEADER_BYTES} of headers to
 * relay), an ambiguously framed one ({@code Transfer-Encoding} and {@code Content-Length}, or {@code
 * Content-Length}s that differ), one whose head the client cannot read (a {@code Content-Length}
 * that is not a number), a coded one ({@code Content-Encoding}), an upstream 3xx or 5xx is {@code
 * 502 upstream.unavailable}; a model without an upstream is {@code 502 upstream.unavailable} too
 * (and logged). A tenant gets at most {@value #MAX_IN_FLIGHT_PER_TENANT} predictions waiting on
 * upstreams at once, each of which holds one of the edge's request threads; one more is {@code 429
 * quota.exceeded}. One upstream has at most {@value #MAX_IN_FLIGHT_PER_UPSTREAM} waiting on it and
 * all of them together at most {@value #MAX_IN_FLIGHT}; one more is {@code 502 upstream.unavailable}.
 *
 * <p>The lines it logs about what it refused or could not relay (at an in-flight cap, an upstream's
 * failure or an answer not relayed, a model without an upstream) are paced ({@link LogPace}):
 * at WARN (ERROR for a configuration fault) at most once a minute per kind of line and upstream it
 * names (a model's predict URL, for an upstream's failures), each saying how many like it went to
 * DEBUG since: a model's failure that a client repeats hides no other model's, nor another kind. A
 * client can repeat a refusal that costs it no quota (see below) as fast as the edge answers, and
 * a line for each would fill the operator's disk and bury every other warning.
 *
 * <p>An upstream 4xx is relayed (with the headers above) only when it is the model server's own
 * refusal meant for the client: its {@code Content-Type} is {@code application/problem+json}, the
 * form in which the demo's model server (and ModelGuard) refuses input, and the status is neither
 * {@code 404} nor {@code 405}. Any other 4xx becomes {@code 502 upstream.unavailable}, logged with
 * the upstream's status: an HTML or plain-text error page is the upstream container's, and it names
 * the upstream's URL and server version, which should not be disclosed any more than its {@code
 * Location}; and since the gateway only ever POSTs to the predict URI of a model the guard has
 * accepted, a {@code 404} or {@code 405} means the upstream (or the {@code --upstream} URL, say a
 * wrong base path) is misconfigured, which is not the client's error. The problem relayed keeps
 * only the members of RFC 9457 and ModelGuard's problems: {@code type}, {@code title}, {@code
 * detail}, {@code instance} and {@code code}, each only if a string of at most {@value
 * #MAX_PROBLEM_MEMBER_CHARS} characters ({@code instance} only if a relative reference: a URL
 * there names the upstream's host, as a {@code Location} would), and {@code status}, always the
 * answer's own; it is
 * written anew, as {@code application/problem+json} in UTF-8. The output policies pass an error
 * answer in which the codec finds no prediction as it is, so any other member (a {@code "scores"}
 * array, say) would reach the client whole. A problem that is not a JSON object is {@code 502
 * upstream.unavailable}, and so is one that claims a reason code of the guard's own (in {@code
 * code}, or as a {@code urn:modelguard:problem:} {@code type}) other than an {@code input.*} one
 * with the status the error contract gives it: an upstream guard's {@code auth.*} or {@code
 * quota.exceeded} is about the gateway's access, not the client's. The exception is a refusal
 * that carries the prediction where the model's codec reads it ({@link ModelCatalog#codec}; a
 * {@code 422}'s partial scores): it is relayed as the upstream wrote it, since the output policies,
 * which rewrite the body after this servlet wrote it, cut or noise it as they do a {@code 200}'s,
 * and their rewrite keeps only what the codec keeps.
 *
 * <p>What the tenant's quota is charged: the guard charges every prediction it allows before this
 * servlet runs, and the gateway gives the charge back ({@link ModelServingApp#UNSERVED_ATTRIBUTE},
 * settled at the guard's {@code RECORD} phase) for a prediction it refuses for its own reasons
 * before forwarding anything: at an in-flight cap (the tenant's {@code 429}, an upstream's or the
 * whole edge's {@code 502}), for a model without an upstream ({@code 502}) or without the image the
 * guard fetched ({@code 500}), and when the upstream refused the connection ({@code 502}) or did
 * not accept it in time ({@code 504}), since then nothing reached it either. Not for an {@code
 * image-classifier} prediction whose image the guard fetched: the edge fetched it from a host of
 * the client's choosing, and the charge is what limits how often a tenant has it fetch, even while
 * the upstream is down or at its cap. The refusal's {@code RateLimit} fields, decided by the guard
 * with the request, still count the charge it gives back: {@code r} is the endpoint's cost lower
 * than the store holds once the refund is made and, for a token bucket, {@code t} is up to the
 * refill time of that cost longer; the tenant's next answer shows the refund. The gateway cannot
 * correct them: the refund is made only at the guard's {@code RECORD} phase, after this servlet
 * answered, and a store may drop it ({@code ResilientQuotaStore} while the shared store that
 * decided the charge is down), so adding the cost back here could report a refund that never
 * happened; and {@code t} is rounded up to whole seconds, from which the refilled reset cannot be
 * computed. Fields that agree with the refund need the engine to carry, with an allowed settled
 * charge, its figures as refunded (as it does for a released hold) and to report them only once
 * the store took the refund. A body over {@value #MAX_REQUEST_BYTES} bytes (the guard's input policy
 * refuses those first) stays charged, as the guard's own input refusals do. So does every
 * prediction sent on a connection, whatever became of it ({@code 502} or {@code 504} from the
 * upstream, no whole answer in time, an answer broken off or not relayed): the upstream may have
 * done the work, and a tenant whose predictions make an upstream fail or stall should not use its
 * capacity for free. Thread-safe.
 */
@ModelSecured(model = "{model}", path = PredictServlet.PATH)
public final class GatewayServlet extends HttpServlet {
  /**
   * The largest client request body forwarded (the largest a demo model accepts). {@code
   * image-classifier}'s is replaced by the image it names, at most {@value
   * ForwardedImage#MAX_BODY_BYTES} bytes in {@link ForwardedImage}'s form.
   */
  public static final int MAX_REQUEST_BYTES = PredictServlet.MAX_BODY_BYTES;
  /** The largest upstream answer relayed; a prediction is well under 1 KiB. */
  public static final int MAX_RESPONSE_BYTES = 64 * 1024;
  /**
   * The most predictions one tenant may have waiting on upstreams at once: each holds one of the
   * edge's request threads (32) until its answer, so that a tenant flooding a slow or hung upstream
   * leaves the others threads to be served. One more is {@code 429 quota.exceeded}.
   */
  public static final int MAX_IN_FLIGHT_PER_TENANT = 16;
  /**
   * The most predictions waiting on one upstream (one scheme, host and port) at once, whatever
   * their tenants: two tenants flooding a hung upstream could otherwise hold all the edge's request
   * threads between them, and predictions of models served elsewhere would queue behind. Below
   * {@link #MAX_IN_FLIGHT}, so that one hung upstream leaves room for the others. One more is {@code
   * 502 upstream.unavailable}.
   */
  public static final int MAX_IN_FLIGHT_PER_UPSTREAM = 20;
  /**
   * The most predictions waiting on upstreams at once, all tenants and upstreams together: fewer
   * than the edge's request threads (32, less its acceptor and selector threads, two to eight), so
   * that upstreams hung together (two tenants, one on each of two, held them all) still leave
   * threads for health checks, the model list and the guard's own refusals. One more is {@code 502
   * upstream.unavailable}.
   */
  public static final int MAX_IN_FLIGHT = 24;
  /**
   * The most bytes of upstream headers relayed (each line's name, value and 4): the edge sends at
   * most 8 KiB of response header, its own and the guard's included, and fails an answer with more.
   */
  static final int MAX_RELAYED_HEADER_BYTES = 4 * 1024;
  /**
   * The longest text member ({@code type}, {@code title}, {@code detail}, {@code instance}, {@code
   * code}) of an upstream problem relayed, in characters; a longer one is dropped.
   */
  static final int MAX_PROBLEM_MEMBER_CHARS = 512;

  private static final long serialVersionUID = 1L;
  private static final Logger log = LoggerFactory.getLogger(GatewayServlet.class);
  /** How long an idle thread of the upstream client's pool or of the deadline timer lives. */
  private static final Duration IDLE_THREAD_LIFE = Duration.ofMinutes(1);
  /** The timer that gives up answers at their deadline: one daemon thread for every gateway servlet. */
  private static final ScheduledThreadPoolExecutor DEADLINES = deadlines();
  /** The members of an upstream problem relayed, in the order written; {@code status} is the answer's. */
  private static final List<String> PROBLEM_MEMBERS = List.of("type", "title", "status", "detail", "instance", "code");
  /** The {@code type} of the guard's own problems, before the reason code. */
  private static final String GUARD_PROBLEM_TYPE = "urn:modelguard:problem:";
  /** Reads an upstream problem (in any of JSON's encodings) and writes the one relayed, in UTF-8. */
  private static final ObjectMapper JSON = new ObjectMapper();
  /** What the gateway asks the upstream for, whatever the client asked for: what the output policies read. */
  static final String ACCEPT = "application/json, application/problem+json";
  /** The key of {@link #inFlightInAll}'s one count. */
  private static final String ALL = "all";
  /**
   * The {@link LogPace} keys of the lines that are not about an upstream's failure (those are
   * paced by the model's predict URL), each taken with its line's format: never a tenant's name,
   * which the requests choose.
   */
  private static final String TENANT_CAP = "tenant cap";
  private static final String UPSTREAM_CAP = "cap of ";
  private static final String EDGE_CAP = "edge cap";
  private static final String NO_UPSTREAM = "no upstream";
  private static final String NO_IMAGE = "no image";

  private final transient Upstreams upstreams;
  private final transient HttpClient http;
  /** Each tenant's predictions waiting on an upstream; a tenant with none has no entry. */
  private final transient ConcurrentHashMap<String, Integer> inFlight = new ConcurrentHashMap<>();
  /** Each upstream's ({@code scheme://authority}) predictions waiting on it; one with none has no entry. */
  private final transient ConcurrentHashMap<String, Integer> inFlightByUpstream = new ConcurrentHashMap<>();
  /** All predictions waiting on upstreams, under the one key {@link #ALL}. */
  private final transient ConcurrentHashMap<String, Integer> inFlightInAll = new ConcurrentHashMap<>();
  /** The pace of the lines below: keyed by a line's key and format, never by a tenant's name. */
  private final transient LogPace<String> warnings =
      new LogPace<>(log, "per kind of line and upstream or kind of refusal");
  /** The time the lines are paced by: milliseconds of arbitrary origin. */
  private final transient LongSupplier millis;

  private static ScheduledThreadPoolExecutor deadlines() {
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, daemonThreads("gateway-deadlines-"));
    timer.setRemoveOnCancelPolicy(true); // a deadline met leaves nothing queued
    // Its thread ends after a minute without deadlines (a pool keeps one while any is queued).
    timer.setKeepAliveTime(IDLE_THREAD_LIFE.toNanos(), TimeUnit.NANOSECONDS);
    timer.allowCoreThreadTimeOut(true);
    return timer;
  }

  /** Forwards to {@code upstreams} with {@code http}. */
  public GatewayServlet(Upstreams upstreams, HttpClient http) {
    // Monotonic: an operator setting the wall clock changes no pace.
    this(upstreams, http, () -> TimeUnit.NANOSECONDS.toMillis(System.nanoTime()));
  }

  /**
   * Forwards to {@code upstreams} with {@code http}, pacing its warnings by {@code millis}
   * (milliseconds of arbitrary origin).
   */
  GatewayServlet(Upstreams upstreams, HttpClient http, LongSupplier millis) {
    this.upstreams = Objects.requireNonNull(upstreams, "upstreams");
    this.http = Objects.requireNonNull(http, "http");
    this.millis = Objects.requireNonNull(millis, "millis");
  }

  /**
   * A client for upstreams: HTTP/1.1, no redirects, connecting within the upstream timeout, its
   * asynchronous work on a fixed pool of daemon threads (one per processor, at least two) that end
   * after a minute idle, so a client dropped (a gateway stopped in a running JVM) leaves no thread
   * behind. The client's default executor, a cached pool handing each task over a synchronous
   * queue, started and ended threads under load: with it the gateway relayed 2,732 predictions a
   * second at 510 µs of CPU each, with this pool 4,661 at 267 µs (profiling runs, two processors).
   */
  public static HttpClient client(Upstreams upstreams) {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(upstreams.timeout())
        .executor(upstreamExecutor(IDLE_THREAD_LIFE))
        .build();
  }

  /** The client's executor: {@link #client}'s, its threads ending after {@code idle} without work. */
  static ThreadPoolExecutor upstreamExecutor(Duration idle) {
    int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, idle.toNanos(), TimeUnit.NANOSECONDS,
        new LinkedBlockingQueue<>(), daemonThreads("gateway-upstream-"));
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /** Daemon threads named {@code prefix} and their number. */
  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger made = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + made.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    // Printable for the log lines below (a path or a tenant claim must not start a forged line),
    // cleaned only when one is written: the requests that log nothing pay for nothing.
    Object path = DemoText.printableWhenLogged(
        request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo()), 200);
    // As the guard read it (a trailing slash ignored): the model it admitted and charged.
    Optional<String> model = PredictServlet.modelId(request);
    if (model.isEmpty()) {
      response.sendError(HttpServletResponse.SC_NOT_FOUND);
      return;
    }
    Optional<URI> target = upstreams.predictUri(model.get());
    if (target.isEmpty()) {
      error(NO_UPSTREAM, "POST {}: model '{}' has no upstream (see --upstream)", path, model.get());
      refuseUnforwarded(request, response, ReasonCode.UPSTREAM_UNAVAILABLE);
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
    String contentType = request.getHeader("Content-Type");
    if (ModelCatalog.IMAGE_CLASSIFIER.equals(model.get())) {
      // The URL stays at the edge: fetching it again upstream would resolve the name again, and could
      // reach another address than the one the guard checked.
      Optional<FetchedInputs.FetchedImage> image =
          request.getAttribute(FetchedInputs.ATTRIBUTE) instanceof FetchedInputs fetched
              ? fetched.image(ModelCatalog.IMAGE_URL_FIELD) : Optional.empty();
      if (image.isEmpty()) {
        error(NO_IMAGE, "POST {}: no fetched image in request attribute {}; is ModelGuard with a ModelInputPolicy "
            + "in front of the gateway? Refused, nothing forwarded.", path, FetchedInputs.ATTRIBUTE);
        refuseUnforwarded(request, response, ReasonCode.INTERNAL_ERROR);
        return;
      }
      body = ForwardedImage.body(image.get());
      contentType = "application/json";
    }
    HttpRequest.Builder forward = HttpRequest.newBuilder(target.get())
        .timeout(upstreams.timeout())
        .header("Accept", ACCEPT)
        // No Accept-Encoding would let the upstream choose any coding (RFC 9110, 12.5.3), which the
        // output policies cannot read.
        .header("Accept-Encoding", "identity")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      forward.header("Content-Type", contentType);
    }
    String tenant = tenantOf(request);
    if (!enter(inFlight, tenant, MAX_IN_FLIGHT_PER_TENANT)) {
      warn(TENANT_CAP, "POST {}: tenant '{}' already has {} predictions waiting on upstreams; refused", path,
          DemoText.printableWhenLogged(tenant, 100), MAX_IN_FLIGHT_PER_TENANT);
      refuseUnforwarded(request, response, ReasonCode.QUOTA_EXCEEDED);
      return;
    }
    String upstream = target.get().getScheme() + "://" + target.get().getRawAuthority();
    if (!enter(inFlightByUpstream, upstream, MAX_IN_FLIGHT_PER_UPSTREAM)) {
      leave(inFlight, tenant);
      warn(UPSTREAM_CAP + upstream, "POST {}: upstream {} already has {} predictions waiting on it; refused",
          path, upstream, MAX_IN_FLIGHT_PER_UPSTREAM);
      refuseUnforwarded(request, response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    }
    if (!enter(inFlightInAll, ALL, MAX_IN_FLIGHT)) {
      leave(inFlightByUpstream, upstream);
      leave(inFlight, tenant);
      warn(EDGE_CAP, "POST {}: {} predictions already wait on upstreams; refused", path, MAX_IN_FLIGHT);
      refuseUnforwarded(request, response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    }
    // The pace key of the lines about this prediction's upstream: its predict URL, so that one model's
    // failures, which a client may repeat at will, hide no other's; for a model not of the demo's few
    // (a guard that registers no models lets any name through), its scheme and authority, as the path
    // would make keys without end.
    String paceKey = ModelCatalog.MODEL_IDS.contains(model.get()) ? target.get().toString() : upstream;
    HttpResponse<byte[]> answer;
    try {
      answer = exchange(forward.build());
    } catch (TimeoutException e) {
      warn(paceKey, "POST {}: upstream {} did not answer in full within {} ms", path, target.get(),
          upstreams.timeout().toMillis());
      send(response, ReasonCode.UPSTREAM_TIMEOUT);
      return;
    } catch (AnswerTooLargeException e) {
      warn(paceKey, "POST {}: upstream {} answered more than {} bytes; not relayed", path, target.get(),
          MAX_RESPONSE_BYTES);
      send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    } catch (ConnectException | HttpConnectTimeoutException e) {
      warn(paceKey, "POST {}: upstream {} unavailable ({}); nothing forwarded", path, target.get(),
          e.getClass().getSimpleName());
      refuseUnforwarded(request, response, e instanceof HttpConnectTimeoutException
          ? ReasonCode.UPSTREAM_TIMEOUT : ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    } catch (IOException e) {
      warn(paceKey, "POST {}: upstream {} unavailable ({})", path, target.get(), e.getClass().getSimpleName());
      send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    } finally {
      leave(inFlightInAll, ALL);
      leave(inFlightByUpstream, upstream);
      leave(inFlight, tenant);
    }
    List<String> lengths = answer.headers().allValues("Content-Length");
    if (!lengths.isEmpty() && (answer.headers().firstValue("Transfer-Encoding").isPresent()
        || lengths.stream().map(String::strip).distinct().count() > 1)) {
      // RFC 9112, 6.3: an error either way (the JDK client reads the first Content-Length, the upstream
      // may have meant the chunks or another length).
      warn(paceKey, "POST {}: upstream {} answered with both Transfer-Encoding and Content-Length, or with "
          + "Content-Lengths that differ; not relayed", path, target.get());
      send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    }
    int status = answer.statusCode();
    if (status >= 500 || status < 200 || (status >= 300 && status < 400)) {
      warn(paceKey, "POST {}: upstream {} answered {}; not relayed", path, target.get(), status);
      send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    }
    if (status >= 400 && !isRefusalForTheClient(answer)) {
      warn(paceKey, "POST {}: upstream {} answered {} ({}); not relayed", path, target.get(), status,
          answer.headers().firstValue("Content-Type").orElse("no Content-Type"));
      send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    }
    if (status < 300 && answer.body().length > 0
        && !Predictions.isJson(answer.headers().firstValue("Content-Type").orElse(null))) {
      warn(paceKey, "POST {}: upstream {} answered {} as {}, which the output policies cannot read; "
          + "not relayed", path, target.get(), status,
          answer.headers().firstValue("Content-Type").orElse("no Content-Type"));
      send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    }
    Optional<String> coding = contentCoding(answer);
    if (coding.isPresent()) {
      warn(paceKey, "POST {}: upstream {} answered {} with Content-Encoding {}, which the output policies "
          + "cannot read; not relayed", path, target.get(), status, coding.get());
      send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    }
    byte[] relayed = answer.body();
    String type = relayedContentType(answer.headers().firstValue("Content-Type").orElse(null), relayed.length);
    if (status >= 400 && !carriesPrediction(model.get(), relayed)) {
      Optional<JsonNode> problem = problemObject(relayed);
      if (problem.isEmpty()) {
        warn(paceKey, "POST {}: upstream {} answered {} with a problem that is not a JSON object; not relayed",
            path, target.get(), status);
        send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
        return;
      }
      Optional<String> claimed = claimedGuardCode(problem.get(), status);
      if (claimed.isPresent()) {
        warn(paceKey, "POST {}: upstream {} answered {} with the guard's own reason code {}; not relayed",
            path, target.get(), status, DemoText.printableWhenLogged(claimed.get(), 100));
        send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
        return;
      }
      relayed = standardProblem(problem.get(), status);
      type = ProblemResponse.CONTENT_TYPE;
    }
    List<Map.Entry<String, String>> headers = relayedHeaders(answer, type);
    int headerBytes = headers.stream().mapToInt(h -> h.getKey().length() + h.getValue().length() + 4).sum();
    if (headerBytes > MAX_RELAYED_HEADER_BYTES) {
      warn(paceKey, "POST {}: upstream {} answered {} bytes of headers to relay, more than {}; not relayed",
          path, target.get(), headerBytes, MAX_RELAYED_HEADER_BYTES);
      send(response, ReasonCode.UPSTREAM_UNAVAILABLE);
      return;
    }
    relay(status, headers, relayed, response);
  }

  /** Logs at WARN at most once a minute for {@code key} ({@link #log}), at DEBUG otherwise. */
  private void warn(String key, String format, Object... args) {
    log(Level.WARN, key, format, args);
  }

  /** Logs at ERROR at most once a minute for {@code key} ({@link #log}), at DEBUG otherwise. */
  private void error(String key, String format, Object... args) {
    log(Level.ERROR, key, format, args);
  }

  /**
   * Logs at {@code level} if the line of {@code key} and {@code format} is due, its line then
   * ending with how many like it (same key and format) were logged at DEBUG since the previous one;
   * at DEBUG otherwise.
   */
  private void log(Level level, String key, String format, Object... args) {
    // Paced per key and line: one kind of failure that a client repeats must not hide another.
    warnings.log(level, key + '\n' + format, millis.getAsLong(), null, format, args);
  }

  /** The tenant of the request's principal (the guard allowed it); empty without one. */
  private static String tenantOf(HttpServletRequest request) {
    return request.getAttribute(ModelGuardFilter.DECISION_ATTRIBUTE) instanceof GuardDecision decision
        ? decision.principal().map(Principal::tenant).orElse("") : "";
  }

  /** Counts a prediction of {@code key} (a tenant, an upstream) in, unless it has {@code max} already. */
  private static boolean enter(ConcurrentHashMap<String, Integer> counts, String key, int max) {
    boolean[] entered = {false};
    counts.compute(key, (k, n) -> {
      int now = n == null ? 0 : n;
      if (now >= max) {
        return n;
      }
      entered[0] = true;
      return now + 1;
    });
    return entered[0];
  }

  /** Counts a prediction of {@code key} out. */
  private static void leave(ConcurrentHashMap<String, Integer> counts, String key) {
    counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
  }

  /** The answer's content coding other than {@code identity}, if it has one. */
  private static Optional<String> contentCoding(HttpResponse<?> answer) {
    for (String value : answer.headers().allValues("Content-Encoding")) {
      for (String coding : value.split(",")) {
        String c = coding.strip();
        if (!c.isEmpty() && !c.equalsIgnoreCase("identity")) {
          return Optional.of(c);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Sends {@code request} and reads the whole answer, at most {@value #MAX_RESPONSE_BYTES} bytes,
   * within one deadline: the upstream timeout. The request's own timeout ends only the wait for the
   * headers, so a body that stalls or trickles after them would otherwise hold this thread for as
   * long as the upstream likes: at the deadline a timer gives the body up, which cancels its
   * subscription and so closes the connection rather than leaving it to the upstream.
   *
   * <p>Sent with the blocking {@code send}, not {@code sendAsync}: the client moves the completion
   * of every {@code sendAsync} future onto the common pool's default executor, which on a machine
   * of two processors (a common pool of one thread) is a new thread per call; profiled at
   * saturation, that was a quarter of the gateway's CPU.
   *
   * @throws HttpConnectTimeoutException if there was no connection within the timeout (nothing was sent)
   * @throws TimeoutException if the answer was not complete at the deadline
   * @throws AnswerTooLargeException if the body is longer than {@value #MAX_RESPONSE_BYTES} bytes
   * @throws IOException if there was no connection, the answer broke off or its head could not be read
   */
  private HttpResponse<byte[]> exchange(HttpRequest request)
      throws IOException, InterruptedException, TimeoutException {
    CappedAnswer body = new CappedAnswer(MAX_RESPONSE_BYTES);
    ScheduledFuture<?> deadline = DEADLINES.schedule(body::abandon, upstreams.timeout().toNanos(), TimeUnit.NANOSECONDS);
    try {
      return http.send(request, info -> body);
    } catch (HttpConnectTimeoutException e) { // no connection in time: nothing was sent
      throw e;
    } catch (HttpTimeoutException e) { // no headers in time
      throw new TimeoutException(e.getMessage());
    } catch (IllegalArgumentException e) {
      // The client could not read the answer's head (a Content-Length of "5, 5", say): the upstream's
      // broken answer, not the edge's failure.
      throw new IOException("the answer's head could not be read", e);
    } catch (IOException e) {
      if (body.abandoned()) {
        throw new TimeoutException("the answer was not complete at the deadline");
      }
      throw e.getCause() instanceof AnswerTooLargeException tooLarge ? tooLarge : e;
    } finally {
      deadline.cancel(false);
    }
  }

  /** A 4xx the model server meant for the client (see the class comment). */
  private static boolean isRefusalForTheClient(HttpResponse<?> answer) {
    int status = answer.statusCode();
    if (status == HttpServletResponse.SC_NOT_FOUND || status == HttpServletResponse.SC_METHOD_NOT_ALLOWED) {
      return false;
    }
    return isProblem(answer.headers().firstValue("Content-Type").orElse(""));
  }

  /** Whether {@code contentType}'s media type is {@code application/problem+json}. */
  private static boolean isProblem(String contentType) {
    int semicolon = contentType.indexOf(';');
    String mediaType = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip();
    return mediaType.equalsIgnoreCase(ProblemResponse.CONTENT_TYPE);
  }

  /**
   * The {@code Content-Type} the client gets for a relayed body of {@code length} bytes whose
   * upstream type is {@code upstreamType} (checked JSON by then): one of the two forms the gateway
   * asks for, never the upstream's spelling, whose parameters (and a {@code +json} subtype's name)
   * the upstream writes as it likes and the output policies never read; none for an empty body.
   */
  private static String relayedContentType(String upstreamType, int length) {
    if (length == 0 || upstreamType == null) {
      return null;
    }
    return isProblem(upstreamType) ? ProblemResponse.CONTENT_TYPE : "application/json";
  }

  /**
   * The headers the client gets of the answer (see the class comment), in order: {@code
   * contentType} (null: none), then those of {@link Upstreams#relayedHeaders()} the answer has,
   * unless its {@code Connection} names them.
   */
  private List<Map.Entry<String, String>> relayedHeaders(HttpResponse<?> answer, String contentType) {
    Set<String> named = new HashSet<>();
    answer.headers().allValues("connection").forEach(v -> {
      for (String token : v.split(",")) {
        named.add(token.strip().toLowerCase(Locale.ROOT));
      }
    });
    List<Map.Entry<String, String>> relayed = new ArrayList<>();
    if (contentType != null) {
      relayed.add(Map.entry("Content-Type", contentType));
    }
    Set<String> allowed = upstreams.relayedHeaders();
    answer.headers().map().forEach((name, values) -> {
      String lower = name.toLowerCase(Locale.ROOT);
      if (allowed.contains(lower) && !named.contains(lower)) {
        values.forEach(v -> relayed.add(Map.entry(name, v)));
      }
    });
    return relayed;
  }

  /**
   * Whether {@code body} holds a prediction where the codec of {@code model}'s output policies reads
   * one: they will cut or noise it, and keep only what the codec keeps.
   */
  private static boolean carriesPrediction(String model, byte[] body) {
    return ModelCatalog.codec(model).flatMap(codec -> codec.decode(body)).isPresent();
  }

  /** The upstream problem {@code body} if it is a JSON object; empty otherwise. */
  private static Optional<JsonNode> problemObject(byte[] body) {
    try {
      JsonNode upstream = JSON.readTree(body);
      return upstream != null && upstream.isObject() ? Optional.of(upstream) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * The reason code of the guard's own that the upstream {@code problem} claims, in its {@code
   * code} or as a {@code urn:modelguard:problem:} {@code type}, where a model server's refusal for
   * the client cannot carry it with {@code status}: any code but an {@code input.*} one whose
   * status in the error contract is {@code status}. Such a problem (an upstream guard's {@code
   * auth.missing_credentials} or {@code quota.exceeded}, say) is about the gateway's own access,
   * and relayed it would tell the client, in the edge's own words, that its credentials or its
   * quota failed, while the edge's {@code RateLimit} says otherwise.
   */
  private static Optional<String> claimedGuardCode(JsonNode problem, int status) {
    List<String> claims = new ArrayList<>(2);
    JsonNode code = problem.get("code");
    if (code != null && code.isTextual() && ReasonCode.fromCode(code.textValue()).isPresent()) {
      claims.add(code.textValue());
    }
    JsonNode type = problem.get("type");
    if (type != null && type.isTextual() && type.textValue().startsWith(GUARD_PROBLEM_TYPE)) {
      claims.add(type.textValue().substring(GUARD_PROBLEM_TYPE.length()));
    }
    for (String claim : claims) {
      Optional<ReasonCode> reason = ReasonCode.fromCode(claim);
      if (reason.isEmpty() || !claim.startsWith("input.") || ProblemRenderer.status(reason.get()) != status) {
        return Optional.of(claim);
      }
    }
    return Optional.empty();
  }

  /**
   * {@code upstream}, an upstream problem, written anew with its standard members only (see the
   * class comment), {@code status} as its {@code status}.
   */
  private static byte[] standardProblem(JsonNode upstream, int status) {
    ObjectNode problem = JSON.createObjectNode();
    for (String member : PROBLEM_MEMBERS) {
      JsonNode value = upstream.get(member);
      if (member.equals("status")) {
        problem.put(member, status);
      } else if (value != null && value.isTextual() && value.textValue().length() <= MAX_PROBLEM_MEMBER_CHARS
          && !(member.equals("instance") && namesAHost(value.textValue()))) {
        problem.put(member, value.textValue());
      }
    }
    try {
      return JSON.writeValueAsBytes(problem);
    } catch (IOException e) {
      throw new UncheckedIOException("a tree of strings and a number is always written", e);
    }
  }

  /**
   * Whether the URI reference {@code instance} names a host (an absolute URI or a network-path
   * reference, {@code //host/...}), or is no URI reference at all: an occurrence's URL on the
   * upstream, which the client should see no more than its {@code Location}. A relative one
   * ({@code /requests/42}) names nothing of the upstream but the path.
   */
  private static boolean namesAHost(String instance) {
    try {
      URI uri = new URI(instance);
      return uri.isAbsolute() || uri.getRawAuthority() != null;
    } catch (URISyntaxException e) {
      return true;
    }
  }

  private static void relay(int status, List<Map.Entry<String, String>> headers, byte[] body,
      HttpServletResponse response) throws IOException {
    response.setStatus(status);
    headers.forEach(h -> response.addHeader(h.getKey(), h.getValue()));
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }

  /**
   * Refuses a prediction the gateway did not forward, for reasons of its own: marked so that the
   * guard's quota settlement gives the tenant its charge back (see the class comment), unless the
   * guard fetched an image for it.
   */
  private static void refuseUnforwarded(HttpServletRequest request, HttpServletResponse response, ReasonCode reason)
      throws IOException {
    if (!fetchedFor(request)) {
      request.setAttribute(ModelServingApp.UNSERVED_ATTRIBUTE, Boolean.TRUE);
    }
    send(response, reason);
  }

  /**
   * Whether the guard fetched an image for {@code request}: work the edge did at a URL of the
   * client's choosing, which its quota charge is all that limits.
   */
  private static boolean fetchedFor(HttpServletRequest request) {
    return request.getAttribute(FetchedInputs.ATTRIBUTE) instanceof FetchedInputs fetched
        && !fetched.images().isEmpty();
  }

  private static void send(HttpServletResponse response, ReasonCode reason) throws IOException {
    ProblemResponse problem = ProblemRenderer.render(GuardDecision.deny(reason));
    response.setStatus(problem.status());
    problem.headers().forEach(response::setHeader);
    response.setContentType(problem.contentType());
    response.setContentLength(problem.body().length);
    response.getOutputStream().write(problem.body());
  }

  /** The upstream's body is longer than {@link #MAX_RESPONSE_BYTES}. */
  private static final class AnswerTooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    AnswerTooLargeException() {
      super("the answer is longer than " + MAX_RESPONSE_BYTES + " bytes");
    }
  }

  /**
   * Collects one answer body, failing as soon as it is longer than the cap; {@link #abandon()}
   * gives it up at the deadline. Either way it cancels its subscription, which is what closes the
   * connection: failing the response future alone would leave the socket to the upstream.
   */
  private static final class CappedAnswer implements HttpResponse.BodySubscriber<byte[]> {
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final int cap;
    private volatile Flow.Subscription subscription;
    private volatile boolean abandoned;

    CappedAnswer(int cap) {
      this.cap = cap;
    }

    /** Whether {@link #abandon()} was called. */
    boolean abandoned() {
      return abandoned;
    }

    /** Stops reading; safe before, during or after the body (the flags are volatile for this race). */
    void abandon() {
      abandoned = true;
      result.completeExceptionally(new IOException("abandoned at the deadline"));
      Flow.Subscription s = subscription;
      if (s != null) {
        s.cancel();
      }
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (abandoned) {
        s.cancel();
      } else {
        s.request(Long.MAX_VALUE);
      }
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      for (ByteBuffer item : items) {
        if (result.isDone()) {
          return;
        }
        if (item.remaining() > cap - bytes.size()) {
          subscription.cancel();
          result.completeExceptionally(new AnswerTooLargeException());
          return;
        }
        byte[] chunk = new byte[item.remaining()];
        item.get(chunk);
        bytes.writeBytes(chunk);
      }
    }

    @Override
    public void onError(Throwable e) {
      result.completeExceptionally(e);
    }

    @Override
    public void onComplete() {
      result.complete(bytes.toByteArray());
    }
  }
}
