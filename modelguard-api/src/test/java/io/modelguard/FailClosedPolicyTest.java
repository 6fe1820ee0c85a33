package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.authn.ApiKeyHasher;
import io.modelguard.authn.InMemoryApiKeyStore;
import io.modelguard.authn.jwt.JwtAuthenticator;
import io.modelguard.authz.ModelAccessPolicy;
import io.modelguard.input.FieldSpec;
import io.modelguard.input.ModelInputPolicy;
import io.modelguard.input.ModelSpec;
import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPolicy;
import io.modelguard.quota.UnauthenticatedLimit;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The library's checks that exist to refuse, the model access policy, the input policy and the
 * authenticators, cannot be registered fail-open in any phase: skipped when they throw, they would let through exactly
 * the requests they exist to refuse. Before, only the AUTHORIZE phase was refused, so the same
 * policy registered one phase later failed open silently.
 */
class FailClosedPolicyTest {
  private static final ModelSpec DIGITS = ModelSpec.builder("digits").field("n", FieldSpec.number()).build();

  private static PolicyChain.Builder chain() {
    return PolicyChain.builder("default");
  }

  @Test
  void theModelAccessPolicyCannotFailOpenInAnyPhase() {
    for (Phase phase : Phase.values()) {
      assertThatThrownBy(() -> chain().policy(phase, "access", new ModelAccessPolicy(), FailureMode.OPEN))
          .as("%s", phase).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("policy 'access' in " + phase + " cannot fail open");
    }
    assertThatThrownBy(() -> chain().policy(Phase.QUOTA, "access", new ModelAccessPolicy(), FailureMode.OPEN))
        .hasMessage("chain 'default': policy 'access' in QUOTA cannot fail open (it must fail closed: a failed "
            + "check would let through the requests it exists to refuse); register it with FailureMode.CLOSED, "
            + "the default");
  }

  @Test
  void aModelAccessPolicyScopedToSomeModelsCannotFailOpenEither() {
    assertThatThrownBy(() -> chain().policy(Phase.DETECT, "access",
        new ModelAccessPolicy().forModels("digits"), FailureMode.OPEN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("policy 'access' in DETECT cannot fail open");
  }

  @Test
  void theInputPolicyCannotFailOpen() {
    assertThatThrownBy(() -> chain().policy(Phase.VALIDATE, "input", ModelInputPolicy.of(DIGITS), FailureMode.OPEN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("policy 'input' in VALIDATE cannot fail open");
    assertThatThrownBy(() -> chain().policy(Phase.VALIDATE, "input",
        ModelInputPolicy.of(DIGITS).forModels("digits"), FailureMode.OPEN))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theLibrarysAuthenticatorsCannotFailOpenInAnyPhase() {
    // Skipped when it throws (a key store or key source failing), an authenticator left a request
    // carrying its credential and another to the other authenticator, past the engine's refusal of
    // two credentials, and told the client of an outage with 401 auth.missing_credentials.
    byte[] pepper = new byte[32];
    byte[] secret = new byte[32];
    for (int i = 0; i < 32; i++) {
      pepper[i] = (byte) (i * 7 + 1);
      secret[i] = (byte) (i * 13 + 5);
    }
    Map<String, Policy> authenticators = Map.of(
        "api-key", ApiKeyAuthenticator.builder(new InMemoryApiKeyStore(), ApiKeyHasher.withPepper(pepper)).build(),
        "jwt", JwtAuthenticator.builder().hmacSecret("HS256", secret)
            .issuer("https://idp.example").audience("models").build());
    authenticators.forEach((name, authenticator) -> {
      assertThat(authenticator.mustFailClosed()).as(name).isTrue();
      for (Phase phase : Phase.values()) {
        assertThatThrownBy(() -> chain().policy(phase, name, authenticator, FailureMode.OPEN))
            .as("%s in %s", name, phase).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("policy '" + name + "' in " + phase + " cannot fail open");
      }
      assertThatThrownBy(() -> chain().policy(Phase.AUTHENTICATE, name,
          authenticator.forModels("digits"), FailureMode.OPEN)).as(name).isInstanceOf(IllegalArgumentException.class);
      assertThat(chain().policy(Phase.AUTHENTICATE, name, authenticator).build().requestSteps())
          .singleElement().extracting(PolicyChain.Step::failureMode).isEqualTo(FailureMode.CLOSED);
    });
  }

  @Test
  void theRefusedStepIsNotRegisteredAndItsNameStaysFree() {
    PolicyChain.Builder b = chain();
    assertThatThrownBy(() -> b.policy(Phase.QUOTA, "access", new ModelAccessPolicy(), FailureMode.OPEN))
        .isInstanceOf(IllegalArgumentException.class);
    PolicyChain built = b.policy(Phase.QUOTA, "access", new ModelAccessPolicy()).build();
    assertThat(built.requestSteps()).singleElement()
        .extracting(PolicyChain.Step::failureMode).isEqualTo(FailureMode.CLOSED);
  }

  @Test
  void policiesThatMayFailOpenStillMay() {
    // A fail-open quota is the documented choice of availability over metering (the quota policy
    // refuses what a client could provoke in either mode), and a limit's store has its own
    // FailurePolicy; neither is a check of who may do what.
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().build();
    UnauthenticatedLimit limit =
        UnauthenticatedLimit.of(store, QuotaLimit.tokenBucket("unauthenticated", 3, Duration.ofMinutes(1)));
    assertThatCode(() -> chain()
        .policy(Phase.AUTHENTICATE, "limit", limit.charge(), FailureMode.OPEN)
        .policy(Phase.QUOTA, "quota", QuotaPolicy.builder(store).build(), FailureMode.OPEN)
        .policy(Phase.DETECT, "own", ctx -> GuardDecision.allow(), FailureMode.OPEN)
        .build()).doesNotThrowAnyException();
  }
}
