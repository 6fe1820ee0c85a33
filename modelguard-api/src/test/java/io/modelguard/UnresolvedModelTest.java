package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.authz.ModelAccessPolicy;
import io.modelguard.problem.ProblemRenderer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A request meant to name a model that names none, or naming one the engine does not register, is
 * denied by the engine whatever the chain; an endpoint without a model by design is not.
 */
class UnresolvedModelTest {
  private final AtomicInteger ran = new AtomicInteger();

  private static InferenceRequest request(Endpoint endpoint, String credential) {
    return new InferenceRequest() {
      @Override public String method() { return "POST"; }
      @Override public String path() { return "/v1/models/x/predict"; }
      @Override public Optional<String> header(String name) {
        return "X-Credential".equals(name) ? Optional.ofNullable(credential) : Optional.empty();
      }
      @Override public List<String> headers(String name) { return header(name).map(List::of).orElse(List.of()); }
      @Override public Optional<String> remoteAddress() { return Optional.of("127.0.0.1"); }
      @Override public Endpoint endpoint() { return endpoint; }
      @Override public byte[] body(int maxBytes) { return new byte[0]; }
    };
  }

  /** A chain with an authenticator (any X-Credential) and a counting policy, but no ModelAccessPolicy. */
  private ModelGuard guard() {
    return ModelGuard.builder().auditLog(false).models("digits")
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "credential", ctx -> ctx.request().header("X-Credential")
                .map(s -> GuardDecision.authenticated(Principal.builder(s).tenant("acme").build()))
                .orElse(GuardDecision.allow()))
            .policy(Phase.QUOTA, "counted", ctx -> {
              ran.incrementAndGet();
              return GuardDecision.allow();
            }))
        .chain("open", c -> c.policy(Phase.VALIDATE, "counted", ctx -> {
          ran.incrementAndGet();
          return GuardDecision.allow();
        }))
        .build();
  }

  @Test
  void anUnresolvedModelIsDeniedAfterAuthenticationBeforeAnyOtherPolicy() {
    ModelGuard guard = guard();

    GuardDecision anonymous = guard.check(request(Endpoint.unresolved("default", 1), null));
    GuardDecision known = guard.check(request(Endpoint.unresolved("default", 1), "alice"));
    GuardDecision openChain = guard.check(request(Endpoint.unresolved("open", 1), null));

    assertThat(anonymous.reason()).contains(ReasonCode.AUTH_MISSING_CREDENTIALS);
    assertThat(known.reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(openChain.reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(ran).as("no policy after authentication ran").hasValue(0);
  }

  @Test
  void aModelTheEngineDoesNotRegisterIsDeniedLikeAnUnresolvedOneWhateverTheChain() {
    // A valid id the engine does not register, in a chain without ModelAccessPolicy: counted,
    // validated and observed as a model of its own, DIGITS and Digits would each get a fresh quota
    // from an application that finds its models ignoring case.
    ModelGuard guard = guard();

    GuardDecision upper = guard.check(request(Endpoint.of("DIGITS", "default", 1), "alice"));
    GuardDecision other = guard.check(request(Endpoint.of("iris", "open", 1), null));
    GuardDecision anonymous = guard.check(request(Endpoint.of("DIGITS", "default", 1), null));

    assertThat(upper.reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(other.reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(anonymous.reason()).as("authentication first, as for an unresolved model")
        .contains(ReasonCode.AUTH_MISSING_CREDENTIALS);
    assertThat(ran).as("no policy after authentication ran").hasValue(0);

    // An engine that registers no models has nothing to check against: the chain decides.
    ModelGuard unregistering = ModelGuard.builder().auditLog(false)
        .chain("open", c -> c.policy(Phase.VALIDATE, "counted", ctx -> {
          ran.incrementAndGet();
          return GuardDecision.allow();
        })).build();
    assertThat(unregistering.check(request(Endpoint.of("anything", "open", 1), null)).isAllowed()).isTrue();
    assertThat(ran).hasValue(1);
  }

  @Test
  void aModelTheEngineDoesNotRegisterIsAnsweredAsAModelAccessPolicyForbidsOneChallengeScopeIncluded() {
    // ModelAccessPolicy scoped to iris: digits is granted, iris refused with a challenge naming its
    // scope. Without that scope on the engine's answer, resnet's plain 403 told a prober that no
    // model resnet exists, where iris's told it one does.
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits", "iris")
        .tier(Tier.builder("basic").models("digits").build())
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "credential", ctx -> ctx.request().header("X-Credential")
                .map(s -> GuardDecision.authenticated(Principal.builder(s).tenant("acme").tier("basic").build()))
                .orElse(GuardDecision.allow()))
            .policy(Phase.AUTHORIZE, "access", new ModelAccessPolicy().forModels("iris")))
        .build();

    GuardDecision forbidden = guard.check(request(Endpoint.of("iris", "default", 1), "alice"));
    GuardDecision unknown = guard.check(request(Endpoint.of("resnet", "default", 1), "alice"));

    assertThat(forbidden.reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(forbidden.challengeScope()).contains("model:iris:invoke");
    assertThat(unknown.reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(unknown.challengeScope()).contains("model:resnet:invoke");
    assertThat(ProblemRenderer.render(unknown).headers().keySet())
        .isEqualTo(ProblemRenderer.render(forbidden).headers().keySet());
    assertThat(ProblemRenderer.render(unknown).headers().get("WWW-Authenticate"))
        .isEqualTo("Bearer error=\"insufficient_scope\", scope=\"model:resnet:invoke\"");
  }

  @Test
  void anEndpointWithoutAModelByDesignOrWithOneGoesToItsChain() {
    ModelGuard guard = guard();

    assertThat(guard.check(request(Endpoint.of(null, "default", 1), "alice")).isAllowed()).isTrue();
    assertThat(guard.check(request(Endpoint.of("digits", "default", 1), "alice")).isAllowed()).isTrue();
    assertThat(ran).hasValue(2);
  }

  @Test
  void aSpecTellsAnUndeclaredVariableFromADeclaredOneThatNamesNoModel() {
    EndpointSpec spec = EndpointSpec.of("{model}", "default", 1);
    Map<String, String> bound = Map.of("model", "digits");

    assertThat(spec.resolve(bound::get, bound::containsKey)).isEqualTo(Endpoint.of("digits", "default", 1));
    assertThat(spec.resolve(Map.of("model", "-x")::get, name -> true).isUnresolved()).as("invalid id").isTrue();
    assertThat(spec.resolve(name -> null, name -> true).isUnresolved()).as("declared, not bound").isTrue();
    Endpoint catalog = spec.resolve(name -> null, name -> false);
    assertThat(catalog.isUnresolved()).as("not declared: no model by design").isFalse();
    assertThat(catalog.model()).isEmpty();
    assertThat(EndpointSpec.of("digits", "default", 1).resolve(name -> null, name -> true))
        .isEqualTo(Endpoint.of("digits", "default", 1));
  }
}
