package io.modelguard.input;

/**
 * Strict IP literal parsing: exactly one textual form per address, so that no other parser on the
 * path (the JDK, glibc, a proxy) can read the same text as a different address.
 *
 * <p>IPv4 is accepted only as a canonical dotted quad: four decimal octets, 0–255, no leading zeros
 * ({@code 0177.0.0.1} is 177.0.0.1 to Java and 127.0.0.1 to glibc, so it is refused rather than
 * guessed). IPv6 is the RFC 4291 text form (with an optional trailing dotted quad), without a zone.
 */
final class IpLiterals {
  private IpLiterals() {}

  /** The four bytes of a canonical dotted quad, or null if {@code s} is not one. */
  static byte[] parseCanonicalIpv4(CharSequence s, int from, int to) {
    byte[] out = new byte[4];
    int octet = 0;
    int i = from;
    while (octet < 4) {
      int start = i;
      int value = 0;
      while (i < to && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
        value = value * 10 + (s.charAt(i) - '0');
        i++;
        if (i - start > 3) {
          return null;
        }
      }
      int digits = i - start;
      if (digits == 0 || value > 255 || (digits > 1 && s.charAt(start) == '0')) {
        return null;
      }
      out[octet++] = (byte) value;
      if (octet < 4) {
        if (i >= to || s.charAt(i) != '.') {
          return null;
        }
        i++;
      }
    }
    return i == to ? out : null;
  }

  /** The four bytes of a canonical dotted quad, or null if {@code s} is not one. */
  static byte[] parseCanonicalIpv4(CharSequence s) {
    return parseCanonicalIpv4(s, 0, s.length());
  }

  /**
   * The sixteen bytes of an IPv6 text form (without brackets), or null if {@code s} is not one.
   * Zones ({@code %eth0}) are refused: they only make sense for link-local addresses, which are
   * denied anyway.
   */
  static byte[] parseIpv6(String s) {
    int n = s.length();
    if (n < 2 || n > 45) {
      return null;
    }
    int[] groups = new int[8];
    int count = 0;
    int gap = -1; // index in groups where "::" stands
    int i = 0;
    if (s.startsWith("::")) {
      gap = 0;
      i = 2;
      if (i == n) {
        return new byte[16];
      }
    } else if (s.charAt(0) == ':') {
      return null;
    }
    byte[] v4 = null;
    while (i < n) {
      int start = i;
      int value = 0;
      while (i < n && hexDigit(s.charAt(i)) >= 0 && i - start < 5) {
        value = value * 16 + hexDigit(s.charAt(i));
        i++;
      }
      int digits = i - start;
      if (i < n && s.charAt(i) == '.') {
        // A trailing dotted quad takes the place of the last two groups.
        if (count > 6) {
          return null;
        }
        v4 = parseCanonicalIpv4(s, start, n);
        if (v4 == null) {
          return null;
        }
        i = n;
        break;
      }
      if (digits == 0 || digits > 4 || count == 8) {
        return null;
      }
      groups[count++] = value;
      if (i == n) {
        break;
      }
      if (s.charAt(i) != ':') {
        return null;
      }
      i++;
      if (i < n && s.charAt(i) == ':') {
        if (gap >= 0) {
          return null; // "::" twice
        }
        gap = count;
        i++;
        if (i == n) {
          break;
        }
      } else if (i == n) {
        return null; // trailing single ':'
      }
    }
    int total = count + (v4 == null ? 0 : 2);
    if (gap < 0 ? total != 8 : total > 7) {
      return null;
    }
    byte[] out = new byte[16];
    int tailGroups = count - (gap < 0 ? count : gap);
    int headGroups = count - tailGroups;
    for (int g = 0; g < headGroups; g++) {
      out[2 * g] = (byte) (groups[g] >>> 8);
      out[2 * g + 1] = (byte) groups[g];
    }
    int tailStart = 8 - tailGroups - (v4 == null ? 0 : 2);
    for (int g = 0; g < tailGroups; g++) {
      int value = groups[headGroups + g];
      out[2 * (tailStart + g)] = (byte) (value >>> 8);
      out[2 * (tailStart + g) + 1] = (byte) value;
    }
    if (v4 != null) {
      System.arraycopy(v4, 0, out, 12, 4);
    }
    return out;
  }

  /**
   * The value of an ASCII hex digit, or -1. Not {@link Character#digit(char, int)}, which also
   * reads fullwidth and other Unicode digits and letters ({@code ２６０６}, {@code ١}, {@code ｆ}).
   */
  private static int hexDigit(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  /** Text of a 4- or 16-byte address, for logs and details (never of client input). */
  static String format(byte[] a) {
    if (a.length == 4) {
      return (a[0] & 0xff) + "." + (a[1] & 0xff) + "." + (a[2] & 0xff) + "." + (a[3] & 0xff);
    }
    StringBuilder sb = new StringBuilder(39);
    for (int g = 0; g < 8; g++) {
      if (g > 0) {
        sb.append(':');
      }
      sb.append(Integer.toHexString(((a[2 * g] & 0xff) << 8) | (a[2 * g + 1] & 0xff)));
    }
    return sb.toString();
  }
}
