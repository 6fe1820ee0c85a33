package io.modelguard.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelguard.GuardContext;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Policy;
import io.modelguard.ReasonCode;
import io.modelguard.authn.jwt.JwtAuthenticator;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Several trusted issuers in one chain: sends each bearer token to the {@link JwtAuthenticator}
 * of the issuer its {@code iss} claim names, the way Spring Security's {@code
 * JwtIssuerAuthenticationManagerResolver} does. The {@code iss} is read before the signature is
 * checked, but it only picks among authenticators that are all trusted; the chosen one then
 * verifies the whole token, its own issuer included, with only its own keys. A token naming no
 * trusted issuer, or that cannot be read, gets the same {@code auth.invalid_token} as any other
 * bad token. Requests without a bearer token go to the first authenticator, which abstains (or
 * refuses two credentials) exactly as it would alone. The authenticators' configuration problems
 * are the router's, so the engine's {@code build()} reports them. Routing keeps the issuers' keys
 * apart, not their tenants: a tenant claim {@code acme} is one tenant whichever authenticator
 * accepted it, unless the authenticators have {@linkplain
 * JwtAuthenticator.Builder#tenantNamespace tenant namespaces} (as {@link BearerTokens} gives the
 * external IdP beside the demo issuer). Thread-safe.
 */
final class IssuerRouter implements Policy {
  private static final Logger log = LoggerFactory.getLogger(IssuerRouter.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final GuardDecision INVALID = GuardDecision.deny(ReasonCode.AUTH_INVALID_TOKEN);
  private static final String BEARER = "Bearer ";

  private final Map<String, JwtAuthenticator> byIssuer;
  private final JwtAuthenticator first;

  IssuerRouter(Map<String, JwtAuthenticator> byIssuer) {
    this.byIssuer = Map.copyOf(byIssuer);
    this.first = byIssuer.values().iterator().next();
  }

  /** True, as the authenticators it routes to: skipped when it throws, it would fail open. */
  @Override
  public boolean mustFailClosed() {
    return true;
  }

  @Override
  public GuardDecision evaluate(GuardContext context) {
    List<String> values = context.request().headers("Authorization");
    if (values.size() != 1 || !values.get(0).regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return first.evaluate(context);
    }
    String token = values.get(0).substring(BEARER.length()).strip();
    // The same cap the authenticators apply, before anything is decoded.
    if (token.length() > JwtAuthenticator.DEFAULT_MAX_TOKEN_LENGTH) {
      return INVALID;
    }
    JwtAuthenticator chosen = byIssuer.get(issuer(token));
    if (chosen == null) {
      log.debug("JWT refused: no trusted issuer named in the token");
      return INVALID;
    }
    return chosen.evaluate(context);
  }

  /**
   * Every authenticator's own problems, each prefixed with its issuer: the engine sees the router
   * as one policy and reaches the authenticators only through it.
   */
  @Override
  public List<String> configurationProblems(ModelGuard.Configuration configuration) {
    List<String> problems = new ArrayList<>();
    for (String issuer : new TreeSet<>(byIssuer.keySet())) {
      for (String problem : byIssuer.get(issuer).configurationProblems(configuration)) {
        problems.add("issuer '" + issuer + "': " + problem);
      }
    }
    return problems;
  }

  /** The {@code iss} of a compact JWS, unverified; null if there is none or the token is unreadable. */
  private static String issuer(String token) {
    int first = token.indexOf('.');
    int second = first < 0 ? -1 : token.indexOf('.', first + 1);
    if (second < 0) {
      return null;
    }
    try {
      JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(token.substring(first + 1, second)));
      JsonNode iss = claims == null ? null : claims.get("iss");
      return iss != null && iss.isTextual() ? iss.asText() : null;
    } catch (IOException | IllegalArgumentException e) {
      return null;
    }
  }
}
