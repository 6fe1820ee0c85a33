package io.modelguard.examples;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The demo's command-line options. Immutable; start from {@link #defaults()} or {@link
 * #parse(String[], Map)}.
 *
 * <pre>
 * --host HOST          interface to bind (default 127.0.0.1, loopback only)
 * --port N             port to bind; 0 picks a free port (default 8080)
 * --config FILE        JSON security configuration (tiers, API keys, fetch hosts, JWT settings);
 *                      default: demo keys
 * --pepper-file FILE   base64 API-key pepper, at least 32 bytes (default: $MODELGUARD_PEPPER,
 *                      else a random pepper for this run)
 * --extraction-secret-file FILE
 *                      base64 secret keying the extraction defence's noise, at least 32 bytes
 *                      (default: $MODELGUARD_EXTRACTION_SECRET, else a random secret for this run)
 * --allow-fetch-host HOST[:PORT]
 *                      restrict image-classifier's image URLs to this host (repeatable; see
 *                      {@link FetchAllowList}); an internal address such as 127.0.0.1 only with
 *                      its port. Default: any public host on ports 80 and 443
 * --jwks-url URL | --jwt-public-key FILE
 *                      trust an external IdP's bearer tokens (see {@link JwtSettings}), with
 * --jwt-issuer URL --jwt-audience AUD
 *                      the issuer and audience they must carry, and optionally
 * --jwt-tier-claim NAME --jwt-tenant-claim NAME --jwt-default-tier TIER
 * --demo-issuer | --no-demo-issuer
 *                      run the demo token issuer or not (default: on unless an external IdP is set)
 * --redis-url URL      keep quota counts in this Redis (default: in memory)
 * --quota-failure open|closed|local[:N]
 *                      what to answer while Redis is unavailable (default local)
 * --audit-log FILE | --no-audit-log
 *                      append the JSON audit lines to FILE, or write none (default: the SLF4J
 *                      logger io.modelguard.examples.audit, on stderr)
 * --metrics-ssrf-refusals
 *                      count SSRF refusals in GET /metrics (modelguard_ssrf_refusals_total); only
 *                      where API clients cannot read /metrics (default: not counted)
 * --guard on|off       off serves the same app WITHOUT ModelGuard, for the end-to-end overhead
 *                      benchmark only (default on)
 * --help               print this help and exit
 * </pre>
 */
public final class AppOptions {
  /** The default interface: loopback only, so the demo is not reachable from the network. */
  public static final String DEFAULT_HOST = "127.0.0.1";
  /** The default port. */
  public static final int DEFAULT_PORT = 8080;
  /** The environment variable that may carry the base64 pepper. */
  public static final String PEPPER_ENV = "MODELGUARD_PEPPER";
  /** The environment variable that may carry the base64 secret keying the extraction defence's noise. */
  public static final String EXTRACTION_SECRET_ENV = "MODELGUARD_EXTRACTION_SECRET";

