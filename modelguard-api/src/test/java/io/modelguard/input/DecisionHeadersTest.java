package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The engine's final decision carries the headers of every allowing policy, the decider's winning. */
class DecisionHeadersTest {
  private static ModelGuard guard(GuardDecision last) {
    return ModelGuard.builder()
        .auditLog(false)
        .models("digits")
        .chain("default", chain -> chain
            .policy(Phase.QUOTA, "first", c -> GuardDecision.allow().withHeaders(Map.of("A", "1")))
            .policy(Phase.VALIDATE, "second", c -> GuardDecision.allow().withHeaders(Map.of("B", "1")))
            .policy(Phase.DETECT, "last", c -> last))
        .build();
  }

  @Test
  void anAllowedRequestCarriesEveryPolicysHeadersUnmodifiable() {
    GuardDecision d = guard(GuardDecision.allow()).check(TestRequest.json("digits", "{}"));

    assertThat(d.isAllowed()).isTrue();
    assertThat(d.headers()).containsExactly(Map.entry("A", "1"), Map.entry("B", "1"));
    assertThatThrownBy(() -> d.headers().put("C", "1")).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void aDenialKeepsEarlierHeadersAndItsOwnWinOnConflict() {
    Map<String, String> own = new LinkedHashMap<>();
    own.put("B", "2");
    own.put("C", "2");
    GuardDecision d = guard(GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED).withHeaders(own))
        .check(TestRequest.json("digits", "{}"));

    assertThat(d.isAllowed()).isFalse();
    assertThat(d.headers()).containsExactly(Map.entry("A", "1"), Map.entry("B", "2"), Map.entry("C", "2"));
  }
}
