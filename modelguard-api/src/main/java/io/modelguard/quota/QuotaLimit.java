package io.modelguard.quota;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One named limit: at most {@code quota} units per {@code window}, enforced by one of two {@link
 * Algorithm algorithms}. A {@link QuotaPlan} combines several (for example a 10/s burst, 600/min
 * and 100,000/day); a request must pass every one of them. Immutable.
 *
 * <p>Windows are whole seconds (1 s to 366 days), because the {@code RateLimit-Policy} header
 * states them in seconds. Names are 1–32 characters of {@code [A-Za-z0-9._-]}: they appear
 * verbatim in response headers and in store keys.
 */
public final class QuotaLimit {
  /** How a limit counts. */
  public enum Algorithm {
    /**
     * A token bucket of {@code quota} units refilled continuously at {@code quota} per {@code
     * window}, implemented as GCRA (one timestamp per key). Exact. Use it for rates and bursts.
     */
    TOKEN_BUCKET,
    /**
     * A sliding-window counter over windows aligned to the epoch: {@code current + previous ×
     * (unelapsed part of the window)}. Two counters per key. It assumes the previous window's
     * traffic was spread evenly; see {@link QuotaArithmetic} for its error bound. Use it for
     * volumes (per minute, per day).
     */
    SLIDING_WINDOW
  }

