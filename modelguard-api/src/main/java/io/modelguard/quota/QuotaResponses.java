package io.modelguard.quota;

import io.modelguard.GuardDecision;
import io.modelguard.RateLimitItems;
import io.modelguard.ReasonCode;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns a {@link QuotaDecision} into a {@link GuardDecision} with the rate-limit headers.
 *
 * <p>A decision the store counted carries the plan's {@code RateLimit-Policy} and its most
 * restrictive limit in {@code RateLimit}. One it did not count (fail-open while the store is down)
 * carries neither: nothing was counted, so there is no remaining count to report, and the plan's
 * limits are not being enforced on it; a {@code RateLimit-Policy} alone would invite clients to
 * assume a full quota.
 */
final class QuotaResponses {
  static final String POLICY = "RateLimit-Policy";
  static final String RATE_LIMIT = "RateLimit";
  static final String LEGACY_LIMIT = "X-RateLimit-Limit";
  static final String LEGACY_REMAINING = "X-RateLimit-Remaining";
  static final String LEGACY_RESET = "X-RateLimit-Reset";
  static final String NEVER_DETAIL = "This request costs more than the quota allows; it cannot succeed on retry.";

  private QuotaResponses() {}

  static GuardDecision toGuardDecision(QuotaDecision d, boolean legacy) {
    return toGuardDecision(d, legacy, 0);
  }

  /**
   * As {@link #toGuardDecision(QuotaDecision, boolean)}, for an allowed decision whose {@code
   * releasable} units are a hold the policy gives back if a later policy denies the request: its
   * {@code RateLimit} then reports the limit as it stands with them refunded ({@link
   * RateLimitItems#ifReleased}).
   */
  static GuardDecision toGuardDecision(QuotaDecision d, boolean legacy, long releasable) {
    switch (d.status()) {
      case ALLOWED:
        if (!d.isMetered()) {
          return GuardDecision.allow();
        }
        int b = d.bindingIndex();
        QuotaLimit limit = d.plan().limit(b);
        long remaining = d.remaining(b);
        long reset = ceilSeconds(d.resetAfterMicros(b));
        RateLimitItems items = d.plan().rateLimitItems().reporting(limit.name(), remaining, reset);
        if (releasable > 0) {
          items = items.ifReleased(remaining + releasable,
              ceilSeconds(resetAfterRefund(limit, d.resetAfterMicros(b), releasable)));
        }
        GuardDecision allow = GuardDecision.allow().withRateLimit(items);
        return legacy ? allow.withHeaders(legacy(limit, remaining, reset)) : allow;
      case UNAVAILABLE:
        return GuardDecision.deny(ReasonCode.QUOTA_UNAVAILABLE).withRetryAfter(micros(d.retryAfterMicros()));
      default:
        GuardDecision deny;
        Duration wait;
        if (d.retryAfterMicros() == QuotaDecision.NEVER) {
          deny = GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED, NEVER_DETAIL);
          wait = d.plan().limit(Math.max(0, d.bindingIndex())).window();
        } else {
          deny = GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED);
          wait = micros(d.retryAfterMicros());
        }
        if (d.isMetered()) {
          // The refusing limit reports no units left until the retry can succeed, whatever other
          // policies report next to it: the item that explains the 429.
          QuotaLimit refusing = d.plan().limit(d.bindingIndex());
          long resets = Math.max(ceilSeconds(d.resetAfterMicros(d.bindingIndex())), atLeastOneSecond(wait));
          deny = deny.withRateLimit(d.plan().rateLimitItems().reporting(refusing.name(), 0, resets));
          if (legacy) {
            deny = deny.withHeaders(legacy(refusing, 0, resets));
          }
        }
        return deny.withRetryAfter(wait);
    }
  }

  private static Map<String, String> legacy(QuotaLimit limit, long remaining, long reset) {
    Map<String, String> h = new LinkedHashMap<>(4);
    h.put(LEGACY_LIMIT, Long.toString(limit.quota()));
    h.put(LEGACY_REMAINING, Long.toString(remaining));
    h.put(LEGACY_RESET, Long.toString(reset));
    return h;
  }

  /**
   * Microseconds until {@code limit} resets once {@code units} charged to it are refunded: a token
   * bucket is full that much sooner; a sliding window still ends when it ends.
   */
  private static long resetAfterRefund(QuotaLimit limit, long resetMicros, long units) {
    return limit.algorithm() == QuotaLimit.Algorithm.TOKEN_BUCKET
        ? Math.max(0, resetMicros - units * limit.intervalMicros())
        : resetMicros;
  }

  static long ceilSeconds(long micros) {
    return micros <= 0 ? 0 : (micros + 999_999) / 1_000_000;
  }

  /** Whole seconds of {@code d}, rounded up, at least 1: what {@code Retry-After} says of it. */
  private static long atLeastOneSecond(Duration d) {
    return Math.max(1, d.getSeconds() + (d.getNano() > 0 ? 1 : 0));
  }

  private static Duration micros(long micros) {
    return Duration.of(micros, ChronoUnit.MICROS);
  }
}
