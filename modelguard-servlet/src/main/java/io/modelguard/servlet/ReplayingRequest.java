package io.modelguard.servlet;

import io.modelguard.internal.TextBodies;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.UnsupportedEncodingException;
import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnsupportedCharsetException;
import java.util.Arrays;
import java.util.Objects;

/**
 * The request the servlet sees after a policy read (part of) the body: {@link #getInputStream()}
 * and {@link #getReader()} yield the bytes the policy read followed by whatever the original stream
 * still holds, so nothing is lost. As with any request, only one of the two may be used. {@link
 * #startAsync()} binds the asynchronous context to this request (and the response the filter
 * passed on), so a servlet reading the body through {@code AsyncContext.getRequest()} gets the same
 * bytes: on the container's own request the ones the policy read would be missing.
 */
final class ReplayingRequest extends HttpServletRequestWrapper {
  private final byte[] replay;
  private final boolean complete;
  private final ServletInputStream original;
  private final ServletResponse response;
  private ServletInputStream stream;
  private BufferedReader reader;
  /** The encoding the servlet set, which the container may ignore once a policy read the stream. */
  private String encoding;

  ReplayingRequest(HttpServletRequest request, ServletResponse response, byte[] replay, boolean complete,
      ServletInputStream original) {
    super(request);
    this.response = response;
    this.replay = replay;
    this.complete = complete;
    this.original = original;
  }

  @Override
  public AsyncContext startAsync() {
    return super.startAsync(this, response);
  }

  @Override
  public ServletInputStream getInputStream() {
    if (reader != null) {
      throw new IllegalStateException("getReader() has already been called for this request");
    }
    if (stream == null) {
      stream = new ReplayInputStream(replay, complete, original);
    }
    return stream;
  }

  @Override
  public BufferedReader getReader() throws UnsupportedEncodingException {
    if (stream != null) {
      throw new IllegalStateException("getInputStream() has already been called for this request");
    }
    if (reader == null) {
      reader = new BufferedReader(new InputStreamReader(
          new ReplayInputStream(replay, complete, original), charset()));
    }
    return reader;
  }

  /**
   * Sets the encoding {@link #getReader()} decodes with, until it is called. Kept here as well as
   * passed on: a container may ignore it once the input stream was taken (Jetty does), and a
   * policy that read the body took it.
   */
  @Override
  public void setCharacterEncoding(String name) throws UnsupportedEncodingException {
    if (reader != null) {
      return; // as on any request: no effect once the reader exists
    }
    super.setCharacterEncoding(name);
    encoding = name;
  }

  /** Servlet 6.1's overload (see {@code BufferingResponse.setCharacterEncoding(Charset)}). */
  public void setCharacterEncoding(Charset charset) {
    try {
      setCharacterEncoding(charset == null ? null : charset.name());
    } catch (UnsupportedEncodingException e) {
      throw new UncheckedIOException(e); // a Charset's own name: not expected
    }
  }

  @Override
  public String getCharacterEncoding() {
    return encoding != null ? encoding : super.getCharacterEncoding();
  }

  /**
   * The request's encoding, else the context's default request encoding, else UTF-8 for a JSON
   * body (RFC 8259, and how the input policy read it: Tomcat would decode it as ISO-8859-1, other
   * text than the one checked), else ISO-8859-1.
   */
  private Charset charset() throws UnsupportedEncodingException {
    String name = getCharacterEncoding();
    if (name == null) {
      ServletContext context = getServletContext();
      name = context == null ? null : context.getRequestCharacterEncoding();
    }
    if (name == null) {
      return TextBodies.isJson(getContentType()) ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1;
    }
    try {
      return Charset.forName(name);
    } catch (IllegalCharsetNameException | UnsupportedCharsetException e) {
      UnsupportedEncodingException unsupported = new UnsupportedEncodingException(name);
      unsupported.initCause(e);
      throw unsupported;
    }
  }

  /** The replayed bytes, then the rest of the original stream (unless it is known to be at its end). */
  static final class ReplayInputStream extends ServletInputStream {
    private byte[] replay;
    private boolean complete;
    private final ServletInputStream original;
    private int position;

