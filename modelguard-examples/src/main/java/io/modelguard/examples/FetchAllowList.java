package io.modelguard.examples;

import io.modelguard.input.AddressClassifier;
import io.modelguard.input.SafeUrlFetcher;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The hosts the {@code image-classifier} may fetch image URLs from, as given with {@code
 * --allow-fetch-host HOST[:PORT]} and the configuration file's {@code allowFetchHosts}, and the
 * {@link SafeUrlFetcher} built from them.
 *
 * <ul>
 *   <li>No entries (the default): no allow-list. Any host whose every address is public may be
 *       fetched on ports 80 and 443; loopback, private, link-local (cloud metadata) and every other
 *       internal address is refused before connecting.
 *   <li>With entries: only the listed hosts. An entry is a host name ({@code images.example.com}),
 *       a {@code *.suffix} pattern (any sub-domain of {@code suffix}) or a canonical IPv4 address,
 *       optionally with a port. A port given with a name or a public address is added to the ports
 *       the listed hosts may use (80 and 443 stay allowed). Listed names are still resolved and
 *       refused if any address is internal.
 *   <li>An internal IPv4 address (loopback such as {@code 127.0.0.1}, private, link-local, ...)
 *       is reachable only when listed <em>with its port</em>: exactly that address and port are
 *       exempt from the deny set, nothing else. Names that always denote internal hosts ({@code
 *       localhost}, {@code metadata.google.internal}, ...) cannot be listed.
 * </ul>
 *
 * <p>Immutable; entries keep their order, duplicates are dropped.
 */
public final class FetchAllowList {
  /** Connect timeout per address. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  /** Time budget of one fetch, redirects included. */
  static final Duration TOTAL_TIMEOUT = Duration.ofSeconds(5);
  /** Most redirects followed (each hop is checked again). */
  static final int MAX_REDIRECTS = 3;

  private static final Pattern CANONICAL_IPV4 =
      Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
  private static final Pattern NUMERIC_HOST = Pattern.compile("[0-9.]+|0[xX].*|.*\\.[0-9]+|.*\\.0[xX][0-9a-fA-F]*");
  private static final Pattern NAME_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  private static final int MAX_ENTRY_LENGTH = 260;

  private static final FetchAllowList NONE = new FetchAllowList(List.of());

  private final List<Entry> entries;

  private FetchAllowList(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  /**
   * One allowed host.
   *
   * @param host a lower-case host name, {@code *.suffix} pattern or canonical IPv4 address
   * @param port the port given with it, if any
   * @param internal whether {@code host} is an IPv4 address outside the public address space
   *     (then {@code port} is present)
   */
  public record Entry(String host, OptionalInt port, boolean internal) {
    /** Checks that no component is null and that an internal address has a port. */
    public Entry {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(port, "port");
      if (internal && port.isEmpty()) {
        throw new IllegalArgumentException("an internal address needs a port");
      }
    }

    /** {@code host} or {@code host:port}, as it would be written on the command line. */
    @Override
    public String toString() {
      return port.isPresent() ? host + ":" + port.getAsInt() : host;
    }
  }

  /** No allow-list: any public host on ports 80 and 443. */
  public static FetchAllowList none() {
    return NONE;
  }

  /** The allow-list of {@code entries} (empty: {@link #none()}); duplicates are dropped. */
  public static FetchAllowList of(Collection<Entry> entries) {
    return entries.isEmpty() ? NONE : new FetchAllowList(new ArrayList<>(new LinkedHashSet<>(entries)));
  }

  /**
   * Parses one {@code HOST[:PORT]} entry.
   *
   * @throws IllegalArgumentException with a one-line message saying what is wrong (it quotes the
   *     entry, which is operator configuration, never client input)
   */
  public static Entry parse(String text) {
    Objects.requireNonNull(text, "text");
    String entry = text.strip();
    if (entry.isEmpty()) {
      throw new IllegalArgumentException("an empty host; expected HOST or HOST:PORT");
    }
    if (entry.length() > MAX_ENTRY_LENGTH || entry.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
      throw new IllegalArgumentException("expected HOST or HOST:PORT of at most " + MAX_ENTRY_LENGTH
          + " printable ASCII characters (write an internationalised name in its xn-- form)");
    }
    if (entry.startsWith("[") || entry.indexOf(':') != entry.lastIndexOf(':')) {
      throw new IllegalArgumentException("'" + entry + "': IPv6 addresses are not supported; use a host name "
          + "or an IPv4 address");
    }
    if (entry.contains("/") || entry.contains("@")) {
      throw new IllegalArgumentException("'" + entry + "': expected HOST or HOST:PORT, not a URL");
    }
    String host = entry;
    OptionalInt port = OptionalInt.empty();
    int colon = entry.indexOf(':');
    if (colon >= 0) {
      host = entry.substring(0, colon);
      port = OptionalInt.of(port(entry.substring(colon + 1), entry));
    }
    host = host.toLowerCase(Locale.ROOT);
    if (host.endsWith(".") && !host.equals(".")) {
      host = host.substring(0, host.length() - 1);
    }
    if (CANONICAL_IPV4.matcher(host).matches()) {
      boolean internal = !AddressClassifier.defaults().isPublic(ipv4(host));
      if (internal && port.isEmpty()) {
        throw new IllegalArgumentException("'" + entry + "' is an internal address: it is allowed only with an "
            + "explicit port, such as " + host + ":8081");
      }
      return new Entry(host, port, internal);
    }
    if (NUMERIC_HOST.matcher(host).matches()) {
      throw new IllegalArgumentException("'" + entry + "': write an IPv4 address as four decimal numbers "
          + "without leading zeros, such as 127.0.0.1");
    }
    String name = host.startsWith("*.") ? host.substring(2) : host;
    if (name.length() > 253 || !validName(name)) {
      throw new IllegalArgumentException("'" + entry + "' is not a host name, *.suffix pattern or IPv4 address");
    }
    for (String denied : SafeUrlFetcher.DEFAULT_DENIED_NAMES) {
      boolean wildcard = denied.startsWith("*.");
      if (wildcard ? name.endsWith(denied.substring(1)) || name.equals(denied.substring(2)) : name.equals(denied)) {
        throw new IllegalArgumentException("'" + entry + "' is always refused (it names an internal host); "
            + "to allow a server on this machine, give its address and port, such as 127.0.0.1:8081");
      }
    }
    return new Entry(host, port, false);
  }

  private static int port(String text, String entry) {
    if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')
        || Integer.parseInt(text) < 1 || Integer.parseInt(text) > 65535) {
      throw new IllegalArgumentException("'" + entry + "': the port must be a number from 1 to 65535");
    }
    return Integer.parseInt(text);
  }

