package io.modelguard;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Records what one Logback logger, and the loggers below it, log while open, the logger set to the
 * level given; {@link #close()} detaches and puts the level back. This module's tests cannot use
 * modelguard-test's {@code io.modelguard.test.LogCapture} (that module depends on this one): this is
 * the part of it they need.
 */
public final class LogCapture implements AutoCloseable {
  private final Logger logger;
  private final Level previous;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogCapture(Logger logger, Level level) {
    this.logger = logger;
    this.previous = logger.getLevel();
    logger.setLevel(level);
    appender.setContext(logger.getLoggerContext());
    appender.start();
    logger.addAppender(appender);
  }

  /** Captures {@code source}'s logger at {@code level} and above. */
  public static LogCapture of(Class<?> source, Level level) {
    return new LogCapture((Logger) LoggerFactory.getLogger(source), level);
  }

  /** Captures {@code logger}, for a test that gives the code under test a logger of its own. */
  public static LogCapture of(Logger logger, Level level) {
    return new LogCapture(logger, level);
  }

  /** The events so far, oldest first: a snapshot. */
  public List<ILoggingEvent> events() {
    synchronized (appender) { // the lock under which the appender adds an event
      return List.copyOf(appender.list);
    }
  }

  /** The formatted message of each event so far, oldest first. */
  public List<String> messages() {
    return events().stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  /** The formatted message of each event so far at exactly {@code level}, oldest first. */
  public List<String> messagesAt(Level level) {
    return events().stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
    logger.setLevel(previous);
  }
}
