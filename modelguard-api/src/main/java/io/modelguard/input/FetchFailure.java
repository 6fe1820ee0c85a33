package io.modelguard.input;

/**
 * Why fetching an allowed URL failed. Each maps to {@link io.modelguard.ReasonCode#INPUT_FETCH_FAILED}
 * (HTTP 502); {@link #clientDetail()} is the safe text sent to the client. The upstream's body,
 * status text and error messages are never passed on.
 */
public enum FetchFailure {
  /**
   * The host name has no address (or resolution timed out). Its client answer is also what a name
   * refused for resolving to a denied address gets ({@link UrlRefusal#DENIED_ADDRESS}), so that the
   * two cannot be told apart.
   */
  UNRESOLVABLE("The URL's host could not be resolved."),
  /** No checked address accepted a connection within the connect timeout. */
  CONNECT_FAILED("The URL's host could not be reached."),
  /** The total time budget ran out. */
  TIMEOUT("Fetching the URL timed out."),
  /** The TLS handshake failed (certificate not trusted or not for this host, protocol error). */
  TLS_FAILED("The URL's host did not present a trusted certificate."),
  /** The upstream answered with a status other than 200 or a followed redirect. */
  HTTP_STATUS("The URL's host did not return the resource."),
  /** The response is larger than the byte cap. */
  TOO_LARGE("The resource at the URL is too large."),
  /** The response is not well-formed HTTP/1.1, or uses a transfer or content encoding we refuse. */
  BAD_RESPONSE("The URL's host sent an invalid response."),
  /** More redirects than allowed (default 5). */
  TOO_MANY_REDIRECTS("The URL redirects too many times."),
  /** The content's magic bytes are not one of the accepted formats. */
  CONTENT_REJECTED("The resource at the URL is not an accepted content type.");

  private final String clientDetail;

  FetchFailure(String clientDetail) {
    this.clientDetail = clientDetail;
  }

  /** {@return a safe, generic sentence for the problem response's {@code detail}} */
  public String clientDetail() {
    return clientDetail;
  }
}
