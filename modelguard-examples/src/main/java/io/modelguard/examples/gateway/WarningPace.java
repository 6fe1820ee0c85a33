package io.modelguard.examples.gateway;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Paces the gateway's warnings: at most one per {@link #INTERVAL} for each key, the others to be
 * logged at DEBUG and counted, so that the next warning of the key can say how many it stood for.
 * A client can repeat what draws a warning as fast as the edge answers (a prediction refused at an
 * in-flight cap, or sent to an upstream that refuses connections, costs it no quota), and a line per
 * request would fill the operator's disk and bury every other warning; one line a minute still says
 * what is wrong. Keys must come from the configuration (an upstream, a model, a kind of refusal),
 * never from a request, so that there are few of them. Thread-safe.
 */
final class WarningPace {
  /** The least time between two warnings of one key: a minute. */
  static final Duration INTERVAL = Duration.ofMinutes(1);

  private final LongSupplier ticker;
  private final ConcurrentHashMap<String, Key> keys = new ConcurrentHashMap<>();

  /** Paces by {@code ticker}, in nanoseconds of arbitrary origin ({@code System::nanoTime}). */
  WarningPace(LongSupplier ticker) {
    this.ticker = Objects.requireNonNull(ticker, "ticker");
  }

  /**
   * Whether a warning of {@code key} may be logged now: if so, how many of its occurrences were not
   * warned about since its previous warning (0 for the first); if not, -1, and this occurrence is
   * counted for the next warning.
   */
  long warnNow(String key) {
    long now = ticker.getAsLong();
    return keys.computeIfAbsent(key, k -> new Key(now)).warnNow(now);
  }

  /** One key's pace. */
  private static final class Key {
    private long nextWarning;
    private long unwarned;

    Key(long now) {
      this.nextWarning = now;
    }

    synchronized long warnNow(long now) {
      if (now - nextWarning < 0) {
        unwarned++;
        return -1;
      }
      long since = unwarned;
      unwarned = 0;
      nextWarning = now + INTERVAL.toNanos();
      return since;
    }
  }
}
