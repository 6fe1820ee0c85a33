package io.modelguard.input;

import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * The result of {@link SafeUrlFetcher#check(String)}: the URL parsed, its host normalised and
 * resolved, and every answer judged; no connection is made. Immutable.
 *
 * <p>{@link #refusal()} always holds the true reason, for the application and its logs; {@link
 * #decision()}, what the client is told, answers a refusal decided from what a host <em>name</em>
 * resolved to exactly as it answers a name that does not resolve (see {@link #decision()}).
 */
public final class UrlCheck {
  private final UrlRefusal refusal;
  /** Whether {@link #refusal} was decided from the answers a host name resolved to. */
  private final boolean fromAnswers;
  private final FetchFailure failure;
  private final String host;
  private final int port;
  private final List<InetAddress> addresses;
  final ParsedUrl url;

  private UrlCheck(
      UrlRefusal refusal, boolean fromAnswers, FetchFailure failure, ParsedUrl url, List<InetAddress> addresses) {
    this.refusal = refusal;
    this.fromAnswers = fromAnswers;
    this.failure = failure;
    this.url = url;
    this.host = url == null ? null : url.host;
    this.port = url == null ? -1 : url.port;
    this.addresses = addresses;
  }

  static UrlCheck allowed(ParsedUrl url, List<InetAddress> addresses) {
    return new UrlCheck(null, false, null, url, List.copyOf(addresses));
  }

  /** Refused before any lookup, or for an IP literal: the client is told the reason. */
  static UrlCheck refused(UrlRefusal refusal, ParsedUrl url) {
    return new UrlCheck(refusal, false, null, url, List.of());
  }

  /**
   * Refused because of what the host name {@code url} names resolved to: the client is told the
   * name does not resolve (see {@link #decision()}).
   */
  static UrlCheck refusedByAnswers(UrlRefusal refusal, ParsedUrl url) {
    return new UrlCheck(refusal, true, null, url, List.of());
  }

  static UrlCheck failed(FetchFailure failure, ParsedUrl url) {
    return new UrlCheck(null, false, failure, url, List.of());
  }

  /** {@return whether the URL may be fetched: parsed, allowed, and every address it resolved to is allowed} */
  public boolean isAllowed() {
    return refusal == null && failure == null;
  }

  /**
   * Why the URL was refused, if it was: the true reason, also when {@link #decision()} tells the
   * client the host could not be resolved.
   *
   * @return the refusal, or empty if the URL was not refused
   */
  public Optional<UrlRefusal> refusal() {
    return Optional.ofNullable(refusal);
  }

  /**
   * Why checking failed although the URL is allowed (the host has no address), if it did.
   *
   * @return the failure, or empty if the check did not fail
   */
  public Optional<FetchFailure> failure() {
    return Optional.ofNullable(failure);
  }

  /** {@return the normalised host (IDNA ASCII, lower case), if the URL parsed} */
  public Optional<String> host() {
    return Optional.ofNullable(host);
  }

  /** {@return the port (explicit or the scheme's default), or -1 if the URL did not parse} */
  public int port() {
    return port;
  }

  /** {@return the checked addresses a fetch would connect to, in order; empty unless allowed} */
  public List<InetAddress> addresses() {
    return addresses;
  }

  /**
   * The decision for a guard: allow, {@link ReasonCode#INPUT_URL_BLOCKED} for a refusal, {@link
   * ReasonCode#INPUT_FETCH_FAILED} for a failure; the detail is the reason's generic client text.
   *
   * <p>One exception: a refusal decided from the answers a host <em>name</em> resolved to (an
   * answer in the deny set, {@link UrlRefusal#DENIED_ADDRESS}, or a port allowed only for an
   * {@linkplain SafeUrlFetcher.Builder#allowInternalEndpoint internal endpoint} the answers are
   * not) gets exactly the decision of a name that does not resolve: {@link
   * ReasonCode#INPUT_FETCH_FAILED} with {@link FetchFailure#UNRESOLVABLE}'s text. Behind a
   * split-horizon resolver (a cloud VPC, a corporate DNS), telling the two apart would let a client
   * list the internal names that exist without ever reaching them. The client wrote an IP literal
   * itself, so a refused literal keeps {@code input.url_blocked}, as do refusals decided before
   * any lookup (scheme, userinfo, port, name lists, malformed). The operator is told the truth: the
   * decision of such a refusal carries {@link UrlRefusal#operatorNote()} (for example {@code
   * ssrf_refused:DENIED_ADDRESS}) as its {@linkplain GuardDecision#operatorNote() operator note},
   * which reaches the engine's audit listeners and is never rendered for the client.
   *
   * @return the decision; never null
   */
  public GuardDecision decision() {
    return decision(refusal, fromAnswers, failure);
  }

  /** The client's decision for a refusal or failure (at most one non-null); shared with {@link FetchResult}. */
  static GuardDecision decision(UrlRefusal refusal, boolean fromAnswers, FetchFailure failure) {
    if (refusal != null && fromAnswers) {
      // The client's answer is an unresolvable name's; the note, which it never sees, keeps the truth.
      return decision(null, false, FetchFailure.UNRESOLVABLE).withOperatorNote(refusal.operatorNote());
    }
    if (refusal != null) {
      return GuardDecision.deny(ReasonCode.INPUT_URL_BLOCKED, refusal.clientDetail());
    }
    if (failure != null) {
      return GuardDecision.deny(ReasonCode.INPUT_FETCH_FAILED, failure.clientDetail());
    }
    return GuardDecision.allow();
  }

  /** Whether the refusal was decided from the answers a host name resolved to. */
  boolean refusedByAnswers() {
    return fromAnswers;
  }

  @Override
  public String toString() {
    return isAllowed() ? "UrlCheck[allowed " + host + ":" + port + " -> " + addresses + "]"
        : "UrlCheck[" + (refusal != null ? refusal + (fromAnswers ? " (told: unresolvable)" : "") : failure) + "]";
  }
}
