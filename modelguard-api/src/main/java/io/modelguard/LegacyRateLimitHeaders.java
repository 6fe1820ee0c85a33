package io.modelguard;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The engine's handling of the legacy {@code X-RateLimit-Limit}, {@code -Remaining} and {@code
 * -Reset} headers (a quota's {@code legacyHeaders(true)}) when more than one policy sends them.
 * Unlike {@code RateLimit}, they hold one limit each, so they cannot be merged into lists: the
 * request keeps the three of the policy with the fewest units remaining (the earlier on a tie), the
 * limit a client must respect, rather than whichever policy ran last; a denying policy's own three
 * replace them, as its other headers do. On a denial whose releases refunded a policy's hold, the
 * choice is made again with that policy's figures as released, as its {@code RateLimit} item
 * reports them.
 */
final class LegacyRateLimitHeaders {
  static final String LIMIT = "X-RateLimit-Limit";
  static final String REMAINING = "X-RateLimit-Remaining";
  static final String RESET = "X-RateLimit-Reset";

  private LegacyRateLimitHeaders() {}

  /**
   * Adds a policy's {@code more} headers to the request's {@code headers}: a later header replaces
   * an earlier one, but for the legacy three, which stay as they are if they report no more units
   * remaining than {@code more}'s.
   */
  static void putAll(Map<String, String> headers, Map<String, String> more) {
    String theirs = more.get(REMAINING);
    if (theirs == null) {
      headers.putAll(more);
      return;
    }
    long kept = units(headers.get(REMAINING));
    long offered = units(theirs);
    if (kept < 0 || offered < 0 || offered < kept) {
      headers.putAll(more);
      return;
    }
    more.forEach((name, value) -> {
      if (!name.equals(LIMIT) && !name.equals(REMAINING) && !name.equals(RESET)) {
        headers.put(name, value);
      }
    });
  }

  /**
   * {@code result} with the legacy three chosen again as the allowing policies stand once the
   * engine released the request's holds, if it refunded one of theirs: a refunded policy counts
   * with its figures as released if its legacy headers still show its {@code RateLimit} item's
   * figures as charged (a custom policy whose legacy figures are not its item's counts as it sent
   * them), and the one with the fewest units remaining then is reported, as {@link #putAll} chose
   * among them before: a refund may leave another policy's limit the one the client runs into
   * first.
   */
  static GuardDecision released(GuardContext context, GuardDecision result) {
    int n = context.legacyRateLimitCount();
    boolean refunded = false;
    for (int i = 0; i < n && !refunded; i++) {
      int items = context.legacyRateLimitItems(i);
      refunded = items >= 0 && context.rateLimitReleased(items);
    }
    if (!refunded) {
      return result;
    }
    Map<String, String> kept = new LinkedHashMap<>(4);
    for (int i = 0; i < n; i++) {
      putAll(kept, asReleased(context, context.legacyRateLimitItems(i), context.legacyRateLimit(i)));
    }
    return result.withHeaders(kept);
  }

  /** The legacy three of a policy's {@code headers}, with its figures as released where they apply. */
  private static Map<String, String> asReleased(GuardContext context, int items, Map<String, String> headers) {
    Map<String, String> three = new LinkedHashMap<>(4);
    for (String name : new String[] {LIMIT, REMAINING, RESET}) {
      String value = headers.get(name);
      if (value != null) {
        three.put(name, value);
      }
    }
    if (items >= 0 && context.rateLimitReleased(items)) {
      RateLimitItems charged = context.rateLimitAsCharged(items);
      if (Long.toString(charged.remaining()).equals(three.get(REMAINING))
          && Long.toString(charged.resetSeconds()).equals(three.get(RESET))) {
        RateLimitItems released = context.rateLimit(items);
        three.put(REMAINING, Long.toString(released.remaining()));
        three.put(RESET, Long.toString(released.resetSeconds()));
      }
    }
    return three;
  }

  /** A header's count of units, or -1 if it is not a plain non-negative decimal (a custom policy's). */
  private static long units(String value) {
    if (value == null || value.isEmpty() || value.length() > 18) {
      return -1;
    }
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) < '0' || value.charAt(i) > '9') {
        return -1;
      }
    }
    return Long.parseLong(value);
  }
}
