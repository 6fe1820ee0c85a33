package io.modelguard.examples.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.GuardDecision;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.servlet.ModelGuardFilter;
import jakarta.servlet.ServletRequest;
import java.lang.reflect.Proxy;
import org.junit.jupiter.api.Test;

/** The handlers read the filter's decision defensively and fail closed without one. */
class GuardDecisionsTest {

  private static ServletRequest requestWith(Object attribute) {
    return (ServletRequest) Proxy.newProxyInstance(
        GuardDecisionsTest.class.getClassLoader(), new Class<?>[] {ServletRequest.class},
        (proxy, method, args) -> method.getName().equals("getAttribute")
            && ModelGuardFilter.DECISION_ATTRIBUTE.equals(args[0]) ? attribute : null);
  }

  @Test
  void readsThePrincipalOfAnAllowingDecision() {
    Principal alice = Principal.builder("alice").tier("free").build();

    assertThat(GuardDecisions.principal(requestWith(GuardDecision.authenticated(alice)))).contains(alice);
  }

  @Test
  void usesTheFiltersAttributeName() {
    assertThat(GuardDecisions.ATTRIBUTE).isEqualTo(GuardDecision.class.getName());
  }

  @Test
  void findsNothingWithoutTheFilter() {
    assertThat(GuardDecisions.principal(requestWith(null))).isEmpty();
  }

  @Test
  void ignoresAForeignValueOrADenial() {
    assertThat(GuardDecisions.principal(requestWith("alice"))).isEmpty();
    assertThat(GuardDecisions.of(requestWith(GuardDecision.deny(ReasonCode.AUTH_INVALID_API_KEY)))).isEmpty();
  }

  @Test
  void anAllowWithoutPrincipalHasNone() {
    assertThat(GuardDecisions.of(requestWith(GuardDecision.allow()))).isPresent();
    assertThat(GuardDecisions.principal(requestWith(GuardDecision.allow()))).isEmpty();
  }
}
