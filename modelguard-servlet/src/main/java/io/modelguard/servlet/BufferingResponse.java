package io.modelguard.servlet;

import io.modelguard.internal.HeaderNames;
import io.modelguard.internal.RepresentationHeaders;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UnsupportedEncodingException;
import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.UnsupportedCharsetException;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Holds back a servlet's output so the output policies can see and rewrite it before anything is
 * sent. Body bytes, from the output stream or the writer, go to a buffer of at most {@code
 * maxBytes}; past that the buffer is dropped, every later write fails with an {@link IOException}
 * and {@link #overflowed()} says so. The servlet's {@code Content-Length} is ignored (the filter
 * sets the final one); flushing never commits; trailer fields are kept here and never sent, since
 * the output policies cannot see them. Status and other headers go to the real response as usual.
 * {@code sendError} and {@code sendRedirect} pass straight through, {@code sendError} without its
 * message (which the container would show in its error page, unseen by the output policies): the
 * container then writes that response, and the filter leaves it alone. What the servlet wrote, before
 * or after, is dropped: its stream and writer stay this wrapper's, never the container's, since in an
 * include the container ignores both calls and would send later writes to the client as they are.
 * (Servlet 6.1's further {@code sendRedirect} overloads reach the real response directly; the
 * filter sees that response as committed, which both containers report, and leaves it alone too.)
 */
final class BufferingResponse extends GuardHeadersResponse {
  private final int maxBytes;
  private ByteArrayOutputStream buffer = new ByteArrayOutputStream();
  private ServletOutputStream stream;
  private PrintWriter writer;
  private String writerCharset;
  private Charset writerEncoding;
  private boolean passedThrough;
  private boolean overflowed;
  private Supplier<Map<String, String>> trailerFields;

  BufferingResponse(HttpServletResponse response, Map<String, String> guardHeaders, int maxBytes) {
    super(response, guardHeaders);
    this.maxBytes = maxBytes;
  }

  /**
   * Whether the servlet wrote more than the buffer holds; what it wrote is then gone. Characters
   * its writer still holds count: they are flushed into the buffer first, since the writer would
   * swallow the failure of any later flush and the overflow with it.
   */
  boolean overflowed() {
    if (writer != null) {
      writer.flush();
    }
    return overflowed;
  }

  /** Whether the servlet handed the response to the container (error page or redirect). */
  boolean passedThrough() {
    return passedThrough;
  }

  /** Everything the servlet wrote. */
  byte[] captured() {
    if (writer != null) {
      writer.flush();
    }
    return buffer.toByteArray();
  }

  /** The charset the servlet's writer encodes in, or null if it wrote through no writer. */
  Charset writerCharset() {
    return writerEncoding;
  }

  /** Drops what was written and anything written later. */
  void discard() {
    if (overflowed) {
      return; // already dropped, and later writes fail
    }
    buffer = new ByteArrayOutputStream() {
      @Override
      public void write(int b) {}

      @Override
      public void write(byte[] b, int off, int len) {}
    };
  }

  @Override
  public ServletOutputStream getOutputStream() throws IOException {
    if (writer != null) {
      throw new IllegalStateException("getWriter() has already been called for this response");
    }
    if (stream == null) {
      stream = new CapturingStream();
    }
    return stream;
  }

  @Override
  public PrintWriter getWriter() throws IOException {
    if (stream != null) {
      throw new IllegalStateException("getOutputStream() has already been called for this response");
    }
    if (writer == null) {
      String name = getCharacterEncoding();
      Charset charset;
      try {
        charset = Charset.forName(name);
      } catch (IllegalCharsetNameException | UnsupportedCharsetException e) {
        UnsupportedEncodingException unsupported = new UnsupportedEncodingException(name);
        unsupported.initCause(e);
        throw unsupported;
      }
      // As a container does when its writer is taken: the charset becomes part of Content-Type.
      super.setCharacterEncoding(name);
      writerCharset = name;
      writerEncoding = charset;
      writer = new PrintWriter(new OutputStreamWriter(new CapturingStream(), charset));
    }
    return writer;
  }

  @Override
  public void setCharacterEncoding(String charset) {
    if (writer == null) {
      super.setCharacterEncoding(charset);
    }
  }

  /**
   * Servlet 6.1's overload, kept to {@link #setCharacterEncoding(String)}'s rule (no change once
   * the writer exists). Compiled against Servlet 6.0, which lacks it, it overrides the 6.1
   * wrapper's method where the container has one; without it, 6.1's wrapper would relabel the
   * held body with a charset it was not written in.
   */
  public void setCharacterEncoding(Charset charset) {
    setCharacterEncoding(charset == null ? null : charset.name());
  }

  @Override
  public void setContentType(String type) {
    super.setContentType(type);
    if (writerCharset != null && type != null) {
      super.setCharacterEncoding(writerCharset); // the writer's charset cannot change any more
    }
  }

  @Override
  public void setContentLength(int length) {
    // The output policies may change the length; the filter sets the final one.
  }

  @Override
  public void setContentLengthLong(long length) {
    // As setContentLength.
  }

  @Override
  public void setHeader(String name, String value) {
    if (relabels(name, value)) {
      setContentType(value);
    } else if (passes(name)) {
      super.setHeader(name, value);
    }
  }

