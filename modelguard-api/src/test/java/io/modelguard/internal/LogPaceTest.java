package io.modelguard.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.modelguard.LogCapture;
import io.modelguard.MutableClock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The pace of lines a client or a repeating fault can cause, by a clock the test moves. */
class LogPaceTest {
  private static final Logger LOG = LoggerFactory.getLogger(LogPaceTest.class);

  private final MutableClock clock = MutableClock.standard();
  private final LogPace<List<String>> pace = new LogPace<>(LOG, "per step and exception class");
  private final List<String> key = List.of("store", IllegalStateException.class.getName());

  @Test
  void letsOneLineAMinuteThroughAndCountsTheRest() {
    assertThat(pace.logNow(key, clock.millis())).as("the first").isZero();
    assertThat(pace.logNow(key, clock.millis())).isEqualTo(LogPace.SUPPRESSED);
    clock.advance(LogPace.INTERVAL.minusMillis(1));
    assertThat(pace.logNow(key, clock.millis())).isEqualTo(LogPace.SUPPRESSED);
    assertThat(pace.logNow(List.of("store", "java.lang.Error"), clock.millis())).as("another exception class").isZero();
    clock.advance(Duration.ofMillis(1));
    assertThat(pace.logNow(key, clock.millis())).as("two held since the first").isEqualTo(2);
    assertThat(pace.logNow(key, clock.millis())).isEqualTo(LogPace.SUPPRESSED);
  }

  @Test
  void aClockSetBackDoesNotSilenceTheLineUntilItCatchesUp() {
    assertThat(pace.logNow(key, clock.millis())).isZero();
    assertThat(pace.logNow(key, clock.millis())).isEqualTo(LogPace.SUPPRESSED);
    clock.advance(Duration.ofHours(-1));
    assertThat(pace.logNow(key, clock.millis())).as("one held since").isEqualTo(1);
    assertThat(pace.logNow(key, clock.millis())).isEqualTo(LogPace.SUPPRESSED);
  }

  @Test
  void logsTheDueLineAtItsLevelWithTheStackTraceAndTheRestAtDebug() {
    IllegalStateException thrown = new IllegalStateException("store down");
    try (LogCapture log = LogCapture.of(LogPaceTest.class, Level.DEBUG)) {
      for (int i = 0; i < 3; i++) {
        pace.log(org.slf4j.event.Level.ERROR, key, clock.millis(), thrown, "step '{}' failed", "store");
      }
      clock.advance(LogPace.INTERVAL);
      pace.log(org.slf4j.event.Level.WARN, key, clock.millis(), null, "step '{}' failed", "store");

      assertThat(log.messagesAt(Level.ERROR)).containsExactly(
          "step 'store' failed (logged at this level at most once a minute per step and exception class; "
              + "0 more since the last, at DEBUG)");
      assertThat(log.messagesAt(Level.DEBUG)).containsExactly("step 'store' failed", "step 'store' failed");
      assertThat(log.messagesAt(Level.WARN)).singleElement().asString().contains("; 2 more since the last");
      assertThat(log.events()).allSatisfy(e -> assertThat(e.getThrowableProxy() == null)
          .isEqualTo(e.getLevel() == Level.WARN));
    }
  }
}
