package io.modelguard.examples;

import ch.qos.logback.classic.LoggerContext;
import java.time.Duration;
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
 * failed ({@code System.exit}) or was interrupted (SIGTERM while the models train). Closing the
 * app is waited for at most {@link #CLOSE_BOUND}: an app that hangs while closing (a request
 * thread or the audit writer stuck on a stalled disk or pipe) would otherwise keep the log from
 * ever being stopped and the process from exiting. Thread-safe.
 */
public final class DemoShutdown {
  private static final Logger log = LoggerFactory.getLogger(DemoShutdown.class);

  /**
   * How long the hook waits for the app to close before it stops the log anyway: 5 seconds, under
   * the 10 seconds {@code docker stop} leaves a process before it kills it.
   */
  public static final Duration CLOSE_BOUND = Duration.ofSeconds(5);

  private final AtomicReference<AutoCloseable> app = new AtomicReference<>();
  private final Duration closeBound;
  private final Runnable stopLog;

  private DemoShutdown() {
    this(CLOSE_BOUND, DemoShutdown::stopLogback);
  }

  /** For tests: {@code stopLog} instead of stopping Logback, after at most {@code closeBound}. */
  DemoShutdown(Duration closeBound, Runnable stopLog) {
    this.closeBound = closeBound;
    this.stopLog = stopLog;
  }

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
   * The hook's work: closes the app on a thread of its own (a failure is logged), waiting for it
   * at most the bound, then stops the log. Stopping the log writes every line logged before it
   * (each asynchronous appender waits for its queue to drain, up to its {@code maxFlushTime}, one
   * second by default, so a stalled stderr cannot hold up the exit for ever); a line logged after
   * it is dropped, such as those of a close still running past the bound.
   */
  void run() {
    try {
      AutoCloseable started = app.get();
      if (started != null) {
        Thread closer = new Thread(() -> close(started), "modelguard-close");
        closer.setDaemon(true);
        closer.start();
        closer.join(closeBound.toMillis());
        if (closer.isAlive()) {
          log.warn("Stopping took longer than {} ms; the log is stopped without waiting for it",
              closeBound.toMillis());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | OutOfMemoryError e) {
      // No thread to close on: the log is stopped all the same.
      log.warn("Stopping failed", e);
    } finally {
      stopLog.run();
    }
  }

  private static void close(AutoCloseable started) {
    try {
      started.close();
    } catch (Exception e) {
      log.warn("Stopping failed", e);
    }
  }

  private static void stopLogback() {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logback) {
      logback.stop();
    }
  }
}
