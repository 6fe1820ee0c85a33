package io.modelguard.quota;

/**
 * A quota store could not decide: the backend failed, refused or timed out. Thrown by remote
 * stores; {@link ResilientQuotaStore} counts it towards opening its circuit and answers with the
 * failure policy instead.
 */
public class QuotaStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** A failure described by {@code message}. */
  public QuotaStoreException(String message) {
    super(message);
  }

  /** A failure described by {@code message}, caused by {@code cause}. */
  public QuotaStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
