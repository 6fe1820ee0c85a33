package io.modelguard.test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock that moves only when told to, for tests that must never sleep. Thread-safe: {@link
 * #advance(Duration)} is atomic.
 */
public final class FakeClock extends Clock {
  private final AtomicReference<Instant> now;
  private final ZoneId zone;

  private FakeClock(AtomicReference<Instant> now, ZoneId zone) {
    this.now = now;
    this.zone = zone;
  }

  /**
   * {@return a clock standing at {@code start}, in UTC}
   *
   * @param start the instant the clock shows until moved; not null
   */
  public static FakeClock at(Instant start) {
    return new FakeClock(new AtomicReference<>(start), ZoneOffset.UTC);
  }

  /**
   * A clock standing at 2026-01-01T00:00:00Z.
   *
   * @return a new clock, independent of any other
   */
  public static FakeClock standard() {
    return at(Instant.parse("2026-01-01T00:00:00Z"));
  }

  /**
   * Moves the clock forward (or back, for a negative duration).
   *
   * @param d how far to move; negative moves the clock back
   * @return this clock
   */
  public FakeClock advance(Duration d) {
    now.updateAndGet(i -> i.plus(d));
    return this;
  }

  /**
   * Sets the clock.
   *
   * @param instant the instant the clock shows from now on, earlier or later than the current one
   * @return this clock
   */
  public FakeClock set(Instant instant) {
    now.set(instant);
    return this;
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  @Override
  public ZoneId getZone() {
    return zone;
  }

  @Override
  public Clock withZone(ZoneId z) {
    return new FakeClock(now, z);
  }
}
