package io.modelguard.benchmarks;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * Decisions per second on one thread, in memory: ModelGuard's {@link InMemoryQuotaStore} against
 * Bucket4j's local buckets kept in a {@link ConcurrentHashMap}, at 1 and 100,000 keys. Both decide
 * with a value carrying the remaining units ({@link QuotaDecision} and Bucket4j's {@link
 * ConsumptionProbe}), on keys built beforehand and visited at random or in sequence, with limits
 * too large to ever deny. Each store holds exactly the benchmarked keys, and ModelGuard's keeps
 * its default time (the system clock, ticked every millisecond). The fork runs on a fixed,
 * pre-touched 2 GB heap, so that neither growing the heap nor first touches of its pages land in a
 * measurement. Target: at least 3 M decisions per second at 100,000 keys. Three more ModelGuard
 * rows: {@link #modelguardFreshKey} (the key built per decision, as in a request) and the
 * diagnostics {@link #modelguardSystemClock} (the system clock read every decision) and {@link
 * #modelguardFixedClock} (no time read at all).
 *
 * <pre>{@code java -jar modelguard-benchmarks/target/benchmarks.jar QuotaInMemoryBenchmark}</pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Threads(1)
public class QuotaInMemoryBenchmark {
  private static final long HUGE = 10_000_000_000L;
  private static final Duration WINDOW = Duration.ofDays(366);

  /** The benchmarks; JMH instantiates this class. */
  public QuotaInMemoryBenchmark() {}

  /** The keys, the stores and a shuffled visiting order. */
  @State(Scope.Benchmark)
  public static class Keys {
    /** How many distinct keys the decisions spread over. */
    @Param({"1", "100000"})
    public int keys;

    /**
     * In which order keys are visited: {@code random} (uniform, every lookup a cache miss) or
     * {@code sequential} (round robin in creation order, as a scan of many tenants would).
     */
    @Param({"random", "sequential"})
    public String order;

    QuotaKey[] quotaKeys;
    String[] tenants;
    String[] bucketKeys;
    int[] visits;
    InMemoryQuotaStore store;
    QuotaPlan oneLimit;
    ConcurrentHashMap<String, Bucket> buckets;
    Bandwidth bandwidth;

    /**
     * Builds keys and stores once per trial and touches every key once: first ModelGuard's keys
     * and store, then Bucket4j's, each side on its own objects, and then a full collection, so that
     * neither side's objects lie interleaved with the other's or with set-up garbage. (Without it
     * the layout the young collections happen to leave decided the figures: the same benchmark
     * swung between 1 and 4.7 M decisions/s from one iteration to the next.)
     */
    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
      visits = new int[Math.max(keys, 1 << 16)];
      SplittableRandom random = new SplittableRandom(1);
      for (int i = 0; i < visits.length; i++) {
        visits[i] = "random".equals(order) ? random.nextInt(keys) : i % keys;
      }
      oneLimit = QuotaPlan.of(QuotaLimit.tokenBucket("burst", HUGE, WINDOW));
      quotaKeys = new QuotaKey[keys];
      tenants = new String[keys];
      // The store of the default rows keeps its default time (the system clock, ticked); only the
      // forks of the two clock rows get a clock: a store of each kind in one fork would make the
      // clock call polymorphic and change the compiled code of the others.
      InMemoryQuotaStore.Builder builder = InMemoryQuotaStore.builder().maximumSize(Math.max(1000, 2L * keys));
      if (params.getBenchmark().endsWith("FixedClock")) {
        builder.clock(Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC));
      } else if (params.getBenchmark().endsWith("SystemClock")) {
        builder.clock(Clock.systemUTC());
      }
      store = builder.build();
      for (int i = 0; i < keys; i++) {
        tenants[i] = "tenant-" + i;
        quotaKeys[i] = QuotaKey.forTenant(tenants[i], "digits");
        store.acquire(quotaKeys[i], oneLimit, 1);
      }
      bucketKeys = new String[keys];
      buckets = new ConcurrentHashMap<>();
      bandwidth = Bandwidth.builder().capacity(HUGE).refillGreedy(HUGE, WINDOW).build();
      for (int i = 0; i < keys; i++) {
        bucketKeys[i] = "tenant-" + i + "/digits";
        bucket(bucketKeys[i]).tryConsumeAndReturnRemaining(1);
      }
      System.gc();
    }

    Bucket bucket(String key) {
      Bucket b = buckets.get(key);
      return b != null ? b : buckets.computeIfAbsent(key, k -> Bucket.builder().addLimit(bandwidth).build());
    }
  }

  /** Per-thread position in the visiting order. */
  @State(Scope.Thread)
  public static class Cursor {
    int next;

    int advance(int[] order) {
      int i = next;
      next = i + 1 == order.length ? 0 : i + 1;
      return order[i];
    }
  }

  /** ModelGuard: one token-bucket limit. */
  @Benchmark
  public QuotaDecision modelguard(Keys k, Cursor c) {
    return k.store.acquire(k.quotaKeys[c.advance(k.visits)], k.oneLimit, 1);
  }

  /** Bucket4j: one bandwidth, the bucket looked up in a ConcurrentHashMap. */
  @Benchmark
  public ConsumptionProbe bucket4j(Keys k, Cursor c) {
    return k.bucket(k.bucketKeys[c.advance(k.visits)]).tryConsumeAndReturnRemaining(1);
  }

  /**
   * ModelGuard as {@code QuotaPolicy} calls it: the key built for each decision from the tenant's
   * name, so the lookup compares the stored key by its contents rather than by identity.
   */
  @Benchmark
  public QuotaDecision modelguardFreshKey(Keys k, Cursor c) {
    return k.store.acquire(QuotaKey.forTenant(k.tenants[c.advance(k.visits)], "digits"), k.oneLimit, 1);
  }

  /**
   * Diagnostic, not a figure to quote: the same decisions on a store whose clock is fixed (in this
   * benchmark's fork only), so no decision reads any time at all: the ceiling of the store.
   */
  @Benchmark
  public QuotaDecision modelguardFixedClock(Keys k, Cursor c) {
    return k.store.acquire(k.quotaKeys[c.advance(k.visits)], k.oneLimit, 1);
  }

  /**
   * Diagnostic: the same decisions on a store given {@link Clock#systemUTC()} (in this benchmark's
   * fork only), so every decision reads the system clock itself instead of the ticked time, as
   * the store did before it ticked its time. The system clock's time-stamp-counter read waits for
   * earlier loads to finish, so the cache misses of one decision cannot overlap those of the next.
   */
  @Benchmark
  public QuotaDecision modelguardSystemClock(Keys k, Cursor c) {
    return k.store.acquire(k.quotaKeys[c.advance(k.visits)], k.oneLimit, 1);
  }
}
