package io.modelguard.examples;

import ch.qos.logback.classic.LoggerContext;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of a demo process: the one shutdown hook of the demo's main methods, which closes the
 * server they started (if start-up got that far) and then, last, stops the log. The demo's
 * appenders ({@code logback.xml}) write from queues on daemon threads, so a line still queued when
 * the JVM exits is lost unless the log is stopped first, which writes it. Logback's own shutdown
 * hook would stop the log at the same time as this one stops the server, and lose the lines logged
 * while stopping (the "Stopped" line, the audit lines of the last requests); so the configuration
 * declares none. Installed before start-up ({@link #runMain}), the hook also writes the lines of a
 * start-up that failed ({@code System.exit}) or was interrupted (SIGTERM while the models train).
 *
 * <p>Start-up hands the hook what it started ({@link #closeAtExit}) before it announces it, and the
 * hook, run while start-up is still under way, waits for start-up to either hand it the app or
 * end: so whatever has started is closed before the log is stopped, however close to the
 * announcement the signal came. Waiting for start-up and closing the app together take at most
 * {@link #CLOSE_BOUND}: a start-up that takes longer, or an app that hangs while closing (a request
 * thread or the audit writer stuck on a stalled disk or pipe), would otherwise keep the log from
 * ever being stopped and the process from exiting. Thread-safe.
 */
public final class DemoShutdown {
  private static final Logger log = LoggerFactory.getLogger(DemoShutdown.class);

  /**
   * How long the hook waits for start-up to end and the app to close before it stops the log
   * anyway: 5 seconds, under the 10 seconds {@code docker stop} leaves a process before it kills it.
   */
  public static final Duration CLOSE_BOUND = Duration.ofSeconds(5);

  /** The body of a demo's main method, run by {@link #runMain}. */
  @FunctionalInterface
  public interface Main {
    /**
     * Starts the program, hands what it started to {@code shutdown} ({@link #closeAtExit}) before
     * it announces it, and serves until the process is stopped.
     *
     * @return the exit code: 0 once the server has stopped (or after {@code --help}), non-zero for
     *     a start-up that failed
     */
    int run(DemoShutdown shutdown) throws Exception;
  }

  private final Object lock = new Object();
  private final Duration closeBound;
  private final Runnable stopLog;
  private AutoCloseable app; // guarded by lock
  private boolean startUpEnded; // guarded by lock
  private boolean closing; // guarded by lock

  private DemoShutdown() {
    this(CLOSE_BOUND, DemoShutdown::stopLogback);
  }

  /** For tests: {@code stopLog} instead of stopping Logback, after at most {@code closeBound}. */
  DemoShutdown(Duration closeBound, Runnable stopLog) {
    this.closeBound = closeBound;
    this.stopLog = stopLog;
  }

  /**
   * Runs a main method's body: first registers a JVM shutdown hook (a thread named {@code
   * threadName}) that closes the app given to {@link #closeAtExit}, if any, and then stops the log;
   * then runs {@code main}, and exits with its code unless that is 0. Once {@code main} has
   * returned or thrown, start-up is over for the hook: one run at exit (after a failed start-up,
   * {@code --help}) stops the log at once rather than wait for an app that never comes.
   *
   * @throws Exception what {@code main} throws
   */
  public static void runMain(String threadName, Main main) throws Exception {
    DemoShutdown shutdown = new DemoShutdown();
    Runtime.getRuntime().addShutdownHook(new Thread(shutdown::run, threadName));
    int code;
    try {
      code = main.run(shutdown);
    } finally {
      shutdown.startUpEnded();
    }
    if (code != 0) {
      System.exit(code);
    }
  }

  /**
   * One with no hook, which does nothing at exit: for the demo run inside another program (its
   * tests), which owns the log and stops what it starts.
   */
  public static DemoShutdown none() {
    return new DemoShutdown();
  }

  /**
   * The app to close at exit, before the log is stopped; replaces an earlier one. Start-up calls it
   * before it announces the app (its banner, its "listening" line), so that a stop from then on
   * closes the app.
   *
   * @return true to announce the app; false if the process is already stopping, in which case the
   *     hook closes the app (it waits for this call) and nothing should announce it
   */
  public boolean closeAtExit(AutoCloseable started) {
    synchronized (lock) {
      app = started;
      lock.notifyAll();
      return !closing;
    }
  }

  /** Start-up is over, with or without an app: the hook no longer waits for one. Idempotent. */
  void startUpEnded() {
    synchronized (lock) {
      startUpEnded = true;
      lock.notifyAll();
    }
  }

  /**
   * The hook's work: waits for start-up to hand over the app or end, then closes the app on a
   * thread of its own (a failure is logged), waiting for both at most the bound, then stops the log.
   * Stopping the log writes every line logged before it (each asynchronous appender waits for its
   * queue to drain, up to its {@code maxFlushTime}, one second by default, so a stalled stderr
   * cannot hold up the exit for ever); a line logged after it is dropped, such as those of a
   * start-up or a close still running past the bound.
   */
  void run() {
    try {
      long deadline = System.nanoTime() + closeBound.toNanos();
      AutoCloseable started = awaitStartUp(deadline);
      if (started != null) {
        Thread closer = new Thread(() -> close(started), "modelguard-close");
        closer.setDaemon(true);
        closer.start();
        closer.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
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

  /**
   * Marks the process as stopping, then returns the app once start-up has handed it over, or null
   * once start-up is over without one or at the deadline.
   */
  private AutoCloseable awaitStartUp(long deadline) throws InterruptedException {
    synchronized (lock) {
      closing = true;
      while (app == null && !startUpEnded) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          log.warn("Start-up did not end within {} ms; the log is stopped without waiting for it",
              closeBound.toMillis());
          return null;
        }
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
      return app;
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
