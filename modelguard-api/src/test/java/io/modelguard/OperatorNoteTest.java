package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.event.DecisionEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A denial's note for the operator: a bounded token, on denials only, kept by every copy the
 * engine makes on the way to its {@link DecisionEvent}.
 */
class OperatorNoteTest {
  private static final String NOTE = "ssrf_refused:DENIED_ADDRESS";

  @Test
  void aDecisionHasNoNoteUnlessAPolicySetsOne() {
    assertThat(GuardDecision.deny(ReasonCode.INPUT_FETCH_FAILED).operatorNote()).isEmpty();
    assertThat(GuardDecision.deny(ReasonCode.INPUT_FETCH_FAILED).withOperatorNote(NOTE).operatorNote()).contains(NOTE);
  }

  @Test
  void everyCopyKeepsTheNote() {
    GuardDecision d = GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED, "Over.").withOperatorNote(NOTE)
        .withHeader("X-A", "1")
        .withHeaders(Map.of("X-B", "2"))
        .withRetryAfter(Duration.ofSeconds(3))
        .withChallengeScope("model:digits:invoke")
        .withRateLimit(RateLimitItems.of(Map.of("burst", "\"burst\";q=10;w=1")));
    d = d.withHeadersUnder(new LinkedHashMap<>(Map.of("X-C", "3")))
        .withRateLimitFields(new String[] {"\"burst\";q=10;w=1", null})
        .withPrincipal(Principal.builder("svc").tenant("acme").build());

    assertThat(d.operatorNote()).contains(NOTE);
    assertThat(d.toString()).as("toString may end up anywhere; it names the reason only").doesNotContain("ssrf");
  }

  @Test
  void aNoteIsForDenialsOnly() {
    assertThatThrownBy(() -> GuardDecision.allow().withOperatorNote(NOTE))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("an operator note is for denials only; this decision allows the request");
    assertThatThrownBy(() -> new DecisionEvent(Instant.EPOCH, "POST", "/", "default", null, null, null, true, null,
        null, null, NOTE))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("operatorNote is for denials only");
  }

  @Test
  void aNoteIsAShortTokenThatNeedsNoEscaping() {
    GuardDecision d = GuardDecision.deny(ReasonCode.INTERNAL_ERROR);
    assertThat(d.withOperatorNote("a.b_c-D:9").operatorNote()).contains("a.b_c-D:9");
    assertThat(d.withOperatorNote("x".repeat(GuardDecision.MAX_OPERATOR_NOTE)).operatorNote()).isPresent();
    assertThatThrownBy(() -> d.withOperatorNote(""))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("operator note must be 1 to 64 characters, was 0");
    assertThatThrownBy(() -> d.withOperatorNote("x".repeat(65)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("operator note must be 1 to 64 characters, was 65");
    for (String bad : new String[] {"ssrf refused", "a=b", "a\"b", "a\nb", "caf\u00e9", "a/b"}) {
      assertThatThrownBy(() -> d.withOperatorNote(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("operator note holds a character other than [A-Za-z0-9.:_-] at index ")
          .hasMessageNotContaining(bad);
    }
  }
}
