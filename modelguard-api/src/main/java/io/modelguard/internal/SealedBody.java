package io.modelguard.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.BooleanSupplier;

/**
 * The adapters' view of a request body for the policies, once the application may take it.
 * Internal: not part of the public API.
 */
public final class SealedBody {
  private SealedBody() {}

  /**
   * {@code in}, refusing every read with an {@link IOException} once {@code sealed} says the
   * application ({@code takenBy}: "the application", "the resource") has taken the body: the
   * policies of the response phase then see only what the request policies read of it, never what
   * the application left unread.
   *
   * @param in the body stream; not null
   * @param sealed says whether the application has taken the body; asked before every read
   * @param takenBy who takes the body, for the exception's message
   * @return a stream over {@code in} that fails once sealed
   */
  public static InputStream reading(InputStream in, BooleanSupplier sealed, String takenBy) {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        refuseIfSealed(sealed, takenBy);
        return in.read();
      }

      @Override
      public int read(byte[] buffer, int offset, int length) throws IOException {
        refuseIfSealed(sealed, takenBy);
        return in.read(buffer, offset, length);
      }
    };
  }

  /**
   * Throws if {@code sealed} says the body went to {@code takenBy}.
   *
   * @param sealed whether the rest of the body has been handed on
   * @param takenBy who it went to, for the message
   * @throws IOException if {@code sealed} is true
   */
  public static void refuseIfSealed(BooleanSupplier sealed, String takenBy) throws IOException {
    if (sealed.getAsBoolean()) {
      throw new IOException("the rest of the request body went to " + takenBy + "; policies of the "
          + "response phase see only what the request policies read of it");
    }
  }
}
