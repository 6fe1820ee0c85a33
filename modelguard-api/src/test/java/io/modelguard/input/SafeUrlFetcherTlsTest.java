package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS: the fetcher connects to the checked IP address yet verifies the certificate against the
 * URL's host name (and sends it as SNI), so pinning the address costs no TLS security. A loopback
 * TLS server holds a certificate for {@code images.test} only, made with keytool at start.
 */
class SafeUrlFetcherTlsTest {
  private static final byte[] PNG = TestImages.real("png", 4, 4);
  @TempDir
  static Path dir;
  private static SSLServerSocket server;
  private static SSLContext clientTrust;
  private static final AtomicInteger served = new AtomicInteger();

  @BeforeAll
  static void startTlsServer() throws Exception {
    TestTls tls = TestTls.forImagesTest(dir);
    clientTrust = tls.clientTrust();
    server = (SSLServerSocket) tls.server().getServerSocketFactory().createServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    Thread t = new Thread(() -> {
      while (!server.isClosed()) {
        try (SSLSocket s = (SSLSocket) server.accept()) {
          s.setSoTimeout(5000);
          s.startHandshake();
          TestTls.skipRequestHead(s.getInputStream());
          OutputStream out = s.getOutputStream();
          out.write(("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: " + PNG.length + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          out.write(PNG);
          out.flush();
          served.incrementAndGet();
        } catch (IOException e) {
          // handshake refused by the client: expected in the mismatch test
        }
      }
    }, "tls-image-server");
    t.setDaemon(true);
    t.start();
  }

  @AfterAll
  static void stop() throws IOException {
    server.close();
  }

  private SafeUrlFetcher fetcher() {
    FakeResolver resolver = new FakeResolver().map("images.test", "127.0.0.1").map("other.test", "127.0.0.1");
    return SafeUrlFetcher.builder().resolver(resolver).sslContext(clientTrust)
        .allowInternalEndpoint("127.0.0.1", server.getLocalPort()).build();
  }

  @Test
  void fetchesOverHttpsFromThePinnedAddressVerifyingTheUrlsHostName() {
    FetchResult r = fetcher().fetch("https://images.test:" + server.getLocalPort() + "/cat.png");

    assertThat(r.body()).contains(PNG);
  }

  @Test
  void refusesACertificateThatIsNotForTheUrlsHostEvenAtTheSameAddress() {
    int before = served.get();

    FetchResult r = fetcher().fetch("https://other.test:" + server.getLocalPort() + "/cat.png");

    assertThat(r.failure()).contains(FetchFailure.TLS_FAILED);
    assertThat(served.get()).isEqualTo(before);
  }

  @Test
  void refusesAnUntrustedCertificateWithTheDefaultTrustStore() {
    FakeResolver resolver = new FakeResolver().map("images.test", "127.0.0.1");
    SafeUrlFetcher defaultTrust = SafeUrlFetcher.builder().resolver(resolver)
        .allowInternalEndpoint("127.0.0.1", server.getLocalPort()).build();

    assertThat(defaultTrust.fetch("https://images.test:" + server.getLocalPort() + "/cat.png").failure())
        .contains(FetchFailure.TLS_FAILED);
  }

  @Test
  void anHttpsUrlToAnIpLiteralCannotMatchANameCertificate() {
    assertThat(fetcher().fetch("https://127.0.0.1:" + server.getLocalPort() + "/cat.png").failure())
        .contains(FetchFailure.TLS_FAILED);
  }
}
