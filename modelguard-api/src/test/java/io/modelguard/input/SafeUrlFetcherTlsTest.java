package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
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
    File ks = dir.resolve("server.p12").toFile();
    String keytool = System.getProperty("java.home") + File.separator + "bin" + File.separator + "keytool";
    Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=images.test", "-ext", "SAN=dns:images.test", "-validity", "2", "-keystore", ks.getPath(),
        "-storetype", "PKCS12", "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(ks)) {
      keys.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, "changeit".toCharArray());
    SSLContext serverCtx = SSLContext.getInstance("TLS");
    serverCtx.init(kmf.getKeyManagers(), null, null);

    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("server", keys.getCertificate("server"));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    clientTrust = SSLContext.getInstance("TLS");
    clientTrust.init(null, tmf.getTrustManagers(), null);

    server = (SSLServerSocket) serverCtx.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    Thread t = new Thread(() -> {
      while (!server.isClosed()) {
        try (SSLSocket s = (SSLSocket) server.accept()) {
          s.setSoTimeout(5000);
          s.startHandshake();
          InputStream in = s.getInputStream();
          int state = 0;
          while (state < 4) {
            int b = in.read();
            if (b < 0) {
              break;
            }
            state = (b == '\r' && state % 2 == 0) || (b == '\n' && state % 2 == 1) ? state + 1 : 0;
          }
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
