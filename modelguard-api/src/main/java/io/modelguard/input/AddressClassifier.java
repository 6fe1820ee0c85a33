package io.modelguard.input;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Decides whether an IP address may be connected to: every address in the deny set is refused,
 * everything else is treated as publicly routable. Immutable and thread-safe.
 *
 * <p>The {@linkplain #defaults() default deny set} is IANA's "not globally reachable" registry,
 * every IPv6 address outside global unicast {@code 2000::/3}, Azure's platform endpoint {@code
 * 168.63.129.16}, and every IPv6 form that embeds an IPv4 address. IPv4-mapped addresses ({@code
 * ::ffff:a.b.c.d}) are unwrapped and the IPv4 address is judged; the other embedding forms
 * (IPv4-compatible {@code ::/96}, IPv4-translated {@code ::ffff:0:0:0/96} of RFC 2765 SIIT, NAT64
 * {@code 64:ff9b::/96} and {@code 64:ff9b:1::/48}, 6to4 {@code 2002::/16}, Teredo inside {@code
 * 2001::/23}) are denied whole, since the network that unwraps them is not ours to trust, and the
 * reason names the embedded IPv4 address. The JDK's {@code InetAddress.isXxx()} methods miss most
 * of these (for example {@code ::127.0.0.1}, {@code fd00:ec2::254}, {@code 192.0.0.192}).
 */
public final class AddressClassifier {
  private static final List<Range> DEFAULT_RANGES = List.of(
      Range.of("0.0.0.0/8", "\"this\" network"),
      Range.of("10.0.0.0/8", "private"),
      Range.of("100.64.0.0/10", "shared address space (carrier-grade NAT, cloud metadata)"),
      Range.of("127.0.0.0/8", "loopback"),
      Range.of("169.254.0.0/16", "link-local (cloud metadata)"),
      Range.of("172.16.0.0/12", "private"),
      Range.of("192.0.0.0/24", "IETF protocol assignments"),
      Range.of("192.0.2.0/24", "documentation"),
      Range.of("192.88.99.0/24", "6to4 relay anycast"),
      Range.of("192.168.0.0/16", "private"),
      Range.of("198.18.0.0/15", "benchmarking"),
      Range.of("198.51.100.0/24", "documentation"),
      Range.of("203.0.113.0/24", "documentation"),
      Range.of("224.0.0.0/4", "multicast"),
      Range.of("240.0.0.0/4", "reserved (includes broadcast)"),
      // Public, but Azure's platform endpoint (WireServer): reachable from every Azure VM, never a
      // host a client could mean.
      Range.of("168.63.129.16/32", "Azure platform endpoint"),
      Range.of("::/128", "unspecified"),
      Range.of("::1/128", "loopback"),
      Range.of("::/96", "IPv4-compatible"),
      Range.of("::ffff:0:0:0/96", "IPv4-translated, SIIT"),
      Range.of("64:ff9b::/96", "NAT64"),
      Range.of("64:ff9b:1::/48", "local-use NAT64"),
      Range.of("100::/64", "discard-only"),
      Range.of("2001::/23", "IETF protocol assignments (includes Teredo)"),
      Range.of("2001:db8::/32", "documentation"),
      Range.of("2002::/16", "6to4"),
      Range.of("3fff::/20", "documentation"),
      Range.of("fc00::/7", "unique local (includes AWS metadata fd00:ec2::254)"),
      Range.of("fe80::/10", "link-local"),
      Range.of("fec0::/10", "site-local"),
      Range.of("ff00::/8", "multicast"),
      // Everything else outside 2000::/3 is reserved or kept for uses that never lead to a public
      // host (RFC 4291, IANA's address space registry); listed last, so the ranges above name the
      // known blocks first.
      Range.of("::/3", "outside global unicast 2000::/3"),
      Range.of("4000::/2", "outside global unicast 2000::/3"),
      Range.of("8000::/1", "outside global unicast 2000::/3"));

  private static final AddressClassifier DEFAULTS = new AddressClassifier(DEFAULT_RANGES);

  private final Range[] v4;
  private final Range[] v6;

  private AddressClassifier(List<Range> ranges) {
    List<Range> four = new ArrayList<>();
    List<Range> six = new ArrayList<>();
    for (Range r : ranges) {
      (r.prefix.length == 4 ? four : six).add(r);
    }
    this.v4 = four.toArray(new Range[0]);
    this.v6 = six.toArray(new Range[0]);
  }

  /** {@return the default deny set described in the class comment} */
  public static AddressClassifier defaults() {
    return DEFAULTS;
  }

  /**
   * The default deny set plus {@code extraCidrs} (for example {@code "203.0.114.0/24"}, an
   * operator's own public ranges that must still not be reached).
   *
   * @param extraCidrs further ranges in strict CIDR notation, IPv4 or IPv6; none null
   * @return a new classifier denying the default ranges and {@code extraCidrs}
   * @throws IllegalArgumentException naming the first entry that is not a strict CIDR
   */
  public static AddressClassifier defaultsPlus(List<String> extraCidrs) {
    List<Range> all = new ArrayList<>(DEFAULT_RANGES);
    for (String cidr : extraCidrs) {
      all.add(Range.of(Objects.requireNonNull(cidr, "cidr"), "operator deny list"));
    }
    return new AddressClassifier(all);
  }

