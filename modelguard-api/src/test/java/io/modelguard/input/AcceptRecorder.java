package io.modelguard.input;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP listener on 127.0.0.1 (port 0, so a free one) that counts every connection it accepts and
 * closes it at once. Point tricky URLs at it: zero accepts proves nothing connected.
 */
final class AcceptRecorder implements AutoCloseable {
  private final ServerSocket server;
  private final AtomicInteger accepts = new AtomicInteger();
  private final Thread thread;

  AcceptRecorder() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    thread = new Thread(() -> {
      while (!server.isClosed()) {
        try (Socket s = server.accept()) {
          accepts.incrementAndGet();
        } catch (IOException e) {
          return;
        }
      }
    }, "accept-recorder");
    thread.setDaemon(true);
    thread.start();
  }

  int port() {
    return server.getLocalPort();
  }

  int accepts() {
    return accepts.get();
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
