package io.modelguard.input;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Records every address the fetcher tries to connect to. It really connects only to 127.0.0.1 on
 * the ports given (the test servers and the accept recorder); any other target fails without a
 * packet leaving the machine, so a broken check can never reach a real internal or public host.
 */
final class RecordingConnector implements SafeUrlFetcher.Connector {
  final List<InetSocketAddress> attempts = new CopyOnWriteArrayList<>();
  private final List<Integer> loopbackPorts;

  RecordingConnector(Integer... loopbackPorts) {
    this.loopbackPorts = List.of(loopbackPorts);
  }

  @Override
  public Socket connect(InetSocketAddress address, int timeoutMillis) throws IOException {
    attempts.add(address);
    InetAddress a = address.getAddress();
    if (a.getAddress().length == 4 && a.getAddress()[0] == 127 && a.getAddress()[3] == 1
        && a.getAddress()[1] == 0 && a.getAddress()[2] == 0 && loopbackPorts.contains(address.getPort())) {
      Socket s = new Socket();
      s.connect(address, timeoutMillis);
      return s;
    }
    throw new IOException("test connector: no connection outside the loopback test servers");
  }
}
