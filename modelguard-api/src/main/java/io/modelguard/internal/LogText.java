package io.modelguard.internal;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Client-written text made fit for one log line. Internal: not part of the public API.
 */
public final class LogText {
  /** The most characters of one exception's class name and message that {@link #throwable} keeps. */
  static final int MAX_THROWABLE_CHARS = 1024;
  /** The most exceptions (the one given, its causes and suppressed ones) that {@link #throwable} keeps. */
  static final int MAX_THROWABLES = 16;

  private LogText() {}

  /**
   * {@code e} made fit to be logged with its stack trace. When every exception in it ({@code e},
   * its causes and suppressed ones, at most {@value #MAX_THROWABLES} in all, none met twice) reads
   * as text that {@link #oneLine} leaves as it is, by {@code toString}, {@code getMessage} and
   * {@code getLocalizedMessage} alike, {@code e} itself, so that a logging backend or error tracker
   * sees its real classes. Otherwise a stand-in whose message is {@code e}'s class name and message
   * passed through {@link #oneLine} (cut at {@value #MAX_THROWABLE_CHARS} characters), whose stack
   * trace is {@code e}'s, and whose cause and suppressed exceptions are stand-ins of {@code e}'s in
   * turn, at most {@value #MAX_THROWABLES} exceptions in all; a backend prints it as {@code
   * io.modelguard.internal.EscapedThrowable: java.lang.Exception: bad?value} followed by {@code
   * e}'s frames. Either way an exception message that carries client text (a header, a URL, a JSON
   * field) can neither start a forged log line nor reorder one. Never throws for what {@code e}
   * does: a {@code toString} that throws is logged as the class name.
   *
   * @param e the exception to log; not null
   * @return {@code e} itself, or an escaped stand-in for it
   */
  public static Throwable throwable(Throwable e) {
    return fitAsItIs(e) ? e : EscapedThrowable.of(e, MAX_THROWABLE_CHARS, new int[] {MAX_THROWABLES});
  }

  /**
   * Whether {@code e} can be logged as it is: at most {@value #MAX_THROWABLES} exceptions reachable
   * by causes and suppressed ones, none reached twice, none whose text {@link #oneLine} would change
   * and none that throws when read.
   */
  private static boolean fitAsItIs(Throwable e) {
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    Deque<Throwable> next = new ArrayDeque<>();
    next.push(e);
    while (!next.isEmpty()) {
      Throwable t = next.pop();
      if (!seen.add(t) || seen.size() > MAX_THROWABLES) {
        return false;
      }
      try {
        if (!asItIs(String.valueOf(t)) || !asItIs(t.getMessage()) || !asItIs(t.getLocalizedMessage())) {
          return false;
        }
        Throwable cause = t.getCause();
        if (cause != null) {
          next.push(cause);
        }
        for (Throwable s : t.getSuppressed()) {
          if (s != null) {
            next.push(s);
          }
        }
      } catch (VirtualMachineError fatal) {
        throw fatal;
      } catch (Throwable unreadable) {
        return false;
      }
    }
    return true;
  }

  private static boolean asItIs(String text) {
    return text == null || oneLine(text, MAX_THROWABLE_CHARS) == text;
  }

  /**
   * {@code e}'s message alone, through {@link #oneLine} with {@code maxChars}: for a log line that
   * names an exception without its stack trace. {@code "null"} for an exception without one.
   *
   * @param e the exception; not null
   * @param maxChars the most characters kept, not negative
   * @return the escaped and cut message
   */
  public static String message(Throwable e, int maxChars) {
    return oneLine(String.valueOf(e.getMessage()), maxChars);
  }

  /**
   * {@code text} with every control character, Unicode line or paragraph separator and
   * bidirectional control (embedding, override, isolate or mark) replaced by {@code ?}, so it can neither start a
   * forged log line nor make the rest of one display in another order, and cut after {@code maxChars} characters
   * (marked with {@code …}), so one request cannot flood the log. Returns {@code text} itself when
   * nothing needs changing.
   *
   * @param text the text to log; not null
   * @param maxChars the most characters kept, not negative
   * @return the escaped and cut text, or {@code text} itself
   */
  public static String oneLine(String text, int maxChars) {
    int n = Math.min(text.length(), maxChars);
    if (n > 0 && n < text.length() && Character.isHighSurrogate(text.charAt(n - 1))
        && Character.isLowSurrogate(text.charAt(n))) {
      n--; // a cut between the two halves of a pair would leave an unencodable lone surrogate
    }
    StringBuilder b = null;
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029' || isBidiControl(c)) {
        if (b == null) {
          b = new StringBuilder(n + 1).append(text, 0, i);
        }
        b.append('?');
      } else if (b != null) {
        b.append(c);
      }
    }
    String head = b != null ? b.toString() : n == text.length() ? text : text.substring(0, n);
    return n < text.length() ? head + "…" : head;
  }

  /**
   * U+202A to U+202E (embeddings, overrides), U+2066 to U+2069 (isolates), and the marks U+200E,
   * U+200F and U+061C (left-to-right, right-to-left, Arabic letter), which reorder less but still
   * change how neighbouring text displays.
   */
  private static boolean isBidiControl(char c) {
    return (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069')
        || c == '\u200e' || c == '\u200f' || c == '\u061c';
  }
}
