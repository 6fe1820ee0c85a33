package io.modelguard.redis;

import io.lettuce.core.resource.ClientResources;
import java.util.concurrent.TimeUnit;

/**
 * The Lettuce {@link ClientResources} a store or exchange creates for itself when the caller gives
 * none, and whether it shuts them down when it closes: only those it created.
 */
record RedisResources(ClientResources resources, boolean owned) {

  /** {@code given}, owned by the caller; or, if null, new ones this store or exchange owns. */
  static RedisResources of(ClientResources given) {
    if (given != null) {
      return new RedisResources(given, false);
    }
    return new RedisResources(RedisQuotaStore.newClientResources(), true);
  }

  /** Shuts the resources down if they were created here; the caller's are left running. */
  void release() {
    if (owned) {
      resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }
}
