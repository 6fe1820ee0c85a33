package io.modelguard.authn.jwt;

/**
 * Why a token was refused. Internal: it goes to the DEBUG log, never to the client, who always
 * sees the same generic {@code auth.invalid_token} detail.
 */
enum Refusal {
  TOO_LONG("longer than maxTokenLength"),
  MALFORMED("not a compact JWS in canonical base64url"),
  ALGORITHM("algorithm not allowed"),
  COMPRESSED("compressed payload ('zip' header)"),
  TYPE("'typ' header not allowed"),
  EMPTY_CRITICAL("'crit' header is an empty list or not a list (RFC 7515 section 4.1.11)"),
  NO_KEY("no trusted key for this alg/kid"),
  INVALID("rejected by the JWS parser (signature, encoding or JSON)"),
  TRAILING_CONTENT("the header or payload goes on after its JSON object"),
  TIME_CLAIM("'exp', 'nbf' or 'iat' is not a number of seconds from 0 to 253402300799"),
  NO_EXPIRY("no 'exp' claim"),
  EXPIRED("expired"),
  NOT_YET_VALID("'nbf' is in the future"),
  ISSUED_IN_FUTURE("'iat' is in the future"),
  NO_ISSUED_AT("no 'iat' claim, but maxTokenAge is set"),
  TOO_OLD("older than maxTokenAge"),
  ISSUER("'iss' not accepted"),
  AUDIENCE("'aud' not accepted"),
  CLAIMS("a mapped claim is missing or of the wrong type"),
  TENANT_TOO_LONG("no tenant claim, and the tenant named after 'iss' and 'sub' would be longer than "
      + ClaimsMapper.MAX_IDENTITY_LENGTH + " characters"),
  NAMESPACED_TENANT_TOO_LONG("the tenant in its tenantNamespace would be longer than "
      + ClaimsMapper.MAX_IDENTITY_LENGTH + " characters"),
  RESERVED_TENANT("the tenant claim begins with '" + JwtAuthenticator.SUBJECT_TENANT_PREFIX
      + "' (in any case or compatibility form), which only tenants derived from 'iss' and 'sub', and namespaced "
      + "tenants, may"),
  MISLEADING_NAME("'sub', the tenant, the tier or the 'iss' naming a tenant holds a control, format, line or "
      + "paragraph separator, lone surrogate or non-character code point");

  private final String description;

  Refusal(String description) {
    this.description = description;
  }

  /** The same refusal as a throwable without a stack trace, to leave jjwt's key locator. */
  RefusedToken exception() {
    return new RefusedToken(this);
  }

  @Override
  public String toString() {
    return description;
  }

  /** Carries a {@link Refusal} out of code that can only throw. Cheap: no stack trace. */
  static final class RefusedToken extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Refusal refusal;

    RefusedToken(Refusal refusal) {
      super(refusal.description, null, false, false);
      this.refusal = refusal;
    }

    Refusal refusal() {
      return refusal;
    }
  }
}
