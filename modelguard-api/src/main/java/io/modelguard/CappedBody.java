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
  /** The first read buffer: enough for most JSON inference bodies; doubled as needed. */
  private static final int INITIAL_BUFFER = 1024;

  private final InputStreamSource source;
  private byte[] bytes;
  private boolean complete;
  private int readWithCap = -1;

  /** Supplies the underlying stream, opened at most once. */
  @FunctionalInterface
  public interface InputStreamSource {
    /** Opens the body stream. */
    InputStream open() throws IOException;
  }

  /** A body read lazily from {@code source}. */
  public CappedBody(InputStreamSource source) {
    this.source = Objects.requireNonNull(source, "source");
  }

  /**
   * Reads up to {@code maxBytes}. The returned array is shared with later readers and the replay:
   * callers must not modify it. If the whole body was already read it is returned (or, if it is
   * larger than {@code maxBytes}, refused); if an earlier smaller cap stopped the read, the body is
   * known to be larger than that cap.
   */
  public byte[] read(int maxBytes) throws IOException {
    if (maxBytes < 0 || maxBytes > MAX_CAP) {
      throw new IllegalArgumentException("maxBytes must be in 0.." + MAX_CAP + ", was " + maxBytes);
    }
    if (bytes == null) {
      readFromSource(maxBytes);
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

  /** Whether any of the body has been consumed from the underlying stream. */
  public boolean consumed() {
    return bytes != null;
  }

  /**
   * The bytes read so far, for replay to the application, and whether they are the whole body.
   * When incomplete, the caller continues with the original stream after these bytes.
   */
  public byte[] bytesRead() {
    return bytes == null ? new byte[0] : bytes;
  }

  /** Whether {@link #bytesRead()} is the whole body. */
  public boolean complete() {
    return complete;
  }

  /**
   * Whether a body the client declared (a positive {@code Content-Length}, or chunked transfer
   * encoding) may still have bytes on the connection that nobody read: a denial answered now leaves
   * them there, so the connection must not be reused.
   */
  public boolean leavesUnreadBytes(long declaredLength, boolean chunked) {
    return (declaredLength > 0 || chunked) && !(consumed() && complete);
  }

  private InputStream stream;

  private void readFromSource(int maxBytes) throws IOException {
    stream = source.open();
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
        if (n < 0) {
          eof = true;
          break;
        }
        size += n;
      }
    } finally {
      // Keep what was read even when the stream fails, so a replay loses nothing it had.
      bytes = size == buf.length ? buf : Arrays.copyOf(buf, size);
      complete = eof;
      readWithCap = maxBytes;
    }
  }

  /** The underlying stream, positioned after {@link #bytesRead()}; null before the first read. */
  public InputStream remainder() {
    return stream;
  }
}
