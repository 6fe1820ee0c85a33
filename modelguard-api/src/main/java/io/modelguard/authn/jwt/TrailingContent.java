package io.modelguard.authn.jwt;

import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;

/**
 * Whether a token's header or payload goes on after its JSON object. jjwt reads the first JSON
 * value of each and ignores the rest, so {@code {"alg":"ES256","kid":"k"}{"x":1}} (or any bytes
 * after the object) verified as if the rest were not there. The token is signed, so only its
 * issuer can write that, but a segment that is not one JSON object is malformed (RFC 7515 section
 * 7.1, RFC 7519 section 7.2) and a strict verifier refuses it. Checked at the end of the reads
 * {@link CriticalHeader} and {@link NumericDates} already make of the verified token's text, so it
 * costs one more token read per segment, not another parse.
 */
final class TrailingContent {
  private TrailingContent() {}

  /**
   * Whether anything but JSON whitespace follows the value {@code parser} has just read to its end:
   * another value, or bytes that are not JSON at all.
   */
  static boolean after(JsonParser parser) {
    try {
      return parser.nextToken() != null;
    } catch (IOException e) {
      return true; // not JSON, so not whitespace either
    }
  }
}
