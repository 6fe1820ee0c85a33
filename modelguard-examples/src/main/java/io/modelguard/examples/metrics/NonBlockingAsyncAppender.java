package io.modelguard.examples.metrics;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.LoggerFactory;

/**
 * Logback's asynchronous appender, made never to hold the thread that logs (a request thread, in
 * the demo): with its queue full, because the sink behind it (stderr, say) has stalled, an event
 * is dropped and counted instead of the thread waiting for room. Logback's own {@code neverBlock}
 * drops in silence, and its discarding threshold drops INFO events (every audit line) long before
 * the queue is full; here nothing is dropped while there is room, and every drop is counted ({@link
 * #droppedEvents()}). Once an event finds room again after drops, one WARN line of the logger
 * named after this class says how many were dropped: logged as any other line (so it goes where
 * that logger's appenders send it, through their queues), or, with {@link #setReportInQueue}, put
 * in this appender's own queue ahead of the event, for the appender that logger's lines go through
 * (the demo's stderr one), where Logback would drop a line logged from inside the appender.
 * {@code neverBlock} cannot be turned off. Thread-safe.
 */
public final class NonBlockingAsyncAppender extends AsyncAppender {
  private static final String REPORT =
      "Appender {}: its queue of {} events was full; {} events dropped ({} since start)";

  private final AtomicLong dropped = new AtomicLong();
  /** Drops not yet reported; written under {@link #offering}. */
  private long unreported;
  private volatile boolean reportInQueue;
  /**
   * Held by the threads that log between their look at the queue's room and their offer: only the
   * appender's worker takes from the queue meanwhile, so the room one saw is still there, and an
   * offer that finds the queue full (which would be a drop in silence) never happens.
   */
  private final Object offering = new Object();

  /** Never blocks; no discarding threshold. */
  public NonBlockingAsyncAppender() {
    super.setNeverBlock(true);
    super.setDiscardingThreshold(0);
  }

  /** Ignored, with a warning in Logback's status, unless {@code true}: this appender never blocks. */
  @Override
  public void setNeverBlock(boolean neverBlock) {
    if (!neverBlock) {
      addWarn("NonBlockingAsyncAppender never blocks; neverBlock=false ignored");
    }
  }

  /**
   * Whether the line that reports drops goes into this appender's own queue rather than to the
   * logger named after this class. Default {@code false}.
   */
  public void setReportInQueue(boolean reportInQueue) {
    this.reportInQueue = reportInQueue;
  }

  /** No event is dropped while the queue has room, whatever its level. */
  @Override
  protected boolean isDiscardable(ILoggingEvent event) {
    return false;
  }

  /**
   * Formats the event (its message, and caller data if included) before taking the lock that
   * orders offers, so that a slow argument ({@code toString} of a large value, or one that logs in
   * turn) costs only its own thread: formatted under the lock, it parked every other thread that
   * logged. Logback's {@link #preprocess} keeps what it computed, so its second call, inside {@code
   * super.append}, does nothing new.
   */
  @Override
  protected void append(ILoggingEvent event) {
    preprocess(event);
    long report;
    synchronized (offering) {
      boolean inQueue = reportInQueue && unreported > 0;
      if (getRemainingCapacity() < (inQueue ? 2 : 1)) {
        dropped.incrementAndGet();
        unreported++;
        return;
      }
      report = unreported;
      unreported = 0;
      if (inQueue) {
        super.append(report(report));
        report = 0;
      }
      super.append(event);
    }
    if (report > 0) {
      LoggerFactory.getLogger(NonBlockingAsyncAppender.class).warn(REPORT, getName(), getQueueSize(), report,
          dropped.get());
    }
  }

  /** The WARN event that reports {@code count} drops, as the logger named after this class would log it. */
  private ILoggingEvent report(long count) {
    Logger logger = ((LoggerContext) getContext()).getLogger(NonBlockingAsyncAppender.class);
    return new LoggingEvent(NonBlockingAsyncAppender.class.getName(), logger, Level.WARN, REPORT, null,
        new Object[] {getName(), getQueueSize(), count, dropped.get()});
  }

  /** How many events were dropped for want of room in the queue since the appender was made. */
  public long droppedEvents() {
    return dropped.get();
  }
}
