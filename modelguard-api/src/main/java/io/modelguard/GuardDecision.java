package io.modelguard;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The value a policy returns, and the value {@link ModelGuard#check} returns: allow (optionally
 * with the authenticated principal) or deny with a {@link ReasonCode}; plus response headers to add
 * either way (such as rate-limit headers) and, for denials, a retry-after and a challenge scope.
 * Policies never throw to deny. Immutable.
 */
public final class GuardDecision {
  private static final GuardDecision ALLOW =
      new GuardDecision(true, null, null, null, Map.of(), null, null);
  private static final GuardDecision MORE_THAN_ONE_CREDENTIAL =
      deny(ReasonCode.AUTH_INVALID_TOKEN, "Present exactly one credential.");

  private final boolean allowed;
  private final ReasonCode reason;
  private final String detail;
  private final Principal principal;
  private final Map<String, String> headers;
  private final Duration retryAfter;
  private final String challengeScope;

  private GuardDecision(
      boolean allowed,
      ReasonCode reason,
      String detail,
      Principal principal,
      Map<String, String> headers,
      Duration retryAfter,
      String challengeScope) {
    this.allowed = allowed;
    this.reason = reason;
    this.detail = detail;
    this.principal = principal;
    this.headers = headers;
    this.retryAfter = retryAfter;
    this.challengeScope = challengeScope;
  }

  /** Let the request continue to the next policy. */
  public static GuardDecision allow() {
    return ALLOW;
  }

  /** Authentication succeeded: continue, and {@code principal} is who is calling. */
  public static GuardDecision authenticated(Principal principal) {
    return new GuardDecision(true, null, null, Objects.requireNonNull(principal, "principal"), Map.of(), null, null);
  }

  /** Deny with {@code reason} and the reason's generic detail. */
  public static GuardDecision deny(ReasonCode reason) {
    return new GuardDecision(false, Objects.requireNonNull(reason, "reason"), null, null, Map.of(), null, null);
  }

  /**
   * Deny with {@code reason} and a detail for the client. The detail must be safe to show: never a
   * parser message, token, key or stack trace.
   */
  public static GuardDecision deny(ReasonCode reason, String detail) {
    return new GuardDecision(
        false, Objects.requireNonNull(reason, "reason"), Objects.requireNonNull(detail, "detail"), null, Map.of(), null, null);
  }

  /**
   * Deny a request that carries more than one credential (an API key and a bearer token, say):
   * {@code auth.invalid_token} with the detail "Present exactly one credential.", the engine's
   * answer when two authenticators succeed and the built-in authenticators' when they see a second
   * credential header.
   */
  public static GuardDecision moreThanOneCredential() {
    return MORE_THAN_ONE_CREDENTIAL;
  }

  /** A copy that also sets response header {@code name} (replacing an earlier value). */
  public GuardDecision withHeader(String name, String value) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    Map<String, String> copy = new LinkedHashMap<>(headers);
    copy.put(name, value);
    return new GuardDecision(allowed, reason, detail, principal, Collections.unmodifiableMap(copy), retryAfter, challengeScope);
  }

  /** A copy with all of {@code more} added to the response headers. */
  public GuardDecision withHeaders(Map<String, String> more) {
    if (more.isEmpty()) {
      return this;
    }
    Map<String, String> copy = new LinkedHashMap<>(headers);
    copy.putAll(more);
    return new GuardDecision(allowed, reason, detail, principal, Collections.unmodifiableMap(copy), retryAfter, challengeScope);
  }

  /** A copy with the time after which a retry may succeed (denials only; rounded up to seconds on the wire). */
  public GuardDecision withRetryAfter(Duration retryAfter) {
    if (retryAfter.isNegative()) {
      throw new IllegalArgumentException("retryAfter must not be negative");
    }
    return new GuardDecision(allowed, reason, detail, principal, headers, retryAfter, challengeScope);
  }

  /** A copy naming the OAuth scope the caller lacks, for example {@code model:digits:invoke}. */
  public GuardDecision withChallengeScope(String scope) {
    return new GuardDecision(allowed, reason, detail, principal, headers, retryAfter, Objects.requireNonNull(scope, "scope"));
  }

  /**
   * A copy whose headers are {@code base} overridden by this decision's own. {@code base} is handed
   * over: the caller must not change it afterwards (the engine's final decision takes the headers
   * it collected without copying them again when the deciding policy adds none).
   */
  GuardDecision withHeadersUnder(Map<String, String> base) {
    if (headers.isEmpty()) {
      return new GuardDecision(allowed, reason, detail, principal, Collections.unmodifiableMap(base), retryAfter,
          challengeScope);
    }
    Map<String, String> copy = new LinkedHashMap<>(base);
    copy.putAll(headers);
    return new GuardDecision(allowed, reason, detail, principal, Collections.unmodifiableMap(copy), retryAfter, challengeScope);
  }

  /** A copy carrying {@code principal} (used by the engine for its final decision). */
  GuardDecision withPrincipal(Principal p) {
    return new GuardDecision(allowed, reason, detail, p, headers, retryAfter, challengeScope);
  }

  /** Whether the request may proceed. */
  public boolean isAllowed() {
    return allowed;
  }

  /** The reason for a denial; empty when allowed. */
  public Optional<ReasonCode> reason() {
    return Optional.ofNullable(reason);
  }

  /** The client-safe detail a policy gave; empty means "use the reason's generic detail". */
  public Optional<String> detail() {
    return Optional.ofNullable(detail);
  }

  /** The authenticated principal, if any policy established one. */
  public Optional<Principal> principal() {
    return Optional.ofNullable(principal);
  }

  /** Headers to add to the response, whether allowed or denied. */
  public Map<String, String> headers() {
    return headers;
  }

  /** How long to wait before retrying, for denials that know it. */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  /** The scope the caller lacks, for {@link ReasonCode#AUTHZ_MODEL_FORBIDDEN}. */
  public Optional<String> challengeScope() {
    return Optional.ofNullable(challengeScope);
  }

  @Override
  public String toString() {
    return allowed
        ? "GuardDecision[allow" + (principal == null ? "" : ", " + principal) + "]"
        : "GuardDecision[deny " + reason + "]";
  }
}
