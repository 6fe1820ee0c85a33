package io.modelguard.input;

/**
 * Why {@link SafeUrlFetcher} refused a URL before connecting anywhere. Each reason maps to {@link
 * io.modelguard.ReasonCode#INPUT_URL_BLOCKED} (HTTP 422); {@link #clientDetail()} is the safe text
 * sent to the client (it never repeats the URL or what its host resolved to). The exception is a
 * host <em>name</em> refused for what it resolved to ({@link #DENIED_ADDRESS}, or {@link
 * #PORT_NOT_ALLOWED} decided from its answers): the client is told what it would be told for a
 * name that does not resolve ({@link FetchFailure#UNRESOLVABLE}, HTTP 502), so that refusals do
 * not reveal which internal names exist, while {@code refusal()} and the log keep this reason
 * ({@link UrlCheck#decision()}).
 */
public enum UrlRefusal {
  /** The one strict parser could not parse the URL (control characters, backslashes, percent-encoded or malformed hosts, bad ports, overlong). */
  MALFORMED("The URL is not a well-formed http or https URL."),
  /** The scheme is not http or https (file, gopher, ftp, jar, data, ...), also on a redirect. */
  SCHEME_NOT_ALLOWED("Only http and https URLs are allowed."),
  /** The URL carries userinfo ({@code user@host}), a classic parser-differential trick. */
  USERINFO("URLs with user information are not allowed."),
  /**
   * The port is not on the allow-list (default 80 and 443). Decided before any lookup, except for a
   * port allowed only for an {@linkplain SafeUrlFetcher.Builder#allowInternalEndpoint internal
   * endpoint}, which a name's answers other than that endpoint are refused on (told to the client
   * as an unresolvable name).
   */
  PORT_NOT_ALLOWED("The URL's port is not allowed."),
  /** The host is a numeric form other than a canonical dotted quad: octal, hex, integer, short or mixed. */
  AMBIGUOUS_IP_LITERAL("The URL's host is an ambiguous IP address form."),
  /** The host name is on the name deny list (localhost, metadata names, operator additions). */
  DENIED_NAME("The URL's host is not allowed."),
  /** An allow-list of hosts is configured and the host is not on it. */
  HOST_NOT_ALLOWED("The URL's host is not on the allow-list."),
  /**
   * The host is, or resolves to (in any of its answers), an address in the deny set. For an IP
   * literal the client gets this reason's text ({@code 422}); for a name, the text of {@link
   * FetchFailure#UNRESOLVABLE} ({@code 502}), as if the name did not resolve.
   */
  DENIED_ADDRESS("The URL's host is not a public address.");

  private final String clientDetail;

  UrlRefusal(String clientDetail) {
    this.clientDetail = clientDetail;
  }

  /** {@return a safe, generic sentence for the problem response's {@code detail}} */
  public String clientDetail() {
    return clientDetail;
  }

  /**
   * {@code ssrf_refused:} followed by this constant's name (such as {@code
   * ssrf_refused:DENIED_ADDRESS}): the {@linkplain io.modelguard.GuardDecision#operatorNote()
   * operator note} of the decision of a host name refused for what it resolved to, which the client
   * is told is unresolvable. The engine passes it to its listeners ({@link
   * io.modelguard.event.DecisionEvent#operatorNote()}), so the audit line and metrics can tell an
   * SSRF attempt from a name that does not resolve, which has no note; the client never sees it.
   * Refusals the client is told of ({@code input.url_blocked}) carry none: their reason code
   * already says it.
   *
   * @return the note, {@code ssrf_refused:} and this constant's name
   */
  public String operatorNote() {
    return "ssrf_refused:" + name();
  }
}
