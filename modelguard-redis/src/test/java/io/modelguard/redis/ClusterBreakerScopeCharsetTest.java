package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.test.redis.RedisServer;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * On Cluster a decision goes through the breaker of the master that serves its key's slot. Redis
 * hashes the key's UTF-8 bytes; the breaker scope must too, whatever the JVM's default charset
 * (on Java 17 it follows the locale: a container without one runs in US-ASCII). Otherwise a
 * tenant whose name is not ASCII is counted against another master's breaker: its master's
 * failures open the breaker of a healthy master, whose tenants then get the failure policy.
 */
class ClusterBreakerScopeCharsetTest {
  private static final QuotaLimit LIMIT = ClusterScopeWorker.PLAN.limit(0);

  @Test
  void aTenantWhoseNameIsNotAsciiGoesThroughItsOwnMastersBreakerWhateverTheDefaultCharset() throws Exception {
    try (RedisCluster cluster = RedisCluster.start()) {
      cluster.servePartially();
      String run = UUID.randomUUID().toString().substring(0, 8);
      // A non-ASCII tenant whose key's real master differs from the master of its ASCII mangling.
      String suffix = null;
      RedisServer owner = null;
      RedisServer other = null;
      for (int i = 0; i < 1_000 && suffix == null; i++) {
        String key = RedisCluster.redisKey(ClusterScopeWorker.accented(run + "-" + i), LIMIT);
        String mangled = new String(key.getBytes(StandardCharsets.US_ASCII), StandardCharsets.US_ASCII);
        RedisServer real = cluster.nodeFor(key);
        if (real != cluster.nodeFor(mangled)) {
          suffix = run + "-" + i;
          owner = real;
          other = cluster.nodeFor(mangled);
        }
      }
      assertThat(suffix).isNotNull();
      // A plain tenant on the master of the mangled key, which stays up.
      String plain = null;
      for (int i = 0; plain == null; i++) {
        String tenant = "plain-" + run + "-" + i;
        if (cluster.nodeFor(RedisCluster.redisKey(QuotaKey.forTenant(tenant, "digits"), LIMIT)) == other) {
          plain = tenant;
        }
      }
      String ports = cluster.nodes().stream().map(n -> Integer.toString(n.port())).collect(Collectors.joining(","));
      String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
      List<String> command = new ArrayList<>(List.of(java, "-Dfile.encoding=US-ASCII", "-cp",
          System.getProperty("java.class.path"), ClusterScopeWorker.class.getName(), ports, suffix, plain));
      Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
          Writer in = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8)) {
        String charset = line(out, "charset=");
        assumeTrue(charset.equals("charset=US-ASCII"), "this JDK ignores file.encoding: " + charset);
        assertThat(line(out, "ready", "error=")).isEqualTo("ready");
        owner.kill();
        in.write("go\n");
        in.flush();
        assertThat(line(out, "plain=")).as("a tenant of a healthy master, after another master failed")
            .isEqualTo("plain=ALLOWED degraded=false");
      } finally {
        child.destroyForcibly();
        child.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** The next line of {@code out} starting with one of {@code prefixes}, within a minute. */
  private static String line(BufferedReader out, String... prefixes) throws Exception {
    return CompletableFuture.supplyAsync(() -> {
      try {
        for (String l; (l = out.readLine()) != null; ) {
          for (String p : prefixes) {
            if (l.startsWith(p)) {
              return l;
            }
          }
        }
        return "eof";
      } catch (java.io.IOException e) {
        return "io-error";
      }
    }).get(60, TimeUnit.SECONDS);
  }
}
