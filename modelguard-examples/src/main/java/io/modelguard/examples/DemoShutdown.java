package io.modelguard.examples;

import ch.qos.logback.classic.LoggerContext;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of a demo process: the one shutdown hook of the demo's main methods, which closes the
 * server they started (if start-up got that far) and then, last, stops the log. The demo's
 * appenders ({@code logback.xml}) write from queues on daemon threads, so a line still queued when
 * the JVM exits is lost unless the log is stopped first, which writes it. Logback's own shutdown
 * hook would stop the log at the same time as this one stops the server, and lose the lines logged
 * while stopping (the "Stopped" line, the audit lines of the last requests); so the configuration
 * declares none. Installed before start-up, the hook also writes the lines of a start-up that
 * failed ({@code System.exit}) or was interrupted (SIGTERM while the models train). Thread-safe.
 */
public final class DemoShutdown {
  private static final Logger log = LoggerFactory.getLogger(DemoShutdown.class);

  private final AtomicReference<AutoCloseable> app = new AtomicReference<>();

  private DemoShutdown() {}

  /**
   * Registers a JVM shutdown hook (a thread named {@code threadName}) that closes the app given to
   * {@link #closeAtExit}, if any, and then stops the log. For main methods: call it first.
   */
  public static DemoShutdown install(String threadName) {
    DemoShutdown shutdown = new DemoShutdown();
    Runtime.getRuntime().addShutdownHook(new Thread(shutdown::run, threadName));
    return shutdown;
  }

  /**
   * One with no hook, which does nothing at exit: for the demo run inside another program (its
   * tests), which owns the log and stops what it starts.
   */
  public static DemoShutdown none() {
    return new DemoShutdown();
  }

  /** The app to close at exit, before the log is stopped; replaces an earlier one. */
  public void closeAtExit(AutoCloseable started) {
    app.set(started);
  }

  /**
   * The hook's work: closes the app (a failure is logged), then stops the log. Stopping the log
   * writes every line logged before it (each asynchronous appender waits for its queue to drain, up
   * to its {@code maxFlushTime}, one second by default, so a stalled stderr cannot hold up the exit
   * for ever); a line logged after it is dropped.
   */
  private void run() {
    try {
      AutoCloseable started = app.get();
      if (started != null) {
        started.close();
      }
    } catch (Exception e) {
      log.warn("Stopping failed", e);
    } finally {
      if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logback) {
        logback.stop();
      }
    }
  }
}
