package io.modelguard.problem;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import io.modelguard.internal.StructuredFields;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a denial into the documented problem response: the single place that knows the mapping of
 * {@link ReasonCode} to HTTP status, title, generic detail and challenge headers. Both adapters
 * render through it, so their responses are identical by construction. Stateless and thread-safe.
 *
 * <p>Body: {@code {"type":"urn:modelguard:problem:<code>","title":…,"status":…,"detail":…,"code":"<code>"}}.
 * Every problem also carries {@code Cache-Control: no-store}.
 */
public final class ProblemRenderer {
  /**
   * The largest {@code Retry-After}, in seconds: 2<sup>31</sup> − 1 (68 years), the largest delay a
   * recipient must be able to parse (as RFC 9111 asks of delta-seconds); longer waits say the same.
   */
  static final long MAX_RETRY_AFTER_SECONDS = Integer.MAX_VALUE;

  /** The realm in every {@code WWW-Authenticate} challenge. */
  public static final String REALM = "modelguard";

  private static final Map<ReasonCode, Entry> TABLE = new EnumMap<>(ReasonCode.class);

  static {
    put(ReasonCode.AUTH_MISSING_CREDENTIALS, 401, "Missing credentials",
        "This endpoint requires an API key or a bearer token.");
    put(ReasonCode.AUTH_INVALID_TOKEN, 401, "Invalid token", "The bearer token is not valid.");
    put(ReasonCode.AUTH_INVALID_API_KEY, 401, "Invalid API key", "The API key is not valid.");
    put(ReasonCode.AUTHZ_MODEL_FORBIDDEN, 403, "Model forbidden",
        "Your credentials do not allow this model.");
    put(ReasonCode.QUOTA_EXCEEDED, 429, "Quota exceeded",
        "The request quota for this model is exhausted; retry later.");
    put(ReasonCode.QUOTA_UNAVAILABLE, 503, "Quota unavailable",
        "The quota service is unavailable; retry later.");
    put(ReasonCode.INPUT_TOO_LARGE, 413, "Input too large",
        "The request body is larger than this model accepts.");
    put(ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE, 415, "Unsupported media type",
        "This model does not accept the request's media type.");
    put(ReasonCode.INPUT_MALFORMED, 400, "Malformed input", "The request body could not be parsed.");
    put(ReasonCode.INPUT_INVALID, 422, "Invalid input",
        "The input does not match the model's input specification.");
    put(ReasonCode.INPUT_URL_BLOCKED, 422, "URL blocked", "The URL in the input is not allowed.");
    put(ReasonCode.INPUT_FETCH_FAILED, 502, "Fetch failed", "The URL in the input could not be fetched.");
    put(ReasonCode.UPSTREAM_UNAVAILABLE, 502, "Upstream unavailable",
        "The model server behind this gateway is unavailable; retry later.");
    put(ReasonCode.UPSTREAM_TIMEOUT, 504, "Upstream timeout",
        "The model server behind this gateway did not answer in time; retry later.");
    put(ReasonCode.EXTRACTION_BLOCKED, 403, "Extraction blocked",
        "This client is blocked from querying the model.");
    put(ReasonCode.INTERNAL_ERROR, 500, "Internal error", "The request could not be processed.");
    if (TABLE.size() != ReasonCode.values().length) {
      throw new ExceptionInInitializerError("ProblemRenderer: a ReasonCode has no problem mapping");
    }
  }

  private ProblemRenderer() {}

  /**
   * Renders a denial.
   *
   * @param decision a denial; not null
   * @return the status, headers and JSON body to send, the same bytes for the same decision
   * @throws IllegalArgumentException if {@code decision} allows the request
   */
  public static ProblemResponse render(GuardDecision decision) {
    ReasonCode code = decision.reason()
        .orElseThrow(() -> new IllegalArgumentException("only denials are rendered as problems"));
    Entry e = TABLE.get(code);
    Map<String, String> headers = new LinkedHashMap<>();
    switch (code) {
      case AUTH_MISSING_CREDENTIALS:
        headers.put("WWW-Authenticate", "Bearer realm=\"" + REALM + "\"");
        break;
      case AUTH_INVALID_TOKEN:
      case AUTH_INVALID_API_KEY:
        headers.put("WWW-Authenticate", "Bearer realm=\"" + REALM + "\", error=\"invalid_token\"");
        break;
      case AUTHZ_MODEL_FORBIDDEN:
        headers.put("WWW-Authenticate", "Bearer error=\"insufficient_scope\""
            + decision.challengeScope().map(s -> ", scope=\"" + s + "\"").orElse(""));
        break;
      case QUOTA_EXCEEDED:
      case QUOTA_UNAVAILABLE:
        headers.put("Retry-After", Long.toString(seconds(decision.retryAfter().orElse(Duration.ofSeconds(1)))));
        break;
      default:
        break;
    }
    // A policy's headers never replace the documented ones, whatever their case: HTTP header names
    // are case-insensitive, so "retry-after" next to "Retry-After" would be sent as a second value.
    decision.headers().forEach((name, value) -> {
      if (!name.equalsIgnoreCase("Cache-Control") && !containsIgnoreCase(headers, name)) {
        String v = code == ReasonCode.QUOTA_EXCEEDED && name.equalsIgnoreCase("RateLimit")
            ? exhausted(value, seconds(decision.retryAfter().orElse(Duration.ofSeconds(1))))
            : value;
        if (!v.isEmpty()) {
          headers.put(name, v);
        }
      }
    });
    headers.put("Cache-Control", "no-store");
    String detail = decision.detail().orElse(e.detail);
    return new ProblemResponse(e.status, headers, body(code, e, detail));
  }

