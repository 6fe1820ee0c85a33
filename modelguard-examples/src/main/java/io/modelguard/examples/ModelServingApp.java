package io.modelguard.examples;

import ch.qos.logback.classic.LoggerContext;
import io.modelguard.ModelGuard;
import io.modelguard.RandomSource;
import io.modelguard.examples.http.CloseAfterErrorFilter;
import io.modelguard.examples.http.DemoTokenServlet;
import io.modelguard.examples.http.HealthServlet;
import io.modelguard.examples.http.JwksServlet;
import io.modelguard.examples.http.ModelListServlet;
import io.modelguard.examples.http.NotFoundServlet;
import io.modelguard.examples.http.PredictServlet;
import io.modelguard.examples.http.ProblemErrorHandler;
import io.modelguard.event.GuardListener;
import io.modelguard.examples.issuer.DemoIssuer;
import io.modelguard.examples.metrics.DemoMetrics;
import io.modelguard.examples.metrics.JsonAuditLog;
import io.modelguard.examples.metrics.MetricsServlet;
import io.modelguard.examples.model.Classifier;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.extraction.NoiseKeys;
import io.modelguard.input.ModelInputPolicy;
import io.modelguard.servlet.ModelGuardFilter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ModelGuard demo model server: trains three small models at start-up ({@link ModelCatalog}:
 * digits, iris, sentiment) and serves them, and a classifier of digit images fetched from a URL, on
 * embedded Jetty behind {@link ModelGuardFilter}. Every decision is counted ({@link DemoMetrics})
 * and written as one JSON audit line ({@link JsonAuditLog}). With {@code --guard off} (benchmark
 * only) the same app is served without the filter.
 *
 * <ul>
 *   <li>{@code POST /v1/models/{model}/predict} — API key or bearer token, and the caller's tier
 *       must grant the model; then ModelGuard validates the input (and fetches an {@code
 *       image-classifier} image URL through its SSRF-safe fetcher, from the hosts {@link
 *       FetchAllowList} allows);
 *   <li>{@code GET /v1/models} — API key or bearer token; lists the models the caller may use;
 *   <li>{@code GET /healthz} — unguarded;
 *   <li>{@code GET /metrics} — unguarded; the meters of {@link DemoMetrics} in the Prometheus text
 *       format;
 *   <li>{@code GET /.well-known/jwks.json}, {@code POST /demo/token} — the demo issuer ({@link
 *       DemoIssuer}), unguarded, only while it runs (see {@link JwtSettings#demoIssuer()}).
 * </ul>
 *
 * <p>Tiers carry quota limits per tenant and model; counts are kept in memory, or in Redis with
 * {@code --redis-url} (see {@link QuotaBackend}). Guarded responses carry {@code RateLimit-Policy}
 * and {@code RateLimit}; a caller over a limit gets 429 {@code quota.exceeded} with {@code
 * Retry-After}.
 *
 * <p>Bearer tokens come from an external IdP ({@code --jwks-url} or {@code --jwt-public-key}, with
 * {@code --jwt-issuer} and {@code --jwt-audience}) and/or the demo issuer; see {@link BearerTokens}.
 *
 * <p>From the command line, {@link #main} (see {@link AppOptions#USAGE}). In code and tests:
 *
 * <pre>{@code
 * try (ModelServingApp app = ModelServingApp.start(AppOptions.defaults().withPort(0), System.out)) {
 *   URI base = app.baseUri();
 *   String freeKey = app.key("free").orElseThrow().plaintext();
 *   ...
 * }
 * }</pre>
 */
public final class ModelServingApp implements AutoCloseable {
  /**
   * The request attribute a predict endpoint sets (to {@link Boolean#TRUE}) on a prediction it
   * refuses for reasons of its own before any model did the work: the gateway's, on one it never
   * forwarded ({@link io.modelguard.examples.gateway.GatewayServlet}). The demo's quota charges such
   * a request nothing: it settles its charge at cost 0 once the refusal is answered ({@link
   * io.modelguard.quota.QuotaPolicy.Builder#charge}). A refusal of the client's input is charged
   * as the guard's own are, so a flood of invalid requests is still limited.
   */
  public static final String UNSERVED_ATTRIBUTE = "io.modelguard.examples.unserved";

  private static final Logger log = LoggerFactory.getLogger(ModelServingApp.class);
  private static final String PROGRAM = "modelguard-examples";
  /** Jetty's HTTP parser logs every header field, API keys included, at DEBUG. */
  static final String JETTY_PARSER_LOGGER = "org.eclipse.jetty.http.HttpParser";

  private final Server server;
  private final URI baseUri;
  private final ModelCatalog models;
  private final ModelGuard guard;
  private final List<DemoKey> keys;
  private final Optional<DemoIssuer> demoIssuer;
  private final QuotaBackend quota;
  private final DemoExtraction extraction;
  private final DemoMetrics metrics;
  private final Optional<JsonAuditLog> audit;

  private ModelServingApp(Server server, URI baseUri, ModelCatalog models, ModelGuard guard, List<DemoKey> keys,
      Optional<DemoIssuer> demoIssuer, QuotaBackend quota, DemoExtraction extraction, DemoMetrics metrics,
      Optional<JsonAuditLog> audit) {
    this.metrics = metrics;
    this.audit = audit;
    this.server = server;
    this.baseUri = baseUri;
    this.models = models;
    this.guard = guard;
    this.keys = keys;
    this.demoIssuer = demoIssuer;
    this.quota = quota;
    this.extraction = extraction;
  }

  /**
   * Starts the demo and prints the start-up banner (address, generated keys, curl commands) on
   * {@code console}. Returns once the server accepts connections.
   *
   * @throws StartupException for a problem the operator must fix (invalid configuration or pepper,
   *     address in use); its message is one line naming the flag or field
   */
  public static ModelServingApp start(AppOptions options, PrintStream console) throws StartupException {
    return start(options, console, SERVLETS);
  }

  /**
   * What a variant's endpoints are built from: the trained models, the engine built from the
   * configuration, the demo issuer (if it runs), the meters, and whether the guard is installed
   * ({@code --guard off} is for the overhead benchmark only).
   */
  public record Site(ModelCatalog models, ModelGuard guard, Optional<DemoIssuer> issuer, DemoMetrics metrics,
      boolean guarded) {}

  /**
   * Builds the servlet context serving the demo's endpoints. The demo's own is {@link #SERVLETS};
   * the JAX-RS and gateway variants bring theirs, so every variant shares one configuration
   * (models, tiers, keys, policies, quota store, meters, banner).
   */
  @FunctionalInterface
  public interface Endpoints {
    /** The context to serve; the server starts it. */
    ServletContextHandler context(Site site);

    /**
     * Whether these endpoints may refuse a prediction unserved ({@link #UNSERVED_ATTRIBUTE}), so
     * that the quota settles each request's charge after the answer; the gateway's do. Default:
     * false, and the quota's charge is final with no settlement step.
     */
    default boolean mayLeaveUnserved() {
      return false;
    }

    /** {@code endpoints}, which {@linkplain #mayLeaveUnserved may refuse a prediction unserved}. */
    static Endpoints leavingUnserved(Endpoints endpoints) {
      return new Endpoints() {
        @Override
        public ServletContextHandler context(Site site) {
          return endpoints.context(site);
        }

        @Override
        public boolean mayLeaveUnserved() {
          return true;
        }
      };
    }
  }

  /** The servlet variant: {@link PredictServlet} and {@link ModelListServlet} behind {@link ModelGuardFilter}. */
  public static final Endpoints SERVLETS = site -> context(new PredictServlet(site.models()), site);

  /** {@link #start(AppOptions, PrintStream)} serving {@code endpoints}. */
  public static ModelServingApp start(AppOptions options, PrintStream console, Endpoints endpoints)
      throws StartupException {
    return start(options, console, endpoints, DemoShutdown.none());
  }

  /**
   * {@link #start(AppOptions, PrintStream, Endpoints)} handing the started app to {@code shutdown}
   * before the banner announces it; the banner is left out if the process is already stopping.
   */
  private static ModelServingApp start(AppOptions options, PrintStream console, Endpoints endpoints,
      DemoShutdown shutdown) throws StartupException {
    Parts parts = Parts.of(options);
    DemoConfig config = parts.config();
    JwtSettings jwt = parts.jwt();
    FetchAllowList fetchHosts = parts.fetchHosts();
    ModelInputPolicy input = parts.input();
    RandomSource random = parts.random();
    Clock clock = parts.clock();
    QuotaSettings quotaSettings = parts.quotaSettings();
    DemoMetrics metrics = parts.metrics();
    byte[] pepper = parts.pepper();
    QuotaBackend quota = null;
    DemoExtraction extraction = null;
    Optional<JsonAuditLog> audit = Optional.empty();
    try {
      ModelCatalog models = ModelCatalog.trainDemoModels();
      for (ModelCatalog.ServedModel m : models.all().values()) {
        Classifier.Evaluation e = m.classifier().evaluation();
        logTraining(m.id(), e);
      }
      logTraining(models.sentiment().id(), models.sentiment().evaluation());

      // Bind first: the demo issuer's iss and JWKS URL are the bound address.
      Server server = new Server(threadPool());
      HttpConfiguration http = new HttpConfiguration();
      http.setSendServerVersion(false);
      http.setSendXPoweredBy(false);
      ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
      connector.setHost(options.host());
      connector.setPort(options.port());
      server.addConnector(connector);
      try {
        connector.open();
      } catch (IOException e) {
        stopQuietly(server);
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        throw new StartupException("cannot listen on " + options.host() + ":" + options.port() + " ("
            + cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage())
            + ")", e);
      }
      URI base = URI.create("http://" + displayHost(options.host()) + ":" + connector.getLocalPort());
      try {
        quota = QuotaBackend.open(quotaSettings, options.quotaClock().orElse(clock));
        extraction = DemoExtraction.open(parts.extractionKeys(), clock, quotaSettings, quota.redisResources());
        audit = openAuditLog(options);
        ModelServingApp app = serve(options, config, fetchHosts, input, pepper, jwt, models, server, base,
            console, clock, random, quota, quotaSettings, extraction, metrics, audit, endpoints, shutdown);
        quota = null;
        extraction = null;
        audit = Optional.empty();
        return app;
      } catch (StartupException | RuntimeException e) {
        stopQuietly(server);
        connector.close();
        throw e;
      }
    } finally {
      Arrays.fill(pepper, (byte) 0);
      closeBackends(quota, extraction, audit);
    }
  }

  /**
   * What {@link #start} sets up from the options before it trains the models and binds the port,
   * shared with {@link InProcessGuard}: the configuration, the bearer-token settings, the fetch
   * allow-list, the input policy, the secure random source and system clock, the quota settings,
   * the meters, the extraction defence's noise keys (the caller opens the defence with them, {@link
   * DemoExtraction#open}, beside the quota store: with {@code --redis-url} both use Redis) and the
   * pepper (which the caller zeroes once the guard is built).
   */
  record Parts(DemoConfig config, JwtSettings jwt, FetchAllowList fetchHosts, ModelInputPolicy input,
      RandomSource random, Clock clock, QuotaSettings quotaSettings, DemoMetrics metrics, NoiseKeys extractionKeys,
      byte[] pepper) {

    /** @throws StartupException naming the flag or field, for an invalid configuration, pepper or secret */
    static Parts of(AppOptions options) throws StartupException {
      DemoConfig config = options.configFile().isPresent()
          ? DemoConfig.read(options.configFile().get(), ModelCatalog.MODEL_IDS)
          : DemoConfig.demo();
      JwtSettings jwt = options.jwt().over(config.jwt());
      jwt.validate(config.tiers().keySet());
      if (options.configFile().isPresent()) {
        DemoSecurity.checkDemoIssuerTenant(config, jwt.demoIssuer(), "config " + options.configFile().get());
      }
      List<FetchAllowList.Entry> hosts = new ArrayList<>(options.allowFetchHosts());
      hosts.addAll(config.allowFetchHosts());
      FetchAllowList fetchHosts = FetchAllowList.of(hosts);
      ModelInputPolicy.Builder input = ModelInputPolicy.builder()
          .fetcher(fetchHosts.fetcher(ModelCatalog.IMAGE_MAX_BYTES));
      ModelCatalog.inputSpecs().forEach(input::model);
      RandomSource random = RandomSource.secure();
      Clock clock = Clock.systemUTC();
      QuotaSettings quotaSettings = options.quota().over(config.quota());
      DemoMetrics metrics = new DemoMetrics(ModelCatalog.MODEL_IDS, DemoSecurity.tenants(config),
          limitNames(config), options.ssrfRefusalMeter());
      if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logback) {
        // The log's queues (logback.xml) drop lines rather than park a request thread: show how many.
        metrics.countDroppedLogEvents(logback);
      }
      NoiseKeys extractionKeys = DemoExtraction.loadKeys(options, random);
      byte[] pepper = DemoSecurity.loadPepper(options, random);
      return new Parts(config, jwt, fetchHosts, input.build(), random, clock, quotaSettings, metrics, extractionKeys,
          pepper);
    }
  }

  private static void logTraining(String id, Classifier.Evaluation e) {
    log.info("Trained model '{}': held-out accuracy {} ({} training rows, {} held-out rows) in {} ms", id,
        String.format(Locale.ROOT, "%.4f", e.heldOutAccuracy()), e.trainRows(), e.testRows(),
        e.trainingTime().toMillis());
  }

  /** The names of every configured quota limit: the only {@code limit} tag values of the quota meter. */
  private static Set<String> limitNames(DemoConfig config) {
    Set<String> names = new LinkedHashSet<>();
    config.tierLimits().values().forEach(limits -> limits.forEach(l -> names.add(l.name())));
    return names;
  }

  /** The JSON audit log of {@code --audit-log} (a file), the logger by default, none with {@code --no-audit-log}. */
  static Optional<JsonAuditLog> openAuditLog(AppOptions options) throws StartupException {
    if (!options.auditLog()) {
      log.info("Audit log off (--no-audit-log)");
      return Optional.empty();
    }
    if (options.auditLogFile().isEmpty()) {
      return Optional.of(JsonAuditLog.toLogger());
    }
    Path file = options.auditLogFile().get();
    try {
      JsonAuditLog audit = JsonAuditLog.toFile(file);
      log.info("Audit lines (JSON, one per decision) are appended to {}", file);
      return Optional.of(audit);
    } catch (IOException e) {
      throw new StartupException("--audit-log " + file + ": cannot open for appending ("
          + e.getClass().getSimpleName() + ")", e);
    }
  }

  /** Everything after the port is bound: the guard, the servlets, start, the demo issuer's JWKS. */
  private static ModelServingApp serve(AppOptions options, DemoConfig config, FetchAllowList fetchHosts,
      ModelInputPolicy input, byte[] pepper, JwtSettings jwt, ModelCatalog models, Server server, URI base,
      PrintStream console, Clock clock, RandomSource random, QuotaBackend quota, QuotaSettings quotaSettings,
      DemoExtraction extraction, DemoMetrics metrics, Optional<JsonAuditLog> audit, Endpoints endpoints,
      DemoShutdown shutdown) throws StartupException {
    BearerTokens bearer = BearerTokens.create(jwt, config.tiers(), base, clock);
    DemoSecurity security = security(config, input, pepper, bearer, clock, random, quota, quotaSettings, extraction,
        metrics, audit, endpoints.mayLeaveUnserved());
    log.info("Image URLs of '{}' may be fetched from {}", ModelCatalog.IMAGE_CLASSIFIER, fetchHosts.describe());
    if (bearer.summary().isEmpty()) {
      log.info("Bearer tokens: none trusted (no external IdP, demo issuer off); API keys only");
    }
    bearer.summary().forEach(line -> log.info("Bearer tokens: {}", line.strip()));

    server.setHandler(endpoints.context(
        new Site(models, security.guard(), bearer.demoIssuer(), metrics, options.guard())));
    server.setErrorHandler(ProblemErrorHandler.forServer());
    try {
      server.start();
    } catch (Exception e) {
      throw new IllegalStateException("the HTTP server failed to start", e);
    }
    // The demo issuer's tokens are verified like any IdP's: through the JWKS the server now serves.
    bearer.connectDemoIssuer(URI.create(base + DemoIssuer.JWKS_PATH), true);
    ModelServingApp app = new ModelServingApp(server, base, models, security.guard(), security.keys(),
        bearer.demoIssuer(), quota, extraction, metrics, audit);
    // Before anything says the demo is up: a stop from here on closes it (the hook waits for this).
    if (!shutdown.closeAtExit(app)) {
      log.info("Stopping during start-up: {} is not announced", base);
      return app;
    }
    log.info("Listening on {} (bound to {}:{})", base, options.host(), base.getPort());
    if (LoggerFactory.getLogger(JETTY_PARSER_LOGGER).isDebugEnabled()) {
      log.warn("DEBUG logging is on for {}: Jetty then logs raw request headers, including X-API-Key and "
          + "Authorization. Keep org.eclipse.jetty at INFO wherever real credentials are used.", JETTY_PARSER_LOGGER);
    }
    if (!JwtSettings.isLoopbackLiteral(options.host())) {
      log.warn("Bound to {}, not loopback: the demo is reachable from the network, and so is {}{} (unguarded: "
          + "keep it behind the network's own access control)", options.host(), base, MetricsServlet.PATH);
      if (bearer.demoIssuer().isPresent()) {
        log.warn("The demo issuer is on: anyone who can reach {}{} can mint tokens (--no-demo-issuer turns it off)",
            base, DemoIssuer.TOKEN_PATH);
      }
    }
    KeyBanner.print(console, base, security.keys(), models, config.demoKeys(), fetchHosts, bearer,
        KeyBanner.quotaLines(config.tierLimits(), quotaSettings.unauthenticated(), quota.description()));
    if (!options.guard()) {
      List<String> warning = List.of("--guard off: ModelGuard is NOT installed. Every request reaches the models",
          "without authentication, quotas, input validation or extraction defence.",
          "For the overhead benchmark only.");
      log.warn("{} {} {}", warning.get(0), warning.get(1), warning.get(2));
      console.println();
      console.println(" " + "!".repeat(98));
      warning.forEach(line -> console.println(" WARNING " + line));
      console.println(" " + "!".repeat(98));
      console.flush();
    }
    return app;
  }

  /**
   * The guard of a running demo, wired from what {@link #start} has set up, with the JSON audit
   * log's listener (if any) and then the meters'; shared with {@link InProcessGuard} so that the
   * in-process benchmark measures this very chain.
   */
  static DemoSecurity security(DemoConfig config, ModelInputPolicy input, byte[] pepper, BearerTokens bearer,
      Clock clock, RandomSource random, QuotaBackend quota, QuotaSettings quotaSettings, DemoExtraction extraction,
      DemoMetrics metrics, Optional<JsonAuditLog> audit, boolean settleUnserved) throws StartupException {
    List<GuardListener> listeners = new ArrayList<>();
    audit.ifPresent(listeners::add);
    // A file's writer may lose lines (a full disk, a stall): show how many.
    audit.ifPresent(metrics::countLostAuditLines);
    // With --redis-url: raises shared, dropped, received, and junk on the channel.
    extraction.exchange().ifPresent(metrics::countExchangedRaises);
    listeners.add(metrics.listener());
    // The JSON audit log replaces the engine's key=value one.
    return DemoSecurity.create(config, ModelCatalog.MODEL_IDS, input, pepper, bearer.policy(), clock, random,
        quota.store(), quotaSettings.unauthenticated(), extraction, listeners, false, settleUnserved);
  }

  /**
   * The servlet variant's context with {@code predict} (a {@code @ModelSecured} servlet) serving
   * {@code POST /v1/models/{model}/predict}: the gateway variant passes its proxy servlet.
   */
  public static ServletContextHandler context(HttpServlet predict, Site site) {
    ServletContextHandler context = new ServletContextHandler("/");
    context.addServlet(new ServletHolder("predict", predict), "/v1/models/*");
    context.addServlet(new ServletHolder("models", new ModelListServlet(site.guard())), ModelListServlet.PATH);
    context.addServlet(new ServletHolder("not-found", new NotFoundServlet()), "/");
    addUnguardedEndpoints(context, site);
    if (site.guarded()) {
      // Every dispatch passes the filter (forwards, includes, asynchronous and error dispatches
      // too); it guards the servlets annotated with @ModelSecured.
      addFilter(context, "modelguard", new ModelGuardFilter(site.guard()), EnumSet.allOf(DispatcherType.class));
    }
    // Innermost: times the model alone.
    addFilter(context, "model-timer", site.metrics().modelFilter());
    return context;
  }

  /**
   * What every variant's context has besides the model endpoints: {@code /healthz}, {@code
   * /metrics}, the demo issuer's endpoints (only while it runs; otherwise these paths are 404), the
   * refusal of {@code TRACE} ({@code 501}), the metrics filter (outermost after it: it times the
   * guard), {@link CloseAfterErrorFilter} and problem+json error pages ({@link
   * ProblemErrorHandler}). Call it before adding the variant's own filters: filters run in the
   * order added.
   */
  public static void addUnguardedEndpoints(ServletContextHandler context, Site site) {
    // HttpServlet answers TRACE by echoing the request's headers, an X-API-Key among them (Servlet 6
    // leaves out only Authorization, cookies and forwarding headers): no resource here supports it.
    addFilter(context, "no-trace", (request, response, chain) -> {
      if ("TRACE".equals(((HttpServletRequest) request).getMethod())) {
        ((HttpServletResponse) response).sendError(HttpServletResponse.SC_NOT_IMPLEMENTED);
      } else {
        chain.doFilter(request, response);
      }
    });
    context.addServlet(new ServletHolder("health", new HealthServlet()), HealthServlet.PATH);
    context.addServlet(new ServletHolder("metrics", new MetricsServlet(site.metrics())), MetricsServlet.PATH);
    site.issuer().ifPresent(i -> {
      context.addServlet(new ServletHolder("jwks", new JwksServlet(i)), JwksServlet.PATH);
      context.addServlet(new ServletHolder("demo-token", new DemoTokenServlet(i)), DemoTokenServlet.PATH);
    });
    addFilter(context, "metrics", site.metrics().requestFilter());
    // Error answers may be written before the body is read (the demo's 404 and 405; the guard's
    // refusal of a body over 1 MiB): tell keep-alive clients the connection closes.
    addFilter(context, "close-after-error", new CloseAfterErrorFilter());
    context.setErrorHandler(new ProblemErrorHandler());
  }

  private static void addFilter(ServletContextHandler context, String name, Filter filter) {
    addFilter(context, name, filter, EnumSet.of(DispatcherType.REQUEST));
  }

  private static void addFilter(ServletContextHandler context, String name, Filter filter,
      EnumSet<DispatcherType> dispatches) {
    FilterHolder holder = new FilterHolder(filter);
    holder.setName(name);
    context.addFilter(holder, "/*", dispatches);
  }

  private static QueuedThreadPool threadPool() {
    QueuedThreadPool pool = new QueuedThreadPool(32, 4);
    pool.setName("modelguard-http");
    return pool;
  }

  static String displayHost(String host) {
    if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
      return "127.0.0.1";
    }
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }


  private static void stopQuietly(Server server) {
    try {
      server.stop();
    } catch (Exception e) {
      log.debug("Stopping the half-started server failed", e);
    }
  }

  /** The base URI clients use, such as {@code http://127.0.0.1:8080}. */
  public URI baseUri() {
    return baseUri;
  }

  /** The bound port (the real one when started with port 0). */
  public int port() {
    return baseUri.getPort();
  }

  /** The trained models. */
  public ModelCatalog models() {
    return models;
  }

  /** The engine guarding the endpoints. */
  public ModelGuard guard() {
    return guard;
  }

  /** The keys set up at start-up, as printed in the banner. */
  public List<DemoKey> keys() {
    return keys;
  }

  /**
   * The key with banner label {@code label} ({@code free}, {@code pro}, {@code enterprise}, {@code
   * revoked}, {@code expired} in the demo).
   */
  public Optional<DemoKey> key(String label) {
    return keys.stream().filter(k -> k.label().equals(label)).findFirst();
  }

  /** The demo issuer, if it runs ({@code POST /demo/token}, {@code GET /.well-known/jwks.json}). */
  public Optional<DemoIssuer> demoIssuer() {
    return demoIssuer;
  }

  /** The meters {@code GET /metrics} serves. */
  public DemoMetrics metrics() {
    return metrics;
  }

  /**
   * Returns once the audit lines of the decisions made so far are in the {@code --audit-log} file
   * (which otherwise receives them within a few milliseconds); nothing to do without one.
   */
  public void flushAuditLog() {
    audit.ifPresent(JsonAuditLog::flush);
  }

  /** Blocks until the server stops. */
  public void join() throws InterruptedException {
    server.join();
  }

  /** Stops the server; idempotent. */
  @Override
  public void close() {
    if (server.isStopped()) {
      closeBackends(quota, extraction, audit);
      return;
    }
    try {
      server.stop();
      log.info("Stopped {}", baseUri);
    } catch (Exception e) {
      log.warn("Stopping the server failed", e);
    } finally {
      closeBackends(quota, extraction, audit);
    }
  }

  /**
   * Closes the extraction defence and its risk exchange, the quota store and the audit log (writing
   * the lines still pending), each whatever the one before it threw; null ones are skipped. The
   * exchange goes first: with {@code --redis-url} it runs on the quota backend's Lettuce resources,
   * which closing the backend shuts down.
   */
  static void closeBackends(QuotaBackend quota, DemoExtraction extraction, Optional<JsonAuditLog> audit) {
    try {
      if (extraction != null) {
        extraction.close();
      }
    } finally {
      try {
        if (quota != null) {
          quota.close();
        }
      } finally {
        audit.ifPresent(JsonAuditLog::close);
      }
    }
  }

  /**
   * Runs the demo until the process is stopped (Ctrl-C). Exit codes: 0 after {@code --help}, 2 for
   * an invalid option or configuration (one line on stderr, no stack trace), 1 for an unexpected
   * failure.
   */
  public static void main(String[] args) throws Exception {
    DemoShutdown.runMain("modelguard-shutdown",
        shutdown -> run(args, System.getenv(), System.out, System.err, SERVLETS, shutdown));
  }

  /**
   * {@link #main} without {@code System.exit}: returns the exit code once the server has stopped or
   * start-up failed.
   */
  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    return run(args, env, out, err, SERVLETS, DemoShutdown.none());
  }

  /**
   * {@link #run(String[], Map, PrintStream, PrintStream)} serving {@code endpoints}: the variants'
   * main methods. The app, once started and before the banner announces it, is given to {@code
   * shutdown} to close at exit (before the log is stopped); a stop that comes earlier leaves out the
   * banner, and the hook closes the app as soon as start-up hands it over.
   */
  public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err,
      Endpoints endpoints, DemoShutdown shutdown) {
    ModelServingApp app;
    try {
      AppOptions options = AppOptions.parse(args, env);
      if (options.help()) {
        out.println(AppOptions.USAGE);
        return 0;
      }
      app = start(options, out, endpoints, shutdown);
    } catch (StartupException e) {
      err.println(PROGRAM + ": " + e.getMessage());
      return StartupException.EXIT_CODE;
    } catch (RuntimeException e) {
      log.error("Start-up failed", e);
      err.println(PROGRAM + ": start-up failed: " + e.getClass().getSimpleName());
      return 1;
    }
    try {
      app.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      app.close();
    }
    return 0;
  }
}
