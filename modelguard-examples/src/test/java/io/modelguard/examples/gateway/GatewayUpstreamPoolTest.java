package io.modelguard.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The upstream client's pool keeps its threads only while there is work: a client dropped (a
 * gateway stopped in a running JVM) left its fixed pool's threads alive for ever, two or more a
 * client. Real threads; the idle life is short here and the test waits, with a deadline, for them
 * to end.
 */
class GatewayUpstreamPoolTest {

  @Test
  void theThreadsOfAnIdlePoolEnd() throws InterruptedException {
    ThreadPoolExecutor pool = GatewayServlet.upstreamExecutor(Duration.ofMillis(50));
    int threads = pool.getCorePoolSize();
    assertThat(threads).isGreaterThanOrEqualTo(2);
    CountDownLatch ran = new CountDownLatch(threads);
    CountDownLatch release = new CountDownLatch(1);
    for (int i = 0; i < threads; i++) {
      pool.execute(() -> {
        ran.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
    assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(pool.getPoolSize()).as("one thread a task, up to the pool's size").isEqualTo(threads);
    release.countDown();

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (pool.getPoolSize() > 0 && System.nanoTime() - deadline < 0) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
    assertThat(pool.getPoolSize()).as("threads alive once idle").isZero();
    assertThat(pool.isShutdown()).as("still usable").isFalse();
  }
}
