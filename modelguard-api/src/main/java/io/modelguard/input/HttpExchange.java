package io.modelguard.input;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * One HTTP/1.1 GET over a socket that is already connected to a checked address. Written by hand
 * because no JDK 17 client lets us pin the address we checked (see {@code input.md}): the request
 * carries the URL's {@code Host}, the response is read within a byte cap and a deadline, and
 * nothing of it but a 200 body or a redirect's {@code Location} leaves this class.
 */
final class HttpExchange {
  static final int MAX_HEADER_LINE = 8 * 1024;
  static final int MAX_HEADER_BYTES = 32 * 1024;
  static final int MAX_HEADERS = 100;
  /** A body buffer starts at most this large and, once full, doubles. */
  static final int INITIAL_BODY_BUFFER = 64 * 1024;

  /** The part of a response the fetcher uses. */
  static final class Response {
    final int status;
    final String location;
    final byte[] body;

    Response(int status, String location, byte[] body) {
      this.status = status;
      this.location = location;
      this.body = body;
    }
  }

  /** A failed exchange; the kind is all that leaves the fetcher. */
  static final class Failed extends Exception {
    private static final long serialVersionUID = 1L;
    final FetchFailure kind;

    Failed(FetchFailure kind, String note) {
      super(note, null, false, false);
      this.kind = kind;
    }
  }

  private final Socket socket;
  private final long deadlineNanos;
  private final LongSupplier ticker;
  private final InputStream in;
  private final byte[] buf = new byte[8192];
  private int pos;
  private int lim;

  private HttpExchange(Socket socket, long deadlineNanos, LongSupplier ticker) throws IOException {
    this.socket = socket;
    this.deadlineNanos = deadlineNanos;
    this.ticker = ticker;
    this.in = socket.getInputStream();
  }

  static Response get(Socket socket, ParsedUrl url, String accept, long deadlineNanos,
      LongSupplier ticker, int maxBytes) throws Failed, IOException {
    HttpExchange x = new HttpExchange(socket, deadlineNanos, ticker);
    String request = "GET " + url.target + " HTTP/1.1\r\n"
        + "Host: " + url.hostHeader() + "\r\n"
        + "User-Agent: ModelGuard-SafeUrlFetcher/1\r\n"
        + "Accept: " + accept + "\r\n"
        + "Accept-Encoding: identity\r\n"
        + "Connection: close\r\n\r\n";
    OutputStream out = socket.getOutputStream();
    out.write(request.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    return x.readResponse(maxBytes);
  }

  private Response readResponse(int maxBytes) throws Failed, IOException {
    int[] headerBytes = {0};
    int status = parseStatus(line(headerBytes));
    while (status >= 100 && status <= 199 && status != 101) {
      // An interim response (100 Continue, 103 Early Hints) before the final one: a client must
      // read past it even unasked (RFC 9110, 15.2). Its header lines are dropped unread (a
      // Location there is no redirect) and count against the one header cap, so any number of
      // interim responses costs no more than one header. 101 is refused: we asked for no upgrade.
      for (String h = line(headerBytes); !h.isEmpty(); h = line(headerBytes)) {
        // dropped
      }
      status = parseStatus(line(headerBytes));
    }
    long contentLength = -1;
    boolean chunked = false;
    String location = null;
    int headers = 0;
    for (String h = line(headerBytes); !h.isEmpty(); h = line(headerBytes)) {
      if (++headers > MAX_HEADERS) {
        throw new Failed(FetchFailure.BAD_RESPONSE, "too many headers");
      }
      int colon = h.indexOf(':');
      if (colon <= 0 || h.charAt(0) == ' ' || h.charAt(0) == '\t') {
        throw new Failed(FetchFailure.BAD_RESPONSE, "bad header line");
      }
      String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = h.substring(colon + 1).trim();
      switch (name) {
        case "content-length":
          long n = parseLength(value);
          if (contentLength >= 0 && contentLength != n) {
            throw new Failed(FetchFailure.BAD_RESPONSE, "conflicting Content-Length");
          }
          contentLength = n;
          break;
        case "transfer-encoding":
          if (!value.equalsIgnoreCase("chunked") || chunked) {
            throw new Failed(FetchFailure.BAD_RESPONSE, "unsupported Transfer-Encoding");
          }
          chunked = true;
          break;
        case "content-encoding":
          if (!value.equalsIgnoreCase("identity")) {
            throw new Failed(FetchFailure.BAD_RESPONSE, "encoded content");
          }
          break;
        case "location":
          if (location != null) {
            throw new Failed(FetchFailure.BAD_RESPONSE, "two Location headers");
          }
          location = value;
          break;
        default:
          break;
      }
    }
    if (chunked && contentLength >= 0) {
      throw new Failed(FetchFailure.BAD_RESPONSE, "both Content-Length and chunked");
    }
    if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
      if (location == null) {
        throw new Failed(FetchFailure.BAD_RESPONSE, "redirect without Location");
      }
      return new Response(status, location, null); // the redirect's body is never read
    }
    if (status != 200) {
      throw new Failed(FetchFailure.HTTP_STATUS, "status " + status);
    }
    if (contentLength > maxBytes) {
      throw new Failed(FetchFailure.TOO_LARGE, "declared " + contentLength);
    }
    byte[] body;
    if (chunked) {
      body = readChunked(maxBytes);
    } else if (contentLength >= 0) {
      body = readExactly((int) contentLength);
    } else {
      body = readToEnd(maxBytes);
    }
    return new Response(status, null, body);
  }