  /** The longest window: 366 days. */
  public static final Duration MAX_WINDOW = Duration.ofDays(366);
  /** The largest quota of a sliding window (2<sup>32</sup> − 1), which keeps the script's arithmetic exact. */
  public static final long MAX_SLIDING_QUOTA = (1L << 32) - 1;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,31}");

  private final String name;
  private final long quota;
  private final Duration window;
  private final Algorithm algorithm;
  private final long windowSeconds;
  private final long intervalMicros;
  private final long toleranceMicros;
  private final long windowMillis;

  private QuotaLimit(String name, long quota, Duration window, Algorithm algorithm) {
    this(name, quota, window, algorithm, 0);
  }

  /** {@code interval}: a token bucket's interval in microseconds if positive, else derived from quota and window. */
  private QuotaLimit(String name, long quota, Duration window, Algorithm algorithm, long interval) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("QuotaLimit.name must match " + NAME.pattern() + ", was '" + name + "'");
    }
    Objects.requireNonNull(window, "QuotaLimit.window");
    this.algorithm = Objects.requireNonNull(algorithm, "QuotaLimit.algorithm");
    if (window.isNegative() || window.isZero() || window.getNano() != 0 || window.compareTo(MAX_WINDOW) > 0) {
      throw new IllegalArgumentException("QuotaLimit.window of '" + name
          + "' must be a whole number of seconds from 1 s to 366 days, was " + window);
    }
    if (quota < 1) {
      throw new IllegalArgumentException("QuotaLimit.quota of '" + name + "' must be at least 1, was " + quota);
    }
    this.name = name;
    this.quota = quota;
    this.window = window;
    this.windowSeconds = window.getSeconds();
    this.windowMillis = windowSeconds * 1000L;
    long windowMicros = windowSeconds * 1_000_000L;
    if (algorithm == Algorithm.TOKEN_BUCKET) {
      if (quota > windowMicros) {
        throw new IllegalArgumentException("QuotaLimit.quota of token bucket '" + name
            + "' must not exceed one unit per microsecond of its window (" + windowMicros + "), was " + quota);
      }
      // Rounded up so the effective rate never exceeds the nominal one (by at most 1 µs per unit).
      this.intervalMicros = interval > 0 ? interval : (windowMicros + quota - 1) / quota;
      this.toleranceMicros = intervalMicros * quota;
    } else {
      if (quota > MAX_SLIDING_QUOTA) {
        throw new IllegalArgumentException("QuotaLimit.quota of sliding window '" + name
            + "' must be at most " + MAX_SLIDING_QUOTA + ", was " + quota);
      }
      this.intervalMicros = 0;
      this.toleranceMicros = 0;
    }
  }

  /**
   * A token bucket (GCRA): {@code quota} units at most at once, refilled continuously at {@code
   * quota} per {@code window}. {@code tokenBucket("burst", 10, Duration.ofSeconds(1))} allows a
   * burst of 10 and then one call every 100 ms.
   *
   * @param name the limit's name, 1 to 32 characters of {@code [A-Za-z0-9._-]} starting with a
   *     letter or digit
   * @param quota the bucket size and the units refilled per window, at least 1
   * @param window the refill period, positive
   * @return the limit
   * @throws IllegalArgumentException naming the field, if the name, quota or window is invalid
   */
  public static QuotaLimit tokenBucket(String name, long quota, Duration window) {
    return new QuotaLimit(name, quota, window, Algorithm.TOKEN_BUCKET);
  }

  /**
   * A sliding-window counter: about {@code quota} units in any {@code window}-long span. {@code
   * slidingWindow("daily", 100_000, Duration.ofDays(1))}.
   *
   * @param name the limit's name, 1 to 32 characters of {@code [A-Za-z0-9._-]} starting with a
   *     letter or digit
   * @param quota the units allowed per window, 1 to {@link #MAX_SLIDING_QUOTA}
   * @param window the window length, positive
   * @return the limit
   * @throws IllegalArgumentException naming the field, if the name, quota or window is invalid
   */
  public static QuotaLimit slidingWindow(String name, long quota, Duration window) {
    return new QuotaLimit(name, quota, window, Algorithm.SLIDING_WINDOW);
  }

  /**
   * A limit with an explicit algorithm.
   *
   * @param name the limit's name, 1 to 32 characters of {@code [A-Za-z0-9._-]} starting with a
   *     letter or digit
   * @param quota the units allowed per window, at least 1
   * @param window the window length, positive
   * @param algorithm the algorithm; not null
   * @return the limit
   * @throws IllegalArgumentException naming the field, if the name, quota or window is invalid
   */
  public static QuotaLimit of(String name, long quota, Duration window, Algorithm algorithm) {
    return new QuotaLimit(name, quota, window, algorithm);
  }

  /** {@return the name, unique within a plan; the policy name in the rate-limit headers} */
  public String name() {
    return name;
  }

  /** {@return the number of units per window (the bucket size for a token bucket)} */
  public long quota() {
    return quota;
  }

  /** {@return the window} */
  public Duration window() {
    return window;
  }

  /** {@return the window in whole seconds (the {@code w} parameter of {@code RateLimit-Policy})} */
  public long windowSeconds() {
    return windowSeconds;
  }

  /** {@return how this limit counts} */
  public Algorithm algorithm() {
    return algorithm;
  }

  /**
   * {@return a copy with another quota (same name, window and algorithm)}
   *
   * @param newQuota the quota of the copy, valid as for {@link #of}
   */
  public QuotaLimit withQuota(long newQuota) {
    return new QuotaLimit(name, newQuota, window, algorithm);
  }

  /**
   * This limit lowered to at most {@code newQuota} units while sharing this limit's count (a
   * narrowing override, {@link QuotaPlan#narrowedBy}): a copy that never admits where this limit
   * would not. A sliding window simply takes the lower quota. A token bucket takes the interval of
   * {@code newQuota} (rounded up, so never shorter than this one's); but that rounding can make
   * {@code newQuota} such intervals longer than this bucket (600,000 a minute lowered to 599,999
   * is 101 µs a unit, a bucket of 60.6 s against 60 s), and on the shared count the narrowed
   * limit would then admit where this one no longer does. So its quota is also capped to what fits
   * in this bucket: at most {@code (tolerance - interval) / newInterval + 1}, which for the usual
   * quotas is {@code newQuota} itself.
   *
   * @throws IllegalArgumentException if {@code newQuota} is below 1
   */
  QuotaLimit narrowedTo(long newQuota) {
    if (algorithm != Algorithm.TOKEN_BUCKET || newQuota >= quota) {
      return newQuota == quota ? this : withQuota(newQuota);
    }
    if (newQuota < 1) {
      return withQuota(newQuota); // refused, naming the field
    }
    long windowMicros = windowSeconds * 1_000_000L;
    long interval = (windowMicros + newQuota - 1) / newQuota;
    long fits = Math.min(newQuota, (toleranceMicros - intervalMicros) / interval + 1);
    return new QuotaLimit(name, fits, window, algorithm, interval);
  }

  /**
   * Token bucket: the time one unit takes to refill, in microseconds (rounded up). 0 for sliding windows.
   *
   * @return the interval in microseconds, at least 1 for a token bucket; 0 for a sliding window
   */
  public long intervalMicros() {
    return intervalMicros;
  }

  /**
   * Token bucket: the bucket size in microseconds ({@code quota × interval}). 0 for sliding windows.
   *
   * @return the size in microseconds for a token bucket; 0 for a sliding window
   */
  public long toleranceMicros() {
    return toleranceMicros;
  }

  /** {@return the window in milliseconds} */
  public long windowMillis() {
    return windowMillis;
  }

  /**
   * How long state of this limit stays meaningful after the last decision, in microseconds: a key
   * left alone for this long is back to a full quota, so stores may forget it.
   *
   * @return the horizon in microseconds: twice the bucket size or twice the window
   */
  public long horizonMicros() {
    // A token bucket may carry a forced charge of up to one extra bucket; a sliding window's count
    // matters for the current and the next window.
    return algorithm == Algorithm.TOKEN_BUCKET ? 2 * toleranceMicros : 2 * windowMillis * 1000L;
  }

  /** {@return this limit as a {@code RateLimit-Policy} list member: {@code "name";q=10;w=1}} */
  public String policyItem() {
    return "\"" + name + "\";q=" + quota + ";w=" + windowSeconds;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof QuotaLimit)) {
      return false;
    }
    QuotaLimit l = (QuotaLimit) o;
    return name.equals(l.name) && quota == l.quota && windowSeconds == l.windowSeconds && algorithm == l.algorithm
        && intervalMicros == l.intervalMicros;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, quota, windowSeconds, algorithm, intervalMicros);
  }

  @Override
  public String toString() {
    return name + "=" + quota + "/" + windowSeconds + "s(" + algorithm.name().toLowerCase(Locale.ROOT) + ")";
  }
}
