package io.modelguard.examples;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Clocks for the in-memory quota store ({@link AppOptions#withQuotaClock}). Tests about other
 * things than quotas use {@link #leaping()}, so that the demo tiers' limits (a burst of 5 for the
 * free tier) never refuse their requests however fast they are sent; quota tests use a fixed clock.
 */
public final class QuotaClocks {
  private QuotaClocks() {}

  /**
   * {@code options} with the quota store's clock fixed: buckets never refill during a test, so
   * counts are exact whatever the machine's speed. For quota tests in other packages (the gateway's).
   */
  public static AppOptions frozen(AppOptions options) {
    return options.withQuotaClock(Clock.fixed(Instant.parse("2026-01-01T12:00:00Z"), ZoneOffset.UTC));
  }

  /**
   * A clock that moves one hour ahead at every reading: every token bucket is full again and every
   * per-minute window a new one at each decision, and a day's 1,000 are never reached by a test.
   */
  static Clock leaping() {
    return new Leaping(Instant.parse("2026-01-01T00:00:00Z").toEpochMilli());
  }

  private static final class Leaping extends Clock {
    private final AtomicLong millis;

    Leaping(long start) {
      this.millis = new AtomicLong(start);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public long millis() {
      return millis.addAndGet(3_600_000L);
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis());
    }
  }
}
