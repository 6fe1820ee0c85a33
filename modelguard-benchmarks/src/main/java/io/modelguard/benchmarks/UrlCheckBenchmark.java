package io.modelguard.benchmarks;

import io.modelguard.input.SafeUrlFetcher;
import io.modelguard.input.UrlCheck;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Average time of {@link SafeUrlFetcher#check(String)} — strict parse, host normalisation, name
 * lists, resolution and classification of every answer, no network — in nanoseconds. Target: under
 * 5 µs. Names resolve through an in-memory resolver, so the figure is ModelGuard's own cost; a real
 * DNS lookup (or the JVM's cache) comes on top.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@Threads(1)
public class UrlCheckBenchmark {

  /** The benchmarks; JMH instantiates this class. */
  public UrlCheckBenchmark() {}

  /** A public image URL by name: parse, name lists, resolve (in memory), classify two answers. Allowed. */
  @Benchmark
  public UrlCheck publicName(Fetchers f) {
    return f.fetcher.check("https://images.example.com/cats/tabby.png?size=224");
  }

  /** A public IPv4 literal. Allowed. */
  @Benchmark
  public UrlCheck publicIpv4Literal(Fetchers f) {
    return f.fetcher.check("http://93.184.216.34/cat.png");
  }

  /** The cloud metadata address. Refused (denied address). */
  @Benchmark
  public UrlCheck metadataAddressRefused(Fetchers f) {
    return f.fetcher.check("http://169.254.169.254/latest/meta-data/iam/security-credentials/");
  }

  /** An integer IPv4 form. Refused (ambiguous literal). */
  @Benchmark
  public UrlCheck integerLiteralRefused(Fetchers f) {
    return f.fetcher.check("http://2130706433/");
  }

  /** An IPv4-mapped IPv6 literal of the metadata address. Refused (denied address). */
  @Benchmark
  public UrlCheck mappedIpv6Refused(Fetchers f) {
    return f.fetcher.check("http://[::ffff:169.254.169.254]/latest/meta-data/");
  }

  /** A Unicode host that IDNA turns into 127.0.0.1 (the slow path through java.net.IDN). Refused. */
  @Benchmark
  public UrlCheck unicodeLoopbackRefused(Fetchers f) {
    return f.fetcher.check("http://①②⑦.⓪.⓪.①/");
  }

  /** A fetcher with the defaults and an in-memory resolver. */
  @State(Scope.Benchmark)
  public static class Fetchers {
    /** The fetcher under test. */
    public final SafeUrlFetcher fetcher;

    /** Builds the fetcher; {@code images.example.com} has one IPv4 and one IPv6 public answer. */
    public Fetchers() {
      List<InetAddress> answers;
      try {
        answers = List.of(InetAddress.getByAddress(new byte[] {93, (byte) 184, (byte) 216, 34}),
            InetAddress.getByAddress(new byte[] {0x26, 0x06, 0x28, 0, 2, 0x20, 0, 1, 2, 0x48, 0x18, (byte) 0x93, 0x25, (byte) 0xc8, 0x19, 0x46}));
      } catch (UnknownHostException e) {
        throw new IllegalStateException(e);
      }
      fetcher = SafeUrlFetcher.builder().resolver(host -> {
        if (host.equals("images.example.com")) {
          return answers;
        }
        throw new UnknownHostException(host);
      }).build();
    }
  }
}
