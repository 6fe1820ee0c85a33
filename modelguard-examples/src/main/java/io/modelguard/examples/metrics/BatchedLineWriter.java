package io.modelguard.examples.metrics;

import java.io.IOException;
import java.io.Writer;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.slf4j.LoggerFactory;

/**
 * Lines handed over by request threads and written by one background thread, a batch at a time
 * with one flush: a line per request then costs its thread a queue insertion instead of a lock and
 * a write system call (what flushing each line did). The writer wakes every {@value
 * #FLUSH_INTERVAL_MILLIS} ms, so a line reaches the file within about that much of being added.
 *
 * <p>Nothing is dropped while the file is being written: with {@value #MAX_PENDING} lines waiting,
 * adders wait for the writer, parked (backpressure; the demo's logback queue drops instead). But an
 * adder is a request thread, and a stalled disk must not hold it for good: one that has waited {@link
 * #MAX_WAIT} (by default) without the writer making room drops its line, the first drop of a
 * stall is logged at ERROR and the number dropped once the writer gets going again. {@link
 * #close()} writes every line added before it and closes the writer; lines offered afterwards are
 * refused with {@link IllegalStateException}, and a line offered while it runs is either written or
 * refused so, never lost in silence. If writing fails (an {@link IOException} or any other
 * exception of the writer's), the failure is logged once and later lines are discarded, so that
 * request threads never wait on a dead disk; the lines of the failed batch count as lost with
 * them ({@link #lost()}), since none was flushed (a line counts as written once a flush after it
 * succeeded, so one the writer still passed on before failing may be in the file too). Thread-safe.
 */
final class BatchedLineWriter implements Consumer<String>, AutoCloseable {
  /** How long the writer sleeps between batches. */
  static final long FLUSH_INTERVAL_MILLIS = 5;
  /** Lines waiting beyond which adders wait. */
  static final int MAX_PENDING = 65_536;
  /** How long an adder waits, by default, for the writer to make room before it drops its line. */
  static final Duration MAX_WAIT = Duration.ofSeconds(1);
  /** How long a waiting adder (or flush) parks before it looks again. */
  private static final long WAIT_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

  private final ConcurrentLinkedQueue<String> pending = new ConcurrentLinkedQueue<>();
  private final AtomicInteger waiting = new AtomicInteger();
  /** Adders between their check of {@link #closing} and the end of their queueing, which close() waits for. */
  private final AtomicInteger adding = new AtomicInteger();
  private final AtomicLong lost = new AtomicLong();
  /** Lines dropped by adders that waited {@link #maxWaitNanos} since the writer last said so. */
  private final AtomicLong droppedUnreported = new AtomicLong();
  private final long maxWaitNanos;
  /** Lines added so far. */
  private final AtomicLong added = new AtomicLong();
  /** Lines written (and flushed) or lost so far; only the thread draining writes it. */
  private volatile long done;
  private final Writer out;
  private final String name;
  private final Thread writer;
  /** Runs in accept() between the check of {@link #closing} and the queueing (tests). */
  private final Runnable beforeQueueing;
  private volatile boolean closing;
  private volatile boolean failed;

  /** Starts the writer thread; {@code name} says in log lines and the thread's name what is written. */
  BatchedLineWriter(Writer out, String name) {
    this(out, name, MAX_WAIT, () -> { });
  }