  /** {@return the problem for an unexpected failure outside any policy (for example a failed output policy)} */
  public static ProblemResponse internalError() {
    return render(GuardDecision.deny(ReasonCode.INTERNAL_ERROR));
  }

  /**
   * {@return the HTTP status of {@code code}}
   *
   * @param code the reason code; not null
   */
  public static int status(ReasonCode code) {
    return TABLE.get(code).status;
  }

  /**
   * {@return the problem title of {@code code}}
   *
   * @param code the reason code; not null
   */
  public static String title(ReasonCode code) {
    return TABLE.get(code).title;
  }

  /**
   * {@return the generic, safe detail of {@code code}}
   *
   * @param code the reason code; not null
   */
  public static String genericDetail(ReasonCode code) {
    return TABLE.get(code).detail;
  }

  /**
   * The {@code RateLimit} value of a {@code 429 quota.exceeded}. If an item already explains the
   * refusal (no units left, {@code r=0}, and a reset no sooner than {@code retryAfterSeconds}), as
   * the refusing quota's own item does, the value stands: the other items are other quotas' true
   * counts. Otherwise every item is shown with no units left and a reset no sooner than {@code
   * retryAfterSeconds}: when a later policy refuses as a quota would (the extraction defence's
   * throttle), the header an earlier quota set on allowing the request (say {@code r=99}) would
   * contradict the refusal and tell the client that it was not its quota that refused it. An item
   * that cannot be read is left out then, as is the whole header if none can.
   */
  static String exhausted(String rateLimit, long retryAfterSeconds) {
    // Split outside structured-field strings: a name may hold ',' or ';' and escaped '"' (RFC 9651).
    List<String> items = StructuredFields.splitOutsideStrings(rateLimit, ',');
    for (String item : items == null ? List.<String>of() : items) {
      if (explainsRefusal(item.strip(), retryAfterSeconds)) {
        return rateLimit;
      }
    }
    StringBuilder out = new StringBuilder();
    for (String item : items == null ? List.<String>of() : items) {
      String it = item.strip();
      int close = it.startsWith("\"") ? StructuredFields.closingQuote(it) : -1;
      if (close < 1) {
        continue; // not an item of a quoted name, or an unterminated one
      }
      long reset = retryAfterSeconds;
      StringBuilder params = new StringBuilder();
      List<String> members = StructuredFields.splitOutsideStrings(it.substring(close + 1), ';');
      for (String param : members == null ? List.<String>of() : members) {
        String p = param.strip();
        if (p.isEmpty() || p.startsWith("r=")) {
          continue;
        }
        if (p.startsWith("t=")) {
          try {
            reset = Math.max(reset, Long.parseLong(p.substring(2)));
          } catch (NumberFormatException ignored) {
            // an unreadable reset: the refusal's own stands
          }
          continue;
        }
        params.append(';').append(p);
      }
      if (out.length() > 0) {
        out.append(", ");
      }
      out.append(it, 0, close + 1).append(";r=0;t=").append(reset).append(params);
    }
    return out.toString();
  }

  /** Whether {@code item} has a quoted name, {@code r=0} and {@code t} of at least {@code retryAfterSeconds}. */
  private static boolean explainsRefusal(String item, long retryAfterSeconds) {
    int close = item.startsWith("\"") ? StructuredFields.closingQuote(item) : -1;
    List<String> params = close < 1 ? null : StructuredFields.splitOutsideStrings(item.substring(close + 1), ';');
    if (params == null) {
      return false;
    }
    boolean none = false;
    long reset = -1;
    for (String param : params) {
      String p = param.strip();
      if (p.equals("r=0")) {
        none = true;
      } else if (p.startsWith("t=")) {
        try {
          reset = Long.parseLong(p.substring(2));
        } catch (NumberFormatException e) {
          return false;
        }
      }
    }
    return none && reset >= retryAfterSeconds;
  }

  /** Whole seconds, rounded up, from 1 to {@value #MAX_RETRY_AFTER_SECONDS}. */
  static long seconds(Duration d) {
    if (d.getSeconds() >= MAX_RETRY_AFTER_SECONDS) {
      // Also keeps the rounding up from overflowing to a negative count, which became "retry now".
      return MAX_RETRY_AFTER_SECONDS;
    }
    long s = d.getSeconds() + (d.getNano() > 0 ? 1 : 0);
    return Math.max(1, s);
  }

  private static boolean containsIgnoreCase(Map<String, String> headers, String name) {
    for (String existing : headers.keySet()) {
      if (existing.equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  private static byte[] body(ReasonCode code, Entry e, String detail) {
    JsonStringEncoder enc = JsonStringEncoder.getInstance();
    String json = "{\"type\":\"urn:modelguard:problem:" + code.code()
        + "\",\"title\":\"" + new String(enc.quoteAsString(e.title))
        + "\",\"status\":" + e.status
        + ",\"detail\":\"" + new String(enc.quoteAsString(detail))
        + "\",\"code\":\"" + code.code() + "\"}";
    return json.getBytes(StandardCharsets.UTF_8);
  }

  private static void put(ReasonCode code, int status, String title, String detail) {
    TABLE.put(code, new Entry(status, title, detail));
  }

  private static final class Entry {
    final int status;
    final String title;
    final String detail;

    Entry(int status, String title, String detail) {
      this.status = status;
      this.title = title;
      this.detail = detail;
    }
  }
}
