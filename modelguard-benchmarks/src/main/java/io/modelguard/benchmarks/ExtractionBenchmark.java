package io.modelguard.benchmarks;

import io.modelguard.extraction.ExtractionDefence;
import io.modelguard.extraction.NoiseKeys;
import io.modelguard.extraction.Prediction;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Per-query cost of the default extraction detector set (PRADA, Blacklight-style hashing, coverage
 * monitor, duplicate recognition) for one client that has already sent 10,000 queries, at 64 and
 * 784 input dimensions. Sample-time mode, so JMH reports p50/p99/p99.9 in microseconds. Every
 * measured query is new (never a duplicate), so the detectors always run.
 *
 * <pre>
 * java -jar modelguard-benchmarks/target/benchmarks.jar ExtractionBenchmark
 * </pre>
 *
 * <p>Measured 2026-11-26 on the shared 2-core build machine (load average about 3 from other jobs,
 * so an upper bound): {@code observe} p50 10.9 µs / p99 62 µs at 64 dimensions, p50 52 µs / p99
 * 137 µs at 784. The p99 target of 50 µs is not met on this machine; at 784 dimensions the cost is
 * PRADA's growing-set scan (50 stored queries per class) and the window hashing, so a
 * dimension-reducing {@code QueryEncoder} is the lever. Memory per client after 10,000 queries
 * (upper bound, {@code ExtractionDefence.retainedBytes}): 258,848 bytes at 64 dimensions, 1,698,848
 * at 784.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
@Threads(1)
@State(Scope.Thread)
public class ExtractionBenchmark {
  private static final int CLASSES = 10;
  private static final int POOL = 1_024;

  /** Input dimensions: 64 (digits) or 784 (MNIST-sized). */
  @Param({"64", "784"})
  public int dims;

  private ExtractionDefence defence;
  private double[][] pool;
  private Prediction[] predictions;
  private long counter;

  /** Builds the defence and replays 10,000 earlier queries of the measured client. */
  @Setup
  public void setUp() {
    defence = ExtractionDefence.builder(NoiseKeys.withSecret(new byte[32]), CLASSES).build();
    SplittableRandom random = new SplittableRandom(1);
    pool = new double[POOL][dims];
    predictions = new Prediction[POOL];
    for (int q = 0; q < POOL; q++) {
      for (int i = 0; i < dims; i++) {
        pool[q][i] = random.nextInt(17);
      }
      double[] p = new double[CLASSES];
      p[random.nextInt(CLASSES)] = 1;
      predictions[q] = Prediction.of(p);
    }
    for (int q = 0; q < 10_000; q++) {
      defence.observe("client", next(), predictions[q % POOL]);
    }
  }

  private double[] next() {
    long n = counter++;
    double[] x = pool[(int) (n % POOL)].clone();
    x[0] = n; // unique: never answered from the duplicate window
    return x;
  }

  /**
   * The floor: only the harness's own work (copying the next input). Its tail percentiles are the
   * machine's scheduling noise, to read {@link #observe}'s against on a shared machine.
   */
  @Benchmark
  public double[] inputOnly() {
    return next();
  }

  /** One query through the default detector set. */
  @Benchmark
  public Object observe() {
    long n = counter;
    return defence.observe("client", next(), predictions[(int) (n % POOL)]);
  }

  /** One query observed and its output perturbed for the client's level. */
  @Benchmark
  public double[] answer() {
    long n = counter;
    return defence.answer("client", null, next(), predictions[(int) (n % POOL)].probabilities());
  }
}
