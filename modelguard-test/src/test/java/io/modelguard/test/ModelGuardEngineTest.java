package io.modelguard.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.modelguard.Endpoint;
import io.modelguard.EndpointSpec;
import io.modelguard.FailureMode;
import io.modelguard.GuardDecision;
import io.modelguard.GuardFailureException;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.Tier;
import io.modelguard.event.DecisionEvent;
import io.modelguard.event.GuardEvent;
import io.modelguard.event.PolicyFailureEvent;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class ModelGuardEngineTest {
  private final List<String> trace = new CopyOnWriteArrayList<>();
  private final List<GuardEvent> events = new CopyOnWriteArrayList<>();
  private final FakeClock clock = FakeClock.standard();

  private ModelGuard.Builder engine() {
    return ModelGuard.builder().clock(clock).auditLog(false).listener(events::add).models("digits", "iris");
  }

  private io.modelguard.Policy record(String name) {
    return ctx -> {
      trace.add(name);
      return GuardDecision.allow();
    };
  }

  private io.modelguard.Policy authenticateAs(String subject) {
    return ctx -> {
      trace.add("auth:" + subject);
      return GuardDecision.authenticated(Principal.builder(subject).tier("t").build());
    };
  }

  private List<DecisionEvent> decisions() {
    return events.stream().filter(DecisionEvent.class::isInstance).map(DecisionEvent.class::cast).toList();
  }

  @Test
  void runsPhasesInFixedOrderWhateverTheRegistrationOrder() {
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.DETECT, "detect", record("detect"))
        .policy(Phase.VALIDATE, "validate", record("validate"))
        .policy(Phase.QUOTA, "quota", record("quota"))
        .policy(Phase.AUTHORIZE, "authorize", record("authorize"))
        .policy(Phase.AUTHENTICATE, "authenticate", authenticateAs("alice"))).build();

    GuardDecision d = guard.check(FakeRequest.builder().build());

    assertThat(d.isAllowed()).isTrue();
    assertThat(trace).containsExactly("auth:alice", "authorize", "quota", "validate", "detect");
  }

  @Test
  void keepsRegistrationOrderWithinAPhase() {
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.VALIDATE, "v2", record("v2"))
        .policy(Phase.QUOTA, "q", record("q"))
        .policy(Phase.VALIDATE, "v1", record("v1"))).build();

    guard.check(FakeRequest.builder().build());

    assertThat(trace).containsExactly("q", "v2", "v1");
  }

  @Test
  void firstDenialWinsAndLaterPoliciesDoNotRun() {
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.DETECT, "detect", record("detect"))
        .policy(Phase.QUOTA, "quota", ctx -> {
          trace.add("quota");
          return GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED).withRetryAfter(Duration.ofSeconds(3));
        })
        .policy(Phase.VALIDATE, "validate", record("validate"))
        .policy(Phase.AUTHORIZE, "authorize", ctx -> {
          trace.add("authorize");
          return GuardDecision.deny(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
        })).build();

    GuardDecision d = guard.check(FakeRequest.builder().build());

    assertThat(d.isAllowed()).isFalse();
    assertThat(d.reason()).contains(ReasonCode.AUTHZ_MODEL_FORBIDDEN);
    assertThat(trace).containsExactly("authorize");
    assertThat(decisions()).singleElement().satisfies(e -> {
      assertThat(e.allowed()).isFalse();
      assertThat(e.phase()).isEqualTo(Phase.AUTHORIZE);
      assertThat(e.policy()).isEqualTo("authorize");
    });
  }

  /** Records its evaluation as {@code name} and a release as {@code release:name}. */
  private io.modelguard.Policy releasing(String name, GuardDecision decision) {
    return new io.modelguard.Policy() {
      @Override
      public GuardDecision evaluate(io.modelguard.GuardContext context) {
        trace.add(name);
        return decision;
      }

      @Override
      public void release(io.modelguard.GuardContext context) {
        trace.add("release:" + name);
      }
    };
  }

  @Test
  void aDenialReleasesThePoliciesThatRanBeforeItLatestFirstAndNoOthers() {
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.AUTHENTICATE, "auth", releasing("auth",
            GuardDecision.authenticated(Principal.builder("alice").tier("t").build())))
        .policy(Phase.QUOTA, "quota", releasing("quota", GuardDecision.allow()))
        .policy(Phase.VALIDATE, "validate", releasing("validate", GuardDecision.deny(ReasonCode.INPUT_INVALID)))
        .policy(Phase.DETECT, "detect", releasing("detect", GuardDecision.allow()))).build();

    GuardDecision d = guard.check(FakeRequest.builder().build());

    assertThat(d.reason()).contains(ReasonCode.INPUT_INVALID);
    assertThat(trace).containsExactly("auth", "quota", "validate", "release:quota", "release:auth");
  }

  @Test
  void aPolicyScopedToModelsRunsAndIsReleasedOnlyForThem() {
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.QUOTA, "digits-only", releasing("digits-only", GuardDecision.allow()).forModels("digits"))
        .policy(Phase.VALIDATE, "refuse", releasing("refuse", GuardDecision.deny(ReasonCode.INPUT_INVALID)))).build();

    guard.check(FakeRequest.builder().model("iris").build());
    assertThat(trace).as("iris: not evaluated, not released").containsExactly("refuse");

    trace.clear();
    guard.check(FakeRequest.builder().model("digits").build());
    assertThat(trace).containsExactly("digits-only", "refuse", "release:digits-only");
    assertThatThrownBy(() -> record("x").forModels()).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anOutputPolicyScopedToModelsRewritesOnlyTheirAnswers() {
    io.modelguard.OutputPolicy upper = ctx -> ModelOutput.json(ctx.output().bodyAsString().toUpperCase(java.util.Locale.ROOT));
    ModelGuard guard = engine().chain("default", c -> c
        .output(OutputPhase.PERTURB, "digits-only", upper.forModels("digits"))).build();
    for (String model : List.of("digits", "iris")) {
      FakeRequest r = FakeRequest.builder().model(model).build();
      assertThat(guard.onResponse(r, guard.check(r), 200, ModelOutput.json("{\"label\":\"a\"}")).bodyAsString())
          .as(model).isEqualTo(model.equals("digits") ? "{\"LABEL\":\"A\"}" : "{\"label\":\"a\"}");
    }
  }

  @Test
  void anAllowedRequestReleasesNothing() {
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.QUOTA, "quota", releasing("quota", GuardDecision.allow()))
        .policy(Phase.VALIDATE, "validate", releasing("validate", GuardDecision.allow()))).build();

    assertThat(guard.check(FakeRequest.builder().build()).isAllowed()).isTrue();
    assertThat(trace).containsExactly("quota", "validate");
  }

  @Test
  void theEnginesOwnDenialsReleaseThePoliciesThatRan() {
    ModelGuard noPrincipal = engine().chain("default", c -> c
        .policy(Phase.AUTHENTICATE, "abstains", releasing("abstains", GuardDecision.allow()))
        .policy(Phase.QUOTA, "quota", releasing("quota", GuardDecision.allow()))).build();
    assertThat(noPrincipal.check(FakeRequest.builder().build()).reason())
        .contains(ReasonCode.AUTH_MISSING_CREDENTIALS);
    assertThat(trace).containsExactly("abstains", "release:abstains");

    trace.clear();
    ModelGuard twoCredentials = engine().chain("default", c -> c
        .policy(Phase.AUTHENTICATE, "a", releasing("a", GuardDecision.authenticated(Principal.builder("alice").build())))
        .policy(Phase.AUTHENTICATE, "b", releasing("b", GuardDecision.authenticated(Principal.builder("bob").build()))))
        .build();
    assertThat(twoCredentials.check(FakeRequest.builder().build()).reason()).contains(ReasonCode.AUTH_INVALID_TOKEN);
    assertThat(trace).containsExactly("a", "b", "release:b", "release:a");
  }

  @Test
  void aReleaseThatThrowsIsLoggedAndTheDenialAndTheOtherReleasesStand() {
    io.modelguard.Policy throwsOnRelease = new io.modelguard.Policy() {
      @Override
      public GuardDecision evaluate(io.modelguard.GuardContext context) {
        return GuardDecision.allow();
      }

      @Override
      public void release(io.modelguard.GuardContext context) {
        throw new IllegalStateException("store gone");
      }
    };
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.AUTHORIZE, "first", releasing("first", GuardDecision.allow()))
        .policy(Phase.QUOTA, "broken", throwsOnRelease)
        .policy(Phase.VALIDATE, "validate", releasing("validate", GuardDecision.deny(ReasonCode.INPUT_INVALID)))).build();

    try (LogCapture logs = LogCapture.all()) {
      GuardDecision d = guard.check(FakeRequest.builder().build());

      assertThat(d.reason()).contains(ReasonCode.INPUT_INVALID);
      assertThat(trace).containsExactly("first", "validate", "release:first");
      assertThat(logs.lines()).anySatisfy(l -> assertThat(l)
          .contains("ERROR ModelGuard: policy 'broken' in chain 'default' failed to release a denied request")
          .contains("store gone"));
    }
  }

  @Test
  void principalFromAuthenticationIsSeenByLaterPhasesAndReturned() {
    List<String> seen = new CopyOnWriteArrayList<>();
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.QUOTA, "quota", ctx -> {
          seen.add(ctx.principal().map(Principal::subject).orElse("none"));
          return GuardDecision.allow();
        })
        .policy(Phase.AUTHENTICATE, "auth", authenticateAs("alice"))).build();

    GuardDecision d = guard.check(FakeRequest.builder().build());

    assertThat(seen).containsExactly("alice");
    assertThat(d.principal()).map(Principal::subject).contains("alice");
    assertThat(decisions()).singleElement().extracting(DecisionEvent::subject).isEqualTo("alice");
  }

  @Test
  void chainWithAuthenticatorsDeniesMissingCredentialsWhenNoneApplies() {
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.AUTHENTICATE, "abstains", record("abstains"))
        .policy(Phase.AUTHORIZE, "authorize", record("authorize"))).build();

    GuardDecision d = guard.check(FakeRequest.builder().build());

    assertThat(d.reason()).contains(ReasonCode.AUTH_MISSING_CREDENTIALS);
    assertThat(trace).containsExactly("abstains");
  }

  @Test
  void chainOfOnlyAuthenticatorsAlsoRequiresAPrincipal() {
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.AUTHENTICATE, "abstains", record("abstains"))).build();

    assertThat(guard.check(FakeRequest.builder().build()).reason()).contains(ReasonCode.AUTH_MISSING_CREDENTIALS);
  }

  @Test
  void chainWithoutAuthenticatorsAllowsAnonymousRequests() {
    ModelGuard guard = engine().chain("default", c -> c.policy(Phase.QUOTA, "q", record("q"))).build();

    GuardDecision d = guard.check(FakeRequest.builder().build());

    assertThat(d.isAllowed()).isTrue();
    assertThat(d.principal()).isEmpty();
  }

  @Test
  void twoCredentialsThatBothAuthenticateAreRefused() {
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.AUTHENTICATE, "a", authenticateAs("alice"))
        .policy(Phase.AUTHENTICATE, "b", authenticateAs("bob"))
        .policy(Phase.AUTHORIZE, "authorize", record("authorize"))).build();

    GuardDecision d = guard.check(FakeRequest.builder().build());

    assertThat(d.reason()).contains(ReasonCode.AUTH_INVALID_TOKEN);
    assertThat(trace).containsExactly("auth:alice", "auth:bob");
  }

  @Test
  void policyThatThrowsIsInternalErrorAndIsLoggedOnce() {
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.VALIDATE, "boom", ctx -> {
          throw new IllegalStateException("secret detail");
        })
        .policy(Phase.DETECT, "detect", record("detect"))).build();

    GuardDecision d;
    try (LogCapture logs = LogCapture.all()) {
      d = guard.check(FakeRequest.builder().build());
      assertThat(logs.events()).filteredOn(e -> e.getLevel() == Level.ERROR).singleElement().satisfies(e -> {
        assertThat(e.getThrowableProxy()).isNotNull();
        // The exception itself (nothing in its message to escape for the log line), with its frames.
        assertThat(e.getThrowableProxy().getClassName()).isEqualTo("java.lang.IllegalStateException");
        assertThat(e.getThrowableProxy().getMessage()).isEqualTo("secret detail");
        assertThat(e.getThrowableProxy().getStackTraceElementProxyArray()).isNotEmpty();
        assertThat(e.getFormattedMessage()).contains("boom").contains("default");
      });
    }
    assertThat(d.reason()).contains(ReasonCode.INTERNAL_ERROR);
    assertThat(d.detail()).isEmpty();
    assertThat(trace).isEmpty();
    assertThat(events).filteredOn(PolicyFailureEvent.class::isInstance).hasSize(1);
    assertThat(decisions()).singleElement().extracting(DecisionEvent::reason).isEqualTo(ReasonCode.INTERNAL_ERROR);
  }

  @Test
  void failOpenPolicyThatThrowsIsSkipped() {
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.QUOTA, "store-down", ctx -> {
          throw new IllegalStateException("store unreachable");
        }, FailureMode.OPEN)
        .policy(Phase.DETECT, "detect", record("detect"))).build();

    GuardDecision d;
    try (LogCapture logs = LogCapture.all()) {
      d = guard.check(FakeRequest.builder().build());
    }
    assertThat(d.isAllowed()).isTrue();
    assertThat(trace).containsExactly("detect");
    assertThat(events).filteredOn(PolicyFailureEvent.class::isInstance)
        .singleElement().extracting(e -> ((PolicyFailureEvent) e).failedOpen()).isEqualTo(true);
  }

  @Test
  void aPolicyThatOverflowsTheStackIsDeniedAndAuditedWhateverItsFailureMode() {
    // Deep recursion over nested client input must not escape check(): the client would get the
    // container's 500 page and no decision would be recorded.
    for (FailureMode mode : FailureMode.values()) {
      events.clear();
      ModelGuard guard = engine().chain("default", c -> c
          .policy(Phase.VALIDATE, "recursive-parser", ctx -> GuardDecision.allow().withHeader("Depth", Integer.toString(recurse(0))), mode))
          .build();

      GuardDecision d;
      try (LogCapture logs = LogCapture.all()) {
        d = guard.check(FakeRequest.builder().build());
      }
      assertThat(d.reason()).as("%s", mode).contains(ReasonCode.INTERNAL_ERROR);
      assertThat(decisions()).as("%s", mode).singleElement().extracting(DecisionEvent::allowed).isEqualTo(false);
      assertThat(events).as("%s", mode).filteredOn(PolicyFailureEvent.class::isInstance)
          .singleElement().extracting(e -> ((PolicyFailureEvent) e).failedOpen()).isEqualTo(false);
    }
  }

  @Test
  void anOutputPolicyThatOverflowsTheStackWithholdsTheOutputWhateverItsFailureMode() {
    for (FailureMode mode : FailureMode.values()) {
      ModelGuard guard = engine().chain("default", c -> c
          .output(OutputPhase.PERTURB, "recursive", ctx -> ModelOutput.json("{\"d\":" + recurse(0) + "}"), mode)).build();
      FakeRequest request = FakeRequest.builder().build();
      GuardDecision allowed = guard.check(request);

      try (LogCapture logs = LogCapture.all()) {
        assertThatThrownBy(() -> guard.onResponse(request, allowed, 200, ModelOutput.json("{\"p\":[0.9,0.1]}")))
            .as("%s", mode).isInstanceOf(GuardFailureException.class);
      }
    }
  }

  /** Never returns: recurses until the stack overflows. */
  private static int recurse(int depth) {
    return recurse(depth + 1) + 1;
  }

  @Test
  void policyReturningNullIsAFailureNotAnAllow() {
    ModelGuard guard = engine().chain("default", c -> c.policy(Phase.QUOTA, "null", ctx -> null)).build();

    try (LogCapture logs = LogCapture.all()) {
      assertThat(guard.check(FakeRequest.builder().build()).reason()).contains(ReasonCode.INTERNAL_ERROR);
    }
  }

  @Test
  void publishesExactlyOneDecisionEventPerCheck() {
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.AUTHENTICATE, "auth", ctx -> ctx.request().header("X-User").isPresent()
            ? GuardDecision.authenticated(Principal.builder("u").build())
            : GuardDecision.allow())).build();

    guard.check(FakeRequest.builder().header("X-User", "u").build());
    guard.check(FakeRequest.builder().build());
    guard.check(FakeRequest.builder().header("X-User", "u").build());

    assertThat(decisions()).extracting(DecisionEvent::allowed).containsExactly(true, false, true);
    assertThat(events).hasSize(3);
  }

  @Test
  void headersOfAllowingPoliciesSurviveALaterDenial() {
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.QUOTA, "quota", ctx -> GuardDecision.allow().withHeader("RateLimit", "\"burst\";r=4;t=1"))
        .policy(Phase.VALIDATE, "validate", ctx -> GuardDecision.deny(ReasonCode.INPUT_INVALID, "field pixels"))).build();

    GuardDecision d = guard.check(FakeRequest.builder().build());

    assertThat(d.reason()).contains(ReasonCode.INPUT_INVALID);
    assertThat(d.detail()).contains("field pixels");
    assertThat(d.headers()).containsEntry("RateLimit", "\"burst\";r=4;t=1");
  }

  @Test
  void listenerThatThrowsDoesNotChangeTheDecision() {
    ModelGuard guard = ModelGuard.builder().auditLog(false)
        .listener(e -> {
          throw new IllegalStateException("listener broken");
        })
        .chain("default", c -> c.policy(Phase.QUOTA, "q", record("q"))).build();

    try (LogCapture logs = LogCapture.all()) {
      assertThat(guard.check(FakeRequest.builder().build()).isAllowed()).isTrue();
    }
  }

  @Test
  void listenerThatThrowsAnErrorOrAnUndeclaredCheckedExceptionDoesNotChangeTheDecision() {
    List<Throwable> thrown = List.of(new AssertionError("listener broken"), new IOException("disk full"),
        new ExceptionInInitializerError("metrics class failed to initialise"));
    for (Throwable t : thrown) {
      ModelGuard guard = ModelGuard.builder().auditLog(false)
          .listener(e -> ModelGuardEngineTest.<RuntimeException>sneakyThrow(t))
          .chain("default", c -> c
              .policy(Phase.QUOTA, "down", ctx -> {
                throw new IllegalStateException("store down"); // its failure event reaches the listener too
              }, FailureMode.OPEN)
              .policy(Phase.DETECT, "q", record("q"))).build();

      try (LogCapture logs = LogCapture.all()) {
        assertThat(guard.check(FakeRequest.builder().build()).isAllowed()).as("%s", t).isTrue();
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static <T extends Throwable> void sneakyThrow(Throwable t) throws T {
    throw (T) t;
  }

  @Test
  void unknownChainAtRuntimeFailsClosed() {
    ModelGuard guard = engine().chain("default", c -> {}).build();

    try (LogCapture logs = LogCapture.all()) {
      GuardDecision d = guard.check(FakeRequest.builder().endpoint(Endpoint.of("digits", "nope", 1)).build());
      assertThat(d.reason()).contains(ReasonCode.INTERNAL_ERROR);
    }
  }

  @Test
  void outputPoliciesRunInPhaseOrderOnAllowedRequests() {
    ModelGuard guard = engine().chain("default", c -> c
        .output(OutputPhase.RECORD, "record", ctx -> {
          trace.add("record:" + ctx.output().bodyAsString());
          return ctx.output();
        })
        .output(OutputPhase.PERTURB, "perturb", ctx -> ModelOutput.json("{\"label\":1}"))
        .output(OutputPhase.OBSERVE, "observe", ctx -> {
          trace.add("observe:" + ctx.output().bodyAsString());
          return ctx.output();
        })).build();
    FakeRequest request = FakeRequest.builder().build();
    GuardDecision allowed = guard.check(request);

    ModelOutput out = guard.onResponse(request, allowed, 200, ModelOutput.json("{\"label\":7}"));

    assertThat(out.bodyAsString()).isEqualTo("{\"label\":1}");
    assertThat(trace).containsExactly("observe:{\"label\":7}", "record:{\"label\":1}");
    assertThat(guard.chain("default").hasOutputPolicies()).isTrue();
  }

  @Test
  void outputPoliciesSeeTheStatusOfTheResponse() {
    ModelGuard guard = engine().chain("default", c -> c
        .output(OutputPhase.OBSERVE, "observe", ctx -> {
          trace.add("observe:" + ctx.status());
          return ctx.output();
        })
        .output(OutputPhase.RECORD, "record", ctx -> {
          trace.add("record:" + ctx.status());
          return ctx.output();
        })).build();
    FakeRequest request = FakeRequest.builder().build();
    GuardDecision allowed = guard.check(request);

    for (int status : new int[] {422, 500, 200}) {
      guard.onResponse(request, allowed, status, ModelOutput.json("{\"label\":7}"));
    }

    assertThat(trace).containsExactly(
        "observe:422", "record:422", "observe:500", "record:500", "observe:200", "record:200");
  }

  @Test
  @SuppressWarnings("deprecation") // the overload kept for existing callers
  void onResponseWithoutAStatusRunsThePoliciesAsOnA200() {
    ModelGuard guard = engine().chain("default", c -> c
        .output(OutputPhase.PERTURB, "perturb", ctx -> ModelOutput.json("{\"status\":" + ctx.status() + "}")))
        .build();
    FakeRequest request = FakeRequest.builder().build();

    assertThat(guard.onResponse(request, guard.check(request), ModelOutput.json("{}")).bodyAsString())
        .isEqualTo("{\"status\":200}");
  }

  @Test
  void statusThatIsNotAThreeDigitCodeIsRefusedBeforeAnyPolicyRuns() {
    ModelGuard guard = engine().chain("default", c -> c
        .output(OutputPhase.OBSERVE, "observe", ctx -> {
          trace.add("observe");
          return ctx.output();
        })).build();
    FakeRequest request = FakeRequest.builder().build();
    GuardDecision allowed = guard.check(request);

    for (int status : new int[] {-1, 0, 99, 1000}) {
      assertThatThrownBy(() -> guard.onResponse(request, allowed, status, ModelOutput.json("{}")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("status")
          .hasMessageContaining(Integer.toString(status));
    }
    assertThat(trace).isEmpty();
  }

  @Test
  void outputPoliciesRefuseADeniedDecision() {
    ModelGuard guard = engine().chain("default", c -> c
        .policy(Phase.QUOTA, "deny", ctx -> GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED))
        .output(OutputPhase.OBSERVE, "observe", ctx -> {
          trace.add("observe");
          return ctx.output();
        })).build();
    FakeRequest request = FakeRequest.builder().build();
    GuardDecision denied = guard.check(request);

    assertThatThrownBy(() -> guard.onResponse(request, denied, 200, ModelOutput.json("{}")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(trace).isEmpty();
  }

  @Test
  void failingOutputPolicyWithholdsTheOutput() {
    ModelGuard guard = engine().chain("default", c -> c
        .output(OutputPhase.PERTURB, "broken", ctx -> {
          throw new IllegalStateException("noise failed");
        })).build();
    FakeRequest request = FakeRequest.builder().build();
    GuardDecision allowed = guard.check(request);

    try (LogCapture logs = LogCapture.all()) {
      assertThatThrownBy(() -> guard.onResponse(request, allowed, 200, ModelOutput.json("{\"p\":[0.9,0.1]}")))
          .isInstanceOf(GuardFailureException.class)
          .hasMessageNotContaining("noise failed");
      assertThat(logs.events()).filteredOn(e -> e.getLevel() == Level.ERROR).hasSize(1);
    }
  }

  @Test
  void failOpenOutputPolicySkipsItsStep() {
    ModelGuard guard = engine().chain("default", c -> c
        .output(OutputPhase.PERTURB, "broken", ctx -> {
          throw new IllegalStateException("noise failed");
        }, FailureMode.OPEN)).build();
    FakeRequest request = FakeRequest.builder().build();

    try (LogCapture logs = LogCapture.all()) {
      assertThat(guard.onResponse(request, guard.check(request), 200, ModelOutput.json("{\"a\":1}")).bodyAsString())
          .isEqualTo("{\"a\":1}");
    }
  }

  @Test
  void buildRejectsATierNamingAnUnknownModel() {
    assertThatThrownBy(() -> engine()
        .tier(Tier.builder("free").models("digits", "resnet").build())
        .chain("default", c -> {}).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("tiers: tier 'free' names unknown model 'resnet'");
  }

  @Test
  void buildRejectsPerModelLimitsOfATierOfEveryModelForAnUnknownModel() {
    // A tier of every model has no model list to check its per-model limits against: "digit" for
    // "digits" left digits under the default limit of 100 instead of its own 5, silently.
    io.modelguard.quota.QuotaLimit ample = io.modelguard.quota.QuotaLimit.tokenBucket("ample", 100, Duration.ofMinutes(1));
    io.modelguard.quota.QuotaLimit few = io.modelguard.quota.QuotaLimit.tokenBucket("few", 5, Duration.ofMinutes(1));
    assertThatThrownBy(() -> engine()
        .tier(Tier.builder("all").allModels().limits(ample).limits("digit", few).build())
        .chain("default", c -> {}).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("tiers: tier 'all' gives limits for unknown model 'digit'");
    // Spelled right, it builds; and an engine that registers no models has nothing to check against.
    assertThat(engine().tier(Tier.builder("all").allModels().limits(ample).limits("digits", few).build())
        .chain("default", c -> {}).build().tier("all")).isPresent();
    assertThat(ModelGuard.builder().auditLog(false)
        .tier(Tier.builder("all").allModels().limits("anything", few).build())
        .chain("default", c -> {}).build().tier("all")).isPresent();
  }

  @Test
  void buildListsEveryProblemNamingItsField() {
    assertThatThrownBy(() -> ModelGuard.builder()
        .models("ok", "bad id!")
        .tier(Tier.builder("t").build())
        .tier(Tier.builder("t").build())
        .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("models: 'bad id!'")
        .hasMessageContaining("tiers: tier 't' is registered twice")
        .hasMessageContaining("chains: at least one chain is required");
  }

  @Test
  void buildRejectsDuplicateChainsAndPolicyNames() {
    assertThatThrownBy(() -> engine().chain("default", c -> {}).chain("default", c -> {}).build())
        .hasMessageContaining("chains: chain 'default' is registered twice");
    assertThatThrownBy(() -> engine().chain("default", c -> c
        .policy(Phase.QUOTA, "same", record("a"))
        .policy(Phase.DETECT, "same", record("b"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("policy name 'same' is used twice");
  }

  @Test
  void validateRejectsAnEndpointNamingAnUnknownChain() {
    ModelGuard guard = engine().chain("default", c -> {}).chain("strict", c -> {}).build();

    assertThatThrownBy(() -> guard.validate(EndpointSpec.of("digits", "stirct", 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'stirct'")
        .hasMessageContaining("[default, strict]");
    assertThat(guard.validate(EndpointSpec.of("digits", "strict", 2)).cost()).isEqualTo(2);
  }

  @Test
  void modelsForIsTheTierNarrowedByTheCredential() {
    ModelGuard guard = engine()
        .tier(Tier.builder("pro").models("digits", "iris").build())
        .tier(Tier.builder("all").allModels().build())
        .chain("default", c -> {}).build();

    assertThat(guard.modelsFor(Principal.builder("a").tier("pro").build())).containsExactly("digits", "iris");
    assertThat(guard.modelsFor(Principal.builder("a").tier("pro").allowedModels(Set.of("iris", "resnet")).build()))
        .containsExactly("iris");
    assertThat(guard.modelsFor(Principal.builder("a").tier("all").build())).containsExactly("digits", "iris");
    assertThat(guard.modelsFor(Principal.builder("a").build())).isEmpty();
    assertThat(guard.modelsFor(Principal.builder("a").tier("missing").build())).isEmpty();
  }
}
