package io.modelguard.quota;

/**
 * What a {@link ResilientQuotaStore} answers while its shared store is unavailable (failing,
 * timing out, or its circuit open). Chosen in code; the default of every ModelGuard remote store is
 * {@link #localFallback(int) localFallback(1)}. Immutable.
 *
 * <table>
 *   <caption>The three policies</caption>
 *   <tr><th>policy</th><th>during an outage</th><th>risk</th></tr>
 *   <tr><td>{@link #failOpen()}</td><td>every request is allowed, nothing is counted</td>
 *       <td>no limit at all until the store returns</td></tr>
 *   <tr><td>{@link #failClosed()}</td><td>every request is denied with {@code quota.unavailable}
 *       (503, {@code Retry-After} = when the circuit next probes the store)</td>
 *       <td>the API is down while the store is</td></tr>
 *   <tr><td>{@link #localFallback(int) localFallback(n)}</td><td>each node enforces every limit
 *       in memory with {@code quota / n} (at least 1)</td><td>with more than {@code n} nodes the
 *       aggregate exceeds the limit; counts restart when the store returns</td></tr>
 * </table>
 */
public final class FailurePolicy {
  /** The kinds of policy. */
  public enum Mode {
    /** Allow and do not count. */
    FAIL_OPEN,
    /** Deny with {@code quota.unavailable}. */
    FAIL_CLOSED,
    /** Count in memory with each quota divided by the expected number of nodes. */
    LOCAL_FALLBACK
  }

  private static final FailurePolicy OPEN = new FailurePolicy(Mode.FAIL_OPEN, 0);
  private static final FailurePolicy CLOSED = new FailurePolicy(Mode.FAIL_CLOSED, 0);

  private final Mode mode;
  private final int expectedNodes;

  private FailurePolicy(Mode mode, int expectedNodes) {
    this.mode = mode;
    this.expectedNodes = expectedNodes;
  }

  /**
   * Allow every request, uncounted, while the store is unavailable. Such answers carry no
   * rate-limit headers: there is no count to report.
   *
   * @return the shared fail-open policy
   */
  public static FailurePolicy failOpen() {
    return OPEN;
  }

  /**
   * Deny every request with {@code quota.unavailable} while the store is unavailable.
   *
   * @return the shared fail-closed policy
   */
  public static FailurePolicy failClosed() {
    return CLOSED;
  }

  /**
   * Enforce each limit locally with {@code quota / expectedNodes} (at least 1) while the store is
   * unavailable. Set {@code expectedNodes} to the number of nodes sharing the store to keep the
   * aggregate near the limit. A request costing more than a node's share but no more than the
   * quota is answered as with {@link #failClosed()} ({@code quota.unavailable}, retry when the
   * circuit next probes the store), not as a cost that can never pass.
   *
   * @param expectedNodes how many nodes share the store, at least 1
   * @return a new local-fallback policy
   * @throws IllegalArgumentException if {@code expectedNodes < 1}
   */
  public static FailurePolicy localFallback(int expectedNodes) {
    if (expectedNodes < 1) {
      throw new IllegalArgumentException("FailurePolicy.expectedNodes must be at least 1, was " + expectedNodes);
    }
    return new FailurePolicy(Mode.LOCAL_FALLBACK, expectedNodes);
  }

  /** {@return the kind of policy} */
  public Mode mode() {
    return mode;
  }

  /**
   * For {@link Mode#LOCAL_FALLBACK}: the nodes the quota is divided among; 0 otherwise.
   *
   * @return the node count, at least 1 for local fallback; 0 for the other modes
   */
  public int expectedNodes() {
    return expectedNodes;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FailurePolicy && ((FailurePolicy) o).mode == mode && ((FailurePolicy) o).expectedNodes == expectedNodes;
  }

  @Override
  public int hashCode() {
    return mode.hashCode() * 31 + expectedNodes;
  }

  @Override
  public String toString() {
    return mode == Mode.LOCAL_FALLBACK ? "LOCAL_FALLBACK(" + expectedNodes + ")" : mode.name();
  }
}
