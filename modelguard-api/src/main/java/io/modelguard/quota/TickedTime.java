package io.modelguard.quota;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Clock;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The system time in microseconds, kept to about a millisecond in a field that a daemon thread
 * refreshes: the in-memory store's default time for the decisions it grants.
 *
 * <h2>Why</h2>
 *
 * Reading the system clock costs little on its own (a few tens of nanoseconds through the vDSO),
 * but the time-stamp-counter read behind it is ordered: it waits for every earlier load to
 * complete. Over many keys each decision is a few cache misses, and with a clock read at the start
 * of each, the misses of one decision can no longer overlap those of the one before: at 100,000
 * keys visited at random the store made 1.6–1.75 M decisions a second with a clock read per
 * decision and 3.6–4.5 M reading this time instead ({@code QuotaInMemoryBenchmark}): reading a
 * field the ticker refreshed keeps the overlap. Servers
 * that decide at this rate cache their time the same way (nginx reads the clock once per pass of
 * its event loop, and its request limits decide on that time).
 *
 * <h2>What it changes, and what it does not</h2>
 *
 * The time read lags the system clock by up to one tick ({@value #TICK_NANOS} ns) plus however
 * long the thread writing it is held up between reading the clock and writing the time (the
 * ticker waiting to be scheduled: well under a millisecond on an idle machine, milliseconds on a
 * saturated one). It never runs ahead of a time the system clock has shown, and never moves back:
 * a late writer does not replace a later time, and only the reader that starts a ticker writes
 * one, after which readers see it (while it starts, reads are exact). A store deciding on it stays
 * exact with respect to that time: no limit admits more than its quota over any span of the
 * ticked time. Over a span of real time {@code t}, a token bucket admits at most {@code quota + (t
 * + lag) / T} units instead of {@code quota + t / T}: at 1 ms of lag, under one unit more for any
 * rate up to 1,000 a second. Denials are decided again on the exact time ({@link #exactMicros})
 * before they are returned, so a denial and its {@code Retry-After} are exact: a client retrying
 * at {@code Retry-After} is never refused for the lag.
 *
 * <h2>The ticker</h2>
 *
 * One daemon thread for the whole JVM, started by the first read and ended after about a second
 * ({@value #TICKS_PER_CHECK} ticks) in which no one read the time; the next read starts another.
 * It so costs nothing in an idle JVM and holds no class loader after an application stops using
 * it. A read while no ticker runs returns the exact time. Readers write nothing but once a second
 * (the mark that the time is still in use), so a read is two loads from a line every reader
 * shares. If the thread cannot be started, every read returns the exact time.
 */
final class TickedTime {
  /** How often the ticker refreshes the time: 1 ms. */
  static final long TICK_NANOS = 1_000_000;
  /** Ticks between the ticker's checks that someone still reads the time (about a second). */
  static final int TICKS_PER_CHECK = 1000;

  /** No ticker runs: the next read starts one. */
  private static final int STOPPED = 0;
  /** A ticker runs and the time was read since its last check. */
  private static final int READ = 1;
  /** A ticker runs and no one read the time since its last check. */
  private static final int UNREAD = 2;
  /** No ticker can be started: every read is exact. */
  private static final int FAILED = 3;
  /** A reader is starting a ticker: reads are exact until it has published the time. */
  private static final int STARTING = 4;

  private static final VarHandle STATE;
  private static final VarHandle MICROS;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(TickedTime.class, "state", int.class);
      MICROS = MethodHandles.lookup().findVarHandle(TickedTime.class, "micros", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The system's: time from {@link Clock#systemUTC()}, ticked by a daemon thread. */
  static final TickedTime SYSTEM = new TickedTime(() -> QuotaArithmetic.micros(Clock.systemUTC()), TickedTime::startDaemon);

  private final LongSupplier exact;
  private final Starter starter;
  private volatile int state = STOPPED;
  private volatile long micros;

  /**
   * @param exact the exact time in microseconds
   * @param starter runs {@link #tick} about every {@value #TICK_NANOS} ns, until it returns false
   */
  TickedTime(LongSupplier exact, Starter starter) {
    this.exact = exact;
    this.starter = starter;
  }

  /** Starts what calls {@link #tick} until it returns false. */
  @FunctionalInterface
  interface Starter {
    /**
     * @return false if it could not be started
     */
    boolean start(TickedTime time);
  }

  /** The time, in microseconds since the epoch: at most about a tick behind the exact time. */
  long micros() {
    int s = state;
    if (s == READ) {
      return micros;
    }
    return readSlowly(s);
  }

  /** The exact time, in microseconds since the epoch. */
  long exactMicros() {
    return exact.getAsLong();
  }

  private long readSlowly(int s) {
    if (s == UNREAD) {
      // The first read since the ticker's last check marks the time as still in use. If the
      // ticker has just stopped instead, the time it left is a tick old at most.
      STATE.compareAndSet(this, UNREAD, READ);
      return micros;
    }
    if (s == STOPPED && STATE.compareAndSet(this, STOPPED, STARTING)) {
      // Only the reader that starts the ticker publishes a time, and before any reader sees READ.
      long now = exact.getAsLong();
      advanceTo(now);
      state = READ;
      if (!starter.start(this)) {
        state = FAILED;
      }
      return now;
    }
    long now = exact.getAsLong();
    if (s != FAILED) {
      // Starting: the time published next is no older than one handed out meanwhile.
      advanceTo(now);
    }
    return now;
  }

  /**
   * Publishes {@code now} unless a later time already is: the published time never moves back,
   * however late a writer that read the clock earlier gets to write it (a preempted ticker, the
   * starting reader). After the system clock steps back it so stands still until the clock has
   * caught up again.
   */
  private void advanceTo(long now) {
    for (long seen = micros; now > seen; seen = micros) {
      if (MICROS.compareAndSet(this, seen, now)) {
        return;
      }
    }
  }

  /**
   * Refreshes the time: the ticker's work, one call a tick. Every {@value #TICKS_PER_CHECK}th call
   * also checks that the time was read since the last check, and stops the ticker if not.
   *
   * @param count how many ticks the ticker made, this one included
   * @return false if the ticker is to stop (and the next read starts another)
   */
  boolean tick(long count) {
    advanceTo(exact.getAsLong());
    if (count % TICKS_PER_CHECK != 0) {
      return true;
    }
    return STATE.compareAndSet(this, READ, UNREAD) || !STATE.compareAndSet(this, UNREAD, STOPPED);
  }

  /** Gives up the ticker (interrupted or failing; never after it stopped itself): the next read starts another. */
  void abandon() {
    // A reader may move UNREAD to READ meanwhile: try again until the state is STOPPED (or was
    // never this ticker's).
    for (int s = state; s == READ || s == UNREAD; s = state) {
      if (STATE.compareAndSet(this, s, STOPPED)) {
        return;
      }
    }
  }

  /**
   * Starts the daemon thread, without the starting thread's context class loader or inheritable
   * thread locals, so that it holds on to nothing of the application that happened to start it.
   */
  private static boolean startDaemon(TickedTime time) {
    try {
      Thread t = new Thread(null, () -> run(time), "modelguard-quota-clock", 0, false);
      t.setDaemon(true);
      t.setContextClassLoader(null);
      t.start();
      return true;
    } catch (OutOfMemoryError | RuntimeException e) {
      // No thread to be had (a thread limit, a security policy): exact reads from now on.
      return false;
    }
  }

  /**
   * The ticker's loop. It owns the state from the read that started it (STOPPED to READ) until it
   * stops: on its own check ({@link #tick} moved the state to STOPPED, and a reader may already
   * have started the next ticker, whose state this one must then leave alone), or when interrupted
   * or failing, when it hands the state back itself ({@link #abandon}).
   */
  private static void run(TickedTime time) {
    boolean stoppedItself = false;
    try {
      for (long count = 1; !stoppedItself && !Thread.interrupted(); count++) {
        LockSupport.parkNanos(TICK_NANOS);
        stoppedItself = !time.tick(count);
      }
    } finally {
      if (!stoppedItself) {
        time.abandon();
      }
    }
  }
}
