package io.modelguard.test.quota;

import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.QuotaStore;
import io.modelguard.quota.QuotaStoreException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A shared store that a test takes down and brings back: while {@link #down}, decisions fail as a
 * refused connection would; adjustments always reach {@code shared}, so a test sees any that a
 * store in front of it sends there.
 */
final class SwitchableStore implements QuotaStore {
  final AtomicBoolean down = new AtomicBoolean();
  private final QuotaStore shared;

  SwitchableStore(QuotaStore shared) {
    this.shared = shared;
  }

  @Override
  public QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost) {
    if (down.get()) {
      throw new QuotaStoreException("connection refused");
    }
    return shared.acquire(key, plan, cost);
  }

  @Override
  public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
    shared.adjust(key, plan, delta, decidedAtMicros);
  }
}
