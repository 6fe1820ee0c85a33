package io.modelguard.examples;

/**
 * A start-up problem the operator has to fix: a bad flag, an unreadable or invalid configuration
 * file, a bad pepper, a port already in use. Its message is one line that names the flag or the
 * configuration field at fault, and never repeats secret material; {@link ModelServingApp#main}
 * prints it without a stack trace and exits with {@value #EXIT_CODE}.
 */
public final class StartupException extends Exception {
  /** The process exit code for a start-up problem. */
  public static final int EXIT_CODE = 2;

  private static final long serialVersionUID = 1L;

  /** A problem described by {@code message} (one line, naming the flag or field). */
  public StartupException(String message) {
    super(message);
  }

  /** A problem described by {@code message}, caused by {@code cause} (kept for debugging only). */
  public StartupException(String message, Throwable cause) {
    super(message, cause);
  }
}
