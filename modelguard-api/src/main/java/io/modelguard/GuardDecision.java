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
  private static final String RATE_LIMIT_POLICY = "RateLimit-Policy";
  private static final String RATE_LIMIT = "RateLimit";
  /** The longest {@linkplain #withOperatorNote operator note}, in characters. */
  public static final int MAX_OPERATOR_NOTE = 64;
  private static final GuardDecision ALLOW =
      new GuardDecision(true, null, null, null, Map.of(), null, null, null, null);
  private static final GuardDecision MORE_THAN_ONE_CREDENTIAL =
      deny(ReasonCode.AUTH_INVALID_TOKEN, "Present exactly one credential.");

  private final boolean allowed;
  private final ReasonCode reason;
  private final String detail;
  private final Principal principal;
  private final Map<String, String> headers;
  private final Duration retryAfter;
  private final String challengeScope;
  /** The rate-limit items of the policy that returned this decision, for the engine to merge; or null. */
  private final RateLimitItems rateLimit;
  /** What the operator is told and the client is not (see {@link #withOperatorNote}); or null. */
  private final String operatorNote;

  private GuardDecision(
      boolean allowed,
      ReasonCode reason,
      String detail,
      Principal principal,
      Map<String, String> headers,
      Duration retryAfter,
      String challengeScope,
      RateLimitItems rateLimit,
      String operatorNote) {
    this.allowed = allowed;
    this.reason = reason;
    this.detail = detail;
    this.principal = principal;
    this.headers = headers;
    this.retryAfter = retryAfter;
    this.challengeScope = challengeScope;
    this.rateLimit = rateLimit;
    this.operatorNote = operatorNote;
  }

  /**
   * Let the request continue to the next policy.
   *
   * @return the shared allow decision, with no header and no principal
   */
  public static GuardDecision allow() {
    return ALLOW;
  }

  /**
   * Authentication succeeded: continue, and {@code principal} is who is calling.
   *
   * @param principal who is calling; not null
   * @return a new allow decision carrying {@code principal}
   */
  public static GuardDecision authenticated(Principal principal) {
    return new GuardDecision(true, null, null, Objects.requireNonNull(principal, "principal"), Map.of(), null, null, null, null);
  }

  /**
   * Deny with {@code reason} and the reason's generic detail.
   *
   * @param reason the reason code sent to the client; not null
   * @return a new denial
   */
  public static GuardDecision deny(ReasonCode reason) {
    return new GuardDecision(false, Objects.requireNonNull(reason, "reason"), null, null, Map.of(), null, null, null, null);
  }

  /**
   * Deny with {@code reason} and a detail for the client. The detail must be safe to show: never a
   * parser message, token, key or stack trace.
   *
   * @param reason the reason code sent to the client; not null
   * @param detail the problem's {@code detail} for the client; not null
   * @return a new denial
   */
  public static GuardDecision deny(ReasonCode reason, String detail) {
    return new GuardDecision(
        false, Objects.requireNonNull(reason, "reason"), Objects.requireNonNull(detail, "detail"), null, Map.of(), null, null, null, null);
  }

  /**
   * Deny a request that carries more than one credential (an API key and a bearer token, say):
   * {@code auth.invalid_token} with the detail "Present exactly one credential.", the engine's
   * answer when two authenticators succeed and the built-in authenticators' when they see a second
   * credential header.
   *
   * @return the shared denial
   */
  public static GuardDecision moreThanOneCredential() {
    return MORE_THAN_ONE_CREDENTIAL;
  }

  /**
   * A copy that also sets response header {@code name} (replacing an earlier value). The engine
   * does not merge plain headers: a later policy's header of the same name replaces this one. For
   * the rate-limit fields, which several policies share, use {@link #withRateLimit}.
   *
   * @param name the header name, an HTTP token; not null
   * @param value the header value; not null
   * @return a new decision; this one is unchanged
   * @throws IllegalArgumentException if {@code name} is not an HTTP token or {@code value} holds a
   *     control character other than a tab (a line break would let it add headers of its own) or a
   *     character beyond ISO-8859-1 (above {@code U+00FF}), which HTTP/1.1 cannot carry: containers
   *     send such a value altered or not at all, and one that writes each character's low byte
   *     turns {@code U+010A} into a line break
   */
  public GuardDecision withHeader(String name, String value) {
    checkHeader(name, value);
    Map<String, String> copy = new LinkedHashMap<>(headers);
    copy.put(name, value);
    return new GuardDecision(allowed, reason, detail, principal, Collections.unmodifiableMap(copy), retryAfter, challengeScope, rateLimit, operatorNote);
  }

  /**
   * A copy with all of {@code more} added to the response headers.
   *
   * @param more header name to value, each checked as by {@link #withHeader(String, String)}; not
   *     null
   * @return a new decision, or this one if {@code more} is empty
   * @throws IllegalArgumentException as {@link #withHeader(String, String)} does
   */
  public GuardDecision withHeaders(Map<String, String> more) {
    if (more.isEmpty()) {
      return this;
    }
    more.forEach(GuardDecision::checkHeader);
    Map<String, String> copy = new LinkedHashMap<>(headers);
    copy.putAll(more);
    return new GuardDecision(allowed, reason, detail, principal, Collections.unmodifiableMap(copy), retryAfter, challengeScope, rateLimit, operatorNote);
  }

  /**
   * A copy carrying a quota's rate-limit items: its headers get {@code RateLimit-Policy} and {@code
   * RateLimit} as {@code items} render them (without {@code RateLimit} if the items report no
   * policy), replacing earlier values, and the engine merges the items with those of the other
   * policies that decide the request into one list per field (see {@link ModelGuard}). Replaces
   * items an earlier call set.
   *
   * @param items the quota's rate-limit items; not null
   * @return a new decision; this one is unchanged
   */
  public GuardDecision withRateLimit(RateLimitItems items) {
    Objects.requireNonNull(items, "items");
    Map<String, String> copy = new LinkedHashMap<>(headers);
    copy.put(RATE_LIMIT_POLICY, items.policyField());
    if (items.rateLimitField() == null) {
      copy.remove(RATE_LIMIT);
    } else {
      copy.put(RATE_LIMIT, items.rateLimitField());
    }
    return new GuardDecision(allowed, reason, detail, principal, Collections.unmodifiableMap(copy), retryAfter,
        challengeScope, items, operatorNote);
  }

  /**
   * {@return a copy with the time after which a retry may succeed (denials only; rounded up to seconds on the wire)}
   *
   * @param retryAfter the wait, not negative; not null
   * @throws IllegalArgumentException if {@code retryAfter} is negative
   */
  public GuardDecision withRetryAfter(Duration retryAfter) {
    if (retryAfter.isNegative()) {
      throw new IllegalArgumentException("retryAfter must not be negative");
    }
    return new GuardDecision(allowed, reason, detail, principal, headers, retryAfter, challengeScope, rateLimit, operatorNote);
  }

  /**
   * A copy naming the OAuth scope the caller lacks, for example {@code model:digits:invoke}.
   *
   * @param scope the missing scope, or several separated by single spaces; not null or empty
   * @return a new decision; this one is unchanged
   * @throws IllegalArgumentException if {@code scope} is not space-separated RFC 6749 scope tokens
   *     (it is written inside a quoted string of {@code WWW-Authenticate})
   */
  public GuardDecision withChallengeScope(String scope) {
    Objects.requireNonNull(scope, "scope");
    if (scope.isEmpty()) {
      throw new IllegalArgumentException("challenge scope must not be empty");
    }
    for (int i = 0; i < scope.length(); i++) {
      char c = scope.charAt(i);
      // scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), joined by single spaces
      if (!(c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E) || c == ' ')) {
        throw new IllegalArgumentException("challenge scope holds a character outside RFC 6749 scope tokens");
      }
    }
    return new GuardDecision(allowed, reason, detail, principal, headers, retryAfter, scope, rateLimit, operatorNote);
  }

  /**
   * A copy of this denial carrying a note for the operator only: a short, stable token such as
   * {@code ssrf_refused:DENIED_ADDRESS} that the engine passes to its listeners in {@link
   * io.modelguard.event.DecisionEvent#operatorNote()} (so to the audit line and to metrics), and
   * that is never sent to the client: {@link io.modelguard.problem.ProblemRenderer} does not read
   * it, so two denials differing only in their notes get byte-for-byte the same problem response.
   * It says what the reason code conceals on purpose, such as a host name refused for resolving to
   * an internal address, which the client is told is unresolvable ({@link
   * io.modelguard.input.UrlRefusal#operatorNote()}). A token rather than a sentence, so that it can
   * key a dashboard, needs no escaping in a log line and cannot grow: a decision has none unless a
   * policy sets it. Replaces a note an earlier call set.
   *
   * @param note the token, 1 to {@value #MAX_OPERATOR_NOTE} characters; not null
   * @return a new denial; this one is unchanged
   * @throws IllegalStateException if this decision allows the request (the engine publishes notes
   *     of denials only, and would drop this one)
   * @throws IllegalArgumentException if {@code note} is empty, longer than {@value
   *     #MAX_OPERATOR_NOTE} characters, or holds a character other than an ASCII letter, digit,
   *     {@code .}, {@code _}, {@code :} or {@code -}
   */
  public GuardDecision withOperatorNote(String note) {
    Objects.requireNonNull(note, "note");
    if (allowed) {
      throw new IllegalStateException("an operator note is for denials only; this decision allows the request");
    }
    if (note.isEmpty() || note.length() > MAX_OPERATOR_NOTE) {
      throw new IllegalArgumentException("operator note must be 1 to " + MAX_OPERATOR_NOTE + " characters, was "
          + note.length());
    }
    for (int i = 0; i < note.length(); i++) {
      char c = note.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || ".:_-".indexOf(c) >= 0)) {
        // The note is not echoed: a policy may have built it from what a client sent.
        throw new IllegalArgumentException("operator note holds a character other than [A-Za-z0-9.:_-] at index " + i);
      }
    }
    return new GuardDecision(allowed, reason, detail, principal, headers, retryAfter, challengeScope, rateLimit, note);
  }

  private static void checkHeader(String name, String value) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("header name must not be empty");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!tchar) {
        throw new IllegalArgumentException("header name is not an HTTP token");
      }
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7F) {
        // Neither the name nor the value is echoed: either may carry what a client sent.
        throw new IllegalArgumentException("value of header " + name + " holds a control character");
      }
      if (c > 0xFF) {
        // Jetty writes it as a space and Tomcat drops the header, so adapters would differ; an
        // encoder that keeps each character's low byte makes U+010D U+010A a CR LF.
        throw new IllegalArgumentException("value of header " + name + " holds a character beyond ISO-8859-1");
      }
    }
  }

  /**
   * A copy whose headers are {@code base} overridden by this decision's own. {@code base} is handed
   * over: the caller must not change it afterwards (the engine's final decision takes the headers
   * it collected without copying them again when the deciding policy adds none).
   */
  GuardDecision withHeadersUnder(Map<String, String> base) {
    if (headers.isEmpty()) {
      return new GuardDecision(allowed, reason, detail, principal, Collections.unmodifiableMap(base), retryAfter,
          challengeScope, null, operatorNote);
    }
    Map<String, String> copy = new LinkedHashMap<>(base);
    copy.putAll(headers);
    return new GuardDecision(allowed, reason, detail, principal, Collections.unmodifiableMap(copy), retryAfter, challengeScope, rateLimit, operatorNote);
  }

  /**
   * A copy whose {@code RateLimit-Policy} and {@code RateLimit} headers are {@code fields} (from
   * {@link RateLimitItems#merge}; a null {@code RateLimit} removes it): the engine's final
   * decision, once it merged the items of several policies.
   */
  GuardDecision withRateLimitFields(String[] fields) {
    Map<String, String> copy = new LinkedHashMap<>(headers);
    copy.put(RATE_LIMIT_POLICY, fields[0]);
    if (fields[1] == null) {
      copy.remove(RATE_LIMIT);
    } else {
      copy.put(RATE_LIMIT, fields[1]);
    }
    return new GuardDecision(allowed, reason, detail, principal, Collections.unmodifiableMap(copy), retryAfter,
        challengeScope, rateLimit, operatorNote);
  }

  /** The rate-limit items the deciding policy set with {@link #withRateLimit}, or null. */
  RateLimitItems rateLimit() {
    return rateLimit;
  }

  /** A copy carrying {@code principal} (used by the engine for its final decision). */
  GuardDecision withPrincipal(Principal p) {
    return new GuardDecision(allowed, reason, detail, p, headers, retryAfter, challengeScope, rateLimit, operatorNote);
  }

  /** {@return whether the request may proceed} */
  public boolean isAllowed() {
    return allowed;
  }

  /** {@return the reason for a denial; empty when allowed} */
  public Optional<ReasonCode> reason() {
    return Optional.ofNullable(reason);
  }

  /** {@return the client-safe detail a policy gave; empty means "use the reason's generic detail"} */
  public Optional<String> detail() {
    return Optional.ofNullable(detail);
  }

  /** {@return the authenticated principal, if any policy established one} */
  public Optional<Principal> principal() {
    return Optional.ofNullable(principal);
  }

  /**
   * Headers to add to the response, whether allowed or denied.
   *
   * @return header name to value, in the order set; unmodifiable, empty if none
   */
  public Map<String, String> headers() {
    return headers;
  }

  /** {@return how long to wait before retrying, for denials that know it} */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  /** {@return the scope the caller lacks, for {@link ReasonCode#AUTHZ_MODEL_FORBIDDEN}} */
  public Optional<String> challengeScope() {
    return Optional.ofNullable(challengeScope);
  }

  /**
   * The note for the operator a policy set with {@link #withOperatorNote}: for logs, audit events
   * and metrics, never for the client. Empty by default.
   *
   * @return the note, or empty if none was set
   */
  public Optional<String> operatorNote() {
    return Optional.ofNullable(operatorNote);
  }

  @Override
  public String toString() {
    return allowed
        ? "GuardDecision[allow" + (principal == null ? "" : ", " + principal) + "]"
        : "GuardDecision[deny " + reason + "]";
  }
}
