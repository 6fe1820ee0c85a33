package io.modelguard.quota;

import io.modelguard.RateLimitItems;
import io.modelguard.internal.StructuredFields;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The limits that apply to one quota key, in order: a request must pass all of them. Built once
 * (from a {@link io.modelguard.Tier}, or parsed from a principal's override claim) and reused for
 * every request, so its {@code RateLimit-Policy} header value is computed once. Immutable;
 * equal when the limits are equal.
 */
public final class QuotaPlan {
  private final QuotaLimit[] limits;
  private final List<QuotaLimit> list;
  private final String policyHeader;
  /** The plan's rate-limit items, none reported yet: what every decision on it starts from. */
  private final RateLimitItems rateLimitItems;
  private final long horizonMicros;
  private final int hash;
  /**
   * The last share {@link #perNode} computed, with its node count in the same object: two fields
   * written one after the other let a reader pair one call's count with another's share.
   */
  private volatile NodeShare perNodeCache;

  private QuotaPlan(List<QuotaLimit> limits) {
    if (limits.isEmpty()) {
      throw new IllegalArgumentException("QuotaPlan.limits must not be empty");
    }
    Map<String, QuotaLimit> byName = new LinkedHashMap<>();
    for (QuotaLimit l : limits) {
      Objects.requireNonNull(l, "QuotaPlan.limits must not contain null");
      if (byName.put(l.name(), l) != null) {
        throw new IllegalArgumentException("QuotaPlan.limits: the name '" + l.name() + "' is used twice");
      }
    }
    this.limits = limits.toArray(new QuotaLimit[0]);
    this.list = List.of(this.limits);
    Map<String, String> members = new LinkedHashMap<>();
    for (QuotaLimit l : this.limits) {
      members.put(l.name(), l.policyItem());
    }
    this.rateLimitItems = RateLimitItems.of(members);
    this.policyHeader = rateLimitItems.policyField();
    this.horizonMicros = list.stream().mapToLong(QuotaLimit::horizonMicros).max().orElse(0);
    this.hash = Arrays.hashCode(this.limits);
  }

  /**
   * A plan of these limits, in this order.
   *
   * @param limits the limits, at least one, each named differently
   * @return the plan, immutable
   * @throws IllegalArgumentException if there is none or two share a name
   */
  public static QuotaPlan of(QuotaLimit... limits) {
    return new QuotaPlan(Arrays.asList(limits));
  }

  /**
   * A plan of these limits, in this order.
   *
   * @param limits the limits, at least one, each named differently; copied
   * @return the plan, immutable
   * @throws IllegalArgumentException if there is none or two share a name
   */
  public static QuotaPlan of(List<QuotaLimit> limits) {
    return new QuotaPlan(new ArrayList<>(limits));
  }

  /**
   * Parses a plan written like a {@code RateLimit-Policy} header, the format of the per-principal
   * override claim: {@code "burst";q=20;w=1, "daily";q=500000;w=86400;a=sliding}. Each member is
   * a quoted name with {@code q} (quota) and {@code w} (window, seconds); the optional {@code a}
   * is {@code token-bucket} or {@code sliding}. Without {@code a}, {@link
   * #withOverrides(QuotaPlan)} keeps the algorithm of the limit being overridden, and a new limit
   * is a token bucket. Other parameters are ignored, as structured fields require.
   *
   * @param policy the plan as header text; not null
   * @return the plan, its limits in the order written
   * @throws IllegalArgumentException describing the first syntax error (never echoing the input)
   */
  public static QuotaPlan parse(String policy) {
    return of(parseItems(policy).stream().map(Item::toLimit).collect(Collectors.toList()));
  }

  /** {@return the limits, in order} */
  public List<QuotaLimit> limits() {
    return list;
  }

  /** {@return the number of limits} */
  public int size() {
    return limits.length;
  }

  /**
   * {@return the {@code i}-th limit}
   *
   * @param i the index, 0 to {@link #size()} - 1
   */
  public QuotaLimit limit(int i) {
    return limits[i];
  }

  /**
   * {@return the limit called {@code name}, if any}
   *
   * @param name the limit name, compared exactly
   */
  public Optional<QuotaLimit> limit(String name) {
    for (QuotaLimit l : limits) {
      if (l.name().equals(name)) {
        return Optional.of(l);
      }
    }
    return Optional.empty();
  }

  /** {@return the value of the {@code RateLimit-Policy} response header: every limit, in order} */
  public String policyHeader() {
    return policyHeader;
  }

  /** The plan's rate-limit items, with no policy reported yet. */
  RateLimitItems rateLimitItems() {
    return rateLimitItems;
  }

  /** {@return the longest {@link QuotaLimit#horizonMicros()} of the plan: how long a store must remember a key} */
  public long horizonMicros() {
    return horizonMicros;
  }

  /**
   * This plan with {@code overrides} applied: a limit of the same name is replaced (keeping the
   * replaced limit's algorithm when the override came from {@link #parse} without {@code a}), a
   * new name is appended.
   *
   * @param overrides the limits to replace or add
   * @return a new plan; this one is unchanged
   */
  public QuotaPlan withOverrides(QuotaPlan overrides) {
    Map<String, QuotaLimit> merged = byName();
    for (QuotaLimit o : overrides.limits) {
      merged.put(o.name(), o);
    }
    return new QuotaPlan(new ArrayList<>(merged.values()));
  }

  /**
   * This plan with a parsed override applied; see {@link #parse(String)} for the syntax and how
   * algorithms are inherited.
   *
   * @param policy the override as header text, in {@link #parse(String)}'s syntax
   * @return a new plan; this one is unchanged
   * @throws IllegalArgumentException if the override does not parse
   */
  public QuotaPlan withOverrides(String policy) {
    Map<String, QuotaLimit> merged = byName();
    for (Item item : parseItems(policy)) {
      QuotaLimit base = merged.get(item.name);
      QuotaLimit.Algorithm algorithm = item.algorithm != null ? item.algorithm
          : base != null ? base.algorithm() : QuotaLimit.Algorithm.TOKEN_BUCKET;
      merged.put(item.name, QuotaLimit.of(item.name, item.quota, Duration.ofSeconds(item.window), algorithm));
    }
    return new QuotaPlan(new ArrayList<>(merged.values()));
  }

  /**
   * This plan with a parsed override that may only narrow it, the default for a principal's
   * override claim: a member naming a limit of this plan replaces it only with the same window and
   * algorithm (omit {@code a} to inherit it) and a quota no larger; a new name adds a limit, which
   * a request must pass as well. So no claim lets a principal through where this plan alone would
   * not: a lowered token bucket shares the tenant's bucket, so its quota is capped to what fits in
   * that bucket at its own (rounded-up) interval, which only changes quotas within a few units per
   * microsecond of the window (see {@code QuotaLimit.narrowedTo}). See {@link #parse(String)} for
   * the syntax.
   *
   * @param policy the override as header text, in {@link #parse(String)}'s syntax
   * @return a new plan; this one is unchanged
   * @throws IllegalArgumentException if the override does not parse, or if a member would raise
   *     a limit of this plan or change its window or algorithm (naming the limit, never echoing
   *     the input)
   */
  public QuotaPlan narrowedBy(String policy) {
    Map<String, QuotaLimit> merged = byName();
    for (Item item : parseItems(policy)) {
      QuotaLimit base = merged.get(item.name);
      if (base == null) {
        merged.put(item.name, item.toLimit());
        continue;
      }
      QuotaLimit.Algorithm algorithm = item.algorithm != null ? item.algorithm : base.algorithm();
      if (algorithm != base.algorithm() || item.window != base.windowSeconds() || item.quota > base.quota()) {
        throw new IllegalArgumentException("quota policy may only lower the quota of limit '" + base.name()
            + "' (same window and algorithm)");
      }
      // Keeps its count in base's: never admits where base would not (a token bucket's quota may
      // so come out a little lower than asked, see QuotaLimit.narrowedTo).
      merged.put(item.name, base.narrowedTo(item.quota));
    }
    return new QuotaPlan(new ArrayList<>(merged.values()));
  }

  /** This plan's limits by name, in order, to merge overrides into. */
  private Map<String, QuotaLimit> byName() {
    Map<String, QuotaLimit> named = new LinkedHashMap<>();
    for (QuotaLimit l : limits) {
      named.put(l.name(), l);
    }
    return named;
  }

  /**
   * The share of one node out of {@code nodes}: every quota divided by {@code nodes}, rounded
   * down but at least 1. Used by the local-fallback failure policy while the shared store is down.
   *
   * @param nodes how many nodes share the quota, at least 1
   * @return the per-node plan; this plan itself if {@code nodes} is 1
   * @throws IllegalArgumentException if {@code nodes < 1}
   */
  public QuotaPlan perNode(int nodes) {
    if (nodes < 1) {
      throw new IllegalArgumentException("nodes must be at least 1, was " + nodes);
    }
    if (nodes == 1) {
      return this;
    }
    NodeShare cached = perNodeCache;
    if (cached != null && cached.nodes == nodes) {
      return cached.plan;
    }
    List<QuotaLimit> scaled = new ArrayList<>(limits.length);
    for (QuotaLimit l : limits) {
      scaled.add(l.withQuota(Math.max(1, l.quota() / nodes)));
    }
    QuotaPlan plan = new QuotaPlan(scaled);
    perNodeCache = new NodeShare(nodes, plan);
    return plan;
  }

  /** A share of this plan and the node count it is for. */
  private record NodeShare(int nodes, QuotaPlan plan) {}

  @Override
  public boolean equals(Object o) {
    return this == o || (o instanceof QuotaPlan && Arrays.equals(limits, ((QuotaPlan) o).limits));
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return "QuotaPlan" + list;
  }

  private static final class Item {
    String name;
    long quota = -1;
    long window = -1;
    QuotaLimit.Algorithm algorithm;

    QuotaLimit toLimit() {
      return QuotaLimit.of(name, quota, Duration.ofSeconds(window),
          algorithm == null ? QuotaLimit.Algorithm.TOKEN_BUCKET : algorithm);
    }
  }

  private static List<Item> parseItems(String policy) {
    if (policy == null || policy.isBlank()) {
      throw new IllegalArgumentException("quota policy must not be blank");
    }
    if (policy.length() > 1024) {
      throw new IllegalArgumentException("quota policy is longer than 1024 characters");
    }
    List<Item> items = new ArrayList<>();
    int n = 0;
    List<String> members = StructuredFields.splitOutsideStrings(policy, ',');
    for (String member : members == null ? List.of(policy) : members) {
      n++;
      String m = member.strip();
      if (m.length() < 2 || m.charAt(0) != '"') {
        throw new IllegalArgumentException("quota policy member " + n + " must start with a quoted name");
      }
      int close = m.indexOf('"', 1);
      if (close < 0) {
        throw new IllegalArgumentException("quota policy member " + n + " has an unterminated name");
      }
      Item item = new Item();
      item.name = m.substring(1, close);
      // A string parameter value is one value whatever it holds (a ';' or ',' included), as a
      // structured-field parser reads it: splitting inside it would read its text as parameters.
      List<String> params = StructuredFields.splitOutsideStrings(m.substring(close + 1), ';');
      if (members == null || params == null) {
        throw new IllegalArgumentException("quota policy member " + n + " has an unterminated string");
      }
      for (String param : params) {
        String p = param.strip();
        if (p.isEmpty()) {
          continue;
        }
        int eq = p.indexOf('=');
        if (eq < 0) {
          continue; // a boolean parameter: not ours
        }
        String key = p.substring(0, eq).strip();
        String value = p.substring(eq + 1).strip();
        switch (key) {
          case "q":
            item.quota = parseNumber(value, "q", n);
            break;
          case "w":
            item.window = parseNumber(value, "w", n);
            break;
          case "a":
            item.algorithm = parseAlgorithm(value, n);
            break;
          default:
            break;
        }
      }
      if (item.quota < 0 || item.window < 0) {
        throw new IllegalArgumentException("quota policy member " + n + " needs both q and w");
      }
      items.add(item);
    }
    return items;
  }

  private static long parseNumber(String value, String key, int member) {
    if (value.isEmpty() || value.length() > 15 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new IllegalArgumentException("quota policy member " + member + ": " + key + " must be a non-negative integer");
    }
    return Long.parseLong(value);
  }

  private static QuotaLimit.Algorithm parseAlgorithm(String value, int member) {
    switch (value.toLowerCase(Locale.ROOT)) {
      case "token-bucket":
      case "gcra":
        return QuotaLimit.Algorithm.TOKEN_BUCKET;
      case "sliding":
      case "sliding-window":
        return QuotaLimit.Algorithm.SLIDING_WINDOW;
      default:
        throw new IllegalArgumentException("quota policy member " + member + ": a must be token-bucket or sliding");
    }
  }
}
