package io.modelguard.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP proxy in front of a real redis-server that can lose one reply: once {@link
 * #loseNextScriptReply()} is called, the connection that next sends a script call forwards it, then
 * drops Redis's reply and closes, as a network failure between the two would. Redis has run the
 * script; the client never hears of it. Or it loses the call itself ({@link #loseNextScriptCall()}):
 * Redis never sees it. Or it moves, as a DNS name or a managed service's endpoint does after a
 * failover ({@link #forwardNewConnectionsTo}): the connections it opens from then on lead to
 * another Redis, while those already open stay with the one they reached.
 */
final class ReplyDroppingProxy implements AutoCloseable {
  private final ServerSocket listener;
  private volatile int target;
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicBoolean armed = new AtomicBoolean();
  private final AtomicBoolean callArmed = new AtomicBoolean();
  private final List<Socket> sockets = new ArrayList<>();

  ReplyDroppingProxy(int target) {
    this.target = target;
    try {
      listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    start(this::accept, "proxy-accept");
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Leads the connections accepted from now on to the Redis on {@code port}; open ones stay where they lead. */
  void forwardNewConnectionsTo(int port) {
    target = port;
  }

  /** How many client connections this proxy has accepted. */
  int connectionsAccepted() {
    return accepted.get();
  }

  /** Makes the connection that sends the next script call lose Redis's reply to it and close. */
  void loseNextScriptReply() {
    armed.set(true);
  }

  /** Makes the connection that sends the next script call drop it, unsent to Redis, and close. */
  void loseNextScriptCall() {
    callArmed.set(true);
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        accepted.incrementAndGet();
        Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
        synchronized (sockets) {
          sockets.add(client);
          sockets.add(server);
        }
        AtomicBoolean loseReply = new AtomicBoolean();
        start(() -> pump(client, server, loseReply, true), "proxy-requests");
        start(() -> pump(server, client, loseReply, false), "proxy-replies");
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void pump(Socket from, Socket to, AtomicBoolean loseReply, boolean requests) {
    byte[] buf = new byte[16384];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      int n;
      while ((n = in.read(buf)) > 0) {
        boolean scriptCall = requests && new String(buf, 0, n, StandardCharsets.ISO_8859_1).toUpperCase().contains("EVAL");
        if (scriptCall && callArmed.compareAndSet(true, false)) {
          return; // the call is lost with the connection, before Redis could run it
        }
        if (scriptCall && armed.compareAndSet(true, false)) {
          loseReply.set(true);
        } else if (!requests && loseReply.get()) {
          return; // the reply is lost with the connection
        }
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // the other direction closed the connection
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void start(Runnable task, String name) {
    Thread t = new Thread(task, name);
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() {
    try {
      listener.close();
    } catch (IOException e) {
      // already closed
    }
    synchronized (sockets) {
      sockets.forEach(ReplyDroppingProxy::closeQuietly);
    }
  }
}
