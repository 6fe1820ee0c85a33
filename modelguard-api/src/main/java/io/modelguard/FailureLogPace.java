package io.modelguard;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Paces the engine's lines about a policy or listener that threw: at most one a {@link #INTERVAL}
 * at the line's own level (ERROR or WARN, with the stack trace) for each {@link Key}, the others to
 * be logged at DEBUG and counted, so that the next line of the key can say how many it stands for.
 * A policy that throws on every request (a quota store down and used without {@link
 * io.modelguard.quota.ResilientQuotaStore}, a parser that a client's input makes throw) would
 * otherwise write a stack trace per request: thousands a second, burying every other line and
 * filling the disk, where one a minute says as much. Each failure still publishes its event, so
 * meters and audit lines count them all.
 *
 * <p>Keys come from the configuration (a chain, a step, a listener's class) and from the class of
 * what was thrown, never from a request, so there are few; at most {@link #MAX_KEYS} are kept, the
 * least recently used leaving first (with its count). Time is the engine's {@link Clock}: one set
 * back lets the next line through rather than holding every line until it catches up. Thread-safe.
 */
final class FailureLogPace {
  /** The least time between two lines of one key at their own level: a minute. */
  static final Duration INTERVAL = Duration.ofMinutes(1);
  /** How many keys are kept at most. */
  static final int MAX_KEYS = 1_000;

  private static final long INTERVAL_MILLIS = INTERVAL.toMillis();

  /**
   * What failed, where: {@code kind} ({@code policy}, {@code output policy}, {@code release} or
   * {@code listener}), {@code owner} (the chain, or the listener's class), {@code name} (the step,
   * or the type of the event the listener failed on) and {@code thrown}, the class name of what was
   * thrown.
   */
  record Key(String kind, String owner, String name, String thrown) {}

  private final Clock clock;
  private final Cache<Key, Pace> paces =
      Caffeine.newBuilder().maximumSize(MAX_KEYS).executor(Runnable::run).build();

  /** Paces by {@code clock}. */
  FailureLogPace(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Whether a line of {@code key} may be logged at its own level now: if so, how many failures of
   * the key went to DEBUG since its previous such line (0 for the first); if not, -1, and this
   * failure is counted for the next line.
   */
  long logNow(Key key) {
    long now = clock.millis();
    return paces.get(key, k -> new Pace()).logNow(now);
  }

  /** One key's pace. */
  private static final class Pace {
    private boolean logged;
    private long lastLogged;
    private long unlogged;

    synchronized long logNow(long now) {
      if (logged && now >= lastLogged && now - lastLogged < INTERVAL_MILLIS) {
        unlogged++;
        return -1;
      }
      long since = unlogged;
      logged = true;
      lastLogged = now;
      unlogged = 0;
      return since;
    }
  }
}
