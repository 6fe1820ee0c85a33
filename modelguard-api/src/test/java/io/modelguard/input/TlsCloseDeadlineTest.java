package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The total timeout covers closing the connection too. Closing a TLS 1.3 {@link SSLSocket} whose
 * peer has not closed its side makes the JDK "deplete" the input: it waits up to the socket's read
 * timeout for one byte and then skips bytes for as long as more are available. A server that keeps
 * sending after its response (or keeps the connection open and silent) would hold the fetch there,
 * past the deadline, unless the fetcher closes the connection without that courtesy.
 */
class TlsCloseDeadlineTest {
  private static final byte[] PNG = TestImages.real("png", 4, 4);
  @TempDir
  static Path dir;
  private static SSLContext serverCtx;
  private static SSLContext clientTrust;

  @BeforeAll
  static void keys() throws Exception {
    TestTls tls = TestTls.forImagesTest(dir);
    serverCtx = tls.server();
    clientTrust = tls.clientTrust();
  }

  /**
   * A loopback TLS server that answers with {@code head} (and the PNG if {@code withImage}), then
   * either streams raw bytes under the TLS layer or stays silent, for up to {@code holdMillis}.
   */
  private static final class LingeringTlsServer implements AutoCloseable {
    final ServerSocket server;

    LingeringTlsServer(String head, boolean withImage, boolean stream, long holdMillis) throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
      Thread t = new Thread(() -> {
        while (!server.isClosed()) {
          Socket accepted;
          try {
            accepted = server.accept();
          } catch (IOException e) {
            return;
          }
          Thread c = new Thread(() -> serve(accepted, head, withImage, stream, holdMillis), "lingering-tls-connection");
          c.setDaemon(true);
          c.start();
        }
      }, "lingering-tls-server");
      t.setDaemon(true);
      t.start();
    }

    private static void serve(Socket accepted, String head, boolean withImage, boolean stream, long holdMillis) {
      try (Socket raw = accepted) {
        SSLSocket s = (SSLSocket) serverCtx.getSocketFactory().createSocket(raw, null, raw.getPort(), false);
        s.setUseClientMode(false);
        s.setSoTimeout(5000);
        s.startHandshake();
        TestTls.skipRequestHead(s.getInputStream());
        OutputStream out = s.getOutputStream();
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        if (withImage) {
          out.write(PNG);
        }
        out.flush();
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(holdMillis);
        OutputStream under = raw.getOutputStream();
        byte[] junk = new byte[64 * 1024];
        while (System.nanoTime() < until) {
          if (stream) {
            under.write(junk); // bytes the client's TLS layer skips while closing
          } else {
            Thread.sleep(10);
          }
        }
      } catch (IOException e) {
        // the client hung up
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
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

  private static SafeUrlFetcher fetcher(int port, Duration total) {
    return SafeUrlFetcher.builder().resolver(new FakeResolver().map("images.test", "127.0.0.1"))
        .sslContext(clientTrust).allowInternalEndpoint("127.0.0.1", port)
        .connectTimeout(Duration.ofMillis(500)).totalTimeout(total).build();
  }

  private static final String OK_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: " + PNG.length + "\r\n\r\n";

  @Test
  void aServerThatKeepsTheConnectionOpenAfterItsResponseDoesNotHoldTheFetchUntilTheDeadline() throws IOException {
    try (LingeringTlsServer s = new LingeringTlsServer(OK_HEAD, true, false, 20_000)) {
      long start = System.nanoTime();
      FetchResult r = fetcher(s.port(), Duration.ofSeconds(10)).fetch("https://images.test:" + s.port() + "/cat.png");
      long millis = (System.nanoTime() - start) / 1_000_000;

      assertThat(r.body()).contains(PNG);
      // The whole response was read in moments (about 0.1 s); closing must not wait for the peer's
      // close_notify, which held the fetch for the whole 10 s budget. The bound is wide enough for a
      // loaded machine.
      assertThat(millis).as("fetch time with a 10 s total timeout").isLessThan(5_000L);
    }
  }

  @Test
  void aServerThatKeepsSendingAfterItsResponseCannotHoldTheFetchPastTheTotalTimeout() throws IOException {
    try (LingeringTlsServer s = new LingeringTlsServer(OK_HEAD, true, true, 20_000)) {
      long start = System.nanoTime();
      FetchResult r = fetcher(s.port(), Duration.ofSeconds(2)).fetch("https://images.test:" + s.port() + "/cat.png");
      long millis = (System.nanoTime() - start) / 1_000_000;

      assertThat(r.body()).contains(PNG);
      // Skipping what it sends while closing would hold the fetch for the server's 20 s.
      assertThat(millis).as("fetch time with a 2 s total timeout").isLessThan(5_000L);
    }
  }

  @Test
  void aRedirectFromAServerThatKeepsTheConnectionOpenDoesNotUseUpTheTimeBudget() throws IOException {
    String redirect = "HTTP/1.1 302 Found\r\nLocation: /next.png\r\nContent-Length: 0\r\n\r\n";
    try (LingeringTlsServer s = new LingeringTlsServer(redirect, false, false, 20_000)) {
      long start = System.nanoTime();
      FetchResult r = fetcher(s.port(), Duration.ofSeconds(10)).fetch("https://images.test:" + s.port() + "/cat.png");
      long millis = (System.nanoTime() - start) / 1_000_000;

      // Every hop is a 302 from the same silent server: the fetch should stop at the redirect limit
      // within moments, not sit out each hop's silence until the deadline.
      assertThat(r.failure()).contains(FetchFailure.TOO_MANY_REDIRECTS);
      assertThat(millis).as("fetch time with a 10 s total timeout").isLessThan(5_000L);
    }
  }
}
