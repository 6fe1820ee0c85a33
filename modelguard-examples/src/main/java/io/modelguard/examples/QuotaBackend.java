package io.modelguard.examples;

import io.lettuce.core.RedisURI;
import io.lettuce.core.resource.ClientResources;
import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.QuotaStore;
import io.modelguard.redis.RedisQuotaStore;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The quota store of a running demo: an {@link InMemoryQuotaStore} by default, or with {@code
 * --redis-url} a {@link RedisQuotaStore} shared by every instance pointed at the same Redis.
 *
 * <p>At start-up the Redis store is given {@value #READY_SECONDS} seconds to connect and load its
 * script. If Redis does not answer, the demo starts anyway and logs a warning: decisions then
 * follow the failure policy ({@code --quota-failure}, default {@code local}: each instance counts
 * in memory) until Redis answers, and the store reconnects by itself. With Redis, the backend
 * also owns the Lettuce {@link ClientResources} (event loops, timers) the demo's Redis clients
 * share: the store's and the extraction risk exchange's ({@link #redisResources}). Closing the
 * backend closes the Redis connection and then shuts those resources down, so close the exchange
 * first. Once Redis answers, a few decisions on a throw-away key warm the decision
 * path up, so that the first real requests stay within the per-call timeout.
 */
final class QuotaBackend implements AutoCloseable {
  /** How long start-up waits for Redis. */
  static final int READY_SECONDS = 5;
  private static final int WARM_UP_DECISIONS = 20;

  private static final Logger log = LoggerFactory.getLogger(QuotaBackend.class);

  private final QuotaStore store;
  private final RedisQuotaStore redis;
  /** The resources the demo's Redis clients share, owned here; null without Redis. */
  private final ClientResources resources;
  private final String description;

  private QuotaBackend(QuotaStore store, RedisQuotaStore redis, ClientResources resources, String description) {
    this.store = store;
    this.redis = redis;
    this.resources = resources;
    this.description = description;
  }

  /** Opens the store {@code settings} name; the in-memory store reads {@code clock}. */
  static QuotaBackend open(QuotaSettings settings, Clock clock) {
    Optional<String> url = settings.redisUrl();
    if (url.isEmpty()) {
      String d = "in memory (this process only)";
      log.info("Quota counts are kept {}", d);
      return new QuotaBackend(InMemoryQuotaStore.builder().clock(clock).build(), null, null, d);
    }
    String where = QuotaSettings.describeRedis(url.get());
    // One set of event loops for both Redis clients (this store, the extraction risk exchange),
    // reconnecting as quickly as each would by itself.
    ClientResources resources = RedisQuotaStore.newClientResources();
    RedisQuotaStore redis;
    try {
      redis = RedisQuotaStore.builder(RedisURI.create(url.get()))
          .failurePolicy(settings.failurePolicy())
          .clientResources(resources)
          .build();
    } catch (RuntimeException e) {
      resources.shutdown(0, 2, TimeUnit.SECONDS);
      throw e;
    }
    String d = "in Redis at " + where + "; while it is unavailable: "
        + QuotaSettings.describe(settings.failurePolicy());
    if (redis.awaitReady(Duration.ofSeconds(READY_SECONDS))) {
      warmUp(redis);
      log.info("Quota counts are kept {}", d);
    } else {
      log.warn("Redis at {} did not answer within {} s: starting anyway; until it answers, quota decisions "
          + "follow the failure policy {}", where, READY_SECONDS, QuotaSettings.describe(settings.failurePolicy()));
    }
    return new QuotaBackend(redis, redis, resources, d);
  }

  /**
   * A few decisions on a throw-away key (a 1 s bucket: Redis forgets it within seconds), so that
   * the first real requests do not pay for loading the decision path on a cold JVM, which can
   * exceed the 100 ms per-call timeout and then be answered by the failure policy.
   */
  private static void warmUp(RedisQuotaStore redis) {
    QuotaPlan plan = QuotaPlan.of(QuotaLimit.tokenBucket("warm-up", 1_000, Duration.ofSeconds(1)));
    QuotaKey key = QuotaKey.forTenant("modelguard-examples-warm-up", "none");
    int answered = 0;
    for (int i = 0; i < WARM_UP_DECISIONS; i++) {
      if (!redis.acquire(key, plan, 1).isDegraded()) {
        answered++;
      }
    }
    log.debug("Quota store warm-up: {} of {} decisions answered by Redis", answered, WARM_UP_DECISIONS);
  }

  /** The store. */
  QuotaStore store() {
    return store;
  }

  /** Where counts are kept, for the banner and the log (never a password). */
  String description() {
    return description;
  }

  /**
   * The Lettuce resources the demo's Redis clients share (this backend owns them, and shuts them
   * down when it closes); empty without Redis.
   */
  Optional<ClientResources> redisResources() {
    return Optional.ofNullable(resources);
  }

  /**
   * Closes the Redis connection, if any, then shuts the shared {@link #redisResources} down (close
   * every other client on them first); idempotent.
   */
  @Override
  public void close() {
    if (redis != null) {
      try {
        redis.close();
      } finally {
        resources.shutdown(0, 2, TimeUnit.SECONDS);
      }
    }
  }
}
