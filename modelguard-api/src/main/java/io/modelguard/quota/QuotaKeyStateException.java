package io.modelguard.quota;

/**
 * A remote quota store answered, but could not decide for one key: the state it holds under that
 * key is not one it can use (on Redis, a value of another type that another client wrote under the
 * key's name), or the key is, for a while, where the store cannot use it (on Redis Cluster, its
 * slot being migrated to another master beyond the call's timeout). Unlike other {@link
 * QuotaStoreException}s it says nothing about the store's availability, so {@link ResilientQuotaStore} answers the call with its failure policy but does not
 * count it towards opening the circuit that the store's other keys go through (on a probe, the
 * store's answer closes the circuit); it logs it at WARN at most once a minute. The message names
 * the key as the store knows it, for the operator who has to remove it, and says why.
 */
public class QuotaKeyStateException extends QuotaStoreException {
  private static final long serialVersionUID = 1L;

  /**
   * A key's unusable state, described by {@code message}, caused by {@code cause}.
   *
   * @param message what is wrong with the key's state, for logs
   * @param cause the exception that revealed it, or null
   */
  public QuotaKeyStateException(String message, Throwable cause) {
    super(message, cause);
  }
}
