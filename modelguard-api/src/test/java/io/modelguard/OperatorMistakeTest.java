package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.authz.ModelAccessPolicy;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * An operator's plausible configuration mistakes fail start-up, or are refused, rather than leave
 * requests unguarded.
 */
class OperatorMistakeTest {
  private final AtomicInteger counted = new AtomicInteger();

  /** A request for {@code model} whose credential header names the principal's tier (none: null). */
  private static InferenceRequest request(String model, String tier) {
    Endpoint endpoint = Endpoint.of(model, "default", 1);
    return new InferenceRequest() {
      @Override public String method() { return "POST"; }
      @Override public String path() { return "/v1/models/" + model + "/predict"; }
      @Override public Optional<String> header(String name) {
        return "X-Tier".equals(name) ? Optional.ofNullable(tier) : Optional.empty();
      }
      @Override public List<String> headers(String name) { return header(name).map(List::of).orElse(List.of()); }
      @Override public Optional<String> remoteAddress() { return Optional.of("127.0.0.1"); }
      @Override public Endpoint endpoint() { return endpoint; }
      @Override public byte[] body(int maxBytes) { return new byte[0]; }
    };
  }

  /**
   * Tiers free (digits) and pro (digits, iris); a chain that authenticates (X-Tier names the tier)
   * and counts, but has no ModelAccessPolicy: the operator forgot it.
   */
  private ModelGuard withoutModelAccessPolicy(Set<String> allowedModels) {
    return ModelGuard.builder().auditLog(false).models("digits", "iris")
        .tier(Tier.builder("free").models("digits").build())
        .tier(Tier.builder("pro").models("digits", "iris").build())
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "credential", ctx -> ctx.request().header("X-Tier")
                .map(t -> {
                  Principal.Builder p = Principal.builder("alice").tenant("acme").tier(t);
                  if (allowedModels != null) {
                    p.allowedModels(allowedModels);
                  }
                  return GuardDecision.authenticated(p.build());
                })
                .orElse(GuardDecision.allow()))
            .policy(Phase.QUOTA, "counted", ctx -> {
              counted.incrementAndGet();
              return GuardDecision.allow();
            }))
        .build();
  }

  @Test
  void aChainWithoutModelAccessPolicyStillGrantsOnlyTheTiersModels() {
    ModelGuard guard = withoutModelAccessPolicy(null);

    GuardDecision notInTier = guard.check(request("iris", "free"));

    assertThat(notInTier.reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(notInTier.operatorNote()).contains(ModelAccessPolicy.NOTE_NOT_IN_TIER);
    assertThat(notInTier.challengeScope()).contains("model:iris:invoke");
    assertThat(counted).as("refused before the quota phase").hasValue(0);

    assertThat(guard.check(request("digits", "free")).isAllowed()).isTrue();
    assertThat(guard.check(request("iris", "pro")).isAllowed()).isTrue();
    assertThat(counted).hasValue(2);
  }

  @Test
  void aChainWithoutModelAccessPolicyStillKeepsToTheCredentialsModels() {
    ModelGuard guard = withoutModelAccessPolicy(Set.of("digits"));

    GuardDecision narrowed = guard.check(request("iris", "pro"));

    assertThat(narrowed.reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(narrowed.operatorNote()).contains(ModelAccessPolicy.NOTE_NOT_IN_CREDENTIAL);
    assertThat(guard.check(request("digits", "pro")).isAllowed()).isTrue();
  }

  @Test
  void anEngineWithoutTiersLeavesModelAccessToTheChain() {
    // Nothing declares who may invoke what: the engine cannot tell a grant from a refusal.
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits", "iris")
        .chain("default", c -> c.policy(Phase.AUTHENTICATE, "credential", ctx ->
            GuardDecision.authenticated(Principal.builder("alice").tenant("acme").tier("free").build())))
        .build();

    assertThat(guard.check(request("iris", "free")).isAllowed()).isTrue();
  }

  @Test
  void aFixedModelTheEngineDoesNotRegisterFailsValidationNamingTheFix() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits", "iris")
        .chain("default", c -> { })
        .build();

    assertThatThrownBy(() -> guard.validate(EndpointSpec.of("digtis", "default", 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'digtis' is not a registered model")
        .hasMessageContaining("models(...)")
        .hasMessageContaining("[digits, iris]");
    assertThat(guard.validate(EndpointSpec.of("digits", "default", 1)).model()).contains("digits");
    assertThat(guard.validate(EndpointSpec.of("{model}", "default", 1)).modelVariable()).contains("model");
  }

  @Test
  void anEngineWithoutModelsAcceptsAnyFixedModel() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).chain("default", c -> { }).build();

    assertThat(guard.validate(EndpointSpec.of("anything", "default", 1)).model()).contains("anything");
  }
}