  private static int parseStatus(String line) throws Failed {
    if (line.length() < 12 || !(line.startsWith("HTTP/1.1 ") || line.startsWith("HTTP/1.0 "))
        || (line.length() > 12 && line.charAt(12) != ' ')) {
      throw new Failed(FetchFailure.BAD_RESPONSE, "bad status line");
    }
    int status = 0;
    for (int i = 9; i < 12; i++) {
      char c = line.charAt(i);
      if (c < '0' || c > '9') {
        throw new Failed(FetchFailure.BAD_RESPONSE, "bad status code");
      }
      status = status * 10 + (c - '0');
    }
    return status;
  }

  private static long parseLength(String v) throws Failed {
    if (v.isEmpty() || v.length() > 18) {
      throw new Failed(FetchFailure.BAD_RESPONSE, "bad Content-Length");
    }
    long n = 0;
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        throw new Failed(FetchFailure.BAD_RESPONSE, "bad Content-Length");
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  /**
   * Reads a chunked body of at most {@code maxBytes}. Each chunk-size line and the CRLF after each
   * chunk is capped on its own ({@link #MAX_HEADER_LINE}), not together as one header: a valid body
   * in many small chunks carries framing in proportion to its length. Every chunk brings at least
   * one body byte, so the framing is bounded per body byte by the line cap, and overall, like any
   * reading, by the deadline. The trailers are capped as a whole, like a header.
   */
  private byte[] readChunked(int maxBytes) throws Failed, IOException {
    byte[] out = new byte[Math.min(maxBytes, INITIAL_BODY_BUFFER)];
    int total = 0;
    int[] lineBytes = {0};
    while (true) {
      lineBytes[0] = 0;
      String sizeLine = line(lineBytes);
      int semi = sizeLine.indexOf(';');
      String hex = (semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim();
      if (hex.isEmpty() || hex.length() > 8) {
        throw new Failed(FetchFailure.BAD_RESPONSE, "bad chunk size");
      }
      long size = 0;
      for (int i = 0; i < hex.length(); i++) {
        int d = Character.digit(hex.charAt(i), 16);
        if (d < 0) {
          throw new Failed(FetchFailure.BAD_RESPONSE, "bad chunk size");
        }
        size = size * 16 + d;
      }
      if (size == 0) {
        int[] trailerBytes = {0};
        for (String t = line(trailerBytes); !t.isEmpty(); t = line(trailerBytes)) {
          // trailers are read and dropped, within the header caps
        }
        return java.util.Arrays.copyOf(out, total);
      }
      if (total + size > maxBytes) {
        throw new Failed(FetchFailure.TOO_LARGE, "chunked body over the cap");
      }
      out = readInto(out, total, (int) size, maxBytes);
      total += (int) size;
      lineBytes[0] = 0;
      if (!line(lineBytes).isEmpty()) {
        throw new Failed(FetchFailure.BAD_RESPONSE, "chunk not followed by CRLF");
      }
    }
  }

  /** The {@code n} bytes of a body with a declared length (see {@link #readInto}). */
  private byte[] readExactly(int n) throws Failed, IOException {
    return readInto(new byte[Math.min(n, INITIAL_BODY_BUFFER)], 0, n, n);
  }

  /**
   * Reads exactly {@code n} bytes into {@code out} at {@code off}, returning the buffer (a larger
   * copy, of at most {@code cap} bytes, if it had to grow). The buffer grows only when full, with
   * the bytes that arrive, never from a declared length or chunk size alone: a response claiming the
   * whole byte cap and then sending nothing must not make us allocate the cap.
   */
  private byte[] readInto(byte[] out, int off, int n, int cap) throws Failed, IOException {
    int end = off + n;
    int done = off;
    while (done < end) {
      if (done == out.length) {
        out = java.util.Arrays.copyOf(out, grownCapacity(out.length, cap));
      }
      int r = read(out, done, Math.min(end, out.length) - done);
      if (r < 0) {
        throw new Failed(FetchFailure.BAD_RESPONSE, "body shorter than declared");
      }
      done += r;
    }
    return out;
  }

  /**
   * The size to grow a full body buffer of {@code length} bytes to: double it (at least {@link
   * #INITIAL_BODY_BUFFER}), never past {@code cap}. Doubling keeps the bytes copied while a body
   * arrives below twice its length, however it is cut into chunks; growing only to what the current
   * chunk needs would copy the whole body again for every chunk.
   */
  static int grownCapacity(int length, int cap) {
    return (int) Math.min(cap, Math.max(INITIAL_BODY_BUFFER, length * 2L));
  }

  private byte[] readToEnd(int maxBytes) throws Failed, IOException {
    byte[] out = new byte[Math.min(maxBytes + 1, INITIAL_BODY_BUFFER)];
    int total = 0;
    while (true) {
      if (total == out.length) {
        if (total > maxBytes) {
          throw new Failed(FetchFailure.TOO_LARGE, "body over the cap");
        }
        out = java.util.Arrays.copyOf(out, grownCapacity(out.length, maxBytes + 1));
      }
      int r = read(out, total, out.length - total);
      if (r < 0) {
        break;
      }
      total += r;
      if (total > maxBytes) {
        throw new Failed(FetchFailure.TOO_LARGE, "body over the cap");
      }
    }
    return java.util.Arrays.copyOf(out, total);
  }

  /** Reads from the buffer, refilling it within the deadline. */
  private int read(byte[] out, int off, int len) throws Failed, IOException {
    if (pos == lim && !fill()) {
      return -1;
    }
    int n = Math.min(len, lim - pos);
    System.arraycopy(buf, pos, out, off, n);
    pos += n;
    return n;
  }

  private boolean fill() throws Failed, IOException {
    long remaining = deadlineNanos - ticker.getAsLong();
    if (remaining <= 0) {
      throw new Failed(FetchFailure.TIMEOUT, "deadline");
    }
    socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, remaining / 1_000_000)));
    int n;
    try {
      n = in.read(buf, 0, buf.length);
    } catch (SocketTimeoutException e) {
      throw new Failed(FetchFailure.TIMEOUT, "read timed out");
    }
    if (n < 0) {
      return false;
    }
    pos = 0;
    lim = n;
    return true;
  }

  /**
   * One CRLF-terminated line (a bare LF is tolerated) of at most {@link #MAX_HEADER_LINE}
   * characters, counting its bytes into {@code headerBytes}, whose total is capped at {@link
   * #MAX_HEADER_BYTES}.
   */
  private String line(int[] headerBytes) throws Failed, IOException {
    StringBuilder sb = new StringBuilder(64);
    while (true) {
      if (pos == lim && !fill()) {
        throw new Failed(FetchFailure.BAD_RESPONSE, "connection closed in the header");
      }
      byte b = buf[pos++];
      if (++headerBytes[0] > MAX_HEADER_BYTES || sb.length() > MAX_HEADER_LINE) {
        throw new Failed(FetchFailure.BAD_RESPONSE, "header too large");
      }
      if (b == '\n') {
        int len = sb.length();
        if (len > 0 && sb.charAt(len - 1) == '\r') {
          sb.setLength(len - 1);
        }
        return sb.toString();
      }
      if (b == 0) {
        throw new Failed(FetchFailure.BAD_RESPONSE, "NUL in the header");
      }
      sb.append((char) (b & 0xff));
    }
  }
}
