package io.modelguard.redis;

import io.lettuce.core.RedisURI;
import io.modelguard.test.redis.RedisServer;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two JVMs × 32 threads on one key of a limit L with no refill, against one real redis-server:
 * exactly L are admitted. The second JVM is a real process started with this test's class path.
 */
class TwoJvmExactnessTest {
  private static final Logger log = LoggerFactory.getLogger(TwoJvmExactnessTest.class);
  private static final int THREADS = 32;
  private static RedisServer server;

  @BeforeAll
  static void startRedis() {
    server = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    server.close();
  }

  @ParameterizedTest(name = "L = {0}")
  @ValueSource(longs = {100, 1000})
  void twoJvmsOfThirtyTwoThreadsAdmitExactlyTheLimit(long quota) throws Exception {
    String tenant = "two-jvms-" + UUID.randomUUID();
    // Every thread tries L/16 times: four times the limit in all, so both JVMs run into it.
    int attempts = (int) Math.max(20, quota / 16);
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        TwoJvmWorker.class.getName(), Integer.toString(server.port()), tenant, Long.toString(quota),
        Integer.toString(THREADS), Integer.toString(attempts))
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    try (RedisQuotaStore store = TwoJvmWorker.store(RedisURI.create(server.url()));
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        Writer in = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8)) {
      assertThat(store.awaitReady(Duration.ofSeconds(20))).isTrue();
      CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> readLine(out));
      assertThat(ready.get(60, TimeUnit.SECONDS)).isEqualTo("ready");

      CountDownLatch armed = new CountDownLatch(THREADS);
      CountDownLatch go = new CountDownLatch(1);
      CompletableFuture<int[]> here = CompletableFuture.supplyAsync(() -> {
        try {
          return TwoJvmWorker.run(store, tenant, quota, THREADS, attempts, armed, go);
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      });
      assertThat(armed.await(30, TimeUnit.SECONDS)).isTrue();
      in.write("go\n");
      in.flush();
      go.countDown();

      int[] local = here.get(60, TimeUnit.SECONDS);
      String result = CompletableFuture.supplyAsync(() -> readLine(out)).get(60, TimeUnit.SECONDS);
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(result).startsWith("admitted=");
      String[] fields = result.split("[= ]");
      int remoteAdmitted = Integer.parseInt(fields[1]);
      int remoteUnavailable = Integer.parseInt(fields[3]);
      log.warn("two JVMs, L={}: this JVM admitted {}, the other {} ({} attempts in all)",
          quota, local[0], remoteAdmitted, 2 * THREADS * attempts);

      assertThat(local[1] + remoteUnavailable).as("decisions Redis failed to make").isZero();
      assertThat(local[0] + remoteAdmitted).isEqualTo(quota);
    } finally {
      child.destroyForcibly();
      child.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static String readLine(BufferedReader reader) {
    try {
      String line;
      while ((line = reader.readLine()) != null) {
        if (line.equals("ready") || line.startsWith("admitted=") || line.startsWith("error=")) {
          return line;
        }
      }
      return "eof";
    } catch (java.io.IOException e) {
      return "io-error";
    }
  }

}
