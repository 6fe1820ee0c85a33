package io.modelguard;

/** How a principal proved who it is. */
public enum CredentialKind {
  /** An API key from the configured header. */
  API_KEY,
  /** A bearer token (JWT) from the {@code Authorization} header. */
  BEARER_TOKEN,
  /** A principal established by application code, for example in tests. */
  OTHER
}