  /** The {@code --help} text. */
  public static final String USAGE = String.join(System.lineSeparator(),
      "Usage: java -jar modelguard-examples.jar [options]",
      "",
      "Starts the ModelGuard demo model server: POST /v1/models/{model}/predict, GET /v1/models,",
      "GET /healthz, GET /metrics. Models: digits (64 pixels 0..16), iris (4 measurements in cm),",
      "image-classifier (the URL of a PNG, JPEG or GIF image of a digit) and sentiment (a short",
      "English text). Tiers: free, pro, enterprise.",
      "",
      "Options:",
      "  --host HOST          interface to bind (default " + DEFAULT_HOST + ")",
      "  --port N             port to bind, 0 for any free port (default " + DEFAULT_PORT + ")",
      "  --config FILE        JSON file with tiers, API keys, allowed fetch hosts and JWT",
      "                       settings (see README.md); without it, demo keys are generated",
      "  --pepper-file FILE   file holding the base64 API-key pepper (at least 32 bytes);",
      "                       default: $" + PEPPER_ENV + ", else a random pepper for this run",
      "  --extraction-secret-file FILE",
      "                       file holding the base64 secret (at least 32 bytes) that keys the",
      "                       extraction defence's noise; default: $" + EXTRACTION_SECRET_ENV + ",",
      "                       else a random secret for this run",
      "  --allow-fetch-host HOST[:PORT]",
      "                       let image-classifier fetch image URLs only from these hosts",
      "                       (repeatable); an internal address such as 127.0.0.1 needs its",
      "                       port. Default: any public host on ports 80 and 443",
      "",
      "Bearer tokens (JWT), besides API keys; see README.md:",
      "  --jwks-url URL       trust tokens signed by the keys of this external IdP's JWKS",
      "                       (https; http only to a loopback address)",
      "  --jwt-public-key FILE",
      "                       ... or by the public key in this PEM file (RSA, EC or Ed25519)",
      "  --jwt-issuer URL     the iss external tokens must carry (required with either)",
      "  --jwt-audience AUD   the aud external tokens must name (required with either)",
      "  --jwt-tier-claim NAME    claim holding the tier (default: tier)",
      "  --jwt-tenant-claim NAME  claim holding the tenant (default: tenant, else jwt:<iss>#<sub>)",
      "  --jwt-default-tier TIER  tier of tokens without the tier claim (default: none)",
      "  --demo-issuer, --no-demo-issuer",
      "                       run the demo issuer (GET /.well-known/jwks.json, POST",
      "                       /demo/token) or not. Default: on unless an external IdP is set",
      "",
      "Quotas (tiers carry limits; see README.md):",
      "  --redis-url URL      keep quota counts in this Redis, shared by every instance,",
      "                       e.g. redis://127.0.0.1:6379 (default: in this process's memory)",
      "  --quota-failure open|closed|local[:N]",
      "                       while Redis is unavailable: allow uncounted (open), refuse with",
      "                       503 quota.unavailable (closed), or count in memory with each quota",
      "                       divided by N nodes (local = local:1, the default)",
      "",
      "Observability (see README.md): GET /metrics serves Prometheus metrics (unguarded, like",
      "/healthz); one JSON audit line per decision goes to the logger io.modelguard.examples.audit",
      "  --audit-log FILE     append the JSON audit lines to FILE instead",
      "  --no-audit-log       write no audit lines",
      "  --metrics-ssrf-refusals",
      "                       also count image URLs refused for resolving to an internal address",
      "                       (modelguard_ssrf_refusals_total). Only where API clients cannot read",
      "                       /metrics: the count tells what their 502 conceals (default: off)",
      "",
      "Benchmark only:",
      "  --guard on|off       off serves the same app with the ModelGuard filter NOT installed:",
      "                       no authentication, quotas, validation or extraction defence (for",
      "                       measuring ModelGuard's overhead end to end; default on)",
      "",
      "  --help               print this help and exit",
      "",
      "Exit codes: 0 normal stop, 2 invalid option or configuration, 1 unexpected failure.");

  private final String host;
  private final int port;
  private final Path configFile;
  private final Path pepperFile;
  private final String pepperFromEnv;
  private final boolean help;
  private final List<FetchAllowList.Entry> allowFetchHosts;
  private final JwtSettings jwt;
  private final QuotaSettings quota;
  private final Clock quotaClock;
  private final Path secretFile;
  private final String secretFromEnv;
  private final Serving serving;

  private AppOptions(String host, int port, Path configFile, Path pepperFile, String pepperFromEnv, boolean help,
      List<FetchAllowList.Entry> allowFetchHosts, JwtSettings jwt, QuotaSettings quota, Clock quotaClock,
      Path secretFile, String secretFromEnv, Serving serving) {
    this.serving = Objects.requireNonNull(serving, "serving");
    this.secretFile = secretFile;
    this.secretFromEnv = secretFromEnv;
    this.host = host;
    this.port = port;
    this.configFile = configFile;
    this.pepperFile = pepperFile;
    this.pepperFromEnv = pepperFromEnv;
    this.help = help;
    this.allowFetchHosts = List.copyOf(allowFetchHosts);
    this.jwt = Objects.requireNonNull(jwt, "jwt");
    this.quota = Objects.requireNonNull(quota, "quota");
    this.quotaClock = quotaClock;
  }

