package io.modelguard.test;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Records what one Logback logger, and every logger below it, logs while open: for tests that
 * assert what an operator's log shows.
 *
 * <pre>{@code
 * try (LogCapture log = LogCapture.of(RedisQuotaStore.class, Level.WARN)) {
 *   ...
 *   assertThat(log.messagesAt(Level.WARN)).singleElement().asString().contains("noeviction");
 * }
 * }</pre>
 *
 * <p>While open, the captured logger is set to the level given, whatever a {@code logback-test.xml}
 * says (the modules' test configurations silence {@code io.modelguard}); {@link #close()} detaches
 * the capture and puts back every level it changed, so one test's capture does not leak into the
 * next. Every event is kept in memory while open: capture the logger the test reads, no wider.
 *
 * <p>Requires Logback as the SLF4J backend ({@code logback-classic} on the test class path; this kit
 * does not bring it). Events logged by other threads (a server's) may be read while they arrive;
 * open, configure and close a capture on the test's thread.
 */
public final class LogCapture implements AutoCloseable {
  private final LoggerContext context;
  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
  /** The level each changed logger had before, to put back on close; null is inherited. */
  private final Map<Logger, Level> previous = new LinkedHashMap<>();

  private LogCapture(LoggerContext context, Logger logger, Level level) {
    this.context = context;
    this.logger = logger;
    setLevel(logger, level);
    appender.setContext(context);
    appender.start();
    logger.addAppender(appender);
  }

  /**
   * Captures what {@code source}'s logger (named after the class, as {@code
   * LoggerFactory.getLogger(source)} names it) logs at {@code level} and above.
   *
   * @param source the class whose logger to capture; not null
   * @param level the lowest level captured; not null
   * @return a capture that has started; close it to stop capturing
   * @throws IllegalStateException if SLF4J's backend is not Logback
   */
  public static LogCapture of(Class<?> source, Level level) {
    return of(Objects.requireNonNull(source, "source").getName(), level);
  }

  /**
   * Captures what the logger named {@code loggerName}, and the loggers below it, log at {@code
   * level} and above.
   *
   * @param loggerName the logger name; {@code ROOT} for every logger; not null
   * @param level the lowest level captured; not null
   * @return a capture that has started; close it to stop capturing
   * @throws IllegalStateException if SLF4J's backend is not Logback
   */
  public static LogCapture of(String loggerName, Level level) {
    Objects.requireNonNull(loggerName, "loggerName");
    Objects.requireNonNull(level, "level");
    LoggerContext context = logback();
    return new LogCapture(context, context.getLogger(loggerName), level);
  }

  /**
   * Captures every event of every logger, the root set to TRACE. A logger configured with a level
   * of its own keeps it: raise it too with {@link #withLevel(String, Level)}.
   *
   * @return a capture that has started; close it to stop capturing and restore the root's level
   * @throws IllegalStateException if SLF4J's backend is not Logback
   */
  public static LogCapture all() {
    return of(org.slf4j.Logger.ROOT_LOGGER_NAME, Level.TRACE);
  }

  /**
   * Also sets the logger named {@code loggerName} to {@code level} until this capture is closed,
   * for a test that needs another logger more verbose (or quieter) than configured. Its events are
   * captured only if they reach the captured logger.
   *
   * @param loggerName the logger to set; not null
   * @param level its level until {@link #close()}; not null
   * @return this capture
   */
  public LogCapture withLevel(String loggerName, Level level) {
    setLevel(context.getLogger(Objects.requireNonNull(loggerName, "loggerName")), Objects.requireNonNull(level, "level"));
    return this;
  }

  /** {@return the events captured so far, oldest first: a snapshot, which later events do not change} */
  public List<ILoggingEvent> events() {
    synchronized (appender) { // the lock under which the appender adds an event
      return List.copyOf(appender.list);
    }
  }

  /** {@return the formatted message (arguments in place) of each event captured so far, oldest first} */
  public List<String> messages() {
    return events().stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  /**
   * The formatted message of each event captured so far at exactly {@code level}, oldest first:
   * {@code messagesAt(Level.WARN)} leaves out INFO and ERROR.
   *
   * @param level the exact level kept; not null
   * @return the messages, formatted with their arguments; empty if none
   */
  public List<String> messagesAt(Level level) {
    Objects.requireNonNull(level, "level");
    return events().stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
  }

  /**
   * Each event captured so far as an appender could write it, oldest first: logger name, level,
   * formatted message and, after a line break, the stack trace of its exception if it has one.
   *
   * @return one line per event (more if it has a stack trace); empty if none was captured
   */
  public List<String> lines() {
    List<String> lines = new ArrayList<>();
    for (ILoggingEvent e : events()) {
      String line = e.getLoggerName() + " " + e.getLevel() + " " + e.getFormattedMessage();
      lines.add(e.getThrowableProxy() == null ? line : line + "\n" + ThrowableProxyUtil.asString(e.getThrowableProxy()));
    }
    return lines;
  }

  /** Forgets the events captured so far; capturing goes on. */
  public void clear() {
    synchronized (appender) {
      appender.list.clear();
    }
  }

  /** Stops capturing and puts back the level of every logger this capture changed. Idempotent. */
  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
    previous.forEach(Logger::setLevel);
    previous.clear();
  }

  private void setLevel(Logger target, Level level) {
    if (!previous.containsKey(target)) { // not putIfAbsent: an inherited level is saved as null
      previous.put(target, target.getLevel());
    }
    target.setLevel(level);
  }

  private static LoggerContext logback() {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (factory instanceof LoggerContext context) {
      return context;
    }
    throw new IllegalStateException(
        "LogCapture needs Logback as the SLF4J backend; found " + factory.getClass().getName());
  }
}
