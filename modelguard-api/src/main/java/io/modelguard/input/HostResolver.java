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
   * @param host the name to resolve
   * @return the addresses, in the resolver's order
   * @throws UnknownHostException if the name has no address; an empty list means the same
   */
  List<InetAddress> resolve(String host) throws UnknownHostException;

  /**
   * As {@link #resolve(String)}, but the caller has only {@code timeLeft} (positive): a fetch asks
   * with what remains of its total timeout, so a lookup late in a redirect chain cannot carry the
   * fetch past it. The default ignores the limit and calls {@link #resolve(String)}; {@link
   * #system(Duration)} honours it.
   *
   * @param host the name to resolve
   * @param timeLeft the most time the lookup may take, positive
   * @return the addresses, in the resolver's order
   * @throws UnknownHostException if the name has no address, or none was found in time
   */
  default List<InetAddress> resolve(String host, Duration timeLeft) throws UnknownHostException {
    return resolve(host);
  }

  /**
   * As {@link #resolve(String, Duration)}, on behalf of {@code caller}: an opaque, non-null key
   * naming whom the lookup is for, the same for every lookup made for one caller and different for
   * different callers. A {@link SafeUrlFetcher} asks this way for the URLs of a {@link
   * ModelInputPolicy}'s requests, with the request's tenant or, without a principal, its client
   * address as {@link io.modelguard.quota.QuotaKey#forAddress} keys it; a lookup made on nobody's behalf (a direct {@link
   * SafeUrlFetcher#fetch}) comes through {@link #resolve(String, Duration)} instead. A resolver of
   * bounded capacity (threads, connections, a query rate) can use the key to keep one caller from
   * taking all of it, as {@link #system(Duration)} does; a resolver that wraps another must pass
   * the caller on, or the lookups it forwards lose the share the other keeps. The key may hold text
   * a client chose (a tenant name): escape it before logging it. The default ignores the caller and
   * calls {@link #resolve(String, Duration)}.
   *
   * @param host the name to resolve
   * @param timeLeft the most time the lookup may take, positive
   * @param caller whom the lookup is for; not null
   * @return the addresses, in the resolver's order
   * @throws UnknownHostException if the name has no address, or none was found in time
   */
  default List<InetAddress> resolve(String host, Duration timeLeft, String caller) throws UnknownHostException {
    return resolve(host, timeLeft);
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
   *   <li>the lookups made for one caller ({@link #resolve(String, Duration, String)}: a {@link
   *       SafeUrlFetcher} fetching for a {@link ModelInputPolicy} names the request's tenant, or,
   *       without a principal, its client address as quota keys count it) hold at most 4
   *       (half): a tenant naming any number of never-answering domains (cheap to register) leaves
   *       the other 4 slots to everyone else;
   *   <li>a caller that already holds a slot takes another only if 3 stay free after it: the last 3
   *       free slots are for callers holding none. So {@code k} callers whose lookups never answer
   *       hold together at most 4 slots if {@code k = 1} and at most {@code 3 + k} otherwise: any
   *       four callers leave at least one slot to everyone else (two leave three).
   * </ul>
   *
   * <p>Behind a reverse proxy that the adapter reports as the client address, unauthenticated
   * callers share one caller's share. Lookups made on nobody's behalf ({@link
   * #resolve(String, Duration)}, as direct {@link SafeUrlFetcher#fetch} calls make) count against
   * their domain's share and the total only.
   *
   * <p>A lookup beyond a share, or beyond 8 in all, waits for a slot within the caller's time; if
   * none comes, it fails as an unknown host (the fetch as unresolvable, {@code input.fetch_failed}),
   * logged at WARN at most once a minute. Five or more tenants together (or unauthenticated clients
   * from five or more addresses) can still hold every slot: restricting fetches to an allow-list of
   * hosts (refused before any lookup) closes it entirely.
   *
   * @param timeout the longest a lookup may take, positive
   * @return a new resolver with 8 lookup slots of its own
   * @throws IllegalArgumentException if {@code timeout} is not positive
   */
  static HostResolver system(Duration timeout) {
    return new SystemResolver(timeout, InetAddress::getAllByName);
  }
}
