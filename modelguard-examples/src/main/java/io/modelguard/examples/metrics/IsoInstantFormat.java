package io.modelguard.examples.metrics;

import java.time.Instant;

/**
 * Writes an {@link Instant} exactly as {@link Instant#toString()} does ({@code
 * 2026-01-01T00:00:00.123Z}: ISO-8601 in UTC, the fraction in groups of three digits, none when
 * it is zero), without a formatter per call. The date and time up to the second are computed once
 * per second and reused: audit lines arrive many per second, and {@code DateTimeFormatter} was a
 * visible part of each line's cost. Thread-safe.
 */
final class IsoInstantFormat {
  /** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: outside, toString adds a sign or more digits. */
  private static final long MIN_SECOND = -62_167_219_200L;
  private static final long MAX_SECOND = 253_402_300_799L;

  /** The latest second written and its text without the zone; replaced whole, so never torn. */
  private volatile Second last = new Second(0, "1970-01-01T00:00:00");

  /** Appends {@code instant} as {@link Instant#toString()} would return it. */
  void append(StringBuilder out, Instant instant) {
    long second = instant.getEpochSecond();
    if (second < MIN_SECOND || second > MAX_SECOND) {
      out.append(instant);
      return;
    }
    Second cached = last;
    if (cached.epochSecond != second) {
      String text = Instant.ofEpochSecond(second).toString(); // yyyy-MM-ddTHH:mm:ssZ
      cached = new Second(second, text.substring(0, text.length() - 1));
      last = cached;
    }
    out.append(cached.text);
    int nanos = instant.getNano();
    if (nanos != 0) {
      out.append('.');
      if (nanos % 1_000_000 == 0) {
        digits(out, nanos / 1_000_000, 100);
      } else if (nanos % 1_000 == 0) {
        digits(out, nanos / 1_000, 100_000);
      } else {
        digits(out, nanos, 100_000_000);
      }
    }
    out.append('Z');
  }

  /** {@code value} with leading zeros, from the digit worth {@code highest} (100 for three digits). */
  private static void digits(StringBuilder out, int value, int highest) {
    for (int divisor = highest; divisor > 0; divisor /= 10) {
      out.append((char) ('0' + value / divisor % 10));
    }
  }

  private record Second(long epochSecond, String text) {}
}
