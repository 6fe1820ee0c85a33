package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * {@link SystemResolver}'s slot accounting under many concurrent lookups that answer, fail, throw or
 * hang, callers that time out or are interrupted while waiting, and an executor that runs out of
 * threads: whatever the interleaving, every slot comes back and no waiter is left behind.
 */
class SystemResolverStressTest {
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  @Test
  void everySlotComesBackAndNoWaiterIsLeftWhateverLookupsAndCallersDo() throws Exception {
    for (int seed = 0; seed < 5; seed++) {
      runOnce(seed);
    }
  }

  private static void runOnce(long seed) throws Exception {
    Semaphore dnsAnswers = new Semaphore(0);
    AtomicInteger running = new AtomicInteger();
    // Lookups running per caller (the digit after 'c' in the host's first label) and per domain.
    AtomicIntegerArray byCaller = new AtomicIntegerArray(4);
    AtomicIntegerArray byDomain = new AtomicIntegerArray(6);
    AtomicInteger overShare = new AtomicInteger();
    SystemResolver.Lookup lookup = host -> {
      int caller = host.charAt(host.indexOf('c') + 1) - '0';
      int domain = host.charAt(host.indexOf(".d") + 2) - '0';
      if (running.incrementAndGet() > SystemResolver.THREADS
          | (caller > 0 && byCaller.incrementAndGet(caller) > SystemResolver.PER_CALLER)
          | byDomain.incrementAndGet(domain) > SystemResolver.PER_DOMAIN) {
        overShare.incrementAndGet();
      }
      try {
        switch (host.charAt(0)) {
          case 'o':
            return new InetAddress[] {LOOPBACK};
          case 'f':
            throw new UnknownHostException(host);
          case 'b':
            throw new IllegalStateException("a resolver bug");
          default: // 'h': hangs, deaf to interrupts, until a caller lets one answer
            dnsAnswers.acquireUninterruptibly();
            throw new UnknownHostException(host);
        }
      } finally {
        running.decrementAndGet();
        if (caller > 0) {
          byCaller.decrementAndGet(caller);
        }
        byDomain.decrementAndGet(domain);
      }
    };
    // Fewer threads than slots: the executor refuses some lookups.
    ThreadPoolExecutor pool = new ThreadPoolExecutor(0, 6, 1, TimeUnit.MINUTES, new SynchronousQueue<>());
    SystemResolver resolver = new SystemResolver(Duration.ofDays(1), lookup, pool);
    Random random = new Random(seed);
    String[] kinds = {"ok", "ok", "ok", "fail", "boom", "hang"}; // first letters: see the lookup
    String[] callers = {null, "t:a", "t:b", "a:192.0.2.1"};
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 24; t++) {
      Random mine = new Random(random.nextLong());
      Thread thread = new Thread(() -> {
        for (int i = 0; i < 150; i++) {
          int caller = mine.nextInt(callers.length);
          String host = kinds[mine.nextInt(kinds.length)] + i + "c" + caller + ".d" + mine.nextInt(6) + ".example";
          if (mine.nextInt(20) == 0) {
            Thread.currentThread().interrupt(); // interrupted before or while it waits
          }
          try {
            resolver.resolve(host, Duration.ofNanos(mine.nextInt(2_000_000)), callers[caller]);
          } catch (UnknownHostException | RuntimeException e) {
            // refused, timed out, failed: all the same to the accounting
          }
          Thread.interrupted();
          if (mine.nextInt(3) == 0) {
            dnsAnswers.release();
          }
        }
      });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join(TimeUnit.MINUTES.toMillis(2));
      assertThat(thread.isAlive()).as("seed %d: a caller never returned", seed).isFalse();
    }
    dnsAnswers.release(1_000_000);
    pool.shutdown();
    assertThat(pool.awaitTermination(2, TimeUnit.MINUTES)).isTrue();
    assertThat(running.get()).isZero();
    assertThat(resolver.slotState()).as("seed %d", seed).isEqualTo("held=0 domains={} callers={} waiting=0");
    assertThat(overShare.get()).as("seed %d: lookups beyond a share or the total", seed).isZero();
  }
}
