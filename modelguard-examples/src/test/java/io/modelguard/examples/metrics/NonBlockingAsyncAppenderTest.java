package io.modelguard.examples.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.AppenderBase;
import io.modelguard.test.LogCapture;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A stalled log sink costs the thread that logs a counted drop, never a wait. */
class NonBlockingAsyncAppenderTest {
  /** Generous: appending is microseconds; this only turns a thread parked for good into a failure. */
  private static final Duration HANG = Duration.ofSeconds(30);

  private final LoggerContext context = newContext();
  private final Logger logger = context.getLogger("test");
  private final StalledSink sink = new StalledSink();

  /** A sink that stalls on its first event until released, as stderr does when nobody reads the pipe. */
  private static final class StalledSink extends AppenderBase<ILoggingEvent> {
    final CountDownLatch stalled = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final BlockingQueue<String> written = new LinkedBlockingQueue<>();

    @Override
    protected void append(ILoggingEvent event) {
      stalled.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      written.add(event.getFormattedMessage());
    }

    /** Waits until {@code message} is written, and returns everything written until then. */
    List<String> awaitWritten(String message) throws InterruptedException {
      List<String> out = new ArrayList<>();
      String m;
      do {
        m = written.take();
        out.add(m);
      } while (!m.equals(message));
      return out;
    }
  }

