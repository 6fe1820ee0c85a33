package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.modelguard.event.GuardEvent;
import io.modelguard.event.PolicyFailureEvent;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A policy that throws on every request (a quota store down without a circuit breaker, a parser a
 * client's input breaks) wrote an ERROR with its stack trace per request, and a failing listener a
 * WARN per event: one client could write thousands a second. Now each is logged at its level at
 * most once a minute per chain, policy (or listener) and exception class, saying how many went to
 * DEBUG since; every failure still publishes its event and gets the same decision.
 */
class PolicyFailureLogPaceTest {
  private final MutableClock clock = MutableClock.standard();
  private final List<GuardEvent> events = new CopyOnWriteArrayList<>();

  private long failureEvents() {
    return events.stream().filter(PolicyFailureEvent.class::isInstance).count();
  }

  private static List<ILoggingEvent> at(LogCapture log, Level level) {
    return log.events().stream().filter(e -> e.getLevel() == level).toList();
  }

  @Test
  void aPolicyFailingOnEveryRequestIsLoggedAtErrorOnceAMinuteWithTheCountOfTheRest() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits").clock(clock).listener(events::add)
        .chain("default", c -> c.policy(Phase.QUOTA, "store", ctx -> {
          throw new IllegalStateException("connection refused");
        }))
        .build();
    int requests = 50;
    try (LogCapture log = LogCapture.of(ModelGuard.class, Level.DEBUG)) {
      for (int i = 0; i < requests; i++) {
        assertThat(guard.check(EngineFailureReviewTest.request()).reason()).as("request %d", i)
            .contains(ReasonCode.INTERNAL_ERROR);
      }
      assertThat(failureEvents()).as("an event for every failure").isEqualTo(requests);
      assertThat(at(log, Level.ERROR)).singleElement().satisfies(e -> {
        assertThat(e.getFormattedMessage()).startsWith(
                "ModelGuard: policy 'store' in chain 'default' failed; request denied (logged at this level at "
                    + "most once a minute per chain, policy and exception class; 0 more since the last, at DEBUG)");
        assertThat(e.getThrowableProxy()).as("the stack trace").isNotNull();
        assertThat(e.getThrowableProxy().getMessage()).isEqualTo("connection refused");
      });
      assertThat(log.messagesAt(Level.DEBUG)).hasSize(requests - 1)
          .allSatisfy(line -> assertThat(line)
              .isEqualTo("ModelGuard: policy 'store' in chain 'default' failed; request denied"));

      clock.advance(Duration.ofSeconds(59));
      guard.check(EngineFailureReviewTest.request());
      assertThat(at(log, Level.ERROR)).as("still within the minute").hasSize(1);

      clock.advance(Duration.ofSeconds(1));
      assertThat(guard.check(EngineFailureReviewTest.request()).reason()).contains(ReasonCode.INTERNAL_ERROR);
      assertThat(at(log, Level.ERROR)).hasSize(2).last().satisfies(e -> {
        assertThat(e.getFormattedMessage()).contains("; 50 more since the last, at DEBUG)");
        assertThat(e.getThrowableProxy()).isNotNull();
      });
      assertThat(failureEvents()).isEqualTo(requests + 2);
    }
  }

  @Test
  void eachPolicyAndExceptionClassHasItsOwnPaceAndFailOpenStillLetsTheRequestThrough() {
    AtomicReference<RuntimeException> thrown = new AtomicReference<>(new IllegalStateException("down"));
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits").clock(clock).listener(events::add)
        .chain("default", c -> c
            .policy(Phase.QUOTA, "first", ctx -> {
              throw thrown.get();
            }, FailureMode.OPEN)
            .policy(Phase.DETECT, "second", ctx -> {
              throw new ArithmeticException("/ by zero");
            }, FailureMode.OPEN))
        .build();
    try (LogCapture log = LogCapture.of(ModelGuard.class, Level.INFO)) {
      for (int i = 0; i < 10; i++) {
        assertThat(guard.check(EngineFailureReviewTest.request()).isAllowed()).as("fail-open, request %d", i).isTrue();
      }
      assertThat(log.messagesAt(Level.ERROR)).hasSize(2)
          .anySatisfy(line -> assertThat(line).startsWith("ModelGuard: policy 'first' in chain 'default' failed; "
              + "fail-open, request continues (logged at this level at most once a minute"))
          .anySatisfy(line -> assertThat(line).startsWith("ModelGuard: policy 'second' in chain 'default' failed"));

      thrown.set(new UnsupportedOperationException("another failure"));
      guard.check(EngineFailureReviewTest.request());
      assertThat(at(log, Level.ERROR)).as("another class of exception is told at once").hasSize(3)
          .last().satisfies(e -> assertThat(e.getThrowableProxy().getClassName())
              .isEqualTo(UnsupportedOperationException.class.getName()));
      assertThat(failureEvents()).isEqualTo(22);
    }
  }

  @Test
  void aListenerFailingOnEveryEventIsLoggedAtWarnOnceAMinuteWithTheCountOfTheRest() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits").clock(clock)
        .listener(e -> {
          throw new IllegalStateException("metrics backend gone");
        })
        .listener(events::add)
        .chain("default", c -> c.policy(Phase.VALIDATE, "ok", ctx -> GuardDecision.allow()))
        .build();
    try (LogCapture log = LogCapture.of(ModelGuard.class, Level.INFO)) {
      for (int i = 0; i < 20; i++) {
        assertThat(guard.check(EngineFailureReviewTest.request()).isAllowed()).isTrue();
      }
      assertThat(events).as("the next listener gets every event").hasSize(20);
      assertThat(at(log, Level.WARN)).singleElement().satisfies(e -> {
        assertThat(e.getFormattedMessage()).contains("failed on DecisionEvent (logged at this level at most once "
            + "a minute per listener, event type and exception class; 0 more since the last, at DEBUG)");
        assertThat(e.getThrowableProxy()).isNotNull();
      });

      clock.advance(Duration.ofMinutes(1));
      guard.check(EngineFailureReviewTest.request());
      assertThat(log.messagesAt(Level.WARN)).hasSize(2).last().asString().contains("; 19 more since the last");
    }
  }

  /** A listener whose every event fails with its own message. */
  private record FailingListener(String why) implements io.modelguard.event.GuardListener {
    @Override
    public void onEvent(GuardEvent event) {
      throw new IllegalStateException(why);
    }
  }

  @Test
  void twoListenersOfOneClassAreEachLoggedAtWarn() {
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("digits").clock(clock)
        .listener(new FailingListener("metrics backend gone"))
        .listener(new FailingListener("audit sink full"))
        .chain("default", c -> c.policy(Phase.VALIDATE, "ok", ctx -> GuardDecision.allow()))
        .build();
    try (LogCapture log = LogCapture.of(ModelGuard.class, Level.INFO)) {
      for (int i = 0; i < 5; i++) {
        assertThat(guard.check(EngineFailureReviewTest.request()).isAllowed()).isTrue();
      }
      // Keyed by class alone, the first listener's line hid the second's failure.
      assertThat(at(log, Level.WARN)).hasSize(2).extracting(e -> e.getThrowableProxy().getMessage())
          .containsExactly("metrics backend gone", "audit sink full");
    }
  }
}
