package io.modelguard.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * Paces a log line that a client, or a fault repeating on every request, can cause as often as
 * requests arrive: at most one line a {@link #INTERVAL} at its own level (ERROR or WARN) for each
 * key, the others logged at DEBUG and counted, so that the next line of the key says how many it
 * stands for. A line per request would write thousands a second, burying every other line and
 * filling the disk, where one a minute says as much. Internal: not part of the public API.
 *
 * <p>Keys must come from the configuration (a chain and step, an endpoint, an upstream) and from
 * the class of what was thrown, never from a request's own text, so that there are few; they are
 * compared by {@code equals}. At most {@value #MAX_KEYS} are kept, the least recently used leaving
 * first (with its count, so its next line says 0 more). Time is in milliseconds of the caller's
 * choosing, given with each line ({@link java.time.Clock#millis()} of an injected clock, or {@code
 * System.nanoTime()} divided by a million): a time set back lets the next line through rather than
 * holding every line of the key until it catches up. Thread-safe.
 *
 * @param <K> the type of the keys
 */
public final class LogPace<K> {
  /** The least time between two lines of one key at their own level: a minute. */
  public static final Duration INTERVAL = Duration.ofMinutes(1);
  /** How many keys are kept at most. */
  public static final int MAX_KEYS = 1_000;
  /** What {@link #logNow} returns for a line to log at DEBUG only. */
  public static final long SUPPRESSED = -1;

  private static final long INTERVAL_MILLIS = INTERVAL.toMillis();

  private final Logger logger;
  private final String note;
  // Maintenance on the caller's thread: Caffeine's default executor would wake a pool thread per line.
  private final Cache<K, Pace> paces = Caffeine.newBuilder().maximumSize(MAX_KEYS).executor(Runnable::run).build();

  /**
   * Paces lines of {@code logger}; {@code scope} says in the paced lines what a key is, as in
   * {@code "per chain, policy and exception class"} (empty: nothing).
   *
   * @param logger the logger the lines go to; not null
   * @param scope what a key is, for the paced lines; empty for nothing, not null
   */
  public LogPace(Logger logger, String scope) {
    this.logger = Objects.requireNonNull(logger, "logger");
    this.note = " (logged at this level at most once a minute" + (scope.isEmpty() ? "" : " " + scope)
        + "; {} more since the last, at DEBUG)";
  }

  /**
   * Whether a line of {@code key} may be logged at its own level at {@code nowMillis}: if so, how
   * many lines of the key went to DEBUG since its previous such line (0 for the first); if not,
   * {@link #SUPPRESSED}, and this line is counted for the next.
   *
   * @param key what the line is about, such as a chain, policy and exception class
   * @param nowMillis the current time in milliseconds, by the caller's clock
   * @return the count of lines sent to DEBUG since the key's previous line, or {@link #SUPPRESSED}
   */
  public long logNow(K key, long nowMillis) {
    return paces.get(key, k -> new Pace()).logNow(nowMillis);
  }

  /**
   * Logs {@code format} with {@code args} and the stack trace of {@code thrown} (none if null): at
   * {@code level} if {@link #logNow} lets a line of {@code key} through at {@code nowMillis}, the
   * line then ending with how many went to DEBUG since; at DEBUG, as it stands, otherwise (nothing
   * when DEBUG is off). The messages of {@code thrown} and its causes go through {@link
   * LogText#throwable}: they may quote what a client sent. If {@code thrown} cannot be logged even
   * so, the line names its class instead: what the caller does next must not depend on it.
   *
   * @param level the level of a line let through
   * @param key what the line is about
   * @param nowMillis the current time in milliseconds, by the caller's clock
   * @param thrown the exception to log with its stack trace, or null
   * @param format the SLF4J message format
   * @param args the format's arguments
   */
  public void log(Level level, K key, long nowMillis, Throwable thrown, String format, Object... args) {
    long suppressed = logNow(key, nowMillis);
    if (suppressed == SUPPRESSED && !logger.isDebugEnabled()) {
      return;
    }
    Level at = suppressed == SUPPRESSED ? Level.DEBUG : level;
    String line = suppressed == SUPPRESSED ? format : format + note;
    Object[] lineArgs = args;
    if (suppressed != SUPPRESSED) {
      lineArgs = Arrays.copyOf(args, args.length + 1);
      lineArgs[args.length] = suppressed;
    }
    if (thrown == null) {
      log(at, line, lineArgs);
      return;
    }
    Object[] withThrown = Arrays.copyOf(lineArgs, lineArgs.length + 1);
    try {
      withThrown[lineArgs.length] = LogText.throwable(thrown);
      log(at, line, withThrown);
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      withThrown[lineArgs.length] = thrown.getClass().getName() + " (not loggable: " + e.getClass().getName() + ")";
      log(at, line + ": {}", withThrown);
    }
  }

  private void log(Level level, String format, Object[] args) {
    switch (level) {
      case ERROR -> logger.error(format, args);
      case WARN -> logger.warn(format, args);
      case INFO -> logger.info(format, args);
      case DEBUG -> logger.debug(format, args);
      case TRACE -> logger.trace(format, args);
    }
  }

  /** One key's pace. */
  private static final class Pace {
    private boolean logged;
    private long lastLogged;
    private long suppressed;

    synchronized long logNow(long now) {
      if (logged && now >= lastLogged && now - lastLogged < INTERVAL_MILLIS) {
        suppressed++;
        return SUPPRESSED;
      }
      long since = suppressed;
      logged = true;
      lastLogged = now;
      suppressed = 0;
      return since;
    }
  }
}
