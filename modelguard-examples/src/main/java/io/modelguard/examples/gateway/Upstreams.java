package io.modelguard.examples.gateway;

import io.modelguard.examples.model.ModelCatalog;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the gateway sends each model's predictions: a base URL per model, and optionally one for
 * every other model; the request goes to {@code <base>/v1/models/<model>/predict}. Also the time
 * the gateway waits for an upstream's whole answer (connection, headers and body). Immutable.
 *
 * <pre>
 * --upstream URL           every model's upstream (http or https, no query or fragment)
 * --upstream MODEL=URL     one model's upstream (overrides the former for that model)
 * --upstream-timeout MS    how long to wait for an upstream's whole answer (default 5000)
 * </pre>
 */
public final class Upstreams {
  /** How long the gateway waits for an upstream's whole answer by default. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  /** The longest timeout {@link #withTimeout} takes: an hour. */
  public static final Duration MAX_TIMEOUT = Duration.ofHours(1);

  private final Map<String, URI> byModel;
  private final URI fallback;
  private final Duration timeout;

  private Upstreams(Map<String, URI> byModel, URI fallback, Duration timeout) {
    this.byModel = Map.copyOf(byModel);
    this.fallback = fallback;
    this.timeout = timeout;
  }

  /** No upstream yet, the default timeout. */
  public static Upstreams none() {
    return new Upstreams(Map.of(), null, DEFAULT_TIMEOUT);
  }

  /** A copy sending every model without an upstream of its own to {@code base}. */
  public Upstreams withDefault(URI base) {
    return new Upstreams(byModel, checked(base), timeout);
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
    return new Upstreams(copy, fallback, timeout);
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
    return new Upstreams(byModel, fallback, timeout);
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

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    byModel.forEach((m, u) -> b.append(m).append(" → ").append(u).append(", "));
    b.append(fallback == null ? "other models: none" : "other models → " + fallback);
    return b.append(" (timeout ").append(timeout.toMillis()).append(" ms)").toString();
  }
}
