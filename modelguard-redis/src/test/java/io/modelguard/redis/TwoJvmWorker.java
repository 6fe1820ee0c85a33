package io.modelguard.redis;

import io.lettuce.core.RedisURI;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One side of the two-JVM exactness test: {@code threads} threads each try {@code attempts}
 * decisions on one key of a plan that admits {@code quota} units and (practically) never refills.
 * {@link #main} runs it in a second JVM: it prints {@code ready}, waits for {@code go} on standard
 * input, and prints {@code admitted=N unavailable=M}.
 */
final class TwoJvmWorker {
  private TwoJvmWorker() {}

  /** The plan both JVMs share: {@code quota} per 30 days, so nothing refills during the test. */
  static QuotaPlan plan(long quota) {
    return QuotaPlan.of(QuotaLimit.tokenBucket("burst", quota, Duration.ofDays(30)));
  }

  static RedisQuotaStore store(RedisURI uri) {
    return RedisQuotaStore.builder(uri)
        .timeout(Duration.ofSeconds(5))
        .failurePolicy(FailurePolicy.failClosed())
        .build();
  }

  /**
   * Starts the threads, counts {@code armed} down once all wait for {@code go}, runs them once it
   * opens; returns {admitted, unavailable}.
   */
  static int[] run(RedisQuotaStore store, String tenant, long quota, int threads, int attempts,
      CountDownLatch armed, CountDownLatch go) throws InterruptedException {
    QuotaKey key = QuotaKey.forTenant(tenant, "digits");
    QuotaPlan plan = plan(quota);
    AtomicInteger admitted = new AtomicInteger();
    AtomicInteger unavailable = new AtomicInteger();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w = new Thread(() -> {
        try {
          armed.countDown();
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < attempts; i++) {
          QuotaDecision d = store.acquire(key, plan, 1);
          if (d.isAllowed()) {
            admitted.incrementAndGet();
          } else if (d.status() == QuotaDecision.Status.UNAVAILABLE) {
            unavailable.incrementAndGet();
          }
        }
      });
      workers.add(w);
      w.start();
    }
    for (Thread w : workers) {
      w.join();
    }
    return new int[] {admitted.get(), unavailable.get()};
  }

  /** Arguments: port tenant quota threads attempts. */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String tenant = args[1];
    long quota = Long.parseLong(args[2]);
    int threads = Integer.parseInt(args[3]);
    int attempts = Integer.parseInt(args[4]);
    try (RedisQuotaStore store = store(RedisURI.create("redis://127.0.0.1:" + port))) {
      if (!store.awaitReady(Duration.ofSeconds(20))) {
        System.out.println("error=redis-not-ready");
        return;
      }
      store.acquire(QuotaKey.forTenant(tenant + "-warmup", "digits"), plan(quota), 1);
      CountDownLatch armed = new CountDownLatch(threads);
      CountDownLatch go = new CountDownLatch(1);
      int[][] result = new int[1][];
      Thread runner = new Thread(() -> {
        try {
          result[0] = run(store, tenant, quota, threads, attempts, armed, go);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      runner.start();
      armed.await();
      System.out.println("ready");
      System.out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      if ("go".equals(in.readLine())) {
        go.countDown();
      }
      runner.join();
      int[] r = result[0];
      System.out.println("admitted=" + r[0] + " unavailable=" + r[1]);
      System.out.flush();
    }
  }
}
