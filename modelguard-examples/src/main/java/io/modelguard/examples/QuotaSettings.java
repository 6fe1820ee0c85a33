package io.modelguard.examples;

import com.fasterxml.jackson.databind.JsonNode;
import io.lettuce.core.RedisURI;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaLimit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where the demo keeps quota counts and what it does when that store fails: {@code --redis-url}
 * / {@code --quota-failure} on the command line, {@code quota.redisUrl} / {@code
 * quota.failurePolicy} / {@code quota.unauthenticated} in the configuration file. A flag overrides
 * the file's field. Also parses the JSON form of limits used by {@code tiers.<name>.limits} and
 * {@code quota.unauthenticated}:
 *
 * <pre>{@code
 * [ { "name": "burst",  "quota": 5,    "windowSeconds": 1 },
 *   { "name": "minute", "quota": 60,   "windowSeconds": 60,    "algorithm": "sliding" },
 *   { "name": "daily",  "quota": 1000, "windowSeconds": 86400, "algorithm": "sliding" } ]
 * }</pre>
 *
 * {@code algorithm} is {@code token-bucket} (the default) or {@code sliding}. Immutable.
 */
public final class QuotaSettings {
  /** The failure policy without {@code --quota-failure}: the library's default, {@code localFallback(1)}. */
  public static final FailurePolicy DEFAULT_FAILURE_POLICY = FailurePolicy.localFallback(1);

  /** The per-address limit on unauthenticated requests unless the configuration sets one: 30 per minute. */
  public static final List<QuotaLimit> DEFAULT_UNAUTHENTICATED =
      List.of(QuotaLimit.tokenBucket("unauthenticated", 30, Duration.ofMinutes(1)));

