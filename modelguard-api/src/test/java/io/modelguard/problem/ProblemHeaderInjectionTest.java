package io.modelguard.problem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a policy puts in a decision's headers cannot split the response or rewrite the documented ones. */
class ProblemHeaderInjectionTest {

  @Test
  void aHeaderValueWithALineBreakIsRefused() {
    assertThatThrownBy(() -> GuardDecision.allow().withHeader("X-Request-Id", "abc\r\nSet-Cookie: session=evil"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GuardDecision.allow().withHeaders(Map.of("X-Request-Id", "abc\nX-Evil: 1")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GuardDecision.allow().withHeader("X-Request-Id", "abc\u0000"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aHeaderValueWithACharacterBeyondLatin1IsRefused() {
    // U+010D U+010A: their low bytes are CR LF, which an encoder that truncates chars sends as a line break.
    assertThatThrownBy(() -> GuardDecision.allow().withHeader("X-Request-Id", "a\u010D\u010AX-Injected: yes"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("Injected");
    assertThatThrownBy(() -> GuardDecision.allow().withHeaders(Map.of("X-Request-Id", "\u2028")))
        .isInstanceOf(IllegalArgumentException.class);
    // ISO-8859-1 (obs-text) stays accepted.
    assertThat(GuardDecision.allow().withHeader("X-Name", "caf\u00E9\u00FF").headers())
        .containsEntry("X-Name", "caf\u00E9\u00FF");
  }

  @Test
  void aHeaderNameThatIsNotAnHttpTokenIsRefused() {
    assertThatThrownBy(() -> GuardDecision.allow().withHeader("X-A\r\nSet-Cookie", "1"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GuardDecision.allow().withHeaders(Map.of("X A: b", "1")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GuardDecision.allow().withHeader("", "1"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aChallengeScopeCannotBreakOutOfItsQuotedString() {
    assertThatThrownBy(() -> GuardDecision.deny(ReasonCode.AUTHZ_MODEL_FORBIDDEN)
        .withChallengeScope("model:x:invoke\", error=\"invalid_token"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GuardDecision.deny(ReasonCode.AUTHZ_MODEL_FORBIDDEN)
        .withChallengeScope("model:x:invoke\r\nX-Evil: 1"))
        .isInstanceOf(IllegalArgumentException.class);
    // Space-separated scopes and ordinary values stay accepted.
    assertThat(ProblemRenderer.render(GuardDecision.deny(ReasonCode.AUTHZ_MODEL_FORBIDDEN)
        .withChallengeScope("model:a:invoke model:b:invoke")).headers())
        .containsEntry("WWW-Authenticate", "Bearer error=\"insufficient_scope\", scope=\"model:a:invoke model:b:invoke\"");
    assertThat(GuardDecision.allow().withHeader("RateLimit", "\"burst\";r=4;t=1").headers())
        .containsEntry("RateLimit", "\"burst\";r=4;t=1");
  }

  @Test
  void aPolicyHeaderDifferingOnlyInCaseDoesNotDuplicateOrOverrideADocumentedOne() {
    GuardDecision d = GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED)
        .withRetryAfter(Duration.ofSeconds(30))
        .withHeader("retry-after", "0")
        .withHeader("cache-control", "public, max-age=3600");

    ProblemResponse p = ProblemRenderer.render(d);

    assertThat(p.headers().keySet()).filteredOn(k -> k.equalsIgnoreCase("Retry-After")).containsExactly("Retry-After");
    assertThat(p.headers()).containsEntry("Retry-After", "30");
    assertThat(p.headers().keySet()).filteredOn(k -> k.equalsIgnoreCase("Cache-Control")).containsExactly("Cache-Control");
    assertThat(p.headers()).containsEntry("Cache-Control", "no-store");
  }
}
