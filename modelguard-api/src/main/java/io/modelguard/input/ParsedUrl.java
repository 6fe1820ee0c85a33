package io.modelguard.input;

import java.net.IDN;
import java.util.Locale;

/**
 * The one strict URL parser of {@link SafeUrlFetcher}. It accepts a deliberately small subset of
 * what browsers and {@code java.net.URL} accept, so that no later component can read the same text
 * as a different host: anything outside the subset is refused, never repaired.
 *
 * <p>Host normalisation (IDNA with NFKC mapping, lower case, one trailing dot stripped) happens
 * <em>before</em> deciding whether the host is an IP literal, so {@code ①②⑦.⓪.⓪.①} and
 * {@code 127。0。0。1} are seen as the loopback literal they become.
 */
final class ParsedUrl {
  static final int MAX_URL_LENGTH = 2048;

  final String scheme;
  /** ASCII, lower case, no trailing dot; an IPv6 literal without brackets. */
  final String host;
  final int port;
  /** Path and query as sent on the request line; at least "/". */
  final String target;
  /** The literal address if the host is an IP literal, else null. */
  final byte[] literal;

  private ParsedUrl(String scheme, String host, int port, String target, byte[] literal) {
    this.scheme = scheme;
    this.host = host;
    this.port = port;
    this.target = target;
    this.literal = literal;
  }

  boolean https() {
    return scheme.equals("https");
  }

  /** The value of the {@code Host} header. */
  String hostHeader() {
    String h = literal != null && literal.length == 16 ? "[" + host + "]" : host;
    return port == (https() ? 443 : 80) ? h : h + ":" + port;
  }

  /** The URL in canonical form (no fragment), for logs and for resolving redirects. */
  String canonical() {
    String h = literal != null && literal.length == 16 ? "[" + host + "]" : host;
    return scheme + "://" + h + ":" + port + target;
  }

  /** Thrown by the parser; carries the refusal and a log-only note. */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;
    final UrlRefusal reason;

