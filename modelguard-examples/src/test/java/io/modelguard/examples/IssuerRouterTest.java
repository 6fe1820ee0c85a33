package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.FailureMode;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.PolicyChain;
import io.modelguard.Tier;
import io.modelguard.authn.jwt.JwtAuthenticator;
import java.security.PublicKey;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The router is one policy of the chain, so the engine sees its authenticators only through it. */
class IssuerRouterTest {
  private static final String OTHER_ISSUER = "https://other-idp.test/";
  private static final PublicKey KEY = TestTokens.rsa().getPublic();

  private static JwtAuthenticator.Builder authenticator(String issuer) {
    return JwtAuthenticator.builder().publicKey(KEY).issuer(issuer).audience(TestTokens.AUDIENCE);
  }

  private static ModelGuard.Builder engine(IssuerRouter router) {
    return ModelGuard.builder().auditLog(false)
        .models("digits")
        .tier(Tier.builder("free").models("digits").build())
        .chain("default", c -> c.policy(Phase.AUTHENTICATE, "bearer", router));
  }

  @Test
  void aWrappedAuthenticatorsConfigurationProblemFailsTheEnginesBuild() {
    // The router reported none of its authenticators' problems: a default tier the engine does not
    // know, say, passed build() and then left every token without a tier claim allowed no model.
    Map<String, JwtAuthenticator> byIssuer = new LinkedHashMap<>();
    byIssuer.put(TestTokens.ISSUER, authenticator(TestTokens.ISSUER).defaultTier("free").build());
    byIssuer.put(OTHER_ISSUER, authenticator(OTHER_ISSUER).defaultTier("premium").build());

    assertThatThrownBy(engine(new IssuerRouter(byIssuer))::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("chains: chain 'default', policy 'bearer': issuer '" + OTHER_ISSUER + "': "
            + "JwtAuthenticator defaultTier names unknown tier 'premium'; register it with tier(...)")
        .hasMessageNotContaining(TestTokens.ISSUER);
  }

  @Test
  void buildsWhenNoWrappedAuthenticatorHasAProblem() {
    Map<String, JwtAuthenticator> byIssuer = new LinkedHashMap<>();
    byIssuer.put(TestTokens.ISSUER, authenticator(TestTokens.ISSUER).defaultTier("free").build());
    byIssuer.put(OTHER_ISSUER, authenticator(OTHER_ISSUER).build());

    assertThat(engine(new IssuerRouter(byIssuer)).build().hasChain("default")).isTrue();
  }

  @Test
  void cannotBeRegisteredToFailOpen() {
    // As the authenticators it routes to: skipped when it threw, it let a request carrying a token
    // and an API key pass on the key, and answered an outage with 401.
    Map<String, JwtAuthenticator> byIssuer = Map.of(TestTokens.ISSUER, authenticator(TestTokens.ISSUER).build());
    assertThatThrownBy(() -> PolicyChain.builder("default")
        .policy(Phase.AUTHENTICATE, "bearer", new IssuerRouter(byIssuer), FailureMode.OPEN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("policy 'bearer' in AUTHENTICATE cannot fail open");
  }
}
