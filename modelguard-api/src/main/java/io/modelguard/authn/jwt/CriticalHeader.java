package io.modelguard.authn.jwt;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.Base64;

/**
 * The {@code crit} header parameter as the token spells it. RFC 7515 section 4.1.11: when present
 * it is a list of header names and MUST NOT be empty. jjwt refuses names it does not understand but
 * drops an empty list (or a JSON {@code null}) as if the parameter were absent, so that case is
 * read from the token's own header here.
 */
final class CriticalHeader {
  private static final JsonFactory JSON = new JsonFactory();

  private CriticalHeader() {}

  /**
   * Whether the header of {@code token} (a canonical compact JWS) either has no top-level {@code
   * crit} or has one that is a non-empty array. False for an empty array, any other JSON value, or
   * a header that does not read as a JSON object.
   *
   * @throws Refusal.RefusedToken ({@link Refusal#TRAILING_CONTENT}) if anything but whitespace
   *     follows the header's JSON object ({@link TrailingContent})
   */
  static boolean isAbsentOrNonEmpty(String token) {
    int first = token.indexOf('.');
    byte[] header;
    try {
      header = Base64.getUrlDecoder().decode(token.substring(0, first));
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      return false;
    }
    boolean trailing;
    try (JsonParser p = JSON.createParser(header)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return false;
      }
      for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (name.equals("crit")) {
          if (value != JsonToken.START_ARRAY || p.nextToken() == JsonToken.END_ARRAY) {
            return false;
          }
          // The entries themselves are jjwt's to check; skip to this array's end and read on, so a
          // second, empty crit is caught too.
          for (JsonToken entry = p.currentToken(); entry != JsonToken.END_ARRAY; entry = p.nextToken()) {
            if (entry == null) {
              return false;
            }
            p.skipChildren();
          }
        } else {
          p.skipChildren();
        }
      }
      trailing = TrailingContent.after(p);
    } catch (IOException | RuntimeException e) {
      return false;
    }
    if (trailing) {
      throw Refusal.TRAILING_CONTENT.exception();
    }
    return true;
  }
}
