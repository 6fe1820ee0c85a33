/**
 * Bearer-token (JWT) authentication: {@link io.modelguard.authn.jwt.JwtAuthenticator}, the policy;
 * {@link io.modelguard.authn.jwt.JwksKeySource}, keys from an identity provider's JWKS URL; and
 * {@link io.modelguard.authn.jwt.JwtKeySource}, the one-method extension point for other key
 * stores.
 *
 * <p>What is stricter here than in a default Spring Security resource server or smallrye-jwt:
 * {@code exp} is required; {@code iat} may not lie in the future; the token size is capped before
 * decoding; only canonical base64url spellings pass; HMAC needs an explicitly configured secret of
 * full strength; header parameters other than {@code alg}, {@code kid}, {@code typ} and {@code
 * crit} never influence which key is used; JWKS refreshes are rate-limited and single-flight, and
 * keep serving cached keys while the IdP is down. Every refusal answers the same generic
 * {@code auth.invalid_token} problem; the reason is logged at DEBUG under {@code
 * io.modelguard.authn.jwt.JwtAuthenticator}.
 */
package io.modelguard.authn.jwt;