    Refused(UrlRefusal reason, String note) {
      super(note, null, false, false);
      this.reason = reason;
    }
  }

  static ParsedUrl parse(String url) throws Refused {
    if (url == null || url.isEmpty() || url.length() > MAX_URL_LENGTH) {
      throw new Refused(UrlRefusal.MALFORMED, "empty or longer than " + MAX_URL_LENGTH);
    }
    for (int i = 0; i < url.length(); i++) {
      char c = url.charAt(i);
      // Controls, spaces and backslashes are silently stripped or rewritten by other parsers
      // (WHATWG turns '\' into '/' and drops tabs and newlines): refuse instead of guessing.
      if (c <= 0x20 || c == 0x7f || c == '\\' || (c >= 0x80 && c <= 0x9f) || Character.isWhitespace(c)
          || Character.isSurrogate(c) && !validSurrogate(url, i)) {
        throw new Refused(UrlRefusal.MALFORMED, "control, space or backslash at " + i);
      }
    }
    int colon = url.indexOf(':');
    if (colon <= 0) {
      throw new Refused(UrlRefusal.MALFORMED, "no scheme");
    }
    for (int i = 0; i < colon; i++) {
      char c = url.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
      if (!ok) {
        throw new Refused(UrlRefusal.MALFORMED, "bad scheme");
      }
    }
    String scheme = url.substring(0, colon).toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new Refused(UrlRefusal.SCHEME_NOT_ALLOWED, "scheme " + scheme);
    }
    if (!url.startsWith("//", colon + 1)) {
      throw new Refused(UrlRefusal.MALFORMED, "no '//' after the scheme");
    }
    int authStart = colon + 3;
    int authEnd = authStart;
    while (authEnd < url.length() && "/?#".indexOf(url.charAt(authEnd)) < 0) {
      authEnd++;
    }
    String authority = url.substring(authStart, authEnd);
    if (authority.indexOf('@') >= 0) {
      throw new Refused(UrlRefusal.USERINFO, "userinfo");
    }
    if (authority.indexOf('%') >= 0) {
      throw new Refused(UrlRefusal.MALFORMED, "percent-encoded authority");
    }
    String rawHost;
    String portText = null;
    byte[] literal = null;
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      if (close < 0) {
        throw new Refused(UrlRefusal.MALFORMED, "unclosed IPv6 literal");
      }
      rawHost = authority.substring(1, close);
      literal = IpLiterals.parseIpv6(rawHost);
      if (literal == null) {
        throw new Refused(UrlRefusal.MALFORMED, "bad IPv6 literal");
      }
      String rest = authority.substring(close + 1);
      if (!rest.isEmpty()) {
        if (rest.charAt(0) != ':') {
          throw new Refused(UrlRefusal.MALFORMED, "text after the IPv6 literal");
        }
        portText = rest.substring(1);
      }
    } else {
      int c = authority.indexOf(':');
      if (c >= 0) {
        if (authority.indexOf(':', c + 1) >= 0) {
          throw new Refused(UrlRefusal.MALFORMED, "more than one ':' in the authority");
        }
        rawHost = authority.substring(0, c);
        portText = authority.substring(c + 1);
      } else {
        rawHost = authority;
      }
    }
    int port = scheme.equals("https") ? 443 : 80;
    if (portText != null) {
      if (portText.isEmpty() || portText.length() > 5 || portText.charAt(0) == '0') {
        throw new Refused(UrlRefusal.MALFORMED, "bad port");
      }
      port = 0;
      for (int i = 0; i < portText.length(); i++) {
        char d = portText.charAt(i);
        if (d < '0' || d > '9') {
          throw new Refused(UrlRefusal.MALFORMED, "bad port");
        }
        port = port * 10 + (d - '0');
      }
      if (port > 65535) {
        throw new Refused(UrlRefusal.MALFORMED, "port out of range");
      }
    }
    String host;
    if (literal != null) {
      host = IpLiterals.format(literal);
    } else {
      host = normaliseHost(rawHost);
      literal = ipv4LiteralOrNull(host);
    }
    String target = target(url, authEnd);
    return new ParsedUrl(scheme, host, port, target, literal);
  }

  private static boolean validSurrogate(String s, int i) {
    char c = s.charAt(i);
    if (Character.isHighSurrogate(c)) {
      return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
    }
    return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
  }

  /** IDNA (NFKC-mapped, STD3 rules), lower case, one trailing dot stripped, label rules checked. */
  static String normaliseHost(String raw) throws Refused {
    if (raw.isEmpty()) {
      throw new Refused(UrlRefusal.MALFORMED, "empty host");
    }
    String ascii;
    if (isAscii(raw)) {
      ascii = raw;
    } else {
      try {
        ascii = IDN.toASCII(raw, IDN.USE_STD3_ASCII_RULES);
      } catch (IllegalArgumentException e) {
        throw new Refused(UrlRefusal.MALFORMED, "not a valid internationalised host");
      }
    }
    String host = ascii.toLowerCase(Locale.ROOT);
    if (host.endsWith(".")) {
      host = host.substring(0, host.length() - 1);
    }
    if (host.isEmpty() || host.length() > 253) {
      throw new Refused(UrlRefusal.MALFORMED, "empty or overlong host");
    }
    int labelStart = 0;
    for (int i = 0; i <= host.length(); i++) {
      if (i == host.length() || host.charAt(i) == '.') {
        int len = i - labelStart;
        if (len == 0 || len > 63 || host.charAt(labelStart) == '-' || host.charAt(i - 1) == '-') {
          throw new Refused(UrlRefusal.MALFORMED, "bad host label");
        }
        labelStart = i + 1;
      } else {
        char c = host.charAt(i);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
          throw new Refused(UrlRefusal.MALFORMED, "character not allowed in a host name");
        }
      }
    }
    return host;
  }

  /**
   * The address if {@code host} is an IPv4 literal; null if it is a name. As in the WHATWG URL
   * standard, a host whose last label is numeric (decimal or 0x-hex) is an IPv4 literal; unlike it,
   * only the canonical dotted quad is accepted and every other numeric form is refused.
   */
  static byte[] ipv4LiteralOrNull(String host) throws Refused {
    int lastDot = host.lastIndexOf('.');
    String last = host.substring(lastDot + 1);
    boolean numeric = !last.isEmpty();
    for (int i = 0; i < last.length() && numeric; i++) {
      numeric = last.charAt(i) >= '0' && last.charAt(i) <= '9';
    }
    boolean hex = last.startsWith("0x");
    for (int i = 2; i < last.length() && hex; i++) {
      hex = Character.digit(last.charAt(i), 16) >= 0;
    }
    if (!numeric && !hex) {
      return null;
    }
    byte[] v4 = IpLiterals.parseCanonicalIpv4(host);
    if (v4 == null) {
      throw new Refused(UrlRefusal.AMBIGUOUS_IP_LITERAL, "non-canonical IPv4 form");
    }
    return v4;
  }

  private static String target(String url, int from) throws Refused {
    int end = url.indexOf('#', from);
    if (end < 0) {
      end = url.length();
    }
    String t = url.substring(from, end);
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c >= 0x80) {
        throw new Refused(UrlRefusal.MALFORMED, "non-ASCII in path or query (percent-encode it)");
      }
      if (c == '%' && (i + 2 >= t.length()
          || Character.digit(t.charAt(i + 1), 16) < 0 || Character.digit(t.charAt(i + 2), 16) < 0)) {
        throw new Refused(UrlRefusal.MALFORMED, "bad percent-encoding");
      }
    }
    if (t.isEmpty()) {
      return "/";
    }
    return t.charAt(0) == '?' ? "/" + t : t;
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  /**
   * Resolves a redirect's {@code Location} against this URL (absolute, scheme-relative,
   * absolute-path and relative-path references) and parses the result with the same strict parser.
   */
  ParsedUrl resolve(String location) throws Refused {
    if (location == null || location.isEmpty()) {
      throw new Refused(UrlRefusal.MALFORMED, "empty Location");
    }
    // A scheme ends at a colon before the first '/', '?' or '#' (RFC 3986 4.2): "a.png?v=1:2" is relative.
    int colon = location.indexOf(':');
    int delimiter = location.length();
    for (char d : new char[] {'/', '?', '#'}) {
      int i = location.indexOf(d);
      if (i >= 0 && i < delimiter) {
        delimiter = i;
      }
    }
    boolean absolute = colon > 0 && colon < delimiter;
    String h = literal != null && literal.length == 16 ? "[" + host + "]" : host;
    String origin = scheme + "://" + h + ":" + port;
    String next;
    if (absolute) {
      next = location;
    } else if (location.startsWith("//")) {
      next = scheme + ":" + location;
    } else if (location.startsWith("/")) {
      next = origin + location;
    } else {
      String path = target;
      int q = path.indexOf('?');
      if (q >= 0) {
        path = path.substring(0, q);
      }
      if (location.startsWith("?")) {
        next = origin + path + location;
      } else {
        next = origin + path.substring(0, path.lastIndexOf('/') + 1) + location;
      }
    }
    return parse(next);
  }
}
