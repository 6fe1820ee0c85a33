package io.modelguard.examples.metrics;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.modelguard.ReasonCode;
import io.modelguard.event.DecisionEvent;
import io.modelguard.event.ExtractionDetectionEvent;
import io.modelguard.event.GuardEvent;
import io.modelguard.event.GuardListener;
import io.modelguard.event.PolicyFailureEvent;
import io.modelguard.input.UrlRefusal;
import io.modelguard.redis.RedisRiskExchange;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The demo's meters, in one {@link PrometheusMeterRegistry} that {@code GET /metrics} renders
 * ({@link #scrape()}). Fed by three parts, each installed by the app:
 *
 * <ul>
 *   <li>{@link #listener()}, a {@link GuardListener} on the engine: one count per decision, by
 *       model, tenant and outcome, one per denial by reason code, and, only if {@linkplain
 *       #DemoMetrics(Set, Set, Set, boolean) asked to}, one per SSRF refusal the client was told is
 *       an unresolvable name (by the denial's {@linkplain DecisionEvent#operatorNote() operator
 *       note}, which the reason code does not show);
 *   <li>{@link #requestFilter()} in front of {@code ModelGuardFilter} and {@link #modelFilter()}
 *       behind it: the time of the guard (the whole request less the model) and of the model, and
 *       the quota left after each decision (read from the {@code RateLimit} header the quota policy
 *       wrote);
 *   <li>the extraction defence's {@link ExtractionDetectionEvent}s, through the same listener:
 *       detections by detector, and risk level changes;
 *   <li>the demo's {@link NonBlockingAsyncAppender}s, found in Logback's configuration at start-up
 *       ({@link #countDroppedLogEvents(LoggerContext)}): the log lines each dropped;
 *   <li>with {@code --redis-url}, the extraction risk exchange ({@link
 *       #countExchangedRaises(RedisRiskExchange)}): the raises it published, dropped, received and
 *       the messages it ignored.
 * </ul>
 *
 * <table>
 *   <caption>Meters (Micrometer name; Prometheus name; tags)</caption>
 *   <tr><td>{@value #REQUESTS}</td><td>{@code modelguard_requests_total}</td><td>model, tenant, outcome</td></tr>
 *   <tr><td>{@value #DENIALS}</td><td>{@code modelguard_denials_total}</td><td>model, tenant, reason</td></tr>
 *   <tr><td>{@value #SSRF_REFUSALS} (if asked to)</td><td>{@code modelguard_ssrf_refusals_total}</td><td>model, tenant, refusal</td></tr>
 *   <tr><td>{@value #GUARD_LATENCY}</td><td>{@code modelguard_guard_latency_seconds} (and {@code _bucket})</td><td>model, tenant, outcome</td></tr>
 *   <tr><td>{@value #MODEL_LATENCY}</td><td>{@code modelguard_model_latency_seconds} (and {@code _bucket})</td><td>model, tenant</td></tr>
 *   <tr><td>{@value #QUOTA_CONSUMED}</td><td>{@code modelguard_quota_consumed_total}</td><td>model, tenant</td></tr>
 *   <tr><td>{@value #QUOTA_REMAINING}</td><td>{@code modelguard_quota_remaining}</td><td>model, tenant, limit</td></tr>
 *   <tr><td>{@value #DETECTIONS}</td><td>{@code modelguard_extraction_detections_total}</td><td>model, tenant, detector</td></tr>
 *   <tr><td>{@value #RISK_CHANGES}</td><td>{@code modelguard_extraction_risk_changes_total}</td><td>model, tenant, from, to</td></tr>
 *   <tr><td>{@value #EXCHANGED_RAISES} (with Redis)</td><td>{@code modelguard_extraction_exchange_raises_total}</td><td>outcome</td></tr>
 *   <tr><td>{@value #POLICY_FAILURES}</td><td>{@code modelguard_policy_failures_total}</td><td>chain, policy, failed_open</td></tr>
 *   <tr><td>{@value #LOG_EVENTS_DROPPED}</td><td>{@code modelguard_demo_log_events_dropped_total}</td><td>appender</td></tr>
 * </table>
 *
 * <p>Cardinality is bounded by the configuration, never by what a client sends: a model outside
 * the configured ids is tagged {@value #OTHER} (a request for {@code /v1/models/x1/predict} creates
 * no series of its own), a tenant outside the configured ones {@value #OTHER}, a request without a
 * model or an authenticated tenant {@value #NONE}, a limit name outside the configured ones is
 * ignored. Reason codes, SSRF refusals (the two the fetcher conceals), outcomes, risk levels,
 * detector, chain, policy and appender names are fixed sets; an operator note other than an SSRF
 * refusal's (one a policy of the application's sets) is not counted, only written to the audit
 * log. Events of other types are ignored. Thread-safe.
 */
public final class DemoMetrics {
  /** Decisions, by model, tenant and outcome ({@code allowed} or {@code denied}). */
  public static final String REQUESTS = "modelguard.requests";
  /** Denials, by model, tenant and reason code. */
  public static final String DENIALS = "modelguard.denials";
  /**
   * Host names refused for what they resolved to (an internal address: an SSRF attempt), which the
   * client is told are unresolvable ({@code input.fetch_failed}, as {@value #DENIALS} counts them
   * too), by model, tenant and refusal ({@code denied_address}, {@code port_not_allowed}: {@link
   * UrlRefusal#operatorNote()} in lower case). A name that does not resolve is not counted. Only
   * if {@linkplain #DemoMetrics(Set, Set, Set, boolean) asked to}: unlike every other meter, it
   * tells what the client's own answer conceals on purpose, so whoever reads it can tell an internal
   * name from one that does not resolve.
   */
  public static final String SSRF_REFUSALS = "modelguard.ssrf.refusals";
  /** The guard's time per request: the whole request less the model's time. */
  public static final String GUARD_LATENCY = "modelguard.guard.latency";
  /** The model's time per allowed request (the servlet behind the guard). */
  public static final String MODEL_LATENCY = "modelguard.model.latency";
  /** Allowed requests that a quota counted (their response carried a {@code RateLimit} header). */
  public static final String QUOTA_CONSUMED = "modelguard.quota.consumed";
  /** Units left in the binding limit after the latest decision, per model, tenant and limit. */
  public static final String QUOTA_REMAINING = "modelguard.quota.remaining";
  /** Queries on which an extraction detector fired, by model, tenant and detector. */
  public static final String DETECTIONS = "modelguard.extraction.detections";
  /** Extraction risk level changes of a client, by model, tenant and levels. */
  public static final String RISK_CHANGES = "modelguard.extraction.risk.changes";
  /**
   * The extraction risk exchange's raises, by outcome: {@code published} (Redis took it), {@code
   * dropped} (not sent: it holds on this instance only), {@code received} (another instance's),
   * {@code ignored} (a message on the channel that is not a raise). Only with {@code --redis-url}.
   */
  public static final String EXCHANGED_RAISES = "modelguard.extraction.exchange.raises";
  /** Policies that threw instead of deciding. */
  public static final String POLICY_FAILURES = "modelguard.policy.failures";
  /** Log events a {@link NonBlockingAsyncAppender} dropped because its queue was full, by appender. */
  public static final String LOG_EVENTS_DROPPED = "modelguard.demo.log.events.dropped";
  /** Lines the {@code --audit-log FILE} writer lost ({@link #countLostAuditLines}). */
  public static final String AUDIT_LINES_LOST = "modelguard.demo.audit.lines.lost";
  /** The {@code appender} tag value of an appender without a name. */
  static final String UNNAMED = "unnamed";
  /** The tag value of a model or tenant outside the configuration. */
  public static final String OTHER = "other";
  /** The tag value when there is no model or no authenticated tenant. */
  public static final String NONE = "none";

  /**
   * The histogram buckets of both timers (Prometheus {@code _bucket} series): a few fixed bounds
   * from 50 µs to 1 s, enough for {@code histogram_quantile} to estimate a p99, at 14 series per
   * timer and tag set rather than the 70-odd of a full percentile histogram. The guard itself
   * takes tens of microseconds, so the lowest bounds are below a millisecond: with 0.5 ms as the
   * first, every p99 under it read as "somewhere below 0.5 ms".
   */
  static final Duration[] LATENCY_BUCKETS = {Duration.ofNanos(50_000), Duration.ofNanos(100_000),
      Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2),
      Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
      Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofSeconds(1)};

  /**
   * The {@code refusal} tag of the {@link UrlRefusal#operatorNote()} of each refusal the fetcher
   * conceals from the client ({@code DENIED_ADDRESS}, {@code PORT_NOT_ALLOWED}, decided from what a
   * name resolved to): the only notes counted in {@value #SSRF_REFUSALS}, so that its series are
   * two per model and tenant at most, and a note an application's own policy sets is not counted.
   */
  private static final Map<String, String> SSRF_NOTES = Map.of(
      UrlRefusal.DENIED_ADDRESS.operatorNote(), "denied_address",
      UrlRefusal.PORT_NOT_ALLOWED.operatorNote(), "port_not_allowed");

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Set<String> models;
  private final Set<String> tenants;
  private final Set<String> limits;
  /** Whether {@value #SSRF_REFUSALS} counts: only for meters the API's clients cannot read. */
  private final boolean countSsrfRefusals;
  private final ThreadLocal<Exchange> current = new ThreadLocal<>();
  private final Map<List<String>, AtomicLong> remaining = new ConcurrentHashMap<>();
  /** Meters by name and tag values: a request finds its meters with one lookup, without building an id. */
  private final Map<List<String>, Counter> counters = new ConcurrentHashMap<>();
  private final Map<List<String>, Timer> timers = new ConcurrentHashMap<>();
  private final Map<String, Map<String, Series>> series = new ConcurrentHashMap<>();
  /**
   * The appenders each {@value #LOG_EVENTS_DROPPED} counter reads, by name: held here because a
   * Micrometer function counter holds what it reads only weakly (and reads NaN once it is gone).
   */
  private final Map<String, List<NonBlockingAsyncAppender>> logAppenders = new ConcurrentHashMap<>();

  /**
   * Meters for the configured {@code models}, {@code tenants} and quota {@code limits} (names),
   * without {@value #SSRF_REFUSALS}: {@code new DemoMetrics(models, tenants, limits, false)}.
   */
  public DemoMetrics(Set<String> models, Set<String> tenants, Set<String> limits) {
    this(models, tenants, limits, false);
  }

  /**
   * Meters for the configured {@code models}, {@code tenants} and quota {@code limits} (names).
   *
   * @param countSsrfRefusals whether to count {@value #SSRF_REFUSALS}. Only for meters the API's
   *     clients cannot read ({@code GET /metrics} behind access control of its own): a client that
   *     asks for an image at {@code jenkins.corp.internal} and then sees the count rise learns that
   *     the name exists internally, which its {@code 502 input.fetch_failed} conceals on purpose.
   *     The denial's audit line says it either way.
   */
  public DemoMetrics(Set<String> models, Set<String> tenants, Set<String> limits, boolean countSsrfRefusals) {
    this.models = Set.copyOf(models);
    this.tenants = Set.copyOf(tenants);
    this.limits = Set.copyOf(limits);
    this.countSsrfRefusals = countSsrfRefusals;
  }

  /** The registry (for tests and for adding meters). */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Every meter in the Prometheus text format (version 0.0.4). */
  public String scrape() {
    return registry.scrape();
  }

  /**
   * Counts the events dropped by every {@link NonBlockingAsyncAppender} attached to a logger of
   * {@code context} ({@value #LOG_EVENTS_DROPPED}, tagged {@code appender} with the appender's
   * name), read from {@link NonBlockingAsyncAppender#droppedEvents()} at each scrape. The demo
   * calls it once at start-up, after Logback has read its configuration: appenders attached later
   * are counted only by another call, which adds them to the counts of their names. An appender
   * attached to several loggers counts once; appenders of one name are summed under it, and a
   * counter keeps its appenders, so it never goes down when a reconfiguration of Logback stops one.
   *
   * @return the names of the appenders found, in the order found; empty if there are none (a
   *     configuration without them, such as the tests')
   */
  public Set<String> countDroppedLogEvents(LoggerContext context) {
    Objects.requireNonNull(context, "context");
    Set<String> found = new LinkedHashSet<>();
    for (Logger logger : context.getLoggerList()) {
      for (Iterator<Appender<ILoggingEvent>> it = logger.iteratorForAppenders(); it.hasNext(); ) {
        if (it.next() instanceof NonBlockingAsyncAppender appender) {
          String name = appender.getName() == null ? UNNAMED : appender.getName();
          found.add(name);
          List<NonBlockingAsyncAppender> counted = lookup(logAppenders, name, this::registerLogDrops);
          synchronized (counted) {
            if (counted.stream().noneMatch(a -> a == appender)) {
              counted.add(appender);
            }
          }
        }
      }
    }
    return Collections.unmodifiableSet(found);
  }

  /** A new counter of the drops of the appenders named {@code name}, and the list it reads them from. */
  private List<NonBlockingAsyncAppender> registerLogDrops(String name) {
    List<NonBlockingAsyncAppender> appenders = new CopyOnWriteArrayList<>();
    FunctionCounter.builder(LOG_EVENTS_DROPPED, appenders, DemoMetrics::droppedEvents)
        .description("Log events an asynchronous appender dropped because its queue was full")
        .tags("appender", name)
        .register(registry);
    return appenders;
  }

  private static double droppedEvents(List<NonBlockingAsyncAppender> appenders) {
    long sum = 0;
    for (NonBlockingAsyncAppender a : appenders) {
      sum += a.droppedEvents();
    }
    return sum;
  }

  /**
   * Counts the lines {@code audit}'s file writer lost ({@value #AUDIT_LINES_LOST}: writing failed,
   * or request threads gave up waiting while it stalled; {@link JsonAuditLog#linesLost()}), read at
   * each scrape. Registers nothing for an audit log that does not write to a file (its lines go
   * through the log, whose drops {@link #countDroppedLogEvents} counts).
   *
   * @return whether a counter was registered
   */
  public boolean countLostAuditLines(JsonAuditLog audit) {
    Objects.requireNonNull(audit, "audit");
    if (!audit.writesToFile()) {
      return false;
    }
    // The counter holds its object weakly: the demo keeps the audit log open as long as it runs.
    FunctionCounter.builder(AUDIT_LINES_LOST, audit, JsonAuditLog::linesLost)
        .description("Audit lines the --audit-log file writer did not write (a failed write, or a stall)")
        .register(registry);
    return true;
  }

  /**
   * Counts what {@code exchange} did ({@value #EXCHANGED_RAISES}, tagged {@code outcome} {@code
   * published}, {@code dropped}, {@code received} or {@code ignored}), read from its counters at
   * each scrape. A growing {@code dropped} means the other instances miss this one's raises, a
   * growing {@code ignored} that something else publishes on the channel. The demo calls it once,
   * with the exchange it opened for {@code --redis-url}.
   */
  public void countExchangedRaises(RedisRiskExchange exchange) {
    Objects.requireNonNull(exchange, "exchange");
    // The counters hold their object weakly: the demo keeps the exchange open as long as it runs.
    exchangeCounter(exchange, "published", RedisRiskExchange::publishedRaises);
    exchangeCounter(exchange, "dropped", RedisRiskExchange::droppedRaises);
    exchangeCounter(exchange, "received", RedisRiskExchange::receivedRaises);
    exchangeCounter(exchange, "ignored", RedisRiskExchange::ignoredMessages);
  }

  private void exchangeCounter(RedisRiskExchange exchange, String outcome, ToLongFunction<RedisRiskExchange> count) {
    FunctionCounter.builder(EXCHANGED_RAISES, exchange, e -> count.applyAsLong(e))
        .description("Extraction risk raises shared with the other instances through Redis, by outcome: published, "
            + "dropped (held on this instance only), received, ignored (not a raise)")
        .tags("outcome", outcome)
        .register(registry);
  }

  /** The listener to register with the engine. */
  public GuardListener listener() {
    return this::onEvent;
  }

  /**
   * The filter to install in front of {@code ModelGuardFilter}: times the request and reads the
   * quota headers after it.
   */
  public Filter requestFilter() {
    return this::measureRequest;
  }

  /** The filter to install behind {@code ModelGuardFilter}, in front of the model servlets: times the model. */
  public Filter modelFilter() {
    return this::measureModel;
  }

  private void onEvent(GuardEvent event) {
    if (event instanceof DecisionEvent d) {
      String model = d.model() == null ? NONE : model(d.model());
      String tenant = tenant(d.tenant());
      Series series = series(model, tenant);
      Exchange exchange = current.get();
      if (exchange != null) {
        exchange.decided(series, d.allowed());
      }
      series.requests(d.allowed()).increment();
      if (!d.allowed()) {
        String reason = d.reasonCode().map(ReasonCode::code).orElse(NONE);
        counter(DENIALS, "Guard denials by reason code", "model", model, "tenant", tenant, "reason", reason)
            .increment();
        String refusal = countSsrfRefusals && d.operatorNote() != null ? SSRF_NOTES.get(d.operatorNote()) : null;
        if (refusal != null) {
          counter(SSRF_REFUSALS, "Host names refused for what they resolved to, told to the client as unresolvable",
              "model", model, "tenant", tenant, "refusal", refusal).increment();
        }
      }
    } else if (event instanceof PolicyFailureEvent f) {
      counter(POLICY_FAILURES, "Policies that threw instead of deciding", "chain", f.chain(), "policy", f.policy(),
          "failed_open", Boolean.toString(f.failedOpen())).increment();
    } else if (event instanceof ExtractionDetectionEvent x) {
      String model = x.model() == null ? NONE : model(x.model());
      String tenant = tenant(x.tenant());
      // Detector names come from the defence's configuration in code, never from a client.
      for (String detector : x.detectors()) {
        counter(DETECTIONS, "Queries on which an extraction detector fired", "model", model, "tenant", tenant,
            "detector", detector).increment();
      }
      if (x.level() != x.previousLevel()) {
        counter(RISK_CHANGES, "Extraction risk level changes of a client", "model", model, "tenant", tenant,
            "from", x.previousLevel().name().toLowerCase(Locale.ROOT),
            "to", x.level().name().toLowerCase(Locale.ROOT)).increment();
      }
    }
    // Other event types (added to the library later) are not measured here.
  }

  private void measureRequest(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    Exchange exchange = new Exchange(System.nanoTime());
    Exchange outer = current.get();
    current.set(exchange);
    try {
      chain.doFilter(request, response);
    } finally {
      long total = System.nanoTime() - exchange.start;
      if (outer == null) {
        current.remove();
      } else {
        current.set(outer);
      }
      if (exchange.series != null) {
        record(exchange, total, response);
      }
    }
  }

  private void measureModel(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    Exchange exchange = current.get();
    long start = System.nanoTime();
    try {
      chain.doFilter(request, response);
    } finally {
      if (exchange != null) {
        exchange.modelNanos += System.nanoTime() - start;
        exchange.modelRan = true;
      }
    }
  }

  private void record(Exchange exchange, long totalNanos, ServletResponse response) {
    Series series = exchange.series;
    series.guardLatency(exchange.allowed).record(Math.max(0, totalNanos - exchange.modelNanos), TimeUnit.NANOSECONDS);
    if (exchange.modelRan) {
      series.modelLatency().record(exchange.modelNanos, TimeUnit.NANOSECONDS);
    }
    if (series.tenant.equals(NONE) || series.tenant.equals(OTHER) || !(response instanceof HttpServletResponse)) {
      return;
    }
    String header = ((HttpServletResponse) response).getHeader("RateLimit");
    int nameEnd = header == null ? -1 : rateLimitNameEnd(header);
    if (nameEnd < 0) {
      return;
    }
    String limit = header.substring(1, nameEnd);
    if (!limits.contains(limit)) {
      return;
    }
    if (exchange.allowed) {
      series.quotaConsumed().increment();
    }
    // Keyed by the tag values alone: Tags (sorted, deduplicated) are built only for a new gauge.
    AtomicLong left = lookup(remaining, List.of(series.model, series.tenant, limit), k -> {
      AtomicLong value = new AtomicLong();
      Gauge.builder(QUOTA_REMAINING, value, AtomicLong::doubleValue)
          .description("Units left in the binding limit after the latest decision")
          .tags(Tags.of("model", k.get(0), "tenant", k.get(1), "limit", k.get(2)))
          .register(registry);
      return value;
    });
    left.set(Long.parseLong(header, nameEnd + 4, header.indexOf(';', nameEnd + 4), 10));
  }

  /**
   * Where the limit name ends (its closing quote) in a {@code RateLimit} header of the form
   * {@code "burst";r=19;t=1} (name: 1–32 of {@code [A-Za-z0-9._-]}; r: 1–18 digits; t: digits),
   * or -1 if the header has another form. A hand-written scan rather than a regular expression:
   * it runs on every request.
   */
  static int rateLimitNameEnd(String header) {
    if (header.isEmpty() || header.charAt(0) != '"') {
      return -1;
    }
    int nameEnd = header.indexOf('"', 1);
    if (nameEnd < 2 || nameEnd > 33 || !allMatch(header, 1, nameEnd, true)
        || !header.startsWith(";r=", nameEnd + 1)) {
      return -1;
    }
    int r = nameEnd + 4;
    int rEnd = header.indexOf(';', r);
    if (rEnd <= r || rEnd - r > 18 || !allMatch(header, r, rEnd, false) || !header.startsWith(";t=", rEnd)) {
      return -1;
    }
    int t = rEnd + 3;
    return t < header.length() && allMatch(header, t, header.length(), false) ? nameEnd : -1;
  }

  /** Whether {@code s[from, to)} is all ASCII digits, or (if {@code name}) all limit-name characters. */
  private static boolean allMatch(String s, int from, int to, boolean name) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      boolean ok = (c >= '0' && c <= '9')
          || (name && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-'));
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** The counter {@code name} with {@code tags} (key, value, ...), registered on first use. */
  private Counter counter(String name, String description, String... tags) {
    return lookup(counters, key(name, tags),
        k -> Counter.builder(name).description(description).tags(tags).register(registry));
  }

  /** The timer {@code name} with {@code tags} (key, value, ...), registered on first use. */
  private Timer timer(String name, String description, String... tags) {
    return lookup(timers, key(name, tags), k -> Timer.builder(name)
        .description(description)
        .tags(tags)
        .serviceLevelObjectives(LATENCY_BUCKETS)
        .register(registry));
  }

  private static List<String> key(String name, String... tags) {
    String[] key = new String[tags.length + 1];
    key[0] = name;
    System.arraycopy(tags, 0, key, 1, tags.length);
    return Arrays.asList(key);
  }

  private String model(String model) {
    return models.contains(model) ? model : OTHER;
  }

  private String tenant(String tenant) {
    if (tenant == null) {
      return NONE;
    }
    return tenants.contains(tenant) ? tenant : OTHER;
  }

  private static String outcome(boolean allowed) {
    return allowed ? "allowed" : "denied";
  }

  /**
   * The meters of a model and tenant (already mapped to the configured ones, {@value #OTHER} or
   * {@value #NONE}, so the map is bounded by the configuration): two look-ups of strings whose
   * hashes are cached, instead of a list key per meter per request.
   */
  private Series series(String model, String tenant) {
    return lookup(lookup(series, model, m -> new ConcurrentHashMap<>()), tenant, t -> new Series(model, t));
  }

  /**
   * {@code map}'s value for {@code key}, created on first use. A plain get first: {@code
   * computeIfAbsent} locks the key's bin even when the value exists, and every request looks up
   * the same few meters.
   */
  private static <K, V> V lookup(Map<K, V> map, K key, Function<? super K, ? extends V> create) {
    V value = map.get(key);
    return value != null ? value : map.computeIfAbsent(key, create);
  }

  /**
   * The per-request meters of one model and tenant. Each is resolved through {@link #counter} or
   * {@link #timer} on first use (so a series is registered only once it has a value, as before)
   * and then kept; a race resolves the same meter twice, which is harmless.
   */
  private final class Series {
    final String model;
    final String tenant;
    private final Lazy<Counter> allowed;
    private final Lazy<Counter> denied;
    private final Lazy<Counter> quotaConsumed;
    private final Lazy<Timer> guardAllowed;
    private final Lazy<Timer> guardDenied;
    private final Lazy<Timer> modelLatency;

    Series(String model, String tenant) {
      this.model = model;
      this.tenant = tenant;
      this.allowed = new Lazy<>(() -> decisions(model, tenant, true));
      this.denied = new Lazy<>(() -> decisions(model, tenant, false));
      this.quotaConsumed = new Lazy<>(() -> counter(QUOTA_CONSUMED, "Allowed requests a quota counted",
          "model", model, "tenant", tenant));
      this.guardAllowed = new Lazy<>(() -> guardTimer(model, tenant, true));
      this.guardDenied = new Lazy<>(() -> guardTimer(model, tenant, false));
      this.modelLatency = new Lazy<>(() -> timer(MODEL_LATENCY, "The model's time per allowed request",
          "model", model, "tenant", tenant));
    }

    Counter requests(boolean isAllowed) {
      return (isAllowed ? allowed : denied).get();
    }

    Timer guardLatency(boolean isAllowed) {
      return (isAllowed ? guardAllowed : guardDenied).get();
    }

    Timer modelLatency() {
      return modelLatency.get();
    }

    Counter quotaConsumed() {
      return quotaConsumed.get();
    }
  }

  private Counter decisions(String model, String tenant, boolean allowed) {
    return counter(REQUESTS, "Guard decisions", "model", model, "tenant", tenant, "outcome", outcome(allowed));
  }

  private Timer guardTimer(String model, String tenant, boolean allowed) {
    return timer(GUARD_LATENCY, "The guard's time per request: the whole request less the model",
        "model", model, "tenant", tenant, "outcome", outcome(allowed));
  }

  /**
   * A meter resolved on first use and then kept. A race resolves it twice, which is harmless:
   * {@link #counter} and {@link #timer} hand out one meter per name and tags.
   */
  private static final class Lazy<T> {
    private final Supplier<T> resolve;
    private volatile T value;

    Lazy(Supplier<T> resolve) {
      this.resolve = resolve;
    }

    T get() {
      T v = value;
      if (v == null) {
        v = resolve.get();
        value = v;
      }
      return v;
    }
  }

  /** What one request's thread learns about it on its way through the filters and the engine. */
  private static final class Exchange {
    final long start;
    Series series;
    boolean allowed;
    long modelNanos;
    boolean modelRan;

    Exchange(long start) {
      this.start = start;
    }

    void decided(Series series, boolean allowed) {
      this.series = Objects.requireNonNull(series);
      this.allowed = allowed;
    }
  }
}
