package io.modelguard.input;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Run by {@link ProxySettingsTest} in a JVM whose proxy properties point at a listener, and which
 * installs a default {@link ProxySelector} naming that listener as a SOCKS proxy for every
 * destination (as {@code java.net.useSystemProxies} or an application may): fetches a PNG from a
 * loopback server, the fetcher's one allowed internal endpoint, with the fetcher's own connector.
 * Prints {@code selected=} (how often the selector was asked) and {@code result=}.
 */
public final class ProxyProbe {
  private ProxyProbe() {}

  /** {@code args[0]}: the listener's port. */
  public static void main(String[] args) throws Exception {
    InetSocketAddress socks = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0]));
    AtomicInteger selected = new AtomicInteger();
    ProxySelector.setDefault(new ProxySelector() {
      @Override
      public List<Proxy> select(URI uri) {
        selected.incrementAndGet();
        return List.of(new Proxy(Proxy.Type.SOCKS, socks));
      }

      @Override
      public void connectFailed(URI uri, SocketAddress address, IOException e) {}
    });
    byte[] png = TestImages.real("png", 4, 4);
    byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: " + png.length + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    byte[] response = new byte[head.length + png.length];
    System.arraycopy(head, 0, response, 0, head.length);
    System.arraycopy(png, 0, response, head.length, png.length);
    try (RawHttpServer images = new RawHttpServer(response, 0, 0)) {
      SafeUrlFetcher fetcher = SafeUrlFetcher.builder().resolver(new FakeResolver().map("images.test", "127.0.0.1"))
          .allowInternalEndpoint("127.0.0.1", images.port()).build();
      FetchResult r = fetcher.fetch("http://images.test:" + images.port() + "/cat.png");
      System.out.println("selected=" + selected.get());
      System.out.println("result=" + r);
    }
  }
}
