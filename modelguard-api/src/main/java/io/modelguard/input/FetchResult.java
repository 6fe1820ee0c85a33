package io.modelguard.input;

import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import java.util.Optional;

/**
 * The result of {@link SafeUrlFetcher#fetch(String)}: the fetched bytes, or why the URL was
 * refused (nothing was connected to), or why fetching an allowed URL failed. Never holds the
 * upstream's error body or messages. Immutable; {@link #body()} returns a copy.
 */
public final class FetchResult {
  private final byte[] body;
  private final ImageFormat format;
  private final int redirects;
  private final UrlRefusal refusal;
  /** Whether {@link #refusal} was decided from the answers a host name resolved to. */
  private final boolean fromAnswers;
  private final FetchFailure failure;

  private FetchResult(
      byte[] body, ImageFormat format, int redirects, UrlRefusal refusal, boolean fromAnswers, FetchFailure failure) {
    this.body = body;
    this.format = format;
    this.redirects = redirects;
    this.refusal = refusal;
    this.fromAnswers = fromAnswers;
    this.failure = failure;
  }

  static FetchResult fetched(byte[] body, ImageFormat format, int redirects) {
    return new FetchResult(body, format, redirects, null, false, null);
  }

  /** Refused before any lookup, or for an IP literal: the client is told the reason. */
  static FetchResult refused(UrlRefusal refusal, int redirects) {
    return new FetchResult(null, null, redirects, refusal, false, null);
  }

  /** Refused as {@code check} was, which may have been decided from a name's answers. */
  static FetchResult refused(UrlCheck check, int redirects) {
    return new FetchResult(null, null, redirects, check.refusal().orElseThrow(), check.refusedByAnswers(), null);
  }

  static FetchResult failed(FetchFailure failure, int redirects) {
    return new FetchResult(null, null, redirects, null, false, failure);
  }

  /** {@return whether the resource was fetched} */
  public boolean isFetched() {
    return body != null;
  }

  /** {@return a copy of the fetched bytes; empty unless fetched} */
  public Optional<byte[]> body() {
    return body == null ? Optional.empty() : Optional.of(body.clone());
  }

  /** {@return the number of fetched bytes, 0 unless fetched} */
  public int length() {
    return body == null ? 0 : body.length;
  }

  /** {@return the image format sniffed from the fetched bytes, if the fetcher accepts images only} */
  public Optional<ImageFormat> format() {
    return Optional.ofNullable(format);
  }

  /** {@return how many redirects were followed} */
  public int redirects() {
    return redirects;
  }

  /**
   * Why the URL (or a redirect target) was refused before connecting, if it was: the true reason,
   * also when {@link #decision()} tells the client the host could not be resolved.
   *
   * @return the refusal, or empty if the URL was not refused
   */
  public Optional<UrlRefusal> refusal() {
    return Optional.ofNullable(refusal);
  }

  /**
   * Why fetching failed, if it did.
   *
   * @return the failure, or empty if the fetch did not fail (or the URL was refused)
   */
  public Optional<FetchFailure> failure() {
    return Optional.ofNullable(failure);
  }

  /**
   * The decision for a guard: allow if fetched, {@link ReasonCode#INPUT_URL_BLOCKED} (422) for a
   * refusal, {@link ReasonCode#INPUT_FETCH_FAILED} (502) for a failure; the detail is the reason's
   * generic client text, never anything the upstream sent. A refusal decided from the answers a
   * host name (of the URL or of a redirect hop) resolved to is told to the client exactly as a name
   * that does not resolve is ({@code 502}, {@link FetchFailure#UNRESOLVABLE}'s text), so that
   * refusals cannot reveal which internal names exist, while its {@linkplain
   * GuardDecision#operatorNote() operator note} ({@link UrlRefusal#operatorNote()}) tells the
   * operator; see {@link UrlCheck#decision()}.
   *
   * @return the decision; never null
   */
  public GuardDecision decision() {
    return UrlCheck.decision(refusal, fromAnswers, failure);
  }

  byte[] bodyUnsafe() {
    return body;
  }

  @Override
  public String toString() {
    return isFetched() ? "FetchResult[fetched " + body.length + " bytes" + (format == null ? "" : " " + format)
        + ", " + redirects + " redirects]"
        : "FetchResult[" + (refusal != null ? "refused " + refusal + (fromAnswers ? " (told: unresolvable)" : "")
            : "failed " + failure) + "]";
  }
}
