package io.modelguard.examples;

import io.modelguard.ModelGuard;
import io.modelguard.examples.metrics.DemoMetrics;
import io.modelguard.examples.metrics.JsonAuditLog;
import java.net.URI;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * The demo's {@link ModelGuard} as {@link ModelServingApp#start} builds it for the servlet variant,
 * without a server and without training the models: for measuring the guard's own cost in process
 * ({@code DemoChainBenchmark} in modelguard-benchmarks), apart from Jetty's. To serve the models,
 * start the app.
 *
 * <p>Built from the same options by the same code: the configuration (tiers, quota limits, keys),
 * the pepper and the extraction defence's secret, the quota store (in memory, or in Redis with
 * {@code --redis-url}), the per-address limit, both authenticators, the model-access check, the
 * input policy, the extraction defence, the tier fidelity and the listeners the demo registers:
 * the JSON audit log as {@code options} ask (to the logger, to a file, or none) and the meters
 * ({@link #metrics()}). One difference, outside a request with an API key: no JWKS is served, so
 * the demo issuer's bearer tokens (if it is on) are refused; its authenticator is in the chain as
 * in the demo, with the base URL {@code options} name as its issuer.
 */
public final class InProcessGuard implements AutoCloseable {
  private final ModelGuard guard;
  private final DemoMetrics metrics;
  private final QuotaBackend quota;
  private final DemoExtraction extraction;
  private final Optional<JsonAuditLog> audit;

  private InProcessGuard(ModelGuard guard, DemoMetrics metrics, QuotaBackend quota, DemoExtraction extraction,
      Optional<JsonAuditLog> audit) {
    this.guard = guard;
    this.metrics = metrics;
    this.quota = quota;
    this.extraction = extraction;
    this.audit = audit;
  }

  /**
   * Builds the guard {@link ModelServingApp#start} would install for {@code options}. Close it to
   * close the quota store, the extraction risk exchange (with {@code --redis-url}) and the audit log.
   *
   * @throws StartupException for what {@link ModelServingApp#start} refuses (the message names the
   *     flag or field)
   */
  public static InProcessGuard create(AppOptions options) throws StartupException {
    Objects.requireNonNull(options, "options");
    ModelServingApp.Parts parts = ModelServingApp.Parts.of(options);
    QuotaBackend quota = null;
    DemoExtraction extraction = null;
    Optional<JsonAuditLog> audit = Optional.empty();
    try {
      URI base = URI.create("http://" + ModelServingApp.displayHost(options.host()) + ":" + options.port());
      BearerTokens bearer = BearerTokens.create(parts.jwt(), parts.config().tiers(), base, parts.clock());
      quota = QuotaBackend.open(parts.quotaSettings(), options.quotaClock().orElse(parts.clock()));
      extraction = DemoExtraction.open(parts.extractionKeys(), parts.clock(), parts.quotaSettings(),
          quota.redisResources());
      audit = ModelServingApp.openAuditLog(options);
      DemoSecurity security = ModelServingApp.security(parts.config(), parts.input(), parts.pepper(), bearer,
          parts.clock(), parts.random(), quota, parts.quotaSettings(), extraction, parts.metrics(), audit,
          ModelServingApp.SERVLETS.mayLeaveUnserved());
      InProcessGuard built = new InProcessGuard(security.guard(), parts.metrics(), quota, extraction, audit);
      quota = null;
      extraction = null;
      audit = Optional.empty();
      return built;
    } finally {
      Arrays.fill(parts.pepper(), (byte) 0);
      ModelServingApp.closeBackends(quota, extraction, audit);
    }
  }

  /** The engine: call {@link ModelGuard#check} and {@link ModelGuard#onResponse} as the servlet filter does. */
  public ModelGuard guard() {
    return guard;
  }

  /** The meters the guard's listener counts into, as {@code GET /metrics} would serve them. */
  public DemoMetrics metrics() {
    return metrics;
  }

  /**
   * Closes the quota store, the extraction risk exchange and the audit log (writing the lines still
   * pending); idempotent.
   */
  @Override
  public void close() {
    ModelServingApp.closeBackends(quota, extraction, audit);
  }
}
