package io.modelguard.input;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback server that answers every connection with the same raw bytes, optionally dribbled one
 * byte at a time: for responses no well-behaved server library would send (header floods, lying
 * lengths, endless bodies, slow drips). It reads the request head first, unless it is told to talk
 * first (for a client that waits for the server, such as a TLS client waiting for the handshake).
 */
final class RawHttpServer implements AutoCloseable {
  private final ServerSocket server;
  final AtomicInteger connections = new AtomicInteger();

  RawHttpServer(byte[] response, long dripMillis, long repeatBodyBytes) throws IOException {
    this(response, dripMillis, repeatBodyBytes, true);
  }

  RawHttpServer(byte[] response, long dripMillis, long repeatBodyBytes, boolean readRequestFirst) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    Thread t = new Thread(() -> {
      while (!server.isClosed()) {
        try (Socket s = server.accept()) {
          connections.incrementAndGet();
          if (readRequestFirst) {
            readRequestHead(s.getInputStream());
          }
          OutputStream out = s.getOutputStream();
          if (dripMillis > 0) {
            for (byte b : response) {
              out.write(b);
              out.flush();
              Thread.sleep(dripMillis);
            }
          } else {
            out.write(response);
          }
          byte[] filler = new byte[8192];
          for (long sent = 0; sent < repeatBodyBytes; sent += filler.length) {
            out.write(filler);
          }
          out.flush();
        } catch (IOException e) {
          // the client hung up: expected when it refuses a response half way
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "raw-http-server");
    t.setDaemon(true);
    t.start();
  }

  RawHttpServer(String response) throws IOException {
    this(response.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, 0);
  }

  private static void readRequestHead(InputStream in) throws IOException {
    int state = 0;
    while (state < 4) {
      int b = in.read();
      if (b < 0) {
        return;
      }
      state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
    }
  }

  int port() {
    return server.getLocalPort();
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
