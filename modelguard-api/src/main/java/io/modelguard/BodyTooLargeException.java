package io.modelguard;

import java.io.IOException;

/** Thrown by {@link InferenceRequest#body(int)} when the body exceeds the cap it was read with. */
public final class BodyTooLargeException extends IOException {
  private static final long serialVersionUID = 1L;

  /** The cap that was exceeded, in bytes. */
  private final int limit;

  /**
   * The body is larger than {@code limit} bytes.
   *
   * @param limit the cap the body exceeded, in bytes
   */
  public BodyTooLargeException(int limit) {
    super("request body exceeds " + limit + " bytes");
    this.limit = limit;
  }

  /** {@return the cap that was exceeded, in bytes} */
  public int limit() {
    return limit;
  }
}
