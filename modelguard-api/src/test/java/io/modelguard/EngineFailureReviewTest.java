package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.event.GuardEvent;
import io.modelguard.event.PolicyFailureEvent;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** How the engine copes with policies and listeners that fail in awkward ways. */
class EngineFailureReviewTest {
  private final List<GuardEvent> events = new CopyOnWriteArrayList<>();

  /** A bodiless POST for {@code digits} on the default chain from 127.0.0.1 (also {@link PolicyFailureLogTest}'s). */
  static InferenceRequest request() {
    Endpoint endpoint = Endpoint.of("digits", "default", 1);
    return new InferenceRequest() {
      @Override public String method() { return "POST"; }
      @Override public String path() { return "/v1/models/digits/predict"; }
      @Override public Optional<String> header(String name) { return Optional.empty(); }
      @Override public List<String> headers(String name) { return List.of(); }
      @Override public Optional<String> remoteAddress() { return Optional.of("127.0.0.1"); }
      @Override public Endpoint endpoint() { return endpoint; }
      @Override public byte[] body(int maxBytes) { return new byte[0]; }
    };
  }

  /** {@code guard.check(request())}, which must not throw. */
  private static GuardDecision checkWithoutThrowing(ModelGuard guard) {
    GuardDecision[] d = new GuardDecision[1];
    assertThatCode(() -> d[0] = guard.check(request())).doesNotThrowAnyException();
    return d[0];
  }

  /** A guard whose chain allows and whose one listener runs {@code failing} (which throws). */
  private static ModelGuard allowingWithListener(Runnable failing) {
    return ModelGuard.builder().auditLog(false).models("digits")
        .listener(e -> failing.run())
        .chain("default", c -> c.policy(Phase.VALIDATE, "ok", ctx -> GuardDecision.allow()))
        .build();
  }

  /** An exception whose message and string form themselves throw. */
  static final class HostileException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    @Override
    public String getMessage() {
      throw new IllegalStateException("getMessage");
    }

    @Override
    public String getLocalizedMessage() {
      throw new IllegalStateException("getLocalizedMessage");
    }

