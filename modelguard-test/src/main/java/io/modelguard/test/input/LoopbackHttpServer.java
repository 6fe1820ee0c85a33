package io.modelguard.test.input;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal HTTP/1.1 server on {@code 127.0.0.1} (a free port) for tests of URL fetching: it
 * answers {@code GET} requests with fixed responses registered by path, and counts every TCP
 * connection it accepts, so a test can prove that a refused URL pointing at it caused no connection
 * at all ({@link #connections()} stays 0), not merely no request.
 *
 * <p>One connection at a time, one request per connection ({@code Connection: close}); a client
 * that sends nothing is dropped after 5 seconds. Unregistered paths get a 404 with a plain-text
 * body. Thread-safe; close it after the test.
 *
 * <pre>{@code
 * try (LoopbackHttpServer images = LoopbackHttpServer.start()) {
 *   images.serve("/seven.png", 200, "image/png", png);
 *   String url = images.url("/seven.png");   // http://127.0.0.1:PORT/seven.png
 *   ...
 *   assertThat(images.connections()).isZero();
 * }
 * }</pre>
 */
public final class LoopbackHttpServer implements AutoCloseable {
  private static final int MAX_HEAD_BYTES = 16 * 1024;
  private static final int READ_TIMEOUT_MILLIS = 5_000;

  private final ServerSocket server;
  private final Map<String, Response> responses = new ConcurrentHashMap<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final List<String> requestLines = new CopyOnWriteArrayList<>();

  private record Response(int status, String contentType, byte[] body) {}

  private LoopbackHttpServer(ServerSocket server) {
    this.server = server;
  }

  /**
   * Starts a server on {@code 127.0.0.1} and a free port, accepting at once.
   *
   * @return the running server; close it to stop it
   * @throws UncheckedIOException if no port can be bound
   */
  public static LoopbackHttpServer start() {
    ServerSocket socket;
    try {
      socket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind a loopback port", e);
    }
    LoopbackHttpServer s = new LoopbackHttpServer(socket);
    Thread t = new Thread(s::acceptLoop, "loopback-http-" + socket.getLocalPort());
    t.setDaemon(true);
    t.start();
    return s;
  }

  /**
   * Answers {@code GET path} with {@code status}, a {@code Content-Type} of {@code contentType}
   * (none if null) and {@code body}, replacing an earlier registration of the path.
   *
   * @param path the request target, matched exactly (a query string is part of it)
   * @param status the HTTP status to answer
   * @param contentType the {@code Content-Type} to send, or null to send none
   * @param body the body to send; copied, so later changes to the array are not seen
   * @return this server
   */
  public LoopbackHttpServer serve(String path, int status, String contentType, byte[] body) {
    responses.put(Objects.requireNonNull(path, "path"),
        new Response(status, contentType, Objects.requireNonNull(body, "body").clone()));
    return this;
  }

  /** {@return the bound port} */
  public int port() {
    return server.getLocalPort();
  }

  /**
   * {@code http://127.0.0.1:PORT} followed by {@code path}.
   *
   * @param path the path and query, starting with {@code /}
   * @return the URL as text, not checked or escaped
   */
  public String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  /**
   * {@link #url(String)} as a URI.
   *
   * @param path the path and query, starting with {@code /}
   * @return the URI
   */
  public URI uri(String path) {
    return URI.create(url(path));
  }

  /** {@return how many TCP connections were accepted since start (or the last {@link #reset()})} */
  public int connections() {
    return connections.get();
  }

  /** {@return the request lines received, in order, such as {@code GET /seven.png HTTP/1.1}} */
  public List<String> requestLines() {
    return List.copyOf(requestLines);
  }

  /** Sets the connection count to 0 and forgets the request lines; registrations stay. */
  public void reset() {
    connections.set(0);
    requestLines.clear();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try (Socket s = server.accept()) {
        connections.incrementAndGet();
        s.setSoTimeout(READ_TIMEOUT_MILLIS);
        handle(s);
      } catch (IOException e) {
        // A closed server ends the loop; a client that hung up or timed out is dropped.
      }
    }
  }

  private void handle(Socket s) throws IOException {
    String head = readHead(s.getInputStream());
    if (head == null) {
      return;
    }
    String requestLine = head.lines().findFirst().orElse("");
    requestLines.add(requestLine);
    String[] parts = requestLine.split(" ");
    Response r = parts.length == 3 && parts[0].equals("GET") ? responses.get(parts[1]) : null;
    if (r == null) {
      r = new Response(404, "text/plain", "not found".getBytes(StandardCharsets.US_ASCII));
    }
    StringBuilder h = new StringBuilder("HTTP/1.1 ").append(r.status).append(' ').append(reason(r.status)).append("\r\n");
    if (r.contentType != null) {
      h.append("Content-Type: ").append(r.contentType).append("\r\n");
    }
    h.append("Content-Length: ").append(r.body.length).append("\r\n");
    h.append("Connection: close\r\n\r\n");
    OutputStream out = s.getOutputStream();
    out.write(h.toString().getBytes(StandardCharsets.US_ASCII));
    out.write(r.body);
    out.flush();
  }

  /** The request head up to the blank line, or null if the client sent none (or too much). */
  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int state = 0;
    while (state < 4) {
      int b = in.read();
      if (b < 0 || head.size() >= MAX_HEAD_BYTES) {
        return null;
      }
      head.write(b);
      state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  private static String reason(int status) {
    switch (status) {
      case 200: return "OK";
      case 301: return "Moved Permanently";
      case 302: return "Found";
      case 404: return "Not Found";
      case 500: return "Internal Server Error";
      default: return "Status";
    }
  }

  /** Stops accepting; idempotent. */
  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      // nothing to do: the socket is closed either way
    }
  }
}
