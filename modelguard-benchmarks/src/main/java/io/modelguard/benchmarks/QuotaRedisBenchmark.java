package io.modelguard.benchmarks;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.distributed.BucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.ProxyManager;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.redis.RedisQuotaStore;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One hot key, 16 threads, through a real redis-server on loopback (started by the benchmark on a
 * free port, without persistence, and killed at the end): ModelGuard's {@link RedisQuotaStore}
 * (one Lua script per batch of coalesced decisions, Redis time) against Bucket4j's Lettuce backend
 * (compare-and-swap). Throughput in decisions per millisecond (thousands per second) and latency
 * percentiles in milliseconds; the teardown prints how many decisions each script call carried.
 * Targets: at least 50 k decisions per second (50 ops/ms) with p99 at most 3 ms.
 *
 * <pre>{@code java -jar modelguard-benchmarks/target/benchmarks.jar QuotaRedisBenchmark}</pre>
 */
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 3, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@Threads(16)
public class QuotaRedisBenchmark {
  private static final long HUGE = 10_000_000_000L;
  private static final Duration WINDOW = Duration.ofDays(366);

  /** The benchmarks; JMH instantiates this class. */
  public QuotaRedisBenchmark() {}

  /** A redis-server and both clients, shared by all threads. */
  @State(Scope.Benchmark)
  public static class Redis {
    Process server;
    Path dir;
    RedisQuotaStore store;
    QuotaKey key;
    QuotaPlan plan;
    RedisClient client;
    StatefulRedisConnection<String, byte[]> connection;
    BucketProxy bucket;

    /** Starts redis-server and connects both clients. */
    @Setup(Level.Trial)
    public void start() throws Exception {
      int port;
      try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      dir = Files.createTempDirectory("modelguard-bench-redis-");
      server = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
          "--save", "", "--appendonly", "no", "--dir", dir.toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
      Runtime.getRuntime().addShutdownHook(new Thread(server::destroyForcibly));
      awaitPing(port);
      RedisURI uri = RedisURI.create("redis://127.0.0.1:" + port);

      store = RedisQuotaStore.builder(uri).timeout(Duration.ofSeconds(1))
          .failurePolicy(FailurePolicy.failClosed()).build();
      if (!store.awaitReady(Duration.ofSeconds(10))) {
        throw new IllegalStateException("redis not ready");
      }
      key = QuotaKey.forTenant("hot-" + UUID.randomUUID(), "digits");
      plan = QuotaPlan.of(QuotaLimit.tokenBucket("burst", HUGE, WINDOW));

      client = RedisClient.create(uri);
      connection = client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
      ProxyManager<String> proxies = Bucket4jLettuce.casBasedBuilder(connection)
          .expirationAfterWrite(ExpirationAfterWriteStrategy.none())
          .build();
      bucket = proxies.builder().build("bucket4j-hot-" + UUID.randomUUID(), () -> BucketConfiguration.builder()
          .addLimit(Bandwidth.builder().capacity(HUGE).refillGreedy(HUGE, WINDOW).build()).build());
    }

    /** Closes the clients and kills redis-server. */
    @TearDown(Level.Trial)
    public void stop() throws Exception {
      if (store.scriptCalls() > 0) {
        System.out.printf("%nModelGuard: %,d decisions in %,d script calls (%.1f per call)%n",
            store.redisCalls(), store.scriptCalls(), store.redisCalls() / (double) store.scriptCalls());
      }
      store.close();
      connection.close();
      client.shutdown();
      server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }

    private static void awaitPing(int port) throws Exception {
      for (int i = 0; i < 500; i++) {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
          OutputStream out = s.getOutputStream();
          out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
          byte[] buf = new byte[8];
          if (s.getInputStream().read(buf) > 0) {
            return;
          }
        } catch (IOException e) {
          Thread.sleep(20);
        }
      }
      throw new IllegalStateException("redis-server did not start");
    }
  }

  /** ModelGuard: Lua script per coalesced batch. */
  @Benchmark
  public QuotaDecision modelguardHotKey(Redis r) {
    QuotaDecision d = r.store.acquire(r.key, r.plan, 1);
    if (d.isDegraded()) {
      throw new IllegalStateException("Redis failed during the benchmark");
    }
    return d;
  }

  /** Bucket4j: compare-and-swap through Lettuce. */
  @Benchmark
  public ConsumptionProbe bucket4jHotKey(Redis r) {
    return r.bucket.tryConsumeAndReturnRemaining(1);
  }
}
