package io.modelguard.redis;

import io.lettuce.core.RedisURI;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The second JVM of {@link ClusterBreakerScopeCharsetTest}, started with a default charset other
 * than UTF-8: decides on a tenant whose name is not ASCII and on a plain one, prints {@code
 * ready}, waits for {@code go} (the first tenant's master has been killed meanwhile), makes {@link
 * #THRESHOLD} decisions on the first tenant, then one on the second and prints its outcome.
 */
final class ClusterScopeWorker {
  static final QuotaPlan PLAN = QuotaPlan.of(QuotaLimit.tokenBucket("burst", 1_000, Duration.ofHours(1)));
  static final int THRESHOLD = 3;

  private ClusterScopeWorker() {}

  /** The tenant whose name is not ASCII: "café-" and a suffix. */
  static QuotaKey accented(String suffix) {
    return QuotaKey.forTenant("caf\u00e9-" + suffix, "digits");
  }

  /** Arguments: the seed ports, comma-separated; the accented tenant's suffix; the plain tenant. */
  public static void main(String[] args) throws Exception {
    List<RedisURI> seeds = new ArrayList<>();
    for (String port : args[0].split(",")) {
      seeds.add(RedisURI.create("redis://127.0.0.1:" + port));
    }
    QuotaKey accented = accented(args[1]);
    QuotaKey plain = QuotaKey.forTenant(args[2], "digits");
    System.out.println("charset=" + Charset.defaultCharset().name());
    try (RedisQuotaStore store = RedisQuotaStore.clusterBuilder(seeds)
        .timeout(Duration.ofMillis(300))
        .failureThreshold(THRESHOLD)
        .openDuration(Duration.ofMinutes(10))
        .failurePolicy(FailurePolicy.failClosed())
        .build()) {
      store.awaitReady(Duration.ofSeconds(20));
      boolean ok = store.acquire(accented, PLAN, 1).isAllowed() && store.acquire(plain, PLAN, 1).isAllowed();
      System.out.println(ok ? "ready" : "error=not-ready");
      System.out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      if (!"go".equals(in.readLine())) {
        return;
      }
      for (int i = 0; i < THRESHOLD; i++) {
        store.acquire(accented, PLAN, 1);
      }
      QuotaDecision d = store.acquire(plain, PLAN, 1);
      System.out.println("plain=" + d.status() + " degraded=" + d.isDegraded());
      System.out.flush();
    }
  }
}