  private static final Set<String> LIMIT_FIELDS = Set.of("name", "quota", "windowSeconds", "algorithm");
  /** A limit name, as {@link QuotaLimit} requires it. */
  private static final Pattern LIMIT_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,31}");

  private final String redisUrl;
  private final FailurePolicy failurePolicy;
  private final List<QuotaLimit> unauthenticated;

  private QuotaSettings(String redisUrl, FailurePolicy failurePolicy, List<QuotaLimit> unauthenticated) {
    this.redisUrl = redisUrl;
    this.failurePolicy = failurePolicy;
    this.unauthenticated = unauthenticated == null ? null : List.copyOf(unauthenticated);
  }

  /** Nothing set: in memory, the default failure policy and unauthenticated limit. */
  public static QuotaSettings none() {
    return new QuotaSettings(null, null, null);
  }

  /**
   * A copy keeping counts in the Redis at {@code url} ({@code redis://host:port} or {@code
   * rediss://...}).
   *
   * @throws IllegalArgumentException if the URL is not a Redis URL (the message never repeats it)
   */
  public QuotaSettings withRedisUrl(String url) {
    checkRedisUrl(url);
    return new QuotaSettings(url, failurePolicy, unauthenticated);
  }

  /**
   * A copy with the failure policy {@code open}, {@code closed}, {@code local} or {@code local:N}
   * (N nodes share the quota).
   *
   * @throws IllegalArgumentException if the value is none of these
   */
  public QuotaSettings withFailurePolicy(String value) {
    return new QuotaSettings(redisUrl, parseFailurePolicy(value), unauthenticated);
  }

  /** A copy with this per-address limit on unauthenticated requests. */
  QuotaSettings withUnauthenticated(List<QuotaLimit> limits) {
    return new QuotaSettings(redisUrl, failurePolicy, limits);
  }

  /** These settings, with the fields they leave unset taken from {@code file}. */
  public QuotaSettings over(QuotaSettings file) {
    return new QuotaSettings(redisUrl != null ? redisUrl : file.redisUrl,
        failurePolicy != null ? failurePolicy : file.failurePolicy,
        unauthenticated != null ? unauthenticated : file.unauthenticated);
  }

  /** The Redis URL, if counts are kept in Redis; empty: in memory. */
  public Optional<String> redisUrl() {
    return Optional.ofNullable(redisUrl);
  }

  /** The failure policy used while Redis is unavailable. */
  public FailurePolicy failurePolicy() {
    return failurePolicy != null ? failurePolicy : DEFAULT_FAILURE_POLICY;
  }

  /** The per-address limit on unauthenticated requests. */
  public List<QuotaLimit> unauthenticated() {
    return unauthenticated != null ? unauthenticated : DEFAULT_UNAUTHENTICATED;
  }

  /** The Redis server as {@code host:port}, never with a password. */
  static String describeRedis(String url) {
    RedisURI uri = RedisURI.create(url);
    return uri.getHost() + ":" + uri.getPort();
  }

  static void checkRedisUrl(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("must not be blank");
    }
    String lower = url.toLowerCase(Locale.ROOT);
    if (!lower.startsWith("redis://") && !lower.startsWith("rediss://")) {
      throw new IllegalArgumentException("must be a redis:// or rediss:// URL, such as redis://127.0.0.1:6379");
    }
    try {
      RedisURI uri = RedisURI.create(url);
      if (uri.getHost() == null || uri.getHost().isEmpty()) {
        throw new IllegalArgumentException("no host");
      }
    } catch (RuntimeException e) {
      // Never echo the URL: it may carry a password.
      throw new IllegalArgumentException("not a valid Redis URL (expected redis://HOST:PORT)");
    }
  }

  static FailurePolicy parseFailurePolicy(String value) {
    String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
    switch (v) {
      case "open":
        return FailurePolicy.failOpen();
      case "closed":
        return FailurePolicy.failClosed();
      case "local":
        return FailurePolicy.localFallback(1);
      default:
        if (v.startsWith("local:")) {
          try {
            int nodes = Integer.parseInt(v.substring("local:".length()));
            if (nodes >= 1 && nodes <= 10_000) {
              return FailurePolicy.localFallback(nodes);
            }
          } catch (NumberFormatException e) {
            // fall through to the message below
          }
        }
        throw new IllegalArgumentException("must be open, closed, local or local:N (N nodes, 1..10000)");
    }
  }

  /** The policy as written on the command line: {@code open}, {@code closed}, {@code local:N}. */
  static String describe(FailurePolicy policy) {
    switch (policy.mode()) {
      case FAIL_OPEN:
        return "open (allow, uncounted)";
      case FAIL_CLOSED:
        return "closed (503 quota.unavailable)";
      default:
        return "local:" + policy.expectedNodes() + " (count in memory, quota / " + policy.expectedNodes() + ")";
    }
  }

  /**
   * Parses a JSON array of limits; {@code field} names it in messages ({@code tiers.free.limits}).
   *
   * @throws IllegalArgumentException naming the field and element at fault
   */
  static List<QuotaLimit> parseLimits(JsonNode node, String field) {
    if (node == null || !node.isArray()) {
      throw new IllegalArgumentException(field + ": must be an array of limits such as "
          + "[{\"name\":\"burst\",\"quota\":5,\"windowSeconds\":1}]");
    }
    if (node.isEmpty()) {
      throw new IllegalArgumentException(field + ": must hold at least one limit (omit the field for no limits)");
    }
    List<QuotaLimit> limits = new ArrayList<>();
    Set<String> names = new java.util.HashSet<>();
    for (int i = 0; i < node.size(); i++) {
      String at = field + "[" + i + "]";
      JsonNode l = node.get(i);
      if (!l.isObject()) {
        throw new IllegalArgumentException(at + ": must be an object with name, quota and windowSeconds");
      }
      for (Iterator<String> it = l.fieldNames(); it.hasNext(); ) {
        String name = it.next();
        if (!LIMIT_FIELDS.contains(name)) {
          throw new IllegalArgumentException(at + "." + printable(name)
              + ": unknown field (allowed: name, quota, windowSeconds, algorithm)");
        }
      }
      JsonNode name = l.get("name");
      if (name == null || !name.isTextual()) {
        throw new IllegalArgumentException(at + ".name: required, a string of 1-32 characters of A-Z a-z 0-9 . _ -");
      }
      long quota = integer(l.get("quota"), at + ".quota");
      long window = integer(l.get("windowSeconds"), at + ".windowSeconds");
      QuotaLimit.Algorithm algorithm = QuotaLimit.Algorithm.TOKEN_BUCKET;
      JsonNode a = l.get("algorithm");
      if (a != null) {
        if (!a.isTextual()) {
          throw new IllegalArgumentException(at + ".algorithm: must be \"token-bucket\" or \"sliding\"");
        }
        switch (a.asText()) {
          case "token-bucket":
            break;
          case "sliding":
            algorithm = QuotaLimit.Algorithm.SLIDING_WINDOW;
            break;
          default:
            throw new IllegalArgumentException(at + ".algorithm: must be \"token-bucket\" or \"sliding\"");
        }
      }
      String n = name.asText();
      if (!LIMIT_NAME.matcher(n).matches()) {
        // Checked here rather than by QuotaLimit, whose message quotes the whole name, line breaks and all.
        throw new IllegalArgumentException(at + ".name: '" + printable(n) + "' is not a limit name (1-32 characters "
            + "of A-Z a-z 0-9 . _ -, starting with a letter or digit)");
      }
      if (!names.add(n)) {
        throw new IllegalArgumentException(at + ".name: '" + printable(n) + "' is used twice");
      }
      try {
        limits.add(QuotaLimit.of(n, quota, Duration.ofSeconds(window), algorithm));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(at + ": " + e.getMessage(), e);
      }
    }
    return limits;
  }

  private static long integer(JsonNode node, String field) {
    if (node == null || node.isNull()) {
      throw new IllegalArgumentException(field + ": required, a positive integer");
    }
    if (!node.isIntegralNumber() || !node.canConvertToLong() || node.asLong() < 1) {
      throw new IllegalArgumentException(field + ": must be a positive integer");
    }
    return node.asLong();
  }

  private static String printable(String s) {
    return DemoText.printable(s, 64);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof QuotaSettings && Objects.equals(redisUrl, ((QuotaSettings) o).redisUrl)
        && Objects.equals(failurePolicy, ((QuotaSettings) o).failurePolicy)
        && Objects.equals(unauthenticated, ((QuotaSettings) o).unauthenticated);
  }

  @Override
  public int hashCode() {
    return Objects.hash(redisUrl, failurePolicy, unauthenticated);
  }

  /** Describes the settings; the Redis URL only as host and port. */
  @Override
  public String toString() {
    return "QuotaSettings[redis=" + (redisUrl == null ? "none" : describeRedis(redisUrl)) + ", failurePolicy="
        + failurePolicy() + ", unauthenticated=" + unauthenticated() + "]";
  }
}