  @Override
  public void addHeader(String name, String value) {
    if (relabels(name, value)) {
      setContentType(value);
    } else if (passes(name)) {
      super.addHeader(name, value);
    }
  }

  @Override
  public void setIntHeader(String name, int value) {
    if (passes(name)) {
      super.setIntHeader(name, value);
    }
  }

  @Override
  public void addIntHeader(String name, int value) {
    if (passes(name)) {
      super.addIntHeader(name, value);
    }
  }

  @Override
  public void setDateHeader(String name, long date) {
    if (passes(name)) {
      super.setDateHeader(name, date);
    }
  }

  @Override
  public void addDateHeader(String name, long date) {
    if (passes(name)) {
      super.addDateHeader(name, date);
    }
  }

  /**
   * Whether the servlet sets a {@code Content-Type} header that must go through {@link
   * #setContentType}: once its writer exists, since that keeps the writer's charset, as a container's
   * own response does (straight to the response, it would relabel the held body with a charset it
   * was not written in); and under a name that reads as {@code Content-Type} only on the wire
   * ({@code "Content-Type "}, see {@link HeaderNames}), which the container would send as a second
   * type beside the one the output policies read.
   */
  private boolean relabels(String name, String value) {
    return value != null && HeaderNames.reads(name, "Content-Type")
        && (writerCharset != null || !"Content-Type".equalsIgnoreCase(name));
  }

  /**
   * Whether a header the servlet sets reaches the response: not {@code Content-Length}, which the
   * filter sets once the output policies ran, nor a header describing the servlet's own output
   * ({@link RepresentationHeaders}), which the policies may rewrite, nor a name that reads as {@code
   * Content-Type} only on the wire; each name as a recipient may read it ({@link HeaderNames}), so
   * that {@code "ETag "} does not pass either.
   */
  private static boolean passes(String name) {
    return !RepresentationHeaders.describesTheOutput(name);
  }

  /** Keeps the trailer fields from the client: the output policies cannot see or rewrite them. */
  @Override
  public void setTrailerFields(Supplier<Map<String, String>> supplier) {
    trailerFields = supplier;
  }

  @Override
  public Supplier<Map<String, String>> getTrailerFields() {
    return trailerFields;
  }

  @Override
  public void flushBuffer() throws IOException {
    if (passedThrough) {
      super.flushBuffer();
    } else if (writer != null) {
      writer.flush(); // into the buffer; nothing is committed before the output policies ran
    }
  }

  @Override
  public boolean isCommitted() {
    return passedThrough && super.isCommitted();
  }

  @Override
  public void resetBuffer() {
    if (passedThrough) {
      super.resetBuffer();
      return;
    }
    if (writer != null) {
      writer.flush();
    }
    buffer.reset();
  }

  /** Clears status, headers, body and the choice of stream or writer; keeps the guard's headers. */
  @Override
  public void reset() {
    super.reset(); // the container's reset, then the guard's headers again
    if (!passedThrough) {
      buffer.reset();
      stream = null;
      writer = null;
      writerCharset = null;
      writerEncoding = null;
    }
  }

  /** As {@link #sendError(int)}: the message is model output the output policies did not see. */
  @Override
  public void sendError(int status, String message) throws IOException {
    sendError(status);
  }

  /**
   * Passes through: the container writes the error page. An informational status ends nothing:
   * Jetty sends {@code sendError(102)} and {@code sendError(103)} (Early Hints), Tomcat {@code
   * 103}, as interim responses, and the servlet's answer is still held for the output policies (a
   * container that made one final would commit the response, and the filter withholds the output).
   */
  @Override
  public void sendError(int status) throws IOException {
    if (status < 100 || status > 199) {
      passThrough();
    }
    super.sendError(status);
  }

  @Override
  public void sendRedirect(String location) throws IOException {
    passThrough();
    super.sendRedirect(location);
  }

  /**
   * Drops what the servlet wrote and all it writes from now on: the container answers, or, in an
   * include, ignores the error or redirect, and would send the servlet's later writes as they are,
   * past the output policies, if they reached its own stream.
   */
  private void passThrough() {
    if (writer != null) {
      writer.flush();
    }
    discard();
    passedThrough = true;
  }

  /** Makes room for {@code len} more bytes, or drops the buffer for good if they do not fit. */
  private void reserve(int len) throws IOException {
    if (!overflowed && len > maxBytes - buffer.size()) {
      overflowed = true;
      buffer = new ByteArrayOutputStream(0);
    }
    if (overflowed) {
      throw new IOException("ModelGuard: the response exceeds the " + maxBytes
          + " bytes the output policies may buffer; it is withheld");
    }
  }

  /** Writes into the buffer. */
  private final class CapturingStream extends ServletOutputStream {
    @Override
    public void write(int b) throws IOException {
      reserve(1);
      buffer.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      reserve(len);
      buffer.write(b, off, len);
    }

    @Override
    public boolean isReady() {
      return true;
    }

    @Override
    public void setWriteListener(WriteListener listener) {
      // Writes never block, so the servlet may write at once.
      try {
        listener.onWritePossible();
      } catch (IOException e) {
        listener.onError(e);
      }
    }
  }
}
