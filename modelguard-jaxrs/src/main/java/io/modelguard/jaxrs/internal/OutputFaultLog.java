package io.modelguard.jaxrs.internal;

import io.modelguard.ModelGuard;
import io.modelguard.internal.LogPace;
import io.modelguard.internal.LogText;
import java.util.Arrays;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Internal to {@code ModelGuardFeature}, which holds one and hands each guarded resource method's
 * request filter its {@link #of} for {@link GuardResponseFilter}. Applications do not use it.
 *
 * <p>The log of what a guarded resource method's response did that the output policies cannot
 * read (a stream, a pre-coded or non-UTF-8 entity, a writer that failed, an entity over the limit):
 * lines of {@link GuardResponseFilter}'s logger at ERROR, at most once a minute (by the engine's
 * clock) per resource method, kind of line and exception class, each saying how many like it went
 * to DEBUG since; the first keeps its stack trace. A client whose input makes a resource misbehave
 * can repeat the request as fast as the server answers, and a stack trace per request would bury
 * every other line. Thread-safe.
 */
public final class OutputFaultLog {
  /** The request property holding the {@link Resource} of the guarded resource method serving the request. */
  public static final String PROPERTY = "io.modelguard.jaxrs.internal.outputFaultLog";

  private static final Logger log = LoggerFactory.getLogger(GuardResponseFilter.class);

  private final LogPace<Key> pace = new LogPace<>(log, "per resource method, kind of line and exception class");

  /** An empty log; one per feature, so that its resource methods share the bound on paced keys. */
  public OutputFaultLog() {}

  /**
   * The log of one resource method's faults.
   *
   * @param resourceMethod names the method with its parameter types, as {@code
   *     "com.example.Models.predict(java.lang.String)"}, so that overloads are paced apart; from
   *     the deployment, never from a request
   * @return the method's log, sharing this log's pacing state with every other resource method's
   * @throws NullPointerException if {@code resourceMethod} is null
   */
  public Resource of(String resourceMethod) {
    return new Resource(this, Objects.requireNonNull(resourceMethod, "resourceMethod"));
  }

  /**
   * Logs {@code format} with {@code args} at ERROR, with the stack trace of {@code thrown} unless
   * it is null, not paced: for a request without a {@link Resource} (which the request filter
   * always sets), so that nothing goes unsaid.
   */
  static void unpaced(Throwable thrown, String format, Object... args) {
    if (thrown == null) {
      log.error(format, args);
      return;
    }
    Object[] withThrown = Arrays.copyOf(args, args.length + 1);
    withThrown[args.length] = LogText.throwable(thrown);
    log.error(format, withThrown);
  }

  /** What a line is paced by: the resource method, the line's format and the class of what was thrown (empty: nothing). */
  private record Key(String method, String line, String thrown) {}

  /** The faults of one resource method, held by its request filter and put in {@link #PROPERTY}. */
  public static final class Resource {
    private final OutputFaultLog faults;
    private final String method;

    private Resource(OutputFaultLog faults, String method) {
      this.faults = faults;
      this.method = method;
    }

    /**
     * Logs {@code format} with {@code args} and the stack trace of {@code thrown} (none if null) at
     * ERROR if no line of this method, format and exception class was logged at ERROR in the
     * minute before {@code guard}'s clock's now, at DEBUG otherwise.
     */
    void log(ModelGuard guard, Throwable thrown, String format, Object... args) {
      Key key = new Key(method, format, thrown == null ? "" : thrown.getClass().getName());
      faults.pace.log(Level.ERROR, key, guard.clock().millis(), thrown, format, args);
    }

    @Override
    public String toString() {
      return "ModelGuard output fault log of " + method;
    }
  }
}
