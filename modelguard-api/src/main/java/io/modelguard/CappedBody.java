package io.modelguard;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Objects;

/**
 * Adapter helper that reads a request body at most once and never beyond a cap, then hands the
 * same bytes to every later reader. Not thread-safe (one request, one thread).
 */
public final class CappedBody {
  /**
   * The largest cap a caller may ask for: 1 GiB, the largest body limit of a {@code ModelSpec}. The
   * buffer, which doubles as bytes arrive, then never needs more than {@code 2^30 + 1} bytes; with
   * caps up to {@code Integer.MAX_VALUE} it would have asked for an array larger than the JVM
   * allows, an {@link OutOfMemoryError} instead of {@link BodyTooLargeException}.
   */
  public static final int MAX_CAP = 1 << 30;
  /** The most bytes of a refused request's body {@link #discardRest} reads: 1 MiB. */
  public static final long MAX_DISCARDED_BYTES = 1 << 20;
  /** The first read buffer: enough for most JSON inference bodies; doubled as needed. */
  private static final int INITIAL_BUFFER = 1024;

  private final InputStreamSource source;
  private byte[] bytes;
  private boolean complete;
  private int readWithCap = -1;
  /** Why reading stopped short, if the stream failed (checked or not): every later read fails alike. */
  private IOException failure;
  /**
   * Why the source could not be opened, if it threw unchecked (the container refusing the stream):
   * every later read fails with it again, and the source is not opened again.
   */
  private RuntimeException openFailure;

  /** Supplies the underlying stream, opened at most once. */
  @FunctionalInterface
  public interface InputStreamSource {
    /**
     * Opens the body stream.
     *
     * @return the stream, positioned at the body's first byte
     * @throws IOException if the stream cannot be opened
     */
    InputStream open() throws IOException;
  }

  /**
   * A body read lazily from {@code source}.
   *
   * @param source opens the body's stream, at most once and only when first read; not null
   */
  public CappedBody(InputStreamSource source) {
    this.source = Objects.requireNonNull(source, "source");
  }

  /**
   * Reads up to {@code maxBytes}. The returned array is shared with later readers and the replay:
   * callers must not modify it. If the whole body was already read it is returned (or, if it is
   * larger than {@code maxBytes}, refused); if an earlier smaller cap stopped the read, the body is
   * known to be larger than that cap.
   *
   * @param maxBytes the most bytes to accept, 0 to {@link #MAX_CAP}
   * @return the whole body, empty if there is none
   * @throws BodyTooLargeException if the body is larger than {@code maxBytes}
   * @throws IOException if the stream failed, on this read or an earlier one (a {@link
   *     RuntimeException} from the stream included, as the cause: once it fails, the stream is
   *     never read again)
   * @throws RuntimeException what the source threw, unchecked, when it could not open the stream,
   *     on this read or an earlier one (the source is opened at most once): the container refusing
   *     it (an {@link IllegalStateException} once the application took the reader) is the server's
   *     fault, not an unreadable body, so a policy fails on it ({@code internal.error}, logged)
   *     rather than refusing the client's input
   * @throws IllegalArgumentException if {@code maxBytes} is negative or above {@link #MAX_CAP}
   */
  public byte[] read(int maxBytes) throws IOException {
    if (maxBytes < 0 || maxBytes > MAX_CAP) {
      throw new IllegalArgumentException("maxBytes must be in 0.." + MAX_CAP + ", was " + maxBytes);
    }
    if (openFailure != null) {
      throw openFailure;
    }
    if (bytes == null && failure == null) {
      readFromSource(maxBytes);
    }
    if (failure != null) {
      // Not a body too large: what the first reader was told, the next is too.
      throw new IOException("the request body could not be read: " + failure.getMessage(), failure);
    }
    if (!complete && maxBytes > readWithCap) {
      // An earlier, smaller cap stopped early; continue up to the new cap.
      readMore(maxBytes);
    }
    if (!complete || bytes.length > maxBytes) {
      throw new BodyTooLargeException(maxBytes);
    }
    return bytes;
  }

  /** {@return whether any of the body has been consumed from the underlying stream} */
  public boolean consumed() {
    return bytes != null;
  }

  /**
   * The bytes read so far, for replay to the application, and whether they are the whole body.
   * When incomplete, the caller continues with the original stream after these bytes.
   *
   * @return the bytes read so far, empty if nothing was read; shared, so callers must not modify it
   */
  public byte[] bytesRead() {
    return bytes == null ? new byte[0] : bytes;
  }

  /** {@return whether {@link #bytesRead()} is the whole body} */
  public boolean complete() {
    return complete;
  }

