package io.modelguard.test;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.1 on a plain socket, for tests that must send what a well-behaved client would not (a
 * body cut short, say) and read the response head as the server wrote it.
 */
public final class RawHttp {
  private RawHttp() {}

  /**
   * Sends {@code request} (and nothing more) to {@code base}'s host and port and returns the
   * response head up to and including the blank line. Reads time out after 15 seconds.
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
   */
  public static String exchange(URI base, String request) throws IOException {
    try (Socket socket = new Socket(base.getHost(), base.getPort())) {
      socket.setSoTimeout(15_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }
}
