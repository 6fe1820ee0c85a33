package io.modelguard.examples.gateway;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A fake upstream on loopback speaking raw HTTP/1.1 over a {@link ServerSocket}: it reads each
 * request (head and a {@code Content-Length} body) and writes whatever bytes its responder returns,
 * keeping the connection open for the next request, so tests can send answers no well-behaved
 * server library would.
 */
final class RawUpstream implements AutoCloseable {
  /** One request as the upstream read it. */
  record Seen(int number, int connection, String head, byte[] body) {}

  private final ServerSocket server;
  private final Function<Seen, byte[]> responder;
  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicInteger connections = new AtomicInteger();

  RawUpstream(Function<Seen, byte[]> responder) throws IOException {
    this.responder = responder;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          sockets.add(s);
          int c = connections.incrementAndGet();
          Thread t = new Thread(() -> serve(s, c), "raw-upstream-" + c);
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    }, "raw-upstream-acceptor");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  URI baseUri() {
    return URI.create("http://127.0.0.1:" + server.getLocalPort());
  }

  List<Seen> seen() {
    return seen;
  }

  int connections() {
    return connections.get();
  }

  private void serve(Socket s, int connection) {
    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
      while (true) {
        String head = readHead(in);
        if (head == null) {
          return;
        }
        int length = 0;
        for (String line : head.split("\r\n")) {
          if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
            length = Integer.parseInt(line.substring(line.indexOf(':') + 1).strip());
          }
        }
        byte[] body = in.readNBytes(length);
        Seen request = new Seen(requests.incrementAndGet(), connection, head, body);
        seen.add(request);
        byte[] answer = responder.apply(request);
        if (answer == null) {
          return; // close
        }
        out.write(answer);
        out.flush();
      }
    } catch (IOException e) {
      // the gateway went away
    }
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    for (int b; (b = in.read()) >= 0; ) {
      head.write(b);
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
      if (matched == 4) {
        return head.toString(StandardCharsets.ISO_8859_1);
      }
    }
    return null;
  }

  /** A complete response: status line, header lines, a Content-Length and the body. */
  static byte[] response(String statusLine, String body, String... headerLines) {
    StringBuilder b = new StringBuilder("HTTP/1.1 ").append(statusLine).append("\r\n");
    for (String h : headerLines) {
      b.append(h).append("\r\n");
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    b.append("Content-Length: ").append(bytes.length).append("\r\n\r\n");
    return concat(b.toString().getBytes(StandardCharsets.ISO_8859_1), bytes);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
  }
}
