package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * An application's own check that must never be skipped declares it with {@link
 * Policy#mustFailClosed()}, and is then refused fail-open wherever it is registered, as the
 * library's authorization and input checks are.
 */
class OwnFailClosedCheckTest {

  /** A check of the application's own: an entitlement lookup that throws while its store is down. */
  private static final class Entitlements implements Policy {
    @Override
    public GuardDecision evaluate(GuardContext context) {
      throw new IllegalStateException("entitlement store down");
    }

    @Override
    public boolean mustFailClosed() {
      return true;
    }
  }

  @Test
  void aCheckDeclaredFailClosedIsRefusedFailOpenInAnyPhase() {
    for (Phase phase : Phase.values()) {
      assertThatThrownBy(() -> PolicyChain.builder("default").policy(phase, "entitlements", new Entitlements(),
          FailureMode.OPEN))
          .as("%s", phase).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("policy 'entitlements' in " + phase + " cannot fail open");
    }
    assertThatThrownBy(() -> PolicyChain.builder("default").policy(Phase.VALIDATE, "entitlements",
        new Entitlements().forModels("digits"), FailureMode.OPEN))
        .as("scoped").isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void failingClosedItDeniesTheRequest() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits")
        .chain("default", c -> c.policy(Phase.VALIDATE, "entitlements", new Entitlements()))
        .build();

    assertThat(guard.check(new DigitsRequest()).reason()).contains(ReasonCode.INTERNAL_ERROR);
  }

  @Test
  void aPolicyDeclaresNothingByDefault() {
    Policy plain = ctx -> GuardDecision.allow();
    assertThat(plain.mustFailClosed()).isFalse();
    assertThat(plain.forModels("digits").mustFailClosed()).isFalse();
    assertThat(new Entitlements().forModels("digits").mustFailClosed()).isTrue();
  }
}
