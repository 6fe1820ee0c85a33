package io.modelguard.problem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProblemRendererTest {

  @Test
  void neverRendersTheOperatorNote() {
    // The note tells the operator what the reason code conceals from the client (an SSRF refusal
    // answered as an unresolvable name): a response that differed with it would tell the client.
    for (ReasonCode code : ReasonCode.values()) {
      GuardDecision plain = GuardDecision.deny(code, "Field 'imageUrl': The URL's host could not be resolved.")
          .withRetryAfter(Duration.ofSeconds(7)).withChallengeScope("model:digits:invoke").withHeader("X-Trace", "1");
      ProblemResponse without = ProblemRenderer.render(plain);
      ProblemResponse with = ProblemRenderer.render(plain.withOperatorNote("ssrf_refused:DENIED_ADDRESS"));

      assertThat(with.status()).as(code.code()).isEqualTo(without.status());
      assertThat(with.headers()).as(code.code()).isEqualTo(without.headers());
      assertThat(with.body()).as(code.code()).isEqualTo(without.body());
      assertThat(with.bodyAsString() + with.headers()).doesNotContain("ssrf").doesNotContain("DENIED");
    }
  }

  @Test
  void everyReasonCodeHasTheDocumentedStatus() {
    Map<String, Integer> contract = Map.ofEntries(
        Map.entry("auth.missing_credentials", 401), Map.entry("auth.invalid_token", 401),
        Map.entry("auth.invalid_api_key", 401), Map.entry("authz.model_forbidden", 403),
        Map.entry("quota.exceeded", 429), Map.entry("quota.unavailable", 503),
        Map.entry("input.too_large", 413), Map.entry("input.unsupported_media_type", 415),
        Map.entry("input.malformed", 400), Map.entry("input.invalid", 422),
        Map.entry("input.url_blocked", 422), Map.entry("input.fetch_failed", 502),
        Map.entry("upstream.unavailable", 502), Map.entry("upstream.timeout", 504),
        Map.entry("extraction.blocked", 403), Map.entry("internal.error", 500));
    assertThat(ReasonCode.values()).hasSize(contract.size());
    for (ReasonCode code : ReasonCode.values()) {
      ProblemResponse p = ProblemRenderer.render(GuardDecision.deny(code));
      assertThat(p.status()).as(code.code()).isEqualTo(contract.get(code.code()));
      assertThat(p.contentType()).isEqualTo("application/problem+json");
      assertThat(p.headers()).containsEntry("Cache-Control", "no-store");
      assertThat(p.bodyAsString())
          .startsWith("{\"type\":\"urn:modelguard:problem:" + code.code() + "\",\"title\":\"")
          .endsWith(",\"code\":\"" + code.code() + "\"}")
          .contains("\"status\":" + p.status() + ",");
      assertThat(ReasonCode.fromCode(code.code())).contains(code);
    }
  }

  @Test
  void challengeHeadersFollowRfc6750() {
    assertThat(ProblemRenderer.render(GuardDecision.deny(ReasonCode.AUTH_MISSING_CREDENTIALS)).headers())
        .containsEntry("WWW-Authenticate", "Bearer realm=\"modelguard\"");
    assertThat(ProblemRenderer.render(GuardDecision.deny(ReasonCode.AUTH_INVALID_TOKEN)).headers())
        .containsEntry("WWW-Authenticate", "Bearer realm=\"modelguard\", error=\"invalid_token\"");
    assertThat(ProblemRenderer.render(GuardDecision.deny(ReasonCode.AUTH_INVALID_API_KEY)).headers())
        .containsEntry("WWW-Authenticate", "Bearer realm=\"modelguard\", error=\"invalid_token\"");
    assertThat(ProblemRenderer.render(GuardDecision.deny(ReasonCode.AUTHZ_MODEL_FORBIDDEN)
        .withChallengeScope("model:iris:invoke")).headers())
        .containsEntry("WWW-Authenticate", "Bearer error=\"insufficient_scope\", scope=\"model:iris:invoke\"");
    assertThat(ProblemRenderer.render(GuardDecision.deny(ReasonCode.EXTRACTION_BLOCKED)).headers())
        .doesNotContainKey("WWW-Authenticate");
  }

  @Test
  void retryAfterIsWholeSecondsRoundedUp() {
    assertThat(ProblemRenderer.render(GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED)
        .withRetryAfter(Duration.ofMillis(1200))).headers()).containsEntry("Retry-After", "2");
    assertThat(ProblemRenderer.render(GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED)
        .withRetryAfter(Duration.ZERO)).headers()).containsEntry("Retry-After", "1");
    assertThat(ProblemRenderer.render(GuardDecision.deny(ReasonCode.QUOTA_UNAVAILABLE)).headers())
        .containsEntry("Retry-After", "1");
  }

  @Test
  void aVeryLongRetryAfterSaturatesInsteadOfWrappingToRetryNow() {
    // Long.MAX_VALUE seconds and a fraction rounded up used to overflow, and max(1, ...) made it 1.
    assertThat(ProblemRenderer.render(GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED)
        .withRetryAfter(ChronoUnit.FOREVER.getDuration())).headers()).containsEntry("Retry-After", "2147483647");
    assertThat(ProblemRenderer.render(GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED)
        .withRetryAfter(Duration.ofDays(366 * 100L))).headers()).containsEntry("Retry-After", "2147483647");
    assertThat(ProblemRenderer.render(GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED)
        .withRetryAfter(Duration.ofSeconds(2147483646, 1))).headers()).containsEntry("Retry-After", "2147483647");
  }

  @Test
  void policyDetailIsJsonEscaped() {
    ProblemResponse p = ProblemRenderer.render(
        GuardDecision.deny(ReasonCode.INPUT_INVALID, "field \"pixels\"\n</script>\u0001"));
    assertThat(p.bodyAsString()).contains("\"detail\":\"field \\\"pixels\\\"\\n</script>\\u0001\"");
  }

  @Test
  void policyHeadersAreKeptButCannotReplaceTheChallenge() {
    ProblemResponse p = ProblemRenderer.render(GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED)
        .withRetryAfter(Duration.ofSeconds(5))
        .withHeader("RateLimit", "\"minute\";r=0;t=5")
        .withHeader("Retry-After", "999"));
    assertThat(p.headers()).containsEntry("RateLimit", "\"minute\";r=0;t=5").containsEntry("Retry-After", "5");
  }

  @Test
  void refusesToRenderAnAllow() {
    assertThatThrownBy(() -> ProblemRenderer.render(GuardDecision.allow()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aQuotaRefusalNeverShowsUnitsLeftWhateverPolicySetTheRateLimitHeader() {
    // The extraction defence's throttle refuses as a quota would; the RateLimit an earlier quota set
    // on allowing the request (r=99) told the client it was not its quota that refused it.
    io.modelguard.GuardDecision throttled = io.modelguard.GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED)
        .withRetryAfter(java.time.Duration.ofSeconds(10))
        .withHeader("RateLimit-Policy", "\"burst\";q=100;w=1")
        .withHeader("RateLimit", "\"burst\";r=99;t=1");
    ProblemResponse p = ProblemRenderer.render(throttled);
    assertThat(p.headers()).containsEntry("RateLimit", "\"burst\";r=0;t=10")
        .containsEntry("Retry-After", "10").containsEntry("RateLimit-Policy", "\"burst\";q=100;w=1");

    // A quota's own refusal is unchanged: no units, a reset no sooner than Retry-After.
    io.modelguard.GuardDecision quota = io.modelguard.GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED)
        .withRetryAfter(java.time.Duration.ofSeconds(2)).withHeader("RateLimit", "\"minute\";r=0;t=30");
    assertThat(ProblemRenderer.render(quota).headers()).containsEntry("RateLimit", "\"minute\";r=0;t=30");
    // Several items, other parameters kept; an unreadable one left out, and a header of none dropped.
    assertThat(ProblemRenderer.exhausted("\"a\";r=5;t=1;pk=:x:, \"b\";t=40;r=2, junk", 3))
        .isEqualTo("\"a\";r=0;t=3;pk=:x:, \"b\";r=0;t=40");
    assertThat(ProblemRenderer.render(io.modelguard.GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED)
        .withHeader("RateLimit", "junk")).headers()).doesNotContainKey("RateLimit");
    // Other refusals keep an earlier policy's RateLimit as it was.
    assertThat(ProblemRenderer.render(io.modelguard.GuardDecision.deny(ReasonCode.INPUT_INVALID)
        .withHeader("RateLimit", "\"burst\";r=99;t=1")).headers()).containsEntry("RateLimit", "\"burst\";r=99;t=1");
  }

  @Test
  void aQuotaRefusalWhoseItemExplainsItLeavesTheOtherQuotasItemsAsTheyAre() {
    // Two quotas decided the request; "minute" refused and says so (r=0 until Retry-After). The
    // first quota's item is its true count: shown exhausted, it would send the client waiting on
    // a limit that has room.
    GuardDecision refused = GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED).withRetryAfter(Duration.ofSeconds(30))
        .withHeader("RateLimit", "\"burst\";r=2;t=1, \"minute\";r=0;t=60");
    assertThat(ProblemRenderer.render(refused).headers()).containsEntry("RateLimit", "\"burst\";r=2;t=1, \"minute\";r=0;t=60");
    // An exhausted item resetting before Retry-After does not explain the refusal: all are rewritten.
    assertThat(ProblemRenderer.exhausted("\"burst\";r=2;t=1, \"minute\";r=0;t=20", 30))
        .isEqualTo("\"burst\";r=0;t=30, \"minute\";r=0;t=30");
  }

  @Test
  void aQuotaRefusalKeepsARateLimitItemWhoseQuotedNameHoldsACommaOrAnEscape() {
    // A custom policy refusing as a quota with its own, already exhausted, RateLimit: structured-field
    // strings may hold ',' and escaped '"' (RFC 9651, 3.3.3); the rewrite split inside the name and
    // dropped the whole header.
    GuardDecision comma = GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED).withRetryAfter(Duration.ofSeconds(5))
        .withHeader("RateLimit", "\"per-user, gpu\";r=0;t=5");
    assertThat(ProblemRenderer.render(comma).headers()).containsEntry("RateLimit", "\"per-user, gpu\";r=0;t=5");
    GuardDecision escaped = GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED).withRetryAfter(Duration.ofSeconds(5))
        .withHeader("RateLimit", "\"a\\\"b\";r=3;t=1, \"c\";r=1;t=9");
    assertThat(ProblemRenderer.render(escaped).headers()).containsEntry("RateLimit", "\"a\\\"b\";r=0;t=5, \"c\";r=0;t=9");
  }
}