    @Override
    public String toString() {
      throw new IllegalStateException("toString");
    }
  }

  @Test
  void aPolicyThrowingAnExceptionWhoseMessageThrowsIsStillDeniedAsInternalError() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).listener(events::add).models("digits")
        .chain("default", c -> c.policy(Phase.VALIDATE, "hostile", ctx -> {
          throw new HostileException();
        }))
        .build();

    assertThat(checkWithoutThrowing(guard).reason()).contains(ReasonCode.INTERNAL_ERROR);
    assertThat(events).filteredOn(PolicyFailureEvent.class::isInstance).hasSize(1);
  }

  @Test
  void aFailOpenPolicyThrowingAnExceptionWhoseMessageThrowsStillFailsOpen() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).listener(events::add).models("digits")
        .chain("default", c -> c.policy(Phase.VALIDATE, "hostile", ctx -> {
          throw new HostileException();
        }, FailureMode.OPEN))
        .build();

    assertThat(checkWithoutThrowing(guard).isAllowed()).isTrue();
  }

  @Test
  void aListenerThatOverflowsTheStackDoesNotChangeTheDecision() {
    ModelGuard guard = allowingWithListener(() -> {
      throw new StackOverflowError();
    });

    assertThat(checkWithoutThrowing(guard).isAllowed()).isTrue();
  }

  @Test
  void aPolicyThrowingAnExceptionWithACyclicCauseIsDeniedAsInternalError() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).listener(events::add).models("digits")
        .chain("default", c -> c.policy(Phase.VALIDATE, "cyclic", ctx -> {
          RuntimeException a = new RuntimeException("a");
          RuntimeException b = new RuntimeException("b", a);
          a.initCause(b);
          a.addSuppressed(b);
          throw a;
        }))
        .build();

    assertThat(checkWithoutThrowing(guard).reason()).contains(ReasonCode.INTERNAL_ERROR);
  }

  @Test
  void aFailOpenOutputPolicyThrowingAnExceptionWhoseMessageThrowsIsSkipped() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).listener(events::add).models("digits")
        .chain("default", c -> c.output(OutputPhase.PERTURB, "hostile", ctx -> {
          throw new HostileException();
        }, FailureMode.OPEN))
        .build();
    InferenceRequest request = request();
    GuardDecision allowed = guard.check(request);
    ModelOutput output = ModelOutput.json("{\"label\":3}");

    ModelOutput[] out = new ModelOutput[1];
    assertThatCode(() -> out[0] = guard.onResponse(request, allowed, 200, output)).doesNotThrowAnyException();
    assertThat(out[0]).isSameAs(output);
  }

  @Test
  void aFailClosedOutputPolicyThrowingAnExceptionWhoseMessageThrowsWithholdsTheOutputAsDocumented() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).listener(events::add).models("digits")
        .chain("default", c -> c.output(OutputPhase.PERTURB, "hostile", ctx -> {
          throw new HostileException();
        }))
        .build();
    InferenceRequest request = request();
    GuardDecision allowed = guard.check(request);

    assertThatThrownBy(() -> guard.onResponse(request, allowed, 200, ModelOutput.json("{}")))
        .isExactlyInstanceOf(GuardFailureException.class);
  }

  @Test
  void aListenerThrowingAnExceptionWhoseMessageThrowsDoesNotChangeTheDecision() {
    ModelGuard guard = allowingWithListener(() -> {
      throw new HostileException();
    });

    assertThat(checkWithoutThrowing(guard).isAllowed()).isTrue();
  }

  /** Throws {@code t}, checked or not, from code that does not declare it (as a policy written in Kotlin may). */
  @SuppressWarnings("unchecked")
  private static <T extends Throwable> RuntimeException undeclared(Throwable t) throws T {
    throw (T) t;
  }

  /** Whether the current thread was interrupted; clears the status so that no later test sees it. */
  private static boolean interruptedAndCleared() {
    return Thread.interrupted();
  }

  @Test
  void aPolicyThrowingInterruptedExceptionIsDeniedAndLeavesTheThreadInterrupted() {
    interruptedAndCleared();
    ModelGuard guard = ModelGuard.builder().auditLog(false).listener(events::add).models("digits")
        .chain("default", c -> c.policy(Phase.QUOTA, "interrupted", ctx -> {
          throw undeclared(new InterruptedException("store call interrupted"));
        }))
        .build();

    GuardDecision d = checkWithoutThrowing(guard);

    // Throwing it cleared the status: the engine swallowed the container's request to stop.
    assertThat(interruptedAndCleared()).as("interrupt status after check").isTrue();
    assertThat(d.reason()).contains(ReasonCode.INTERNAL_ERROR);
    assertThat(events).filteredOn(PolicyFailureEvent.class::isInstance).hasSize(1);
  }

  @Test
  void aFailOpenPolicyOrAListenerThrowingInterruptedExceptionLeavesTheThreadInterrupted() {
    interruptedAndCleared();
    ModelGuard failOpen = ModelGuard.builder().auditLog(false).models("digits")
        .chain("default", c -> c.policy(Phase.QUOTA, "interrupted", ctx -> {
          throw undeclared(new InterruptedException());
        }, FailureMode.OPEN))
        .build();
    assertThat(checkWithoutThrowing(failOpen).isAllowed()).isTrue();
    assertThat(interruptedAndCleared()).as("after a fail-open policy").isTrue();

    ModelGuard listening = allowingWithListener(() -> {
      throw undeclared(new InterruptedException());
    });
    assertThat(checkWithoutThrowing(listening).isAllowed()).isTrue();
    assertThat(interruptedAndCleared()).as("after a listener").isTrue();
  }

  @Test
  void anOutputPolicyOrAReleaseThrowingInterruptedExceptionLeavesTheThreadInterrupted() {
    interruptedAndCleared();
    ModelGuard output = ModelGuard.builder().auditLog(false).models("digits")
        .chain("default", c -> c.output(OutputPhase.PERTURB, "interrupted", ctx -> {
          throw undeclared(new InterruptedException());
        }))
        .build();
    InferenceRequest request = request();
    GuardDecision allowed = output.check(request);
    assertThatThrownBy(() -> output.onResponse(request, allowed, 200, ModelOutput.json("{}")))
        .isExactlyInstanceOf(GuardFailureException.class);
    assertThat(interruptedAndCleared()).as("after an output policy").isTrue();

    Policy releaseInterrupted = new Policy() {
      @Override
      public GuardDecision evaluate(GuardContext context) {
        return GuardDecision.allow();
      }

      @Override
      public void release(GuardContext context) {
        throw undeclared(new InterruptedException());
      }
    };
    ModelGuard releasing = ModelGuard.builder().auditLog(false).models("digits")
        .chain("default", c -> c.policy(Phase.QUOTA, "held", releaseInterrupted)
            .policy(Phase.VALIDATE, "denies", ctx -> GuardDecision.deny(ReasonCode.INPUT_INVALID)))
        .build();
    assertThat(checkWithoutThrowing(releasing).reason()).contains(ReasonCode.INPUT_INVALID);
    assertThat(interruptedAndCleared()).as("after a release").isTrue();
  }

  @Test
  void anAuthorizationPolicyCannotFailOpen() {
    // Skipped when it throws, an authorization check would let through the very requests it exists
    // to refuse: a tier's model list read from a failing store, say, would grant every model.
    Policy throwing = ctx -> {
      throw new IllegalStateException("tier store down");
    };
    assertThatThrownBy(() -> ModelGuard.builder().auditLog(false)
        .chain("default", c -> c.policy(Phase.AUTHORIZE, "access", throwing, FailureMode.OPEN)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("chain 'default': policy 'access' in AUTHORIZE cannot fail open (a failed authorization "
            + "check would let the request through); register it with FailureMode.CLOSED, the default");
    // Fail-closed, its failure denies; other phases may still fail open.
    ModelGuard guard = ModelGuard.builder().auditLog(false)
        .chain("default", c -> c.policy(Phase.AUTHORIZE, "access", throwing)
            .policy(Phase.QUOTA, "optional", throwing, FailureMode.OPEN))
        .build();
    assertThat(checkWithoutThrowing(guard).reason()).contains(ReasonCode.INTERNAL_ERROR);
    assertThat(checkWithoutThrowing(ModelGuard.builder().auditLog(false)
        .chain("default", c -> c.policy(Phase.QUOTA, "optional", throwing, FailureMode.OPEN)).build()).isAllowed())
        .isTrue();
  }
}
