package io.modelguard.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.Endpoint;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Policy;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.Tier;
import io.modelguard.event.DecisionEvent;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Every refusal of model access is one answer for the client, but the operator reading the audit
 * line learns which condition failed: a token whose tier claim is missing or misspelt is otherwise
 * indistinguishable there from a tier that does not grant the model.
 */
class ModelAccessPolicyOperatorNoteTest {
  private final List<DecisionEvent> events = new ArrayList<>();

  /** Models digits and iris; tier free grants digits; principals from {@code principal}. */
  private ModelGuard guard(Principal principal) {
    return guard(principal, new ModelAccessPolicy());
  }

  /** As {@link #guard(Principal)}, with {@code access} in AUTHORIZE. */
  private ModelGuard guard(Principal principal, Policy access) {
    return ModelGuard.builder().auditLog(false)
        .models("digits", "iris")
        .tier(Tier.builder("free").models("digits").build())
        .listener(e -> {
          if (e instanceof DecisionEvent d) {
            events.add(d);
          }
        })
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "token", ctx -> GuardDecision.authenticated(principal))
            .policy(Phase.AUTHORIZE, "model-access", access))
        .build();
  }

  private static Principal.Builder alice() {
    return Principal.builder("alice").tenant("acme");
  }

  private GuardDecision check(Principal principal, String model) {
    return guard(principal).check(new Request(Endpoint.of(model, "default", 1)));
  }

  @Test
  void eachRefusalNamesItsConditionForTheOperatorOnly() {
    assertThat(check(alice().build(), "digits").operatorNote()).contains("model_forbidden:NO_TIER");
    assertThat(check(alice().tier("Free").build(), "digits").operatorNote()).contains("model_forbidden:UNKNOWN_TIER");
    assertThat(check(alice().tier("free").build(), "iris").operatorNote()).contains("model_forbidden:NOT_IN_TIER");
    assertThat(check(alice().tier("free").build(), "resnet").operatorNote())
        .contains("model_forbidden:UNREGISTERED_MODEL");
    assertThat(check(alice().tier("free").allowedModels(Set.of("iris")).build(), "digits").operatorNote())
        .contains("model_forbidden:NOT_IN_CREDENTIAL");
    assertThat(check(alice().tier("free").build(), null).operatorNote()).contains("model_forbidden:NO_MODEL");

    assertThat(events).hasSize(6).allSatisfy(e -> {
      assertThat(e.reason()).isEqualTo(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
      assertThat(e.operatorNote()).startsWith("model_forbidden:");
    });
  }

  @Test
  void theClientsAnswerIsTheSameWhicheverConditionFailed() {
    GuardDecision noTier = check(alice().build(), "iris");
    GuardDecision notInTier = check(alice().tier("free").build(), "iris");

    assertThat(noTier.operatorNote()).isNotEqualTo(notInTier.operatorNote());
    ProblemResponse a = ProblemRenderer.render(noTier);
    ProblemResponse b = ProblemRenderer.render(notInTier);
    assertThat(a.status()).isEqualTo(b.status()).isEqualTo(403);
    assertThat(a.headers()).isEqualTo(b.headers());
    assertThat(a.body()).isEqualTo(b.body());
    assertThat(check(alice().tier("free").build(), "digits").isAllowed()).isTrue();
  }

  @Test
  void theEnginesOwnRefusalsOfAModelCarryTheSameNotes() {
    // The engine, not the policy, refuses a path that names no model where the template expects
    // one (before AUTHORIZE), and an unregistered model that the chain's ModelAccessPolicy does
    // not cover (scoped to other models): the operator must learn why there too.
    ModelGuard guard = guard(alice().tier("free").build(), new ModelAccessPolicy().forModels("digits"));

    GuardDecision unresolved = guard.check(new Request(Endpoint.unresolved("default", 1)));
    GuardDecision unregistered = guard.check(new Request(Endpoint.of("resnet", "default", 1)));
    GuardDecision otherCase = guard.check(new Request(Endpoint.of("DIGITS", "default", 1)));

    assertThat(unresolved.operatorNote()).contains(ModelAccessPolicy.NOTE_NO_MODEL);
    assertThat(unregistered.operatorNote()).contains(ModelAccessPolicy.NOTE_UNREGISTERED_MODEL);
    assertThat(events).extracting(DecisionEvent::operatorNote)
        .containsExactly(ModelAccessPolicy.NOTE_NO_MODEL, ModelAccessPolicy.NOTE_UNREGISTERED_MODEL,
            ModelAccessPolicy.NOTE_UNREGISTERED_MODEL);
    ProblemResponse a = ProblemRenderer.render(unregistered);
    ProblemResponse b = ProblemRenderer.render(guard(alice().tier("free").build())
        .check(new Request(Endpoint.of("resnet", "default", 1))));
    assertThat(a.status()).isEqualTo(b.status()).isEqualTo(403);
    assertThat(a.headers()).isEqualTo(b.headers());
    assertThat(a.body()).isEqualTo(b.body());
    assertThat(otherCase.reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
  }

  /** A POST to {@code endpoint} from 203.0.113.9, without headers or body. */
  private record Request(Endpoint endpoint) implements InferenceRequest {
    @Override public String method() { return "POST"; }
    @Override public String path() { return "/v1/models/x/predict"; }
    @Override public Optional<String> header(String n) { return Optional.empty(); }
    @Override public List<String> headers(String n) { return List.of(); }
    @Override public Optional<String> remoteAddress() { return Optional.of("203.0.113.9"); }
    @Override public byte[] body(int max) { return new byte[0]; }
  }
}
