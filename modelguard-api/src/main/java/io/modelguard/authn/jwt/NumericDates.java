package io.modelguard.authn.jwt;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;

/**
 * The time claims ({@code exp}, {@code nbf}, {@code iat}) as the token spells them, checked before
 * anyone trusts jjwt's reading of them. RFC 7519 makes each a NumericDate: a JSON number of
 * seconds. jjwt also takes an ISO-8601 string, and turns a number into a {@code Date} by
 * multiplying it by 1000 without an overflow check, so {@code "iat": 9223372036854775807} became a
 * moment in 1969 (never "in the future") and an {@code exp} of now + 5 min + 2<sup>61</sup> s
 * became now + 5 min exactly. Here each occurrence of the three claims at the top level of the
 * payload must be a number from 0 to 253402300799 (the last second of the year 9999), which no
 * multiplication by 1000 overflows.
 */
final class NumericDates {
  /** 9999-12-31T23:59:59Z in epoch seconds. */
  static final long MAX_SECONDS = 253_402_300_799L;

  private static final JsonFactory JSON = new JsonFactory();
  private static final BigDecimal MAX = BigDecimal.valueOf(MAX_SECONDS);
  private static final BigDecimal ONE_NANOSECOND = BigDecimal.valueOf(1, 9);

  private NumericDates() {}

  /**
   * The time claims of a token, each at the exact instant it names (null when absent). jjwt keeps
   * only the whole seconds of a NumericDate, which moved a fractional {@code nbf} or {@code iat}
   * up to a second earlier than written; these are read from the token's own text instead.
   *
   * @param exp rounded down to the nanosecond, so the token never lives longer than written
   * @param nbf rounded up to the nanosecond, so the token is never valid sooner than written
   * @param iat rounded up to the nanosecond, like {@code nbf}
   * @param nulls the names of the top-level claims whose value is JSON {@code null}: jjwt drops
   *     these from its claims, so without this list they would read as absent
   */
  record Times(Instant exp, Instant nbf, Instant iat, Set<String> nulls) {}

  /**
   * The time claims of {@code token} (a canonical compact JWS whose signature was verified), or
   * null if one is not a NumericDate in range or appears twice at the top level of the payload.
   * Claims that are absent are null: whether one is required is the caller's rule.
   *
   * @throws Refusal.RefusedToken ({@link Refusal#TRAILING_CONTENT}) if anything but whitespace
   *     follows the payload's JSON object ({@link TrailingContent})
   */
  static Times read(String token) {
    int first = token.indexOf('.');
    int second = token.indexOf('.', first + 1);
    byte[] payload;
    try {
      payload = Base64.getUrlDecoder().decode(token.substring(first + 1, second));
    } catch (IllegalArgumentException e) {
      return null;
    }
    Instant exp = null;
    Instant nbf = null;
    Instant iat = null;
    Set<String> nulls = new HashSet<>();
    boolean trailing;
    try (JsonParser p = JSON.createParser(payload)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (name.equals("exp") || name.equals("nbf") || name.equals("iat")) {
          if (!value.isNumeric()) {
            return null;
          }
          BigDecimal seconds = p.getDecimalValue();
          if (!inRange(seconds)) {
            return null;
          }
          switch (name) {
            case "exp":
              if (exp != null) {
                return null;
              }
              exp = instant(seconds, RoundingMode.FLOOR);
              break;
            case "nbf":
              if (nbf != null) {
                return null;
              }
              nbf = instant(seconds, RoundingMode.CEILING);
              break;
            default:
              if (iat != null) {
                return null;
              }
              iat = instant(seconds, RoundingMode.CEILING);
              break;
          }
        } else if (value == JsonToken.VALUE_NULL) {
          nulls.add(name);
        } else {
          p.skipChildren();
        }
      }
      trailing = TrailingContent.after(p);
    } catch (IOException | RuntimeException e) {
      return null;
    }
    if (trailing) {
      throw Refusal.TRAILING_CONTENT.exception();
    }
    return new Times(exp, nbf, iat, Set.copyOf(nulls));
  }

  /** {@code seconds} (in range, so non-negative) as an instant, rounded to the nanosecond. */
  private static Instant instant(BigDecimal seconds, RoundingMode rounding) {
    if (seconds.compareTo(ONE_NANOSECOND) < 0) {
      // Also keeps setScale below away from a scale like that of 1e-999999999, which it would
      // divide by ten to that power: here the scale is at most the precision (bounded) plus 9.
      return seconds.signum() == 0 || rounding == RoundingMode.FLOOR ? Instant.EPOCH : Instant.ofEpochSecond(0, 1);
    }
    BigDecimal nanos = seconds.setScale(9, rounding);
    long whole = nanos.longValue(); // truncates; non-negative, so this is the floor
    int fraction = nanos.subtract(BigDecimal.valueOf(whole)).movePointRight(9).intValueExact();
    return Instant.ofEpochSecond(whole, fraction);
  }

  private static boolean inRange(BigDecimal seconds) {
    return seconds.signum() >= 0 && seconds.compareTo(MAX) <= 0;
  }
}
