package io.modelguard;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Stable, machine-readable reasons for denying a request. The {@link #code()} string is part of
 * the public contract: it appears in the {@code code} member and the {@code type} URI of every
 * problem response and never changes meaning once released. Adapters, not policies, map a code to
 * its HTTP status (see {@code io.modelguard.problem.ProblemRenderer}).
 */
public enum ReasonCode {
  /** No credential was presented. */
  AUTH_MISSING_CREDENTIALS("auth.missing_credentials"),
  /** A bearer token was presented but is not valid. */
  AUTH_INVALID_TOKEN("auth.invalid_token"),
  /** An API key was presented but is malformed, unknown, revoked or expired. */
  AUTH_INVALID_API_KEY("auth.invalid_api_key"),
  /** The caller is authenticated but may not invoke this model. */
  AUTHZ_MODEL_FORBIDDEN("authz.model_forbidden"),
  /** A quota limit is exhausted; a retry-after is known. */
  QUOTA_EXCEEDED("quota.exceeded"),
  /** The quota store is unreachable and the policy fails closed. */
  QUOTA_UNAVAILABLE("quota.unavailable"),
  /** The request body exceeds the model's size limit. */
  INPUT_TOO_LARGE("input.too_large"),
  /** The request's media type is not accepted by the model. */
  INPUT_UNSUPPORTED_MEDIA_TYPE("input.unsupported_media_type"),
  /** The body cannot be parsed (bad JSON, bad encoding). */
  INPUT_MALFORMED("input.malformed"),
  /** The body parses but violates the model's input specification. */
  INPUT_INVALID("input.invalid"),
  /** A URL in the input was refused by the SSRF policy; no connection was made. */
  INPUT_URL_BLOCKED("input.url_blocked"),
  /** A URL in the input was allowed but fetching it failed. */
  INPUT_FETCH_FAILED("input.fetch_failed"),
  /** A gateway's upstream model server could not be reached or gave no usable response. */
  UPSTREAM_UNAVAILABLE("upstream.unavailable"),
  /** A gateway's upstream model server did not answer in time. */
  UPSTREAM_TIMEOUT("upstream.timeout"),
  /** The client is blocked by the extraction defence. */
  EXTRACTION_BLOCKED("extraction.blocked"),
  /** A policy failed unexpectedly and the chain failed closed. */
  INTERNAL_ERROR("internal.error");

  private static final Map<String, ReasonCode> BY_CODE =
      Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(ReasonCode::code, Function.identity()));

  private final String code;

  ReasonCode(String code) {
    this.code = code;
  }

  /** {@return the stable wire form, for example {@code auth.invalid_api_key}} */
  public String code() {
    return code;
  }

  /**
   * Looks a reason code up by its wire form.
   *
   * @param code the wire form, such as {@code auth.invalid_api_key}; compared exactly
   * @return the reason code, or empty if none has that form
   */
  public static Optional<ReasonCode> fromCode(String code) {
    return Optional.ofNullable(BY_CODE.get(code));
  }

  @Override
  public String toString() {
    return code;
  }
}
