package io.modelguard.servlet;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UnsupportedEncodingException;
import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.UnsupportedCharsetException;
import java.util.Map;

/**
 * Holds back a servlet's output so the output policies can see and rewrite it before anything is
 * sent. Body bytes, from the output stream or the writer, go to a buffer; the servlet's {@code
 * Content-Length} is ignored (the filter sets the final one); flushing never commits. Status and
 * other headers go to the real response as usual. {@code sendError} and {@code sendRedirect} pass
 * straight through: the container then writes that response, and the filter leaves it alone.
 * (Servlet 6.1's further {@code sendRedirect} overloads reach the real response directly; the
 * filter sees that response as committed, which both containers report, and leaves it alone too.)
 */
final class BufferingResponse extends HttpServletResponseWrapper {
  private final Map<String, String> guardHeaders;
  private ByteArrayOutputStream buffer = new ByteArrayOutputStream();
  private ServletOutputStream stream;
  private PrintWriter writer;
  private String writerCharset;
  private boolean passedThrough;

  BufferingResponse(HttpServletResponse response, Map<String, String> guardHeaders) {
    super(response);
    this.guardHeaders = guardHeaders;
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

  /** Drops what was written and anything written later. */
  void discard() {
    buffer = new ByteArrayOutputStream() {
      @Override
      public void write(int b) {}

      @Override
      public void write(byte[] b, int off, int len) {}
    };
  }

  @Override
  public ServletOutputStream getOutputStream() throws IOException {
    if (passedThrough) {
      return super.getOutputStream();
    }
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
    if (passedThrough) {
      return super.getWriter();
    }
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
    if (!isContentLength(name)) {
      super.setHeader(name, value);
    }
  }

  @Override
  public void addHeader(String name, String value) {
    if (!isContentLength(name)) {
      super.addHeader(name, value);
    }
  }

  @Override
  public void setIntHeader(String name, int value) {
    if (!isContentLength(name)) {
      super.setIntHeader(name, value);
    }
  }

  @Override
  public void addIntHeader(String name, int value) {
    if (!isContentLength(name)) {
      super.addIntHeader(name, value);
    }
  }

  private static boolean isContentLength(String name) {
    return "Content-Length".equalsIgnoreCase(name);
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
    super.reset();
    if (!passedThrough) {
      buffer.reset();
      stream = null;
      writer = null;
      writerCharset = null;
    }
    guardHeaders.forEach(super::setHeader);
  }

  @Override
  public void sendError(int status, String message) throws IOException {
    passThrough();
    super.sendError(status, message);
  }

  @Override
  public void sendError(int status) throws IOException {
    passThrough();
    super.sendError(status);
  }

  @Override
  public void sendRedirect(String location) throws IOException {
    passThrough();
    super.sendRedirect(location);
  }

  private void passThrough() {
    if (writer != null) {
      writer.flush();
    }
    buffer.reset();
    passedThrough = true;
  }

  /** Writes into the buffer. */
  private final class CapturingStream extends ServletOutputStream {
    @Override
    public void write(int b) {
      buffer.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
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
