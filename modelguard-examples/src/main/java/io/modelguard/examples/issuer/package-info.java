/**
 * The demo's own token issuer ({@link io.modelguard.examples.issuer.DemoIssuer}): an in-memory
 * ES256 key pair, its JWK Set and short-lived demo access tokens, so that bearer-token
 * authentication can be tried without an identity provider.
 */
package io.modelguard.examples.issuer;
