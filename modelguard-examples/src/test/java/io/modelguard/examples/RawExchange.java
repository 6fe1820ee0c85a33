package io.modelguard.examples;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One request on a fresh loopback socket, sent byte for byte (a writer thread sends while the
 * response is read, so an early answer to a large body is seen), and one response read by its own
 * framing: interim {@code 1xx} heads skipped, then the final head and its body ({@code
 * Content-Length}, chunked, or up to the close). A watchdog closes the socket once {@code bound}
 * has passed: that is a hang, not a slow answer.
 */
final class RawExchange {
  /** The most a response head or body may take before it counts as unbounded. */
  static final int MAX_RESPONSE_BYTES = 8 << 20;

  /**
   * What came back: the final status (0 if none), the interim statuses, the final head's fields
   * (lower-case names), the body as framed, and why no complete response was read (empty if one was).
   */
  record Reply(int status, List<Integer> interim, Map<String, List<String>> headers, byte[] body,
      Optional<String> failure) {
    Optional<String> header(String name) {
      List<String> values = headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
      return values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }

    String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private RawExchange() {}

  static Reply exchange(int port, FuzzRequests.Request request, Duration bound, ScheduledExecutorService watchdog)
      throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      AtomicBoolean timedOut = new AtomicBoolean();
      ScheduledFuture<?> alarm = watchdog.schedule(() -> {
        timedOut.set(true);
        closeQuietly(socket);
      }, bound.toMillis(), TimeUnit.MILLISECONDS);
      Thread writer = new Thread(() -> send(socket, request), "fuzz-writer");
      writer.setDaemon(true);
      writer.start();
      try {
        return read(new BufferedInputStream(socket.getInputStream()), request.head(), timedOut);
      } finally {
        alarm.cancel(false);
      }
    }
  }

  /**
   * Writes the request; half-closes after a request whose framing is incomplete (so the server
   * sees the end rather than waiting for bytes that will never come). A server that answers early
   * and closes may make the write fail: that is expected, the response is what counts.
   */
  private static void send(Socket socket, FuzzRequests.Request request) {
    try {
      OutputStream out = socket.getOutputStream();
      byte[] bytes = request.bytes();
      for (int at = 0; at < bytes.length; at += 64 * 1024) {
        out.write(bytes, at, Math.min(64 * 1024, bytes.length - at));
      }
      out.flush();
      if (!request.complete()) {
        socket.shutdownOutput();
      }
    } catch (IOException e) {
      // The server answered (and closed) before reading everything: the reader sees its answer.
    }
  }

  private static Reply read(InputStream in, boolean head, AtomicBoolean timedOut) {
    List<Integer> interim = new ArrayList<>();
    Map<String, List<String>> headers = Map.of();
    int status = 0;
    try {
      while (true) {
        String text = readHead(in);
        if (text.isEmpty()) {
          return failed(status, interim, headers, timedOut, "the connection closed without a response");
        }
        String[] lines = text.split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.") || !statusLine[1].matches("[1-5][0-9][0-9]")) {
          return failed(0, interim, headers, timedOut, "not a status line: " + lines[0]);
        }
        status = Integer.parseInt(statusLine[1]);
        headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
          int colon = lines[i].indexOf(':');
          if (colon <= 0) {
            return failed(status, interim, headers, timedOut, "not a header field: " + lines[i]);
          }
          headers.computeIfAbsent(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
              .add(lines[i].substring(colon + 1).trim());
        }
        if (status >= 200) {
          break;
        }
        interim.add(status);
      }
      byte[] body = readBody(in, head || status == 204 || status == 304, headers);
      return new Reply(status, interim, headers, body, Optional.empty());
    } catch (IOException e) {
      return failed(status, interim, headers, timedOut, e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  private static Reply failed(int status, List<Integer> interim, Map<String, List<String>> headers,
      AtomicBoolean timedOut, String why) {
    return new Reply(status, interim, headers, new byte[0],
        Optional.of(timedOut.get() ? "no complete response within the bound (" + why + ")" : why));
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int last = 0;
    for (int c; (c = in.read()) >= 0; ) {
      head.write(c);
      last = (last << 8) | c;
      if (last == 0x0D0A0D0A) {
        return head.toString(StandardCharsets.ISO_8859_1).substring(0, head.size() - 4);
      }
      if (head.size() > 64 * 1024) {
        throw new IOException("a response head over 64 KiB");
      }
    }
    if (head.size() > 0) {
      throw new IOException("the connection closed inside the response head");
    }
    return "";
  }

  private static byte[] readBody(InputStream in, boolean none, Map<String, List<String>> headers)
      throws IOException {
    if (none) {
      return new byte[0];
    }
    List<String> coding = headers.getOrDefault("transfer-encoding", List.of());
    if (!coding.isEmpty()) {
      if (!coding.get(coding.size() - 1).equalsIgnoreCase("chunked")) {
        throw new IOException("a Transfer-Encoding other than chunked: " + coding);
      }
      return readChunks(in);
    }
    List<String> lengths = headers.getOrDefault("content-length", List.of());
    if (!lengths.isEmpty()) {
      if (lengths.size() > 1 || !lengths.get(0).matches("[0-9]{1,9}")) {
        throw new IOException("an unusable Content-Length: " + lengths);
      }
      int length = Integer.parseInt(lengths.get(0));
      if (length > MAX_RESPONSE_BYTES) {
        throw new IOException("a Content-Length over " + MAX_RESPONSE_BYTES + ": " + length);
      }
      byte[] body = in.readNBytes(length);
      if (body.length < length) {
        throw new IOException("the body ended after " + body.length + " of " + length + " bytes");
      }
      return body;
    }
    byte[] body = in.readNBytes(MAX_RESPONSE_BYTES + 1);
    if (body.length > MAX_RESPONSE_BYTES) {
      throw new IOException("a body over " + MAX_RESPONSE_BYTES + " bytes");
    }
    return body;
  }

  private static byte[] readChunks(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String line = readLine(in);
      String size = line.contains(";") ? line.substring(0, line.indexOf(';')) : line;
      int n;
      try {
        n = Integer.parseInt(size.trim(), 16);
      } catch (NumberFormatException e) {
        throw new IOException("a bad chunk size: " + line);
      }
      if (n == 0) {
        while (!readLine(in).isEmpty()) {
          // trailer fields
        }
        return body.toByteArray();
      }
      if (n < 0 || body.size() + n > MAX_RESPONSE_BYTES) {
        throw new IOException("a chunked body over " + MAX_RESPONSE_BYTES + " bytes");
      }
      byte[] chunk = in.readNBytes(n);
      if (chunk.length < n) {
        throw new IOException("the connection closed inside a chunk");
      }
      body.writeBytes(chunk);
      if (!readLine(in).isEmpty()) {
        throw new IOException("a chunk without its CRLF");
      }
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int c; (c = in.read()) >= 0; ) {
      if (c == '\n') {
        return line.toString().endsWith("\r") ? line.substring(0, line.length() - 1) : line.toString();
      }
      if (line.length() > 1024) {
        throw new IOException("a chunk line over 1 KiB");
      }
      line.append((char) c);
    }
    throw new IOException("the connection closed inside the chunked body");
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // closing to end a hang; nothing more to do
    }
  }
}
