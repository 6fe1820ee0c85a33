package io.modelguard.test;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The kit's log capture: what it records, and that closing it leaves the loggers as it found them. */
class LogCaptureTest {
  private static final String NAME = "io.modelguard.test.LogCaptureTest.source";
  private final Logger source = (Logger) LoggerFactory.getLogger(NAME);
  private final Logger child = (Logger) LoggerFactory.getLogger(NAME + ".child");

  @Test
  void recordsTheLoggerAndTheLoggersBelowItAtTheLevelGivenAndAbove() {
    try (LogCapture log = LogCapture.of(NAME, Level.INFO)) {
      source.debug("too verbose");
      source.info("one {}", 1);
      child.warn("two");
      LoggerFactory.getLogger("io.modelguard.test.elsewhere").error("not below the captured logger");

      assertThat(log.messages()).containsExactly("one 1", "two");
      assertThat(log.messagesAt(Level.WARN)).containsExactly("two");
      assertThat(log.lines()).containsExactly(NAME + " INFO one 1", NAME + ".child WARN two");

      log.clear();
      source.info("three");
      assertThat(log.messages()).containsExactly("three");
    }
  }

  @Test
  void closingDetachesAndPutsBackEveryLevelItChanged() {
    Logger other = (Logger) LoggerFactory.getLogger(NAME + ".other");
    other.setLevel(Level.ERROR);
    try {
      LogCapture log = LogCapture.of(NAME, Level.DEBUG).withLevel(NAME + ".other", Level.TRACE)
          .withLevel(NAME + ".other", Level.DEBUG);
      assertThat(source.getLevel()).isEqualTo(Level.DEBUG);
      assertThat(other.getLevel()).isEqualTo(Level.DEBUG);

      log.close();
      source.error("after close");

      assertThat(log.messages()).isEmpty();
      assertThat(source.getLevel()).as("inherited again").isNull();
      assertThat(other.getLevel()).as("the level before the first change").isEqualTo(Level.ERROR);
    } finally {
      other.setLevel(null);
    }
  }

  @Test
  void allRecordsEveryLoggerFromTrace() {
    try (LogCapture log = LogCapture.all()) {
      child.trace("deep");

      assertThat(log.messages()).containsExactly("deep");
    }
    assertThat(((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).getLevel()).isEqualTo(Level.WARN);
  }
}
