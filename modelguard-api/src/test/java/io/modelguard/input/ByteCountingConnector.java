package io.modelguard.input;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Connects directly, as the fetcher's own connector does, and counts every byte the fetcher reads
 * from its sockets: the observable that says how much of a response body was downloaded, whatever
 * the server managed to push into the kernel's buffers.
 */
final class ByteCountingConnector implements SafeUrlFetcher.Connector {
  final AtomicLong bytesRead = new AtomicLong();

  @Override
  public Socket connect(InetSocketAddress address, int timeoutMillis) throws IOException {
    Socket s = new Socket(Proxy.NO_PROXY) {
      @Override
      public InputStream getInputStream() throws IOException {
        return new TestRequest.CountingStream(super.getInputStream(), bytesRead);
      }
    };
    s.connect(address, timeoutMillis);
    return s;
  }
}
