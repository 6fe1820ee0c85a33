package io.modelguard;

import java.util.Map;

/**
 * The engine's handling of the legacy {@code X-RateLimit-Limit}, {@code -Remaining} and {@code
 * -Reset} headers (a quota's {@code legacyHeaders(true)}) when more than one policy sends them.
 * Unlike {@code RateLimit}, they hold one limit each, so they cannot be merged into lists: the
 * request keeps the three of the policy with the fewest units remaining (the earlier on a tie), the
 * limit a client must respect, rather than whichever policy ran last; a denying policy's own three
 * replace them, as its other headers do. On a denial whose releases refunded the kept policy's hold,
 * they report the figures as released, as its {@code RateLimit} item does.
 */
final class LegacyRateLimitHeaders {
  static final String LIMIT = "X-RateLimit-Limit";
  static final String REMAINING = "X-RateLimit-Remaining";
  static final String RESET = "X-RateLimit-Reset";

  private LegacyRateLimitHeaders() {}

  /**
   * Adds a policy's {@code more} headers to the request's {@code headers}: a later header replaces
   * an earlier one, but for the legacy three, which stay as they are if they report no more units
   * remaining than {@code more}'s. Returns whether {@code more}'s legacy three were taken.
   */
  static boolean putAll(Map<String, String> headers, Map<String, String> more) {
    String theirs = more.get(REMAINING);
    if (theirs == null) {
      headers.putAll(more);
      return false;
    }
    long kept = units(headers.get(REMAINING));
    long offered = units(theirs);
    if (kept < 0 || offered < 0 || offered < kept) {
      headers.putAll(more);
      return true;
    }
    more.forEach((name, value) -> {
      if (!name.equals(LIMIT) && !name.equals(REMAINING) && !name.equals(RESET)) {
        headers.put(name, value);
      }
    });
    return false;
  }

  /**
   * {@code result} with its legacy {@code -Remaining} and {@code -Reset} as released, if the engine
   * released the hold of the policy whose three it carries ({@code owner}, an index of the
   * context's rate-limit items, or -1) and they still show that policy's figures as charged (a
   * denying policy's own three, or a policy whose legacy figures are not its {@code RateLimit}
   * item's, are left alone).
   */
  static GuardDecision released(GuardContext context, int owner, GuardDecision result) {
    if (owner < 0 || !context.rateLimitReleased(owner)) {
      return result;
    }
    RateLimitItems charged = context.rateLimitAsCharged(owner);
    RateLimitItems released = context.rateLimit(owner);
    if (!Long.toString(charged.remaining()).equals(result.headers().get(REMAINING))
        || !Long.toString(charged.resetSeconds()).equals(result.headers().get(RESET))) {
      return result;
    }
    return result.withHeaders(Map.of(
        REMAINING, Long.toString(released.remaining()), RESET, Long.toString(released.resetSeconds())));
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
