package io.modelguard.examples;

import java.util.Objects;
import java.util.Optional;

/**
 * An API key the demo set up at start-up, as shown in the start-up banner. {@link #toString()}
 * never prints the plaintext.
 *
 * @param label what the key is for in the demo, such as {@code free} or {@code expired}
 * @param subject the client it authenticates as
 * @param tenant the client's tenant
 * @param tier the client's tier
 * @param key the plaintext, present only for keys generated at start-up (a key supplied in the
 *     configuration file is not repeated)
 * @param status whether the key works
 */
public record DemoKey(String label, String subject, String tenant, String tier, Optional<String> key, Status status) {

  /** Whether a key authenticates. */
  public enum Status {
    /** The key works. */
    ACTIVE,
    /** The key was revoked: requests get {@code 401 auth.invalid_api_key}. */
    REVOKED,
    /** The key has expired: requests get {@code 401 auth.invalid_api_key}. */
    EXPIRED
  }

  /** Checks that no component is null. */
  public DemoKey {
    Objects.requireNonNull(label, "label");
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(tier, "tier");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(status, "status");
  }

  /** The plaintext key, for callers that know it was generated. */
  public String plaintext() {
    return key.orElseThrow(() -> new IllegalStateException("key '" + label + "' came from the configuration file"));
  }

  /** Describes the key without its plaintext. */
  @Override
  public String toString() {
    return "DemoKey[" + label + ", subject=" + subject + ", tenant=" + tenant + ", tier=" + tier
        + ", status=" + status + "]";
  }
}
