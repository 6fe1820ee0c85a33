package io.modelguard.benchmarks;

import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;

/**
 * The heap an in-memory quota store takes: 1 M tenants × 3 models, each with a three-limit plan,
 * into a store bounded at {@code args[0]} keys (default 1,000,000). Prints the heap used after a
 * full GC before and after, the keys held and the bytes per key.
 *
 * <pre>{@code java -Xmx2g -cp modelguard-benchmarks/target/benchmarks.jar io.modelguard.benchmarks.QuotaMemoryFootprint}</pre>
 */
public final class QuotaMemoryFootprint {
  private QuotaMemoryFootprint() {}

  /** Runs the measurement; {@code args[0]} is the store's maximum size. */
  public static void main(String[] args) throws InterruptedException {
    long maximum = args.length > 0 ? Long.parseLong(args[0]) : InMemoryQuotaStore.DEFAULT_MAXIMUM_SIZE;
    QuotaPlan plan = QuotaPlan.of(
        QuotaLimit.tokenBucket("burst", 10, Duration.ofSeconds(1)),
        QuotaLimit.slidingWindow("minute", 600, Duration.ofMinutes(1)),
        QuotaLimit.slidingWindow("daily", 100_000, Duration.ofDays(1)));
    String[] models = {"digits", "iris", "tabular"};
    long before = usedAfterGc();
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().maximumSize(maximum).build();
    long t0 = System.nanoTime();
    for (int tenant = 0; tenant < 1_000_000; tenant++) {
      String t = "tenant-" + tenant;
      for (String model : models) {
        store.acquire(QuotaKey.forTenant(t, model), plan, 1);
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    store.cleanUp();
    long after = usedAfterGc();
    long held = store.estimatedSize();
    System.out.printf("3,000,000 decisions on distinct keys in %.1f s; maximum size %,d; keys held %,d%n",
        seconds, maximum, held);
    System.out.printf("heap used: %,d MB before, %,d MB after (%,d bytes per key held)%n",
        before >> 20, after >> 20, held == 0 ? 0 : (after - before) / held);
    if (store.estimatedSize() > maximum) {
      throw new IllegalStateException("store exceeded its maximum size");
    }
  }

  private static long usedAfterGc() throws InterruptedException {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return memory.getHeapMemoryUsage().getUsed();
  }
}
