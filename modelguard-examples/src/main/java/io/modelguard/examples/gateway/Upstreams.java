package io.modelguard.examples.gateway;

import io.modelguard.examples.model.ModelCatalog;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Where the gateway sends each model's predictions: a base URL per model, and optionally one for
 * every other model; the request goes to {@code <base>/v1/models/<model>/predict}. Also the time
 * the gateway waits for an upstream's whole answer (connection, headers and body), and which of
 * the answer's headers it relays besides {@code Content-Type}. Immutable.
 *
 * <pre>
 * --upstream URL           every model's upstream (http or https, no query or fragment)
 * --upstream MODEL=URL     one model's upstream (overrides the former for that model)
 * --upstream-timeout MS    how long to wait for an upstream's whole answer (default 5000)
 * --relay-header NAME      one more answer header to relay (default: X-Model-Version only)
 * </pre>
 */
public final class Upstreams {
  /** How long the gateway waits for an upstream's whole answer by default. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  /** The longest timeout {@link #withTimeout} takes: an hour. */
  public static final Duration MAX_TIMEOUT = Duration.ofHours(1);
  /**
   * The answer headers relayed by default besides {@code Content-Type}: those known to carry
   * nothing of the prediction. The output policies read the body alone, so any other header (an
   * {@code X-Raw-Scores}, say) would take the model's exact answer past the tier's cut and the
   * extraction defence's noise.
   */
  public static final List<String> DEFAULT_RELAYED_HEADERS = List.of("X-Model-Version");

  /**
   * Headers never relayed, whatever the operator names: the message's framing and hop-by-hop
   * headers, those the gateway sets itself and those the guard sets on its decisions, which an
   * upstream's copy would contradict.
   */
  private static final Set<String> NOT_RELAYABLE = Set.of("content-type", "content-length", "content-encoding",
      "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade", "date", "server",
      "cache-control", "retry-after", "www-authenticate");
  /** Families of headers never relayed: proxies' and the quota's ({@code RateLimit}, {@code RateLimit-Policy}, …). */
  private static final List<String> NOT_RELAYABLE_PREFIXES = List.of("proxy-", "ratelimit", "x-ratelimit-");
  /** A header name: an RFC 9110 token. */
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

  private final Map<String, URI> byModel;
  private final URI fallback;
  private final Duration timeout;
  /** Lower case. */
  private final Set<String> relayedHeaders;

  private Upstreams(Map<String, URI> byModel, URI fallback, Duration timeout, Set<String> relayedHeaders) {
    this.byModel = Map.copyOf(byModel);
    this.fallback = fallback;
    this.timeout = timeout;
    this.relayedHeaders = Set.copyOf(relayedHeaders);
  }

  /** No upstream yet, the default timeout, the {@link #DEFAULT_RELAYED_HEADERS}. */
  public static Upstreams none() {
    Set<String> relayed = new LinkedHashSet<>();
    DEFAULT_RELAYED_HEADERS.forEach(h -> relayed.add(h.toLowerCase(Locale.ROOT)));
    return new Upstreams(Map.of(), null, DEFAULT_TIMEOUT, relayed);
  }

  /** A copy sending every model without an upstream of its own to {@code base}. */
  public Upstreams withDefault(URI base) {
    return new Upstreams(byModel, checked(base), timeout, relayedHeaders);
  }

  /**
   * A copy sending {@code model} to {@code base}.
   *
   * @throws IllegalArgumentException if {@code model} is not one of the demo's ({@link
   *     ModelCatalog#MODEL_IDS}): a mistyped name would leave the model on the default upstream
   */
  public Upstreams with(String model, URI base) {
    if (!ModelCatalog.MODEL_IDS.contains(Objects.requireNonNull(model, "model"))) {
      throw new IllegalArgumentException("no model '" + model + "'; the models are " + String.join(", ",
          ModelCatalog.MODEL_IDS));
    }
    Map<String, URI> copy = new LinkedHashMap<>(byModel);
    copy.put(Objects.requireNonNull(model, "model"), checked(base));
    return new Upstreams(copy, fallback, timeout, relayedHeaders);
  }