  /** {@value #DEFAULT_HOST}:{@value #DEFAULT_PORT}, demo keys, a random pepper, no fetch allow-list. */
  public static AppOptions defaults() {
    return new AppOptions(DEFAULT_HOST, DEFAULT_PORT, null, null, null, false, List.of(), JwtSettings.none(),
        QuotaSettings.none(), null, null, null, Serving.DEFAULT);
  }

  /**
   * Parses command-line arguments ({@code --flag value} or {@code --flag=value}); {@code env}
   * supplies {@value #PEPPER_ENV}.
   *
   * @throws StartupException naming the flag, for an unknown flag, a missing or invalid value
   */
  /**
   * The secret in environment variable {@code name}, or null if it is not set. Set but blank is a
   * mistake (a secret store that resolved to nothing, say), not a request for a random secret that
   * would silently change every restart.
   */
  private static String secretFromEnv(Map<String, String> env, String name) throws StartupException {
    String value = env.get(name);
    if (value != null && value.isBlank()) {
      throw new StartupException(name + " is set but empty; unset it to use a random secret for this run");
    }
    return value;
  }

  public static AppOptions parse(String[] args, Map<String, String> env) throws StartupException {
    AppOptions options = defaults();
    String envPepper = secretFromEnv(env, PEPPER_ENV);
    if (envPepper != null) {
      options = options.withPepperFromEnv(envPepper);
    }
    String envSecret = secretFromEnv(env, EXTRACTION_SECRET_ENV);
    if (envSecret != null) {
      options = options.withExtractionSecretFromEnv(envSecret);
    }
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String name = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      switch (name) {
        case "--help":
        case "-h":
          if (value != null) {
            throw new StartupException(name + " takes no value");
          }
          options = new AppOptions(options.host, options.port, options.configFile, options.pepperFile,
              options.pepperFromEnv, true, options.allowFetchHosts, options.jwt, options.quota, options.quotaClock,
              options.secretFile, options.secretFromEnv, options.serving);
          break;
        case "--host":
          value = value != null ? value : next(args, ++i, name);
          if (value.isBlank()) {
            throw new StartupException("--host must not be blank");
          }
          options = options.withHost(value);
          break;
        case "--port":
          value = value != null ? value : next(args, ++i, name);
          options = options.withPort(parsePort(value));
          break;
        case "--config":
          value = value != null ? value : next(args, ++i, name);
          options = options.withConfigFile(Path.of(value));
          break;
        case "--pepper-file":
          value = value != null ? value : next(args, ++i, name);
          options = options.withPepperFile(Path.of(value));
          break;
        case "--extraction-secret-file":
          value = value != null ? value : next(args, ++i, name);
          options = options.withExtractionSecretFile(Path.of(value));
          break;
        case "--allow-fetch-host":
          value = value != null ? value : next(args, ++i, name);
          try {
            options = options.withAllowFetchHost(value);
          } catch (IllegalArgumentException e) {
            throw new StartupException(name + ": " + e.getMessage(), e);
          }
          break;
        case "--jwt-issuer":
        case "--jwt-audience":
        case "--jwks-url":
        case "--jwt-public-key":
        case "--jwt-tier-claim":
        case "--jwt-tenant-claim":
        case "--jwt-default-tier":
          value = value != null ? value : next(args, ++i, name);
          try {
            options = options.withJwt(jwtField(name), value);
          } catch (IllegalArgumentException e) {
            throw new StartupException(name + ": " + e.getMessage(), e);
          }
          break;
        case "--redis-url":
          value = value != null ? value : next(args, ++i, name);
          try {
            options = options.withQuotaSettings(options.quota.withRedisUrl(value));
          } catch (IllegalArgumentException e) {
            throw new StartupException(name + ": " + e.getMessage(), e);
          }
          break;
        case "--quota-failure":
          value = value != null ? value : next(args, ++i, name);
          try {
            options = options.withQuotaSettings(options.quota.withFailurePolicy(value));
          } catch (IllegalArgumentException e) {
            throw new StartupException(name + ": " + e.getMessage(), e);
          }
          break;
        case "--demo-issuer":
        case "--no-demo-issuer":
          if (value != null) {
            throw new StartupException(name + " takes no value");
          }
          options = options.withJwtSettings(options.jwt.withDemoIssuer(name.equals("--demo-issuer"), name));
          break;
        case "--guard":
          value = value != null ? value : next(args, ++i, name);
          if (!value.equals("on") && !value.equals("off")) {
            throw new StartupException("--guard must be on or off");
          }
          options = options.withGuard(value.equals("on"));
          break;
        case "--audit-log":
          value = value != null ? value : next(args, ++i, name);
          if (value.isBlank()) {
            throw new StartupException("--audit-log needs a file name");
          }
          options = options.withAuditLogFile(Path.of(value));
          break;
        case "--no-audit-log":
          if (value != null) {
            throw new StartupException(name + " takes no value");
          }
          options = options.withAuditLog(false);
          break;
        case "--metrics-ssrf-refusals":
          if (value != null) {
            throw new StartupException(name + " takes no value");
          }
          options = options.withSsrfRefusalMeter(true);
          break;
        default:
          throw new StartupException("unknown option '" + printable(name) + "' (see --help)");
      }
    }
    return options;
  }

  private static JwtSettings.Field jwtField(String flag) {
    for (JwtSettings.Field f : JwtSettings.Field.values()) {
      if (f.flag().equals(flag)) {
        return f;
      }
    }
    throw new IllegalStateException("no JWT setting for " + flag);
  }

  private static String next(String[] args, int i, String flag) throws StartupException {
    if (i >= args.length || args[i].startsWith("--")) {
      throw new StartupException(flag + " needs a value (see --help)");
    }
    return args[i];
  }

  private static int parsePort(String value) throws StartupException {
    try {
      int port = Integer.parseInt(value.trim());
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return port;
    } catch (NumberFormatException e) {
      throw new StartupException("--port must be a number from 0 to 65535 (0 = any free port)");
    }
  }

  private static String printable(String s) {
    return DemoText.printable(s, 40);
  }

  /** A copy binding {@code host}. */
  public AppOptions withHost(String host) {
    return new AppOptions(Objects.requireNonNull(host, "host"), port, configFile, pepperFile, pepperFromEnv, help,
        allowFetchHosts, jwt, quota, quotaClock, secretFile, secretFromEnv, serving);
  }

  /** A copy binding {@code port} (0 = any free port). */
  public AppOptions withPort(int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be in 0..65535, was " + port);
    }
    return new AppOptions(host, port, configFile, pepperFile, pepperFromEnv, help, allowFetchHosts, jwt, quota,
        quotaClock, secretFile, secretFromEnv, serving);
  }

  /** A copy reading tiers, keys and fetch hosts from {@code file} instead of issuing demo keys. */
  public AppOptions withConfigFile(Path file) {
    return new AppOptions(host, port, Objects.requireNonNull(file, "file"), pepperFile, pepperFromEnv, help,
        allowFetchHosts, jwt, quota, quotaClock, secretFile, secretFromEnv, serving);
  }

  /** A copy reading the base64 pepper from {@code file}. */
  public AppOptions withPepperFile(Path file) {
    return new AppOptions(host, port, configFile, Objects.requireNonNull(file, "file"), pepperFromEnv, help,
        allowFetchHosts, jwt, quota, quotaClock, secretFile, secretFromEnv, serving);
  }

  /** A copy with the base64 pepper as given in {@value #PEPPER_ENV}. */
  public AppOptions withPepperFromEnv(String base64) {
    return new AppOptions(host, port, configFile, pepperFile, Objects.requireNonNull(base64, "base64"), help,
        allowFetchHosts, jwt, quota, quotaClock, secretFile, secretFromEnv, serving);
  }

  /**
   * A copy that also allows image URLs on {@code hostAndPort} ({@code HOST[:PORT]}, see {@link
   * FetchAllowList#parse}); any entry turns the fetch allow-list on.
   *
   * @throws IllegalArgumentException if the entry is not a valid {@code HOST[:PORT]}
   */
  public AppOptions withAllowFetchHost(String hostAndPort) {
    List<FetchAllowList.Entry> hosts = new ArrayList<>(allowFetchHosts);
    hosts.add(FetchAllowList.parse(hostAndPort));
    return new AppOptions(host, port, configFile, pepperFile, pepperFromEnv, help, hosts, jwt, quota, quotaClock,
        secretFile, secretFromEnv, serving);
  }

  /**
   * A copy with a bearer-token setting given as on the command line, for example {@code
   * withJwt(JwtSettings.Field.JWKS_URL, "https://idp.example/jwks")}.
   *
   * @throws IllegalArgumentException if the value is not valid for the setting
   */
  public AppOptions withJwt(JwtSettings.Field field, String value) {
    return withJwtSettings(jwt.with(field, value, field.flag()));
  }

  /** A copy that runs the demo issuer ({@code --demo-issuer}) or not ({@code --no-demo-issuer}). */
  public AppOptions withDemoIssuer(boolean on) {
    return withJwtSettings(jwt.withDemoIssuer(on, on ? "--demo-issuer" : "--no-demo-issuer"));
  }

  /**
   * A copy keeping quota counts in the Redis at {@code url} ({@code --redis-url}).
   *
   * @throws IllegalArgumentException if it is not a {@code redis://} or {@code rediss://} URL
   */
  public AppOptions withRedisUrl(String url) {
    return withQuotaSettings(quota.withRedisUrl(url));
  }

  /**
   * A copy with the failure policy used while Redis is unavailable ({@code --quota-failure}:
   * {@code open}, {@code closed}, {@code local} or {@code local:N}).
   *
   * @throws IllegalArgumentException for another value
   */
  public AppOptions withQuotaFailure(String policy) {
    return withQuotaSettings(quota.withFailurePolicy(policy));
  }

  /** A copy whose in-memory quota store reads {@code clock} (tests move time without sleeping). */
  AppOptions withQuotaClock(Clock clock) {
    return new AppOptions(host, port, configFile, pepperFile, pepperFromEnv, help, allowFetchHosts, jwt, quota,
        Objects.requireNonNull(clock, "clock"), secretFile, secretFromEnv, serving);
  }

  private AppOptions withQuotaSettings(QuotaSettings settings) {
    return new AppOptions(host, port, configFile, pepperFile, pepperFromEnv, help, allowFetchHosts, jwt, settings,
        quotaClock, secretFile, secretFromEnv, serving);
  }

  /** The quota settings of the command line; the configuration file's {@code quota} fields fill in the rest. */
  public QuotaSettings quota() {
    return quota;
  }

  /** The clock of the in-memory quota store, if a test set one. */
  Optional<Clock> quotaClock() {
    return Optional.ofNullable(quotaClock);
  }

  private AppOptions withJwtSettings(JwtSettings settings) {
    return new AppOptions(host, port, configFile, pepperFile, pepperFromEnv, help, allowFetchHosts, settings, quota,
        quotaClock, secretFile, secretFromEnv, serving);
  }

  /**
   * The bearer-token settings of the command line; the configuration file's {@code jwt} fields
   * fill in what these leave unset.
   */
  public JwtSettings jwt() {
    return jwt;
  }

  /** The interface to bind. */
  public String host() {
    return host;
  }

  /** The port to bind; 0 means any free port. */
  public int port() {
    return port;
  }

  /** The configuration file, if one was given. */
  public Optional<Path> configFile() {
    return Optional.ofNullable(configFile);
  }

  /** The pepper file, if one was given. */
  public Optional<Path> pepperFile() {
    return Optional.ofNullable(pepperFile);
  }

  /** The base64 pepper from the environment, if set. */
  Optional<String> pepperFromEnv() {
    return Optional.ofNullable(pepperFromEnv);
  }

  /** The extraction-secret file, if one was given. */
  public Optional<Path> extractionSecretFile() {
    return Optional.ofNullable(secretFile);
  }

  /** The base64 extraction secret from the environment, if set. */
  Optional<String> extractionSecretFromEnv() {
    return Optional.ofNullable(secretFromEnv);
  }

  /** A copy reading the extraction defence's noise secret (base64) from {@code file}. */
  public AppOptions withExtractionSecretFile(Path file) {
    return new AppOptions(host, port, configFile, pepperFile, pepperFromEnv, help, allowFetchHosts, jwt, quota,
        quotaClock, Objects.requireNonNull(file, "file"), secretFromEnv, serving);
  }

  /** A copy with the extraction defence's base64 noise secret as given in {@value #EXTRACTION_SECRET_ENV}. */
  public AppOptions withExtractionSecretFromEnv(String base64) {
    return new AppOptions(host, port, configFile, pepperFile, pepperFromEnv, help, allowFetchHosts, jwt, quota,
        quotaClock, secretFile, Objects.requireNonNull(base64, "base64"), serving);
  }

  /**
   * A copy that installs the ModelGuard filter ({@code --guard on}, the default) or serves the same
   * app without it ({@code --guard off}: for the end-to-end overhead benchmark only).
   */
  public AppOptions withGuard(boolean on) {
    return withServing(new Serving(on, serving.auditLog(), serving.auditLogFile(), serving.ssrfRefusalMeter()));
  }

  /** A copy writing the JSON audit lines ({@code true}, the default) or none ({@code --no-audit-log}). */
  public AppOptions withAuditLog(boolean on) {
    return withServing(new Serving(serving.guard(), on, on ? serving.auditLogFile() : Optional.empty(),
        serving.ssrfRefusalMeter()));
  }

  /** A copy appending the JSON audit lines to {@code file} ({@code --audit-log FILE}). */
  public AppOptions withAuditLogFile(Path file) {
    return withServing(new Serving(serving.guard(), true, Optional.of(Objects.requireNonNull(file, "file")),
        serving.ssrfRefusalMeter()));
  }

  /**
   * A copy whose meters count SSRF refusals ({@code --metrics-ssrf-refusals}; default {@code
   * false}): {@code modelguard_ssrf_refusals_total} on {@code GET /metrics}, which tells whoever
   * reads it what a client's {@code 502 input.fetch_failed} conceals (see {@link
   * io.modelguard.examples.metrics.DemoMetrics#SSRF_REFUSALS}), so only where API clients cannot
   * read {@code /metrics}.
   */
  public AppOptions withSsrfRefusalMeter(boolean on) {
    return withServing(new Serving(serving.guard(), serving.auditLog(), serving.auditLogFile(), on));
  }

  private AppOptions withServing(Serving settings) {
    return new AppOptions(host, port, configFile, pepperFile, pepperFromEnv, help, allowFetchHosts, jwt, quota,
        quotaClock, secretFile, secretFromEnv, settings);
  }

  /** Whether the ModelGuard filter is installed (false only with {@code --guard off}). */
  public boolean guard() {
    return serving.guard();
  }

  /** Whether JSON audit lines are written (false with {@code --no-audit-log}). */
  public boolean auditLog() {
    return serving.auditLog();
  }

  /** The file the JSON audit lines are appended to, if {@code --audit-log FILE} was given (else the logger). */
  public Optional<Path> auditLogFile() {
    return serving.auditLogFile();
  }

  /** Whether the meters count SSRF refusals (true only with {@code --metrics-ssrf-refusals}). */
  public boolean ssrfRefusalMeter() {
    return serving.ssrfRefusalMeter();
  }

  /** How the app is served: guard on or off, where audit lines go, and whether SSRF refusals are counted. */
  private record Serving(boolean guard, boolean auditLog, Optional<Path> auditLogFile, boolean ssrfRefusalMeter) {
    static final Serving DEFAULT = new Serving(true, true, Optional.empty(), false);
  }

  /** The {@code --allow-fetch-host} entries, in order (empty: no allow-list from the command line). */
  public List<FetchAllowList.Entry> allowFetchHosts() {
    return allowFetchHosts;
  }

  /** Whether {@code --help} was given. */
  public boolean help() {
    return help;
  }

  /** Describes the options; never includes the pepper. */
  @Override
  public String toString() {
    return "AppOptions[host=" + host + ", port=" + port + ", config=" + configFile + ", pepperFile=" + pepperFile
        + ", pepperFromEnv=" + (pepperFromEnv != null) + ", allowFetchHosts=" + allowFetchHosts + ", jwt=" + jwt
        + ", quota=" + quota + ", extractionSecretFile=" + secretFile + ", extractionSecretFromEnv="
        + (secretFromEnv != null) + ", guard=" + serving.guard() + ", auditLog="
        + (serving.auditLog() ? serving.auditLogFile().map(Path::toString).orElse("logger") : "off")
        + ", ssrfRefusalMeter=" + serving.ssrfRefusalMeter() + "]";
  }
}
