package io.modelguard.input;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Resolves a host name to every address it has (all A and AAAA answers). {@link SafeUrlFetcher}
 * checks every answer and then connects only to the addresses it checked, so a resolver is asked
 * once per hop. Inject a fake in tests to make names resolve to internal or mixed answers.
 * Implementations must be thread-safe.
 */
@FunctionalInterface
public interface HostResolver {

  /**
   * Every address of {@code host} (an ASCII, lower-case name, never an IP literal).
   *
   * @throws UnknownHostException if the name has no address; an empty list means the same
   */
  List<InetAddress> resolve(String host) throws UnknownHostException;

  /**
   * The JVM's resolver ({@link InetAddress#getAllByName}, which honours {@code -Djdk.net.hosts.file}),
   * bounded by {@code timeout}: the JDK lookup itself cannot be interrupted, so it runs on one of at
   * most 8 daemon threads of this resolver and is abandoned when the time is up (reported as
   * unknown host). When all 8 are busy the lookup is refused the same way rather than queued.
   */
  static HostResolver system(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("HostResolver.system timeout must be positive, was " + timeout);
    }
    AtomicInteger threads = new AtomicInteger();
    ThreadPoolExecutor pool = new ThreadPoolExecutor(0, 8, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
      Thread t = new Thread(r, "modelguard-dns-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    long nanos = timeout.toNanos();
    return host -> {
      Future<InetAddress[]> f;
      try {
        f = pool.submit(() -> InetAddress.getAllByName(host));
      } catch (RejectedExecutionException e) {
        throw new UnknownHostException("resolver busy");
      }
      try {
        return List.of(f.get(nanos, TimeUnit.NANOSECONDS));
      } catch (TimeoutException e) {
        f.cancel(true);
        throw new UnknownHostException("resolution timed out");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new UnknownHostException("interrupted");
      } catch (ExecutionException e) {
        if (e.getCause() instanceof UnknownHostException) {
          throw (UnknownHostException) e.getCause();
        }
        throw new UnknownHostException("resolution failed");
      }
    };
  }
}