  /**
   * A Logback context apart from the tests' own, as a configuration file would set it up (also
   * {@link DemoMetricsLogDropsTest}'s).
   */
  static LoggerContext newContext() {
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter());
    return context;
  }

  @AfterEach
  void stop() {
    sink.release.countDown();
    context.stop();
  }

  private NonBlockingAsyncAppender appender(int queueSize, boolean reportInQueue) {
    sink.setContext(context);
    sink.setName("stalled");
    sink.start();
    NonBlockingAsyncAppender appender = new NonBlockingAsyncAppender();
    appender.setContext(context);
    appender.setName("test-async");
    appender.setQueueSize(queueSize);
    appender.setReportInQueue(reportInQueue);
    appender.addAppender(sink);
    appender.start();
    return appender;
  }

  private ILoggingEvent event(String message) {
    return new LoggingEvent(Logger.FQCN, logger, Level.INFO, message, null, null);
  }

  /** Returns once the sink is stuck on its first event. */
  private void awaitStall() throws InterruptedException {
    assertThat(sink.stalled.await(HANG.toSeconds(), TimeUnit.SECONDS))
        .as("the sink got its first event; %s", context.getStatusManager().getCopyOfStatusList()).isTrue();
  }

  /** The queue holds {@code e2} and {@code e3} while the sink is stuck on {@code e1}. */
  private void stallWithAFullQueue(NonBlockingAsyncAppender appender) throws InterruptedException {
    appender.doAppend(event("e1"));
    awaitStall();
    appender.doAppend(event("e2"));
    appender.doAppend(event("e3"));
  }

  @Test
  void aFullQueueDropsAndCountsTheLineInsteadOfParkingTheThreadThatLogs() throws Exception {
    NonBlockingAsyncAppender appender = appender(2, true);
    stallWithAFullQueue(appender);

    assertTimeoutPreemptively(HANG, () -> {
      appender.doAppend(event("e4"));
      appender.doAppend(event("e5"));
    });

    assertThat(appender.droppedEvents()).isEqualTo(2);
    sink.release.countDown();
    assertThat(sink.awaitWritten("e3")).containsExactly("e1", "e2", "e3");
    // Room again: the report goes first, in this appender's own queue, then the line.
    appender.doAppend(event("e6"));
    assertThat(sink.awaitWritten("e6")).containsExactly(
        "Appender test-async: its queue of 2 events was full; 2 events dropped (2 since start)", "e6");
    assertThat(appender.droppedEvents()).isEqualTo(2);
  }

  @Test
  void withoutReportInQueueTheDropsAreReportedThroughTheLoggerNamedAfterTheAppender() throws Exception {
    NonBlockingAsyncAppender appender = appender(2, false);
    stallWithAFullQueue(appender);
    assertTimeoutPreemptively(HANG, () -> appender.doAppend(event("e4")));
    sink.release.countDown();
    sink.awaitWritten("e3");

    try (LogCapture log = LogCapture.of(NonBlockingAsyncAppender.class, Level.WARN)) {
      appender.doAppend(event("e5"));

      assertThat(log.messagesAt(Level.WARN)).containsExactly(
          "Appender test-async: its queue of 2 events was full; 1 events dropped (1 since start)");
    }
    assertThat(sink.awaitWritten("e5")).containsExactly("e5");
  }

  @Test
  void everyLevelIsKeptWhileTheQueueHasRoom() throws Exception {
    NonBlockingAsyncAppender appender = appender(4, false);
    appender.doAppend(event("e1"));
    awaitStall();
    // Logback's own discarding threshold would drop INFO lines once the queue is 80% full.
    for (int i = 2; i <= 5; i++) {
      appender.doAppend(event("e" + i));
    }
    sink.release.countDown();

    assertThat(sink.awaitWritten("e5")).containsExactly("e1", "e2", "e3", "e4", "e5");
    assertThat(appender.droppedEvents()).isZero();
  }

  @Test
  void aThreadFormattingASlowMessageNeverHoldsUpAnotherThreadThatLogs() throws Exception {
    // An argument whose toString is slow (a big collection, a lazy value that does I/O) or logs
    // itself: formatted under the appender's lock, it parked every other thread that logged.
    NonBlockingAsyncAppender appender = appender(8, true);
    CountDownLatch formatting = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    Object slow = new Object() {
      @Override
      public String toString() {
        formatting.countDown();
        try {
          finish.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return "slow";
      }
    };
    Thread first = new Thread(() -> appender.doAppend(
        new LoggingEvent(Logger.FQCN, logger, Level.INFO, "a {} argument", null, new Object[] {slow})), "first");
    first.start();
    assertThat(formatting.await(HANG.toSeconds(), TimeUnit.SECONDS)).isTrue();
    Thread second = new Thread(() -> appender.doAppend(event("quick")), "second");
    second.start();

    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    boolean[] heldByFirst = new boolean[1];
    assertTimeoutPreemptively(HANG, () -> {
      // Until the second thread is done, or waits for a lock the first one holds.
      while (second.isAlive()) {
        ThreadInfo info = threads.getThreadInfo(second.getId());
        if (info != null && info.getLockOwnerId() == first.getId()) {
          heldByFirst[0] = true;
          break;
        }
        Thread.onSpinWait();
      }
    });
    finish.countDown();
    first.join();
    second.join();

    assertThat(heldByFirst[0]).as("the second thread waited for the first one's formatting").isFalse();
    sink.release.countDown();
    List<String> written = sink.awaitWritten("a slow argument");
    assertThat(written).contains("quick");
    assertThat(appender.droppedEvents()).isZero();
  }

  @Test
  void theDemosLoggersGoThroughQueuesThatNeverParkTheThreadThatLogs() throws Exception {
    LoggerContext demo = newContext();
    try {
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(demo);
      configurator.doConfigure(NonBlockingAsyncAppenderTest.class.getResource("/logback.xml"));

      for (Logger l : List.of(demo.getLogger(Logger.ROOT_LOGGER_NAME), demo.getLogger(JsonAuditLog.LOGGER_NAME))) {
        List<Appender<ILoggingEvent>> appenders = new ArrayList<>();
        for (Iterator<Appender<ILoggingEvent>> it = l.iteratorForAppenders(); it.hasNext(); ) {
          appenders.add(it.next());
        }
        assertThat(appenders).as(l.getName()).isNotEmpty().allSatisfy(a ->
            assertThat(a).isInstanceOf(NonBlockingAsyncAppender.class));
      }
    } finally {
      demo.stop();
    }
  }
}
