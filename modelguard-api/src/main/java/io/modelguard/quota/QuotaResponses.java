package io.modelguard.quota;

import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;

/** Turns a {@link QuotaDecision} into a {@link GuardDecision} with the rate-limit headers. */
final class QuotaResponses {
  static final String POLICY = "RateLimit-Policy";
  static final String RATE_LIMIT = "RateLimit";
  static final String LEGACY_LIMIT = "X-RateLimit-Limit";
  static final String LEGACY_REMAINING = "X-RateLimit-Remaining";
  static final String LEGACY_RESET = "X-RateLimit-Reset";
  static final String NEVER_DETAIL = "This request costs more than the quota allows; it cannot succeed on retry.";

  private QuotaResponses() {}

  static GuardDecision toGuardDecision(QuotaDecision d, boolean legacy) {
    switch (d.status()) {
      case ALLOWED:
        return GuardDecision.allow().withHeaders(headers(d, legacy));
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
        return deny.withHeaders(headers(d, legacy)).withRetryAfter(wait);
    }
  }

  static Map<String, String> headers(QuotaDecision d, boolean legacy) {
    Map<String, String> h = new LinkedHashMap<>(8);
    h.put(POLICY, d.plan().policyHeader());
    if (d.isMetered()) {
      int b = d.bindingIndex();
      QuotaLimit limit = d.plan().limit(b);
      long remaining = d.remaining(b);
      long reset = ceilSeconds(d.resetAfterMicros(b));
      h.put(RATE_LIMIT, "\"" + limit.name() + "\";r=" + remaining + ";t=" + reset);
      if (legacy) {
        h.put(LEGACY_LIMIT, Long.toString(limit.quota()));
        h.put(LEGACY_REMAINING, Long.toString(remaining));
        h.put(LEGACY_RESET, Long.toString(reset));
      }
    }
    return h;
  }

  static long ceilSeconds(long micros) {
    return micros <= 0 ? 0 : (micros + 999_999) / 1_000_000;
  }

  private static Duration micros(long micros) {
    return Duration.of(micros, ChronoUnit.MICROS);
  }
}
