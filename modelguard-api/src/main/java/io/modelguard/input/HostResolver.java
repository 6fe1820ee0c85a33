package io.modelguard.input;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;

/**
 * Resolves a host name to every address it has (all A and AAAA answers). {@link SafeUrlFetcher}
 * checks every answer and then connects only to the addresses it checked, so a resolver is asked
 * once per hop. Inject a fake in tests to make names resolve to internal or mixed answers.
 * Implementations must be thread-safe.
 */
@FunctionalInterface
public interface HostResolver {

  /**
   * Every address of {@code host} (an ASCII, lower-case name, never an IP literal).
   *
   * @throws UnknownHostException if the name has no address; an empty list means the same
   */
  List<InetAddress> resolve(String host) throws UnknownHostException;

  /**
   * As {@link #resolve(String)}, but the caller has only {@code timeLeft} (positive): a fetch asks
   * with what remains of its total timeout, so a lookup late in a redirect chain cannot carry the
   * fetch past it. The default ignores the limit and calls {@link #resolve(String)}; {@link
   * #system(Duration)} honours it.
   *
   * @throws UnknownHostException if the name has no address, or none was found in time
   */
  default List<InetAddress> resolve(String host, Duration timeLeft) throws UnknownHostException {
    return resolve(host);
  }

  /**
   * The JVM's resolver ({@link InetAddress#getAllByName}, which honours {@code -Djdk.net.hosts.file}),
   * bounded by {@code timeout}: the JDK lookup itself cannot be interrupted, so it runs on one of at
   * most 8 lookup slots (daemon threads) of this resolver and is abandoned when the time is up
   * (reported as unknown host), or sooner when {@linkplain #resolve(String, Duration) given less
   * time}. An abandoned lookup still holds its slot until the operating system's resolver gives up,
   * which may be much longer than {@code timeout} (a shorter timeout does not free slots sooner; set
   * {@code options timeout:1 attempts:1} in {@code resolv.conf}). So that lookups whose DNS server
   * never answers cannot hold every slot:
   *
   * <ul>
   *   <li>the lookups of one domain (its registrable domain, such as {@code evil.co.uk}) hold at
   *       most 2 slots;
   *   <li>the lookups a {@link SafeUrlFetcher} makes for a {@link ModelInputPolicy} hold at most 4
   *       (half) for one caller: the request's tenant, or, without a principal, its client address
   *       (an IPv6 address by its /64). A tenant naming any number of never-answering domains (cheap
   *       to register) leaves the other 4 slots to everyone else. Behind a reverse proxy that the
   *       adapter reports as the client address, unauthenticated callers share one such share.
   *       Direct {@link SafeUrlFetcher#fetch} calls are made on nobody's behalf: only the domain's
   *       share and the total bound them.
   * </ul>
   *
   * <p>A lookup beyond a share, or beyond 8 in all, waits for a slot within the caller's time; if
   * none comes, it fails as an unknown host (the fetch as unresolvable, {@code input.fetch_failed}),
   * logged at WARN at most once a minute. Several tenants together (or unauthenticated clients from
   * several addresses) can still hold every slot: restricting fetches to an allow-list of hosts
   * (refused before any lookup) closes it entirely.
   *
   * @throws IllegalArgumentException if {@code timeout} is not positive
   */
  static HostResolver system(Duration timeout) {
    return new SystemResolver(timeout, InetAddress::getAllByName);
  }
}
