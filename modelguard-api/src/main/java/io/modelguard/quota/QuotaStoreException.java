package io.modelguard.quota;

/**
 * A quota store could not decide: the backend failed, refused or timed out. Thrown by remote
 * stores; {@link ResilientQuotaStore} counts it towards opening its circuit and answers with the
 * failure policy instead. Thrown by a store used without one, it reaches the engine, which answers a
 * fail-closed step's request with {@code quota.unavailable} (503, {@code Retry-After: 1}) rather
 * than {@code internal.error}, and skips a fail-open step ({@link io.modelguard.FailureMode}).
 */
public class QuotaStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * A failure described by {@code message}.
   *
   * @param message what failed, for logs; never sent to a client
   */
  public QuotaStoreException(String message) {
    super(message);
  }

  /**
   * A failure described by {@code message}, caused by {@code cause}.
   *
   * @param message what failed, for logs; never sent to a client
   * @param cause the store's or client's exception, or null
   */
  public QuotaStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
