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
 * {@link HostResolver#system(Duration)}: a blocking lookup that cannot be interrupted, run on one
 * of at most 8 daemon threads and abandoned when the caller's time is up.
 */
final class SystemResolver implements HostResolver {
  /** The blocking lookup: {@link InetAddress#getAllByName} outside tests. */
  @FunctionalInterface
  interface Lookup {
    InetAddress[] lookUp(String host) throws UnknownHostException;
  }

  private final long timeoutNanos;
  private final Lookup lookup;
  private final ThreadPoolExecutor pool;

  SystemResolver(Duration timeout, Lookup lookup) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("HostResolver.system timeout must be positive, was " + timeout);
    }
    this.timeoutNanos = timeout.toNanos();
    this.lookup = Objects.requireNonNull(lookup, "lookup");
    AtomicInteger threads = new AtomicInteger();
    this.pool = new ThreadPoolExecutor(0, 8, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
      Thread t = new Thread(r, "modelguard-dns-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public List<InetAddress> resolve(String host) throws UnknownHostException {
    return lookUp(host, timeoutNanos);
  }

  @Override
  public List<InetAddress> resolve(String host, Duration timeLeft) throws UnknownHostException {
    return lookUp(host, Math.min(timeoutNanos, timeLeft.toNanos()));
  }

  private List<InetAddress> lookUp(String host, long waitNanos) throws UnknownHostException {
    Future<InetAddress[]> f;
    try {
      f = pool.submit(() -> lookup.lookUp(host));
    } catch (RejectedExecutionException e) {
      throw new UnknownHostException("resolver busy");
    }
    try {
      return List.of(f.get(waitNanos, TimeUnit.NANOSECONDS));
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
  }
}
