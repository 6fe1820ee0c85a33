package io.modelguard.examples.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.micrometer.core.instrument.FunctionCounter;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The log lines the demo's non-blocking appenders drop are a meter, so a stalled sink shows. */
class DemoMetricsLogDropsTest {
  /** Generous: only turns a worker that never takes its first event into a failure. */
  private static final Duration HANG = Duration.ofSeconds(30);

  private final LoggerContext context = NonBlockingAsyncAppenderTest.newContext();
  private final DemoMetrics metrics = new DemoMetrics(Set.of("digits"), Set.of("acme"), Set.of("burst"));
  private final CountDownLatch stalled = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);

  @AfterEach
  void stop() {
    release.countDown();
    context.stop();
  }

  private double dropped(String appender) {
    FunctionCounter c = metrics.registry().find(DemoMetrics.LOG_EVENTS_DROPPED).tag("appender", appender)
        .functionCounter();
    assertThat(c).as("the counter of %s", appender).isNotNull();
    return c.count();
  }

  /** An appender of {@code queueSize} events in front of a sink that stalls on its first event until released. */
  private NonBlockingAsyncAppender stalledAppender(String name, int queueSize) {
    AppenderBase<ILoggingEvent> sink = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent event) {
        stalled.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    };
    sink.setContext(context);
    sink.setName(name + "-sink");
    sink.start();
    NonBlockingAsyncAppender appender = new NonBlockingAsyncAppender();
    appender.setContext(context);
    appender.setName(name);
    appender.setQueueSize(queueSize);
    appender.addAppender(sink);
    appender.start();
    return appender;
  }

  private ILoggingEvent event(Logger logger, String message) {
    return new LoggingEvent(Logger.FQCN, logger, Level.INFO, message, null, null);
  }

  @Test
  void findsTheAppendersOfTheDemosLogbackConfiguration() throws Exception {
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(DemoMetricsLogDropsTest.class.getResource("/logback.xml"));

    assertThat(metrics.countDroppedLogEvents(context)).containsExactlyInAnyOrder("STDERR_ASYNC", "AUDIT_ASYNC");

    assertThat(metrics.scrape())
        .contains("# TYPE modelguard_demo_log_events_dropped_total counter")
        .contains("modelguard_demo_log_events_dropped_total{appender=\"AUDIT_ASYNC\"} 0.0")
        .contains("modelguard_demo_log_events_dropped_total{appender=\"STDERR_ASYNC\"} 0.0");
  }

  @Test
  void countsTheEventsAnAppenderDroppedAsOfEachScrape() throws Exception {
    Logger logger = context.getLogger("test");
    NonBlockingAsyncAppender appender = stalledAppender("TEST_ASYNC", 1);
    logger.addAppender(appender);
    // Attached twice: still one appender, counted once.
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(appender);
    assertThat(metrics.countDroppedLogEvents(context)).containsExactly("TEST_ASYNC");
    assertThat(dropped("TEST_ASYNC")).isZero();

    appender.doAppend(event(logger, "e1"));
    assertThat(stalled.await(HANG.toSeconds(), TimeUnit.SECONDS)).as("the sink got its first event").isTrue();
    appender.doAppend(event(logger, "e2"));
    appender.doAppend(event(logger, "e3"));
    appender.doAppend(event(logger, "e4"));

    assertThat(appender.droppedEvents()).isEqualTo(2);
    assertThat(dropped("TEST_ASYNC")).isEqualTo(2.0);
    appender.doAppend(event(logger, "e5"));
    assertThat(dropped("TEST_ASYNC")).as("read at each scrape, not at registration").isEqualTo(3.0);
    assertThat(metrics.scrape()).contains("modelguard_demo_log_events_dropped_total{appender=\"TEST_ASYNC\"} 3.0");

    // Logback reconfigured: the stopped appender's drops still count, a new one of its name adds to them.
    logger.detachAndStopAllAppenders();
    context.getLogger(Logger.ROOT_LOGGER_NAME).detachAndStopAllAppenders();
    NonBlockingAsyncAppender successor = stalledAppender("TEST_ASYNC", 1);
    logger.addAppender(successor);
    assertThat(metrics.countDroppedLogEvents(context)).containsExactly("TEST_ASYNC");
    assertThat(dropped("TEST_ASYNC")).as("never goes down").isEqualTo(3.0);
    assertThat(metrics.registry().find(DemoMetrics.LOG_EVENTS_DROPPED).meters()).hasSize(1);
  }

  @Test
  void withoutSuchAppendersThereIsNoSeries() {
    assertThat(metrics.countDroppedLogEvents(context)).isEmpty();

    assertThat(metrics.registry().find(DemoMetrics.LOG_EVENTS_DROPPED).meters()).isEmpty();
  }
}
