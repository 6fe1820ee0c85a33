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
  private final FetchFailure failure;

  private FetchResult(byte[] body, ImageFormat format, int redirects, UrlRefusal refusal, FetchFailure failure) {
    this.body = body;
    this.format = format;
    this.redirects = redirects;
    this.refusal = refusal;
    this.failure = failure;
  }

  static FetchResult fetched(byte[] body, ImageFormat format, int redirects) {
    return new FetchResult(body, format, redirects, null, null);
  }

  static FetchResult refused(UrlRefusal refusal, int redirects) {
    return new FetchResult(null, null, redirects, refusal, null);
  }

  static FetchResult failed(FetchFailure failure, int redirects) {
    return new FetchResult(null, null, redirects, null, failure);
  }

  /** Whether the resource was fetched. */
  public boolean isFetched() {
    return body != null;
  }

  /** A copy of the fetched bytes; empty unless fetched. */
  public Optional<byte[]> body() {
    return body == null ? Optional.empty() : Optional.of(body.clone());
  }

  /** The number of fetched bytes, 0 unless fetched. */
  public int length() {
    return body == null ? 0 : body.length;
  }

  /** The image format sniffed from the fetched bytes, if the fetcher accepts images only. */
  public Optional<ImageFormat> format() {
    return Optional.ofNullable(format);
  }

  /** How many redirects were followed. */
  public int redirects() {
    return redirects;
  }

  /** Why the URL (or a redirect target) was refused before connecting, if it was. */
  public Optional<UrlRefusal> refusal() {
    return Optional.ofNullable(refusal);
  }

  /** Why fetching failed, if it did. */
  public Optional<FetchFailure> failure() {
    return Optional.ofNullable(failure);
  }

  /**
   * The decision for a guard: allow if fetched, {@link ReasonCode#INPUT_URL_BLOCKED} (422) for a
   * refusal, {@link ReasonCode#INPUT_FETCH_FAILED} (502) for a failure; the detail is the reason's
   * generic client text, never anything the upstream sent.
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

  byte[] bodyUnsafe() {
    return body;
  }

  @Override
  public String toString() {
    return isFetched() ? "FetchResult[fetched " + body.length + " bytes" + (format == null ? "" : " " + format)
        + ", " + redirects + " redirects]"
        : "FetchResult[" + (refusal != null ? "refused " + refusal : "failed " + failure) + "]";
  }
}