    ReplayInputStream(byte[] replay, boolean complete, ServletInputStream original) {
      this.replay = replay;
      this.complete = complete;
      this.original = original;
    }

    private boolean replaying() {
      return position < replay.length;
    }

    @Override
    public int read() throws IOException {
      if (replaying()) {
        return replay[position++] & 0xff;
      }
      return complete ? -1 : original.read();
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      Objects.checkFromIndexSize(offset, length, buffer.length);
      if (length == 0) {
        return 0;
      }
      if (replaying()) {
        int n = Math.min(length, replay.length - position);
        System.arraycopy(replay, position, buffer, offset, n);
        position += n;
        return n;
      }
      return complete ? -1 : original.read(buffer, offset, length);
    }

    /**
     * Once the whole body is in the replay buffer, the bulk reads below copy from it directly:
     * {@link java.io.InputStream}'s defaults would allocate an 8 KB buffer (or, to skip, a 2 KB
     * one) a call to read a body of a few hundred bytes. Otherwise they fall back to the defaults,
     * which read the rest of the replay and then the original stream through {@link #read(byte[],
     * int, int)}.
     */
    @Override
    public byte[] readAllBytes() throws IOException {
      return complete ? takeReplayed(replay.length - position) : super.readAllBytes();
    }

    @Override
    public byte[] readNBytes(int length) throws IOException {
      if (length < 0) {
        throw new IllegalArgumentException("length < 0: " + length);
      }
      return complete ? takeReplayed(Math.min(length, replay.length - position)) : super.readNBytes(length);
    }

    @Override
    public long skip(long n) throws IOException {
      if (n <= 0) {
        return 0;
      }
      if (replaying()) {
        int k = (int) Math.min(n, replay.length - position);
        position += k;
        return k;
      }
      return complete ? 0 : original.skip(n);
    }

    @Override
    public long transferTo(OutputStream out) throws IOException {
      Objects.requireNonNull(out, "out");
      if (!complete) {
        return super.transferTo(out);
      }
      int n = replay.length - position;
      out.write(replay, position, n);
      position += n;
      return n;
    }

    private byte[] takeReplayed(int n) {
      byte[] out = Arrays.copyOfRange(replay, position, position + n);
      position += n;
      return out;
    }

    @Override
    public int available() throws IOException {
      return replay.length - position + (complete ? 0 : original.available());
    }

    @Override
    public boolean isFinished() {
      return !replaying() && (complete || original.isFinished());
    }

    @Override
    public boolean isReady() {
      return replaying() || complete || original.isReady();
    }

    /**
     * Registers the listener with the original stream, so the container drives it as usual. If
     * the original stream is already at its end, the container reports only "all data read": the
     * listener is first told that the replayed bytes are available.
     *
     * <p>The policy read in blocking mode, which may have left body bytes in the container's own
     * buffer; Tomcat does not keep those when the stream switches to non-blocking mode. So they are
     * taken into the replay first (reading what {@code available()} reports does not block).
     */
    @Override
    public void setReadListener(ReadListener listener) {
      Objects.requireNonNull(listener, "listener");
      if (!complete) {
        try {
          takeBuffered();
        } catch (IOException e) {
          listener.onError(e);
          return;
        }
      }
      original.setReadListener(new ReadListener() {
        @Override
        public void onDataAvailable() throws IOException {
          listener.onDataAvailable();
        }

        @Override
        public void onAllDataRead() throws IOException {
          if (replaying()) {
            listener.onDataAvailable();
          }
          listener.onAllDataRead();
        }

        @Override
        public void onError(Throwable t) {
          listener.onError(t);
        }
      });
    }

    private void takeBuffered() throws IOException {
      ByteArrayOutputStream taken = new ByteArrayOutputStream();
      taken.write(replay, position, replay.length - position);
      byte[] buffer = new byte[8192];
      for (int available; (available = original.available()) > 0; ) {
        int n = original.read(buffer, 0, Math.min(available, buffer.length));
        if (n < 0) {
          complete = true;
          break;
        }
        taken.write(buffer, 0, n);
      }
      replay = taken.toByteArray();
      position = 0;
    }

    @Override
    public void close() throws IOException {
      original.close();
    }
  }
}
