package io.modelguard.input;

import java.net.InetAddress;
import java.util.Arrays;

/**
 * Run by {@link HostsFileResolutionTest} in a JVM started with {@code -Djdk.net.hosts.file}: uses
 * the fetcher's default resolver (the JVM's), so names resolve through the hosts file only. Prints
 * one {@code name=result} line per case.
 */
public final class HostsFileProbe {
  private HostsFileProbe() {}

  /** {@code args[0]}: the listener's port. */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    // The JVM resolver really reads the file: the answer is the file's, not DNS's.
    System.out.println("resolved internal.hosts.test=" + Arrays.toString(InetAddress.getAllByName("internal.hosts.test")));
    SafeUrlFetcher fetcher = SafeUrlFetcher.builder().allowPorts(80, 443, port).build();
    for (String name : new String[] {"internal.hosts.test", "mixed.hosts.test", "metadata.hosts.test", "v6.hosts.test"}) {
      FetchResult r = fetcher.fetch("http://" + name + ":" + port + "/");
      System.out.println("fetch " + name + "=" + r.refusal().map(Enum::name).orElse("NOT REFUSED " + r));
    }
    UrlCheck publicName = fetcher.check("https://public.hosts.test/cat.png");
    System.out.println("check public.hosts.test=" + (publicName.isAllowed() ? "ALLOWED " + publicName.addresses() : publicName));
  }
}
