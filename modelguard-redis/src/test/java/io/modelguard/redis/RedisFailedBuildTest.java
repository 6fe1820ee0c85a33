package io.modelguard.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisURI;
import io.lettuce.core.resource.ClientResources;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A store or exchange whose build throws leaves nothing running: the Lettuce resources it created
 * for itself are shut down (they used to keep their timer thread for the JVM's life, one more per
 * failed attempt), and resources the caller gave are left running for the caller.
 */
class RedisFailedBuildTest {

  @Test
  void aClusterStoreThatFailsToBuildLeavesNoLettuceThreadRunning() {
    Set<Long> before = lettuceThreads();
    // Lettuce refuses seeds that disagree on TLS once the store has made its resources.
    List<RedisURI> seeds = List.of(RedisURI.create("redis://127.0.0.1:1"), RedisURI.create("rediss://127.0.0.1:2"));

    assertThatThrownBy(() -> RedisQuotaStore.clusterBuilder(seeds).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SSL");

    Poll.until("the failed store's Lettuce threads ended", () -> !newThreads(before));
  }

  @Test
  void anExchangeThatFailsToBuildLeavesNoLettuceThreadRunning() {
    Set<Long> before = lettuceThreads();
    // A Unix socket needs a native transport (epoll, kqueue) that this module's class path lacks:
    // the first connection attempt, inside build(), throws.
    RedisURI socket = RedisURI.create("redis-socket:///tmp/modelguard-no-such.sock");

    assertThatThrownBy(() -> RedisRiskExchange.builder(socket).build()).isInstanceOf(IllegalStateException.class);

    Poll.until("the failed exchange's Lettuce threads ended", () -> !newThreads(before));
  }

  @Test
  void aFailedBuildLeavesTheCallersResourcesRunning() {
    ClientResources shared = ClientResources.create();
    try {
      RedisURI socket = RedisURI.create("redis-socket:///tmp/modelguard-no-such.sock");
      assertThatThrownBy(() -> RedisRiskExchange.builder(socket).clientResources(shared).build())
          .isInstanceOf(IllegalStateException.class);
      List<RedisURI> seeds = List.of(RedisURI.create("redis://127.0.0.1:1"), RedisURI.create("rediss://127.0.0.1:2"));
      assertThatThrownBy(() -> RedisQuotaStore.clusterBuilder(seeds).clientResources(shared).build())
          .isInstanceOf(IllegalArgumentException.class);

      assertThat(shared.eventExecutorGroup().isShuttingDown()).isFalse();
    } finally {
      shared.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }

  /** Whether a Lettuce thread is alive that was not in {@code before}. */
  private static boolean newThreads(Set<Long> before) {
    return !before.containsAll(lettuceThreads());
  }

  private static Set<Long> lettuceThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith("lettuce-"))
        .map(Thread::getId)
        .collect(Collectors.toSet());
  }
}