  /**
   * A copy waiting at most {@code timeout} (positive, at most {@link #MAX_TIMEOUT}) for an
   * upstream's whole answer, headers and body.
   */
  public Upstreams withTimeout(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("the upstream timeout must be positive");
    }
    if (timeout.compareTo(MAX_TIMEOUT) > 0) {
      // Far longer ones overflow the deadline's arithmetic: every prediction would fail.
      throw new IllegalArgumentException("the upstream timeout must be at most " + MAX_TIMEOUT.toMillis() + " ms");
    }
    return new Upstreams(byModel, fallback, timeout, relayedHeaders);
  }

  /**
   * A copy that also relays the upstream answer's header {@code name} (any case), besides {@code
   * Content-Type} and those relayed already ({@link #DEFAULT_RELAYED_HEADERS} to begin with). Name
   * only headers known to carry nothing of the prediction (no scores, logits or per-class detail:
   * the output policies never read headers) nor the upstream's addresses.
   *
   * @throws IllegalArgumentException if {@code name} is not a header name, or is one the gateway
   *     never relays: a hop-by-hop or framing header ({@code Connection}, {@code Content-Length},
   *     {@code Content-Encoding}, …), one the gateway sets itself ({@code Content-Type}, {@code
   *     Cache-Control}, {@code Date}, {@code Server}) or one the guard sets ({@code RateLimit*},
   *     {@code X-RateLimit-*}, {@code Retry-After}, {@code WWW-Authenticate})
   */
  public Upstreams withRelayedHeader(String name) {
    String n = Objects.requireNonNull(name, "name").strip();
    if (!TOKEN.matcher(n).matches()) {
      throw new IllegalArgumentException("'" + name + "' is not a header name");
    }
    String lower = n.toLowerCase(Locale.ROOT);
    if (NOT_RELAYABLE.contains(lower) || NOT_RELAYABLE_PREFIXES.stream().anyMatch(lower::startsWith)) {
      throw new IllegalArgumentException(n + " is the gateway's or the guard's to set, or only for one hop; "
          + "it is never relayed");
    }
    Set<String> relayed = new LinkedHashSet<>(relayedHeaders);
    relayed.add(lower);
    return new Upstreams(byModel, fallback, timeout, relayed);
  }

  /**
   * Applies one {@code --upstream} value, {@code URL} or {@code MODEL=URL}.
   *
   * @throws IllegalArgumentException if the URL is not an absolute http(s) URL without query
   */
  public Upstreams withOption(String value) {
    int eq = value.indexOf('=');
    int scheme = value.indexOf("://");
    if (eq > 0 && (scheme < 0 || eq < scheme)) {
      return with(value.substring(0, eq), parse(value.substring(eq + 1)));
    }
    return withDefault(parse(value));
  }

  private static URI parse(String url) {
    try {
      return URI.create(url.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a URL", e);
    }
  }

  private static URI checked(URI base) {
    String scheme = base.getScheme() == null ? "" : base.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || base.getHost() == null || base.getRawQuery() != null
        || base.getRawFragment() != null || base.getRawUserInfo() != null) {
      throw new IllegalArgumentException("an upstream must be an http or https URL with a host and without "
          + "user info, query or fragment, such as http://127.0.0.1:9000");
    }
    String path = base.getRawPath() == null ? "" : base.getRawPath();
    return URI.create(scheme + "://" + base.getRawAuthority() + (path.endsWith("/") ? path.substring(0, path.length() - 1) : path));
  }

  /** The predict URL of {@code model}, if it has an upstream. */
  public Optional<URI> predictUri(String model) {
    URI base = byModel.getOrDefault(model, fallback);
    return base == null ? Optional.empty() : Optional.of(URI.create(base + "/v1/models/" + model + "/predict"));
  }

  /** Whether any model has an upstream. */
  public boolean isEmpty() {
    return byModel.isEmpty() && fallback == null;
  }

  /** How long to wait for an upstream's whole answer: one deadline for connection, headers and body. */
  public Duration timeout() {
    return timeout;
  }

  /**
   * The names, in lower case, of the upstream answer's headers the gateway relays besides {@code
   * Content-Type}: {@link #DEFAULT_RELAYED_HEADERS} and those added with {@link
   * #withRelayedHeader}. Every other header of the answer is dropped.
   */
  public Set<String> relayedHeaders() {
    return relayedHeaders;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    byModel.forEach((m, u) -> b.append(m).append(" → ").append(u).append(", "));
    b.append(fallback == null ? "other models: none" : "other models → " + fallback);
    return b.append(" (timeout ").append(timeout.toMillis()).append(" ms, relaying ")
        .append(String.join(", ", new TreeSet<>(relayedHeaders))).append(")").toString();
  }
}