  /**
   * Reads and discards the rest of the body of a request refused before it was read, if {@code
   * declaredLength} (-1 when unknown) is at most {@link #MAX_DISCARDED_BYTES} (a body of unknown
   * length: up to that many bytes), and says whether the body was read to its end; call it before
   * sending the denial. A container that closes the connection with body bytes unread makes the
   * kernel reset it, and a client still sending the body may then lose the denial: a broken pipe
   * or a reset instead of the 413 or 401 (seen once in a few dozen 16 KB requests to Jetty 12,
   * which also ends a request's body once its response is complete, so this cannot wait until
   * after the denial). Read to its end, the body leaves the connection usable for the client's next
   * request. A larger body is not read: the adapter denies at once and closes the connection. A
   * client that stops sending holds the thread until the container's idle timeout ends the read,
   * as it would on an allowed request. Never throws: a failed read returns false.
   *
   * @param declaredLength the request's {@code Content-Length}, or -1 if it has none
   * @return true if the whole body has now been read; false if it was too long, or the read failed
   */
  public boolean discardRest(long declaredLength) {
    if (complete) {
      return true;
    }
    if (declaredLength > MAX_DISCARDED_BYTES || openFailure != null) {
      return false; // too long to read here, or a stream that cannot be opened: not opened again
    }
    try {
      InputStream in = stream != null ? stream : source.open();
      byte[] sink = new byte[8192];
      long left = MAX_DISCARDED_BYTES + 1; // one more than the limit: a longer body is not read to its end
      while (true) {
        int n = in.read(sink, 0, (int) Math.min(sink.length, left));
        if (n == 0) {
          n = readOneByte(in, sink, 0);
        }
        if (n < 0) {
          return true;
        }
        left -= n;
        if (left <= 0) {
          return false;
        }
      }
    } catch (IOException | RuntimeException e) {
      // The client is gone, or the body cannot be read here (the application took a reader).
      return false;
    }
  }

  /**
   * Whether a body the client declared (a positive {@code Content-Length}, or chunked transfer
   * encoding) may still have bytes on the connection that nobody read: a denial answered now leaves
   * them there, so the connection must not be reused. Pass {@code chunked} true too for any body of
   * unknown length, such as one without {@code Content-Length} over HTTP/2, which has no chunking.
   *
   * @param declaredLength the request's {@code Content-Length}, or -1 if it has none
   * @param chunked whether the body is chunked or otherwise of unknown length
   * @return true if the connection may hold unread body bytes and must be closed after the response
   */
  public boolean leavesUnreadBytes(long declaredLength, boolean chunked) {
    return (declaredLength > 0 || chunked) && !(consumed() && complete);
  }

  private InputStream stream;

  private void readFromSource(int maxBytes) throws IOException {
    try {
      stream = source.open();
    } catch (IOException e) {
      failure = e;
      throw e;
    } catch (RuntimeException e) {
      // The container refused the stream (an IllegalStateException once the application took the
      // reader, say): remembered, never opened again, and kept unchecked. Wrapped as an I/O failure
      // it became the client's unreadable body (400 input.malformed, logged at DEBUG) instead of
      // the server fault it is, failing the policy (500 internal.error, logged).
      openFailure = e;
      throw e;
    }
    bytes = new byte[0];
    readMore(maxBytes);
  }

  /**
   * Reads on, into one array that starts small and doubles as the body grows (a typical JSON
   * inference body of a few hundred bytes costs one small allocation, not a copy buffer), up to
   * {@code maxBytes + 1} bytes in all: the extra byte tells a body that is too large.
   */
  private void readMore(int maxBytes) throws IOException {
    long limit = (long) maxBytes + 1;
    byte[] buf = bytes.length >= Math.min(limit, INITIAL_BUFFER)
        ? bytes
        : Arrays.copyOf(bytes, (int) Math.min(limit, INITIAL_BUFFER));
    int size = bytes.length;
    boolean eof = false;
    try {
      while (size < limit) {
        if (size == buf.length) {
          buf = Arrays.copyOf(buf, (int) Math.min(limit, 2L * buf.length));
        }
        int n = stream.read(buf, size, buf.length - size);
        if (n == 0) {
          n = readOneByte(stream, buf, size);
        } else if (n > buf.length - size) {
          // Counted as read, bytes it never wrote would have become part of the body.
          throw new IOException("the body stream reported more bytes than it was asked for");
        }
        if (n < 0) {
          eof = true;
          break;
        }
        size += n;
      }
    } catch (IOException e) {
      failure = e;
      throw e;
    } catch (RuntimeException e) {
      // A container's stream may fail unchecked (Jetty's BadMessageException for a broken chunked
      // body, an IllegalStateException): remembered like an I/O failure. Not remembered, a later
      // reader was told the body is too large (a 413), or, with a larger cap, read on past the bytes
      // the failed read had taken and got a body the client never sent.
      failure = new IOException("the body stream failed: " + e.getClass().getName(), e);
      throw failure;
    } finally {
      // Keep what was read even when the stream fails, so a replay loses nothing it had.
      bytes = size == buf.length ? buf : Arrays.copyOf(buf, size);
      complete = eof;
      readWithCap = maxBytes;
    }
  }

  /**
   * After {@code in} returned 0 for a read that asked for bytes (which {@link InputStream#read(byte[],
   * int, int)} must not do), reads one byte with {@link InputStream#read()}, which blocks until it has
   * one or the stream ends, into {@code buf[at]}: 1, or -1 at the end. Without it, such a stream
   * held the request's thread in a loop that never ended and never waited.
   */
  private static int readOneByte(InputStream in, byte[] buf, int at) throws IOException {
    int b = in.read();
    if (b < 0) {
      return -1;
    }
    buf[at] = (byte) b;
    return 1;
  }

  /** {@return the underlying stream, positioned after {@link #bytesRead()}; null before the first read} */
  public InputStream remainder() {
    return stream;
  }
}