  /**
   * Why {@code address} is denied (the range and its purpose, for logs), or empty if it is public.
   *
   * @param address the address to classify; not null
   * @return the denying range and its purpose, or empty if the address may be connected to
   */
  public Optional<String> deniedBy(InetAddress address) {
    return deniedBy(address.getAddress());
  }

  /**
   * As {@link #deniedBy(InetAddress)}, for the raw 4 or 16 bytes of an address.
   *
   * @param address the address in network byte order: 4 bytes (IPv4) or 16 (IPv6)
   * @return the denying range and its purpose ({@code not an IP address} for any other length), or
   *     empty if the address may be connected to
   */
  public Optional<String> deniedBy(byte[] address) {
    if (address.length == 4) {
      return match(v4, address).map(Range::describe);
    }
    if (address.length != 16) {
      return Optional.of("not an IP address");
    }
    if (isMapped(address)) {
      byte[] inner = java.util.Arrays.copyOfRange(address, 12, 16);
      return match(v4, inner).map(r -> "IPv4-mapped " + r.describe());
    }
    Optional<Range> r = match(v6, address);
    if (r.isEmpty()) {
      return Optional.empty();
    }
    String embedded = embeddedIpv4(address);
    return Optional.of(r.get().describe() + (embedded == null ? "" : " embedding " + embedded));
  }

  /**
   * {@return whether {@code address} may be connected to}
   *
   * @param address the address to classify; not null
   */
  public boolean isPublic(InetAddress address) {
    return deniedBy(address).isEmpty();
  }

  private static boolean isMapped(byte[] a) {
    for (int i = 0; i < 10; i++) {
      if (a[i] != 0) {
        return false;
      }
    }
    return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
  }

  /** The IPv4 address an IPv6 embedding form carries, for the denial's description. */
  private static String embeddedIpv4(byte[] a) {
    if (a[0] == 0x20 && a[1] == 0x02) { // 6to4: 2002:AABB:CCDD::/48
      return IpLiterals.format(java.util.Arrays.copyOfRange(a, 2, 6));
    }
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0) { // Teredo: client address inverted
      byte[] v4 = new byte[4];
      for (int i = 0; i < 4; i++) {
        v4[i] = (byte) ~a[12 + i];
      }
      return IpLiterals.format(v4);
    }
    boolean zeroHead = true;
    for (int i = 0; i < 12; i++) {
      zeroHead &= a[i] == 0;
    }
    boolean translated = true; // ::ffff:0:a.b.c.d
    for (int i = 0; i < 12; i++) {
      translated &= a[i] == (i == 8 || i == 9 ? (byte) 0xff : 0);
    }
    boolean nat64 = a[0] == 0 && a[1] == 0x64 && a[2] == (byte) 0xff && a[3] == (byte) 0x9b;
    if (zeroHead || translated || nat64) {
      return IpLiterals.format(java.util.Arrays.copyOfRange(a, 12, 16));
    }
    return null;
  }

  private static Optional<Range> match(Range[] ranges, byte[] a) {
    for (Range r : ranges) {
      if (r.contains(a)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }

  /** One CIDR block with its purpose. */
  static final class Range {
    final byte[] prefix;
    final int bits;
    final String cidr;
    final String purpose;

    private Range(byte[] prefix, int bits, String cidr, String purpose) {
      this.prefix = prefix;
      this.bits = bits;
      this.cidr = cidr;
      this.purpose = purpose;
    }

    static Range of(String cidr, String purpose) {
      int slash = cidr.indexOf('/');
      if (slash < 0) {
        throw new IllegalArgumentException("not a CIDR block (address/bits): '" + cidr + "'");
      }
      String addr = cidr.substring(0, slash);
      byte[] prefix = addr.indexOf(':') >= 0 ? IpLiterals.parseIpv6(addr) : IpLiterals.parseCanonicalIpv4(addr);
      int bits;
      try {
        bits = Integer.parseInt(cidr.substring(slash + 1));
      } catch (NumberFormatException e) {
        bits = -1;
      }
      if (prefix == null || bits < 0 || bits > prefix.length * 8) {
        throw new IllegalArgumentException("not a CIDR block (address/bits): '" + cidr + "'");
      }
      return new Range(prefix, bits, cidr, purpose);
    }

    /** Whether this is a block of IPv4-mapped IPv6 addresses ({@code ::ffff:0:0/96} or inside it). */
    boolean isIpv4Mapped() {
      if (prefix.length != 16 || bits < 96) {
        return false;
      }
      for (int i = 0; i < 10; i++) {
        if (prefix[i] != 0) {
          return false;
        }
      }
      return prefix[10] == (byte) 0xff && prefix[11] == (byte) 0xff;
    }

    boolean contains(byte[] a) {
      if (a.length != prefix.length) {
        return false;
      }
      int full = bits / 8;
      for (int i = 0; i < full; i++) {
        if (a[i] != prefix[i]) {
          return false;
        }
      }
      int rest = bits % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (a[full] & mask) == (prefix[full] & mask);
    }

    String describe() {
      return cidr + " (" + purpose + ")";
    }
  }
}
