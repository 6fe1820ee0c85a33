package io.modelguard.input;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link HostResolver} answering from a table (several answers per name allowed) and recording
 * every lookup, and the time left each was given.
 */
final class FakeResolver implements HostResolver {
  private final Map<String, List<List<InetAddress>>> answers = new HashMap<>();
  final List<String> lookups = new CopyOnWriteArrayList<>();
  final List<Duration> timesLeft = new CopyOnWriteArrayList<>();

  /** {@code name} resolves to {@code addresses} (IP literals) on every lookup. */
  FakeResolver map(String name, String... addresses) {
    answers.computeIfAbsent(name, k -> new ArrayList<>()).add(parse(addresses));
    return this;
  }

  @Override
  public List<InetAddress> resolve(String host, Duration timeLeft) throws UnknownHostException {
    timesLeft.add(timeLeft);
    return resolve(host);
  }

  @Override
  public synchronized List<InetAddress> resolve(String host) throws UnknownHostException {
    lookups.add(host);
    List<List<InetAddress>> a = answers.get(host);
    if (a == null) {
      throw new UnknownHostException(host);
    }
    // Successive lookups take successive answers (the last one repeats): a rebinding DNS server.
    return a.size() > 1 ? a.remove(0) : a.get(0);
  }

  static List<InetAddress> parse(String... literals) {
    List<InetAddress> out = new ArrayList<>();
    for (String l : literals) {
      byte[] b = l.indexOf(':') >= 0 ? IpLiterals.parseIpv6(l) : IpLiterals.parseCanonicalIpv4(l);
      try {
        out.add(InetAddress.getByAddress(b));
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException(l, e);
      }
    }
    return out;
  }
}
