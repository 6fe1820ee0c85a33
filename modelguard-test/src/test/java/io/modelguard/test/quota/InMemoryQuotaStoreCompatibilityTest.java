package io.modelguard.test.quota;

import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaStore;
import java.time.Clock;

/** The in-memory store keeps the store contract. */
class InMemoryQuotaStoreCompatibilityTest extends QuotaStoreCompatibilitySuite {
  @Override
  protected QuotaStore createStore(Clock clock) {
    return InMemoryQuotaStore.builder().clock(clock).build();
  }
}