  /**
   * As {@link #BatchedLineWriter(Writer, String)}, an adder waiting at most {@code maxWait} for room
   * before it drops its line, and running {@code beforeQueueing} in every accept() (tests).
   */
  BatchedLineWriter(Writer out, String name, Duration maxWait, Runnable beforeQueueing) {
    this.out = Objects.requireNonNull(out, "out");
    this.name = Objects.requireNonNull(name, "name");
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("maxWait must not be negative");
    }
    this.maxWaitNanos = maxWait.compareTo(Duration.ofDays(365)) > 0 ? Long.MAX_VALUE : maxWait.toNanos();
    this.beforeQueueing = Objects.requireNonNull(beforeQueueing, "beforeQueueing");
    this.writer = new Thread(this::run, "modelguard-" + name + "-writer");
    writer.setDaemon(true);
    writer.start();
  }

  /**
   * Queues {@code line} (without its line break), waiting while {@value #MAX_PENDING} lines are; if
   * the writer makes no room within the maximum wait, drops it instead (see the class comment).
   *
   * @throws IllegalStateException after {@link #close()}
   */
  @Override
  public void accept(String line) {
    Objects.requireNonNull(line, "line");
    if (waiting.get() >= MAX_PENDING && !awaitRoom()) {
      drop();
      return;
    }
    // Announced before closing is read, and close() reads adding after it sets closing (both
    // volatile): either this adder sees closing, or close() waits for its line to be queued.
    adding.incrementAndGet();
    try {
      if (closing) {
        throw new IllegalStateException("the " + name + " is closed");
      }
      beforeQueueing.run();
      waiting.incrementAndGet();
      pending.add(line);
      added.incrementAndGet();
    } finally {
      adding.decrementAndGet();
    }
  }

  /**
   * Waits, parked, until fewer than {@value #MAX_PENDING} lines wait, for at most the maximum wait.
   * Returns whether the line may be queued: false if the time ran out, or if the writer died
   * without being closed (nothing would ever write the line, and the queue would grow without
   * bound); true once close() stopped it, for accept() to refuse the line.
   */
  private boolean awaitRoom() {
    long start = System.nanoTime();
    while (waiting.get() >= MAX_PENDING) {
      if (!writer.isAlive()) {
        return closing;
      }
      long left = maxWaitNanos - (System.nanoTime() - start);
      if (left <= 0) {
        return false;
      }
      LockSupport.unpark(writer);
      // Parked, not spinning: on a disk that has stalled, every request thread would otherwise
      // burn a core until it gives up.
      LockSupport.parkNanos(this, Math.min(WAIT_NANOS, left));
    }
    return true;
  }

  private void drop() {
    lost.incrementAndGet();
    if (droppedUnreported.getAndIncrement() == 0) {
      LoggerFactory.getLogger(BatchedLineWriter.class).error(
          "The {} has not written any of its {} waiting lines for {} ms: lines are dropped until it writes again",
          name, MAX_PENDING, TimeUnit.NANOSECONDS.toMillis(maxWaitNanos));
    }
  }

  /**
   * Returns once every line added before the call is written and flushed (or lost to a failing
   * disk), without waiting for the writer's next wake-up: for readers of the file, such as tests,
   * that must see what was logged so far.
   */
  void flush() {
    long target = added.get();
    while (done < target && writer.isAlive()) {
      LockSupport.unpark(writer);
      LockSupport.parkNanos(this, WAIT_NANOS);
    }
  }

  /** Writes every line queued so far, stops the writer thread and closes the underlying writer. */
  @Override
  public void close() {
    closing = true;
    // An adder that passed the closing check queues its line before the final drain below, or it
    // would be lost in silence; queueing takes no lock and no wait, so this is brief.
    while (adding.get() > 0) {
      LockSupport.parkNanos(this, WAIT_NANOS);
    }
    LockSupport.unpark(writer);
    boolean interrupted = false;
    while (writer.isAlive()) {
      try {
        writer.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    // The writer's last batch may have started before the last adder queued: this thread is now
    // the only one writing.
    drain();
    try {
      out.close();
    } catch (IOException | RuntimeException e) {
      fail(e);
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    while (true) {
      // Read before draining: a close() seen here means every line added before it is queued.
      boolean last = closing;
      drain();
      if (last) {
        return;
      }
      LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(FLUSH_INTERVAL_MILLIS));
    }
  }

  private void drain() {
    int n = 0;
    // Lines of this batch handed to the writer and not flushed yet: a line counts as written only
    // once a flush after it succeeded, so a failure loses them too (as the log line says).
    int unflushed = 0;
    for (String line = pending.poll(); line != null; line = pending.poll()) {
      n++;
      if (failed) {
        lost.incrementAndGet();
        continue;
      }
      try {
        out.write(line);
        out.write('\n');
        unflushed++;
      } catch (IOException | RuntimeException e) {
        // Unchecked ones too (an UncheckedIOException, say): they would end this thread, and
        // lines would then be queued with nothing left to write them.
        lost.addAndGet(unflushed + 1L);
        fail(e);
      }
    }
    if (n > 0) {
      waiting.addAndGet(-n);
      if (!failed) {
        try {
          out.flush();
        } catch (IOException | RuntimeException e) {
          lost.addAndGet(n);
          fail(e);
        }
      }
      done += n;
      long dropped = failed ? 0 : droppedUnreported.getAndSet(0);
      if (dropped > 0) {
        LoggerFactory.getLogger(BatchedLineWriter.class).warn("The {} is written again; {} lines were dropped "
            + "while it was not", name, dropped);
      }
    }
  }

  private void fail(Exception e) {
    if (!failed) {
      failed = true;
      LoggerFactory.getLogger(BatchedLineWriter.class).error(
          "The {} could not be written ({}: {}); the lines of that batch and every later line are lost",
          name, e.getClass().getSimpleName(), e.getMessage());
    }
  }

  /** Lines not written: writing failed, or their adders gave up waiting for room. */
  long lost() {
    return lost.get();
  }
}