  private static boolean validName(String name) {
    if (name.isEmpty()) {
      return false;
    }
    for (String label : name.split("\\.", -1)) {
      if (!NAME_LABEL.matcher(label).matches()) {
        return false;
      }
    }
    return true;
  }

  private static InetAddress ipv4(String dottedQuad) {
    String[] parts = dottedQuad.split("\\.");
    byte[] bytes = new byte[4];
    for (int i = 0; i < 4; i++) {
      bytes[i] = (byte) Integer.parseInt(parts[i]);
    }
    try {
      return InetAddress.getByAddress(bytes); // no lookup: the bytes are the address
    } catch (UnknownHostException e) {
      throw new IllegalStateException("four bytes are always an address", e);
    }
  }

  /** The entries, in order; empty when there is no allow-list. */
  public List<Entry> entries() {
    return entries;
  }

  /** Whether fetching is restricted to the listed hosts. */
  public boolean restricted() {
    return !entries.isEmpty();
  }

  /**
   * The fetcher for image URLs: this allow-list (if any), the default deny set and name deny list,
   * PNG, JPEG and GIF content of at most {@code maxBytes}, {@value #MAX_REDIRECTS} redirects, a
   * 2-second connect and a 5-second total timeout.
   */
  public SafeUrlFetcher fetcher(int maxBytes) {
    SafeUrlFetcher.Builder b = SafeUrlFetcher.builder()
        .maxBytes(maxBytes)
        .maxRedirects(MAX_REDIRECTS)
        .connectTimeout(CONNECT_TIMEOUT)
        .totalTimeout(TOTAL_TIMEOUT);
    if (entries.isEmpty()) {
      return b.build();
    }
    Set<Integer> ports = new TreeSet<>(List.of(80, 443));
    for (Entry e : entries) {
      b.allowHosts(e.host());
      if (e.internal()) {
        b.allowInternalEndpoint(e.host(), e.port().getAsInt());
      } else {
        e.port().ifPresent(ports::add);
      }
    }
    return b.allowPorts(ports.stream().mapToInt(Integer::intValue).toArray()).build();
  }

  /** A one-line description for the banner and the log. */
  public String describe() {
    if (entries.isEmpty()) {
      return "any public host on ports 80 and 443 (no allow-list)";
    }
    List<String> listed = new ArrayList<>();
    entries.forEach(e -> listed.add(e.toString()));
    return "only " + String.join(", ", listed);
  }

  @Override
  public String toString() {
    return "FetchAllowList" + entries;
  }
}
