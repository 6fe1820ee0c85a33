package io.modelguard.input;

import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * The result of {@link SafeUrlFetcher#check(String)}: the URL parsed, its host normalised and
 * resolved, and every answer judged; no connection is made. Immutable.
 */
public final class UrlCheck {
  private final UrlRefusal refusal;
  private final FetchFailure failure;
  private final String host;
  private final int port;
  private final List<InetAddress> addresses;
  final ParsedUrl url;

  private UrlCheck(UrlRefusal refusal, FetchFailure failure, ParsedUrl url, List<InetAddress> addresses) {
    this.refusal = refusal;
    this.failure = failure;
    this.url = url;
    this.host = url == null ? null : url.host;
    this.port = url == null ? -1 : url.port;
    this.addresses = addresses;
  }

  static UrlCheck allowed(ParsedUrl url, List<InetAddress> addresses) {
    return new UrlCheck(null, null, url, List.copyOf(addresses));
  }

  static UrlCheck refused(UrlRefusal refusal, ParsedUrl url) {
    return new UrlCheck(refusal, null, url, List.of());
  }

  static UrlCheck failed(FetchFailure failure, ParsedUrl url) {
    return new UrlCheck(null, failure, url, List.of());
  }

  /** Whether the URL may be fetched: parsed, allowed, and every address it resolved to is allowed. */
  public boolean isAllowed() {
    return refusal == null && failure == null;
  }

  /** Why the URL was refused, if it was. */
  public Optional<UrlRefusal> refusal() {
    return Optional.ofNullable(refusal);
  }

  /** Why checking failed although the URL is allowed (the host has no address), if it did. */
  public Optional<FetchFailure> failure() {
    return Optional.ofNullable(failure);
  }

  /** The normalised host (IDNA ASCII, lower case), if the URL parsed. */
  public Optional<String> host() {
    return Optional.ofNullable(host);
  }

  /** The port (explicit or the scheme's default), or -1 if the URL did not parse. */
  public int port() {
    return port;
  }

  /** The checked addresses a fetch would connect to, in order; empty unless allowed. */
  public List<InetAddress> addresses() {
    return addresses;
  }

  /**
   * The decision for a guard: allow, {@link ReasonCode#INPUT_URL_BLOCKED} for a refusal, {@link
   * ReasonCode#INPUT_FETCH_FAILED} for a failure; the detail is the reason's generic client text.
   */
  public GuardDecision decision() {
    if (refusal != null) {
      return GuardDecision.deny(ReasonCode.INPUT_URL_BLOCKED, refusal.clientDetail());
    }
    if (failure != null) {
      return GuardDecision.deny(ReasonCode.INPUT_FETCH_FAILED, failure.clientDetail());
    }
    return GuardDecision.allow();
  }

  @Override
  public String toString() {
    return isAllowed() ? "UrlCheck[allowed " + host + ":" + port + " -> " + addresses + "]"
        : "UrlCheck[" + (refusal != null ? refusal : failure) + "]";
  }
}
