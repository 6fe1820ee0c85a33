package io.modelguard.internal;

/**
 * What a request's protocol ({@code HTTP/1.1}, {@code HTTP/2.0}, as the servlet container names it)
 * tells the adapters about its body and its connection, for both adapters. Internal: not part of
 * the public API.
 */
public final class HttpProtocols {
  private HttpProtocols() {}

  /**
   * Whether {@code protocol} is HTTP/1.0 or 1.1 (any letter case), where a request body declares its
   * length or its chunking, so a request declaring neither has none. False for null or empty (not
   * known).
   *
   * @param protocol the request's protocol, such as {@code HTTP/1.1}, or null
   * @return true for HTTP/1.0 and 1.1
   */
  public static boolean isHttp1(String protocol) {
    return protocol != null && protocol.regionMatches(true, 0, "HTTP/1.", 0, 7);
  }

  /**
   * Whether {@code protocol} is HTTP/1.x or not known (null or empty): where a denial may say {@code
   * Connection: close}. HTTP/2 and later have no such field: RFC 9113 (section 8.2.2) makes a
   * message carrying one malformed, and a container may send it as set (Tomcat does), so a strict
   * client (curl's nghttp2) resets the stream and never sees the denial.
   *
   * @param protocol the request's protocol, or null
   * @return true for HTTP/1.x, null or empty
   */
  public static boolean isHttp1OrUnknown(String protocol) {
    return protocol == null || protocol.isEmpty() || isHttp1(protocol);
  }

  /**
   * Whether a request body's end is unknown from its head: chunked, or declaring no length ({@code
   * declaredLength < 0}) over anything but HTTP/1.x, HTTP/2 framing a body of any length without
   * chunking (an unknown protocol included: reading a body that has no bytes, to discard it, ends
   * at once). For {@link io.modelguard.CappedBody#leavesUnreadBytes}.
   *
   * @param declaredLength the request's {@code Content-Length}, or -1 if it has none
   * @param chunked whether the request declares chunked transfer coding
   * @param protocol the request's protocol, or null
   * @return true if the body's length cannot be known before reading it to its end
   */
  public static boolean unknownLength(long declaredLength, boolean chunked, String protocol) {
    return chunked || (declaredLength < 0 && !isHttp1(protocol));
  }
}
