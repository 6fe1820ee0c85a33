package io.modelguard.authn.jwt;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.Base64;

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

  private NumericDates() {}

  /**
   * Whether every time claim in the payload of {@code token} (a canonical compact JWS whose
   * signature was verified) is a NumericDate in range. Claims that are absent pass: whether one is
   * required is the caller's rule.
   */
  static boolean inRange(String token) {
    int first = token.indexOf('.');
    int second = token.indexOf('.', first + 1);
    byte[] payload;
    try {
      payload = Base64.getUrlDecoder().decode(token.substring(first + 1, second));
    } catch (IllegalArgumentException e) {
      return false;
    }
    try (JsonParser p = JSON.createParser(payload)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return false;
      }
      for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (name.equals("exp") || name.equals("nbf") || name.equals("iat")) {
          if (!value.isNumeric() || !inRange(p.getDecimalValue())) {
            return false;
          }
        } else {
          p.skipChildren();
        }
      }
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static boolean inRange(BigDecimal seconds) {
    return seconds.signum() >= 0 && seconds.compareTo(MAX) <= 0;
  }
}
