package io.modelguard.quota;

import io.modelguard.internal.KeyText;
import io.modelguard.internal.SipHash;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whose usage a decision counts: a tenant on a model, or before authentication a client address or
 * the IPv6 network around it. Its {@link #partition()} is a string safe to embed in a Redis hash
 * tag: stores keep all limits of one key under {@code {partition}}, so one script can update them
 * together on Redis Cluster. Immutable; equal when the partitions are equal.
 */
public final class QuotaKey {
  /**
   * What may be an IPv6 literal: hex digits, colons and dots, at least one colon, and a hex digit or
   * a colon first. {@link InetAddress#getByName} parses such a string itself (or refuses it); any
   * other string, such as {@code ..::1}, it would resolve as a host name, a DNS query on the
   * request thread for a string a client may have chosen (a forwarded header).
   */
  private static final Pattern IPV6_LITERAL = Pattern.compile("(?=[^:]*:)[0-9A-Fa-f:][0-9A-Fa-f:.]{1,44}");
  /** An IPv4 address or a bracketed IPv6 one, followed by a port. */
  private static final Pattern WITH_PORT =
      Pattern.compile("(?:(\\d{1,3}(?:\\.\\d{1,3}){3})|(\\[[^\\]]{2,60}\\])):\\d{1,5}");
  private static final int MAX_PART = 256;
  /** How many characters of a longer name its partition keeps before the name's digest. */
  private static final int LONG_PART_PREFIX = 200;
  /** The hash key, drawn when the class loads: no one outside this JVM knows it. */
  private static final long HASH_K0;
  private static final long HASH_K1;

  static {
    SecureRandom random = new SecureRandom();
    HASH_K0 = random.nextLong();
    HASH_K1 = random.nextLong();
  }

  private final String partition;
  /**
   * The partition's SipHash-2-4 under a key drawn at random when this JVM loaded the class, folded
   * to 32 bits (stores index tables with its low bits and pick segments with its high ones), kept
   * here so that a lookup need not visit the string. Keyed because clients choose partitions (an
   * address, a name a proxy forwards): with a public hash such as {@link String#hashCode()} they
   * could compute thousands of addresses whose keys share one slot of the in-memory store's
   * table and make every lookup there walk them all. So a key's hash differs from one JVM to the
   * next; nothing stores or sends it.
   */
  private final int hash;

  private QuotaKey(String partition) {
    this.partition = partition;
    long h = SipHash.hashChars(HASH_K0, HASH_K1, partition);
    this.hash = (int) (h ^ (h >>> 32));
  }

  /**
   * The key of {@code tenant} on {@code model}. Characters that would end a hash tag or separate
   * parts ({@code { } : %}, controls, whitespace) are percent-encoded, so different pairs never
   * share a partition. A name longer than 256 characters is kept to its first 200, followed by a
   * 128-bit SHA-256 digest of the whole name, so partitions stay bounded and names still do not
   * share one.
   *
   * @param tenant the principal's tenant, not empty
   * @param model the model id, not empty
   * @return the key, partition {@code t:<tenant>:<model>}
   * @throws IllegalArgumentException if either is empty
   */
  public static QuotaKey forTenant(String tenant, String model) {
    return new QuotaKey("t:" + escape(tenant, "tenant") + ":" + escape(model, "model"));
  }

  /**
   * The key of an unauthenticated client at {@code address} (as {@code
   * InferenceRequest.remoteAddress()} gives it). An IPv6 address is reduced to its /64 prefix, the
   * block one subscriber usually holds, so rotating through one's own addresses gains nothing (a
   * holder of many /64s is limited as a whole with {@link #forIpv6Network}). An IPv6 address that
   * stands for an IPv4 host is keyed as that IPv4 address, so that one IPv4 host gets one budget
   * however it reaches the server, and two hosts never share one:
   *
   * <ul>
   *   <li>IPv4-mapped, {@code ::ffff:192.0.2.1} in any spelling;
   *   <li>the well-known NAT64 prefix, {@code 64:ff9b::192.0.2.1}: a NAT64 or SIIT translator's
   *       IPv4 client, which by its /64 would share one key with every other;
   *   <li>6to4, {@code 2002:c000:201::/48}: the whole /48 (65,536 /64s) is the site of the one IPv4
   *       address in bits 16 to 47, to which all its traffic is tunnelled;
   *   <li>Teredo, {@code 2001:0::/32}: the client's public IPv4 address, stored inverted in the
   *       last 32 bits (its port and flags, which a client may vary, are ignored); by its /64, the
   *       Teredo server's, every client of one server would share one key.
   * </ul>
   *
   * The deprecated IPv4-compatible form ({@code ::192.0.2.1}) stays an IPv6 address in {@code
   * ::/64}: no tunnel carries answers to its IPv4 address any more, so whoever can send from it
   * could otherwise name any IPv4 host's key, or take 2<sup>32</sup> fresh ones.
   *
   * A port after an IPv4 address or a bracketed IPv6 one ({@code 192.0.2.1:4711}, {@code
   * [2001:db8::1]:4711}, as some proxies forward the client's address) is dropped, so a client gets
   * no budget per source port. Anything else (an IPv4 address, a name) is used as given; a null
   * address shares the key {@code unknown}.
   *
   * @param address the client address as the adapter reports it, or null if unknown
   * @return the key, partition {@code a:<address>}
   */
  public static QuotaKey forAddress(String address) {
    String a = address == null || address.isBlank() ? "unknown" : address.strip();
    if (a.indexOf(':') >= 0) { // else no port to strip (the common case: a container's IPv4 address)
      a = withoutPort(a);
      if (a.indexOf(':') >= 0) {
        byte[] b = ipv6Literal(a);
        if (b != null) {
          // An address standing for an IPv4 host (::ffff:a.b.c.d in any spelling, 6to4, Teredo...)
          // is keyed as its dotted quad: one IPv4 host never gets a budget per way of reaching us.
          a = b.length == 4 ? dottedQuad(b) : network(b, 64);
        }
      }
    }
    if (a.length() > MAX_PART) {
      a = a.substring(0, MAX_PART);
    }
    return new QuotaKey("a:" + escape(a, "address"));
  }

  /**
   * The key of the IPv6 network made of the first {@code prefixLength} bits of {@code address}: for
   * a limit on a whole allocation (the /48 one customer is routinely given) on top of {@link
   * #forAddress}'s per-/64 one, which such a holder could otherwise multiply by rotating through
   * its /64s. {@code address} is read as {@link #forAddress} reads it (brackets, a port, a zone
   * dropped). Its partition, {@code n:<network>/<length>}, is in a namespace of its own, so it is
   * never the key of an address (any /64 or IPv4 address), of a tenant, or of a network of another
   * length.
   *
   * <p>An address {@link #forAddress} keys as an IPv4 address (IPv4-mapped, well-known NAT64,
   * 6to4, Teredo) stands for an IPv4 host and has no IPv6 network: a 6to4 site
   * holds its /48 by holding its IPv4 address, and one Teredo /48 holds the clients, unrelated
   * hosts, of every Teredo server whose address shares its first 16 bits.
   *
   * @param address the client address as the adapter reports it, or null
   * @param prefixLength the network's prefix length in bits, 1 to 64
   * @return empty unless {@code address} is an IPv6 address of an IPv6 host: an IPv4 address, an
   *     IPv6 one standing for an IPv4 host (see {@link #forAddress}), a name, a malformed address
   *     or null has no IPv6 network
   * @throws IllegalArgumentException if {@code prefixLength} is not from 1 to 64
   */
  public static Optional<QuotaKey> forIpv6Network(String address, int prefixLength) {
    if (prefixLength < 1 || prefixLength > 64) {
      throw new IllegalArgumentException("QuotaKey.prefixLength must be from 1 to 64, was " + prefixLength);
    }
    if (address == null || address.indexOf(':') < 0) {
      return Optional.empty(); // no IPv6 address: the one cost an IPv4 request pays
    }
    String a = withoutPort(address.strip());
    byte[] b = a.indexOf(':') >= 0 ? ipv6Literal(a) : null;
    if (b == null || b.length != 16) {
      return Optional.empty();
    }
    return Optional.of(new QuotaKey("n:" + KeyText.escape(network(b, prefixLength))));
  }

  /**
   * The partition string: {@code t:<tenant>:<model>}, {@code a:<address>} or {@code
   * n:<network>/<length>}, escaped.
   *
   * @return the partition, escaped: no braces, so it serves as a Redis hash tag
   */
  public String partition() {
    return partition;
  }

  @Override
  public boolean equals(Object o) {
    return this == o || (o instanceof QuotaKey && hash == ((QuotaKey) o).hash
        && partition.equals(((QuotaKey) o).partition));
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return "QuotaKey[" + partition + "]";
  }

  /** {@code a} without the port of an IPv4 address or a bracketed IPv6 one, else {@code a} itself. */
  private static String withoutPort(String a) {
    Matcher port = WITH_PORT.matcher(a);
    if (!port.matches()) {
      return a;
    }
    return port.group(1) != null ? port.group(1) : port.group(2);
  }

  /**
   * The bytes of IPv6 literal {@code address} (bracketed or not, a zone dropped): 16, or the 4 of
   * the IPv4 address it stands for (see {@link #embeddedIpv4}); null if it is no IPv6 literal.
   */
  private static byte[] ipv6Literal(String address) {
    String a = address;
    if (a.startsWith("[") && a.endsWith("]")) {
      a = a.substring(1, a.length() - 1);
    }
    int zone = a.indexOf('%');
    if (zone >= 0) {
      a = a.substring(0, zone);
    }
    if (!IPV6_LITERAL.matcher(a).matches()) {
      return null;
    }
    try {
      // Starting with a hex digit or ':' and holding a ':', it is parsed as a literal, never looked up.
      byte[] b = InetAddress.getByName(a).getAddress(); // 4 bytes if IPv4-mapped
      byte[] ipv4 = b.length == 16 ? embeddedIpv4(b) : null;
      return ipv4 != null ? ipv4 : b;
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /**
   * The IPv4 address of the host IPv6 address {@code b} (16 bytes) stands for, or null if it is an
   * IPv6 host's. Each form reaches a server only from that IPv4 host, since the server's answers
   * are carried to that IPv4 address (for NAT64, through a translator serving it):
   *
   * <ul>
   *   <li>the well-known NAT64 prefix 64:ff9b::/96 of RFC 6052, the IPv4 client in the last 32
   *       bits. Only a translator sends from there (the prefix is routed to it). A network-specific
   *       prefix (the local-use 64:ff9b:1::/48 included) is the operator's choice and not recognised;
   *   <li>6to4, 2002::/16 (RFC 3056), the site's IPv4 address in bits 16 to 47;
   *   <li>Teredo, 2001:0::/32 (RFC 4380), the client's public (outside its NAT) IPv4 address in the
   *       last 32 bits, every bit inverted. The bits between, the Teredo server's address, flags
   *       (partly random, RFC 5991) and the inverted port, are not the client's identity.
   * </ul>
   *
   * Not the IPv4-compatible ::/96 (deprecated by RFC 4291): nothing carries answers to its IPv4
   * address, so it proves no hold on it.
   */
  private static byte[] embeddedIpv4(byte[] b) {
    int first32 = (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    if (first32 >>> 16 == 0x2002) {
      return Arrays.copyOfRange(b, 2, 6);
    }
    if (first32 == 0x2001_0000) {
      byte[] client = Arrays.copyOfRange(b, 12, 16);
      for (int i = 0; i < 4; i++) {
        client[i] = (byte) ~client[i];
      }
      return client;
    }
    if (first32 == 0x0064_ff9b && zeros(b, 4, 12)) {
      return Arrays.copyOfRange(b, 12, 16);
    }
    return null;
  }

  /** Whether bytes {@code from} (inclusive) to {@code to} (exclusive) of {@code b} are all zero. */
  private static boolean zeros(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static String dottedQuad(byte[] b) {
    return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
  }

  /**
   * The network of the first {@code prefixLength} (1 to 64) bits of IPv6 address {@code b}, as its
   * first four groups, the rest zero: {@code 2001:db8:1:0::/48}.
   */
  private static String network(byte[] b, int prefixLength) {
    long bits = 0;
    for (int i = 0; i < 8; i++) {
      bits = (bits << 8) | (b[i] & 0xff);
    }
    bits &= -1L << (64 - prefixLength);
    StringBuilder sb = new StringBuilder(24);
    for (int shift = 48; shift >= 0; shift -= 16) {
      sb.append(Long.toHexString((bits >>> shift) & 0xffff)).append(':');
    }
    return sb.append(":/").append(prefixLength).toString();
  }

  private static String escape(String s, String field) {
    Objects.requireNonNull(s, field);
    if (s.isEmpty()) {
      throw new IllegalArgumentException("QuotaKey." + field + " must not be empty");
    }
    if (s.length() <= MAX_PART) {
      return KeyText.escape(s);
    }
    // A longer name (a tenant claim of the identity provider's making, say) is still a name of its
    // own: its first characters, then a marker no escaped name contains ('%' is always followed by
    // hex digits or 'u' there) and 128 bits of its SHA-256, the same in every JVM (stores share
    // keys across them). Refusing it would answer a valid token with a 500, or skip the quota for
    // it under a fail-open policy.
    return KeyText.escape(s.substring(0, LONG_PART_PREFIX)) + "%~" + digest(s);
  }

  /** The first 128 bits of the SHA-256 of {@code s} in UTF-8, in hex. */
  private static String digest(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      StringBuilder hex = new StringBuilder(32);
      for (int i = 0; i < 16; i++) {
        hex.append(Character.forDigit((d[i] >> 4) & 0xf, 16)).append(Character.forDigit(d[i] & 0xf, 16));
      }
      return hex.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }
}
