package io.modelguard.internal;

/** Checks on configured secret bytes. Internal: not part of the public API. */
public final class Secrets {
  private Secrets() {}

  /**
   * Whether {@code secret} is one byte repeated (an unfilled, all-zero buffer, say), which anyone
   * could guess whatever its length; true for an empty array.
   *
   * @param secret the secret's bytes; not null
   * @return true if every byte equals the first
   */
  public static boolean isOneRepeatedByte(byte[] secret) {
    for (byte b : secret) {
      if (b != secret[0]) {
        return false;
      }
    }
    return true;
  }
}
