package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The pace of the engine's failure lines, by its clock. */
class FailureLogPaceTest {
  private final MutableClock clock = MutableClock.standard();
  private final FailureLogPace pace = new FailureLogPace(clock);
  private final FailureLogPace.Key key =
      new FailureLogPace.Key("policy", "default", "store", IllegalStateException.class.getName());

  @Test
  void letsOneLineAMinuteThroughAndCountsTheRest() {
    assertThat(pace.logNow(key)).as("the first").isZero();
    assertThat(pace.logNow(key)).isEqualTo(-1);
    clock.advance(FailureLogPace.INTERVAL.minusMillis(1));
    assertThat(pace.logNow(key)).isEqualTo(-1);
    assertThat(pace.logNow(new FailureLogPace.Key("policy", "default", "store", "java.lang.Error")))
        .as("another exception class").isZero();
    clock.advance(Duration.ofMillis(1));
    assertThat(pace.logNow(key)).as("two held since the first").isEqualTo(2);
    assertThat(pace.logNow(key)).isEqualTo(-1);
  }

  @Test
  void aClockSetBackDoesNotSilenceTheLineUntilItCatchesUp() {
    assertThat(pace.logNow(key)).isZero();
    assertThat(pace.logNow(key)).isEqualTo(-1);
    clock.advance(Duration.ofHours(-1));
    assertThat(pace.logNow(key)).as("one held since").isEqualTo(1);
    assertThat(pace.logNow(key)).isEqualTo(-1);
  }
}
