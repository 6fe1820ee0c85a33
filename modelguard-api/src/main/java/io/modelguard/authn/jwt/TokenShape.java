package io.modelguard.authn.jwt;

/**
 * The cheap structural check every token passes before anything decodes it: exactly three
 * non-empty segments of the unpadded base64url alphabet, each in its one canonical spelling.
 *
 * <p>jjwt 0.13 accepts a trailing {@code =} on the signature and ignores the unused low bits of
 * the last character of a segment, so one token has many spellings. Refusing every spelling but
 * the canonical one leaves one string per header, claims and signature. (Not one per token: an
 * ECDSA signature {@code (r, s)} has a twin {@code (r, n - s)} that verifies too, so an ES* token
 * has two valid strings. The verified-token cache is keyed on the exact string and each string is
 * verified before it enters, so the twin costs one more verification and gains nothing; but a list
 * of refused or already-used tokens must not be keyed on the raw string.) Three segments also
 * excludes JWE (five segments), and a non-empty signature excludes unsecured {@code alg: none}
 * tokens (whose signature is empty).
 */
final class TokenShape {
  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  /** Value of each base64url character, or -1 for every other character. */
  private static final byte[] VALUE = new byte[128];

  static {
    java.util.Arrays.fill(VALUE, (byte) -1);
    for (int i = 0; i < ALPHABET.length(); i++) {
      VALUE[ALPHABET.charAt(i)] = (byte) i;
    }
  }

  private TokenShape() {}

  /** Whether {@code token} is a compact JWS in canonical base64url: {@code header.payload.signature}. */
  static boolean isCanonicalCompactJws(String token) {
    int n = token.length();
    int start = 0;
    int segments = 0;
    for (int i = 0; i <= n; i++) {
      if (i == n || token.charAt(i) == '.') {
        if (++segments > 3 || !isCanonicalSegment(token, start, i)) {
          return false;
        }
        start = i + 1;
      } else {
        char c = token.charAt(i);
        if (c >= 128 || VALUE[c] < 0) {
          return false;
        }
      }
    }
    return segments == 3;
  }

  /**
   * Whether {@code token[from, to)} is non-empty and canonical: a length that a byte string can
   * have (not 1 mod 4) and zero padding bits in its last character.
   */
  private static boolean isCanonicalSegment(String token, int from, int to) {
    int length = to - from;
    if (length == 0) {
      return false;
    }
    switch (length & 3) {
      case 1:
        return false;
      case 2: // one byte: 8 of 12 bits used, the last character's low 4 bits must be zero
        return (VALUE[token.charAt(to - 1)] & 0x0f) == 0;
      case 3: // two bytes: 16 of 18 bits used, the low 2 bits must be zero
        return (VALUE[token.charAt(to - 1)] & 0x03) == 0;
      default:
        return true;
    }
  }
}
