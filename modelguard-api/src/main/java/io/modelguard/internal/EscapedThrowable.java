package io.modelguard.internal;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * A stand-in for an exception in a log line: its message is the original's {@link
 * Throwable#toString()} (class name and message) made fit for one line by {@link LogText#oneLine},
 * its stack trace is the original's, and its cause and suppressed exceptions are stand-ins of the
 * original's. Built by {@link LogText#throwable}; never thrown.
 */
final class EscapedThrowable extends Throwable {
  private static final long serialVersionUID = 1L;

  /** Never records a stack trace of its own: the original's replaces it at once. */
  private EscapedThrowable(String message, Throwable cause) {
    super(message, cause, true, true);
  }

  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }

  /**
   * The stand-in for {@code e}, its causes and then its suppressed exceptions included as long as
   * {@code budget[0]} (decremented for each) lasts; a throwable met a second time (a cycle) becomes
   * a marked leaf. Whatever of {@code e} cannot be read (a {@code toString} or {@code getStackTrace}
   * that throws) is left out or said so: a log line must not depend on it.
   */
  static EscapedThrowable of(Throwable e, int maxChars, int[] budget) {
    return of(e, maxChars, budget, Collections.newSetFromMap(new IdentityHashMap<>()));
  }

  private static EscapedThrowable of(Throwable e, int maxChars, int[] budget, Set<Throwable> seen) {
    budget[0]--;
    String message = LogText.oneLine(describe(e), maxChars);
    if (!seen.add(e)) {
      return new EscapedThrowable("[circular reference] " + message, null);
    }
    Throwable cause = null;
    Throwable[] suppressed = {};
    StackTraceElement[] frames = null;
    try {
      cause = e.getCause();
      suppressed = e.getSuppressed();
      frames = e.getStackTrace();
    } catch (VirtualMachineError fatal) {
      throw fatal;
    } catch (Throwable unreadable) {
      // logged without what could not be read
    }
    EscapedThrowable out = new EscapedThrowable(message,
        cause != null && budget[0] > 0 ? of(cause, maxChars, budget, seen) : null);
    if (frames != null) {
      try {
        out.setStackTrace(frames);
      } catch (NullPointerException nullFrame) {
        // an overridden getStackTrace with a null element: logged without frames
      }
    }
    for (Throwable s : suppressed) {
      if (budget[0] <= 0) {
        break;
      }
      if (s != null) {
        out.addSuppressed(of(s, maxChars, budget, seen));
      }
    }
    return out;
  }

  /** {@code e.toString()}, or its class name and why not if that throws. */
  private static String describe(Throwable e) {
    try {
      return String.valueOf(e);
    } catch (VirtualMachineError fatal) {
      throw fatal;
    } catch (Throwable unreadable) {
      return e.getClass().getName() + " (message not loggable: " + unreadable.getClass().getName() + ")";
    }
  }
}
