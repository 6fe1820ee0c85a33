package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fetcher connects to the address it checked, directly: JVM-wide proxy settings (the default
 * {@link java.net.ProxySelector} and the SOCKS properties, which a plain {@code new Socket()}
 * consults, and the HTTP ones) do not put another host between the check and the connection. Run
 * in a forked JVM, since the settings are global; every proxy points at a listener that must accept
 * nothing.
 */
class ProxySettingsTest {

  @Test
  void jvmProxySettingsDoNotRouteTheFetchThroughAProxy() throws Exception {
    try (AcceptRecorder proxy = new AcceptRecorder()) {
      String p = Integer.toString(proxy.port());
      ForkedJvm.Result r = ForkedJvm.run(List.of(
          "-DsocksProxyHost=127.0.0.1", "-DsocksProxyPort=" + p, "-DsocksNonProxyHosts=none.invalid",
          "-Dhttp.proxyHost=127.0.0.1", "-Dhttp.proxyPort=" + p, "-Dhttps.proxyHost=127.0.0.1", "-Dhttps.proxyPort=" + p,
          "-Dhttp.nonProxyHosts=none.invalid", "-Djava.awt.headless=true"), ProxyProbe.class, p);

      assertThat(r.exitCode()).as(r.output()).isZero();
      assertThat(r.output()).as(r.output()).contains("selected=0").contains("result=FetchResult[fetched");
      assertThat(proxy.accepts()).as("connections made to the proxy").isZero();
    }
  }
}
