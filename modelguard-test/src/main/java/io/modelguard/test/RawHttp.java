package io.modelguard.test;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * HTTP/1.1 on a plain socket, for tests that must send what a well-behaved client would not (a
 * body cut short, say) and read the response head as the server wrote it.
 */
public final class RawHttp {
  private RawHttp() {}

  /**
   * Sends {@code request} (and nothing more) to {@code base}'s host and port and returns the
   * response head up to and including the blank line. Reads time out after 15 seconds.
   *
   * @param base where to connect (only its host and port are used)
   * @param request the raw request bytes, as ASCII
   * @return the response head
   * @throws IOException if the connection fails or a read times out
   */
  public static String exchangeHead(URI base, String request) throws IOException {
    try (Socket socket = new Socket(base.getHost(), base.getPort())) {
      socket.setSoTimeout(15_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      StringBuilder head = new StringBuilder();
      int c;
      while ((c = in.read()) >= 0) {
        head.append((char) c);
        if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
          break;
        }
      }
      return head.toString();
    }
  }

  /**
   * Sends {@code request} (and nothing more) to {@code base}'s host and port and returns all the
   * server writes until it closes the connection (so {@code request} should say {@code Connection:
   * close}), bytes as ISO-8859-1 characters: the head, the body as framed (chunks and trailer
   * fields included). Reads time out after 15 seconds.
   *
   * @param base where to connect (only its host and port are used)
   * @param request the raw request bytes, as ASCII
   * @return everything the server sent
   * @throws IOException if the connection fails or a read times out
   */
  public static String exchange(URI base, String request) throws IOException {
    try (Socket socket = new Socket(base.getHost(), base.getPort())) {
      socket.setSoTimeout(15_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  /** What {@link #slowBody} saw. */
  public record SlowBody(Optional<String> beforeTheRest, String afterTheRest, String next) {}

  /**
   * On one connection: sends {@code head} (which must declare {@code Content-Length: length}) and
   * the body's first byte; notes the response head if one comes within 500 ms; sends the other
   * {@code length - 1} bytes (zeros); reads the response (head, then as many bytes as its {@code
   * Content-Length} says) unless it came already; then sends {@code next} (a whole request) and
   * reads its response head. Reads otherwise time out after 15 seconds.
   *
   * @param base where to connect (only its host and port are used)
   * @param head the request head, as ASCII
   * @param length the body length {@code head} declares
   * @param next a whole request sent after the first response
   * @return what the connection saw
   * @throws IOException if the connection fails or a read times out
   */
  public static SlowBody slowBody(URI base, String head, int length, String next) throws IOException {
    try (Socket socket = new Socket(base.getHost(), base.getPort())) {
      var out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      out.write((head + "{").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      socket.setSoTimeout(500);
      Optional<String> early;
      try {
        early = Optional.of(readHead(in));
      } catch (SocketTimeoutException e) {
        early = Optional.empty();
      }
      socket.setSoTimeout(15_000);
      out.write(new byte[length - 1]);
      out.flush();
      String answer = early.isPresent() ? early.get() : readHead(in);
      in.readNBytes(Integer.parseInt(answer.replaceAll("(?is).*\r\ncontent-length: *([0-9]+).*", "$1")));
      out.write(next.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return new SlowBody(early, answer, readHead(in));
    }
  }

  /** Reads a response head, up to and including its blank line (or the end of the stream). */
  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    for (int c; !head.toString().endsWith("\r\n\r\n") && (c = in.read()) >= 0; ) {
      head.append((char) c);
    }
    return head.toString();
  }
}
