package io.modelguard.authn.jwt;

import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Policy;
import io.modelguard.Tier;
import io.modelguard.authn.TestRequest;
import io.modelguard.authz.ModelAccessPolicy;
import java.security.Key;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/** The engine and authenticator most tests in this package run against. */
final class JwtFixtures {
  static final String ISSUER = "https://idp.test/realms/ml";
  static final String AUDIENCE = "modelguard";

  private JwtFixtures() {}

  /** Trusts {@link TestKeys#RSA} as kid {@code k1}, with issuer and audience configured. */
  static JwtAuthenticator.Builder rsa() {
    return JwtAuthenticator.builder()
        .publicKey("k1", TestKeys.RSA.getPublic())
        .issuer(ISSUER)
        .audience(AUDIENCE);
  }

  /** Models digits, iris, sentiment; tiers free (digits), pro (digits, iris), enterprise (all). */
  static ModelGuard guard(Policy authenticator, Clock clock) {
    return ModelGuard.builder()
        .clock(clock)
        .auditLog(false)
        .models("digits", "iris", "sentiment")
        .tier(Tier.builder("free").models("digits").build())
        .tier(Tier.builder("pro").models("digits", "iris").build())
        .tier(Tier.builder("enterprise").allModels().build())
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "jwt", authenticator)
            .policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy()))
        .build();
  }

  static GuardDecision check(ModelGuard guard, String token) {
    return guard.check(TestRequest.bearer(token));
  }

  /** A key source over fixed keys that counts lookups, to see whether verification happened. */
  static final class CountingKeySource implements JwtKeySource {
    final AtomicInteger lookups = new AtomicInteger();
    private final JwtKeySource delegate;
    volatile long generation;

    CountingKeySource(JwtKeySource delegate) {
      this.delegate = delegate;
    }

    static CountingKeySource rsa() {
      return new CountingKeySource(new StaticKeySource(List.of(new KeyMaterial.Entry("k1", TestKeys.RSA.getPublic(), null))));
    }

    @Override
    public Optional<Key> find(String algorithm, String keyId) {
      lookups.incrementAndGet();
      return delegate.find(algorithm, keyId);
    }

    @Override
    public long generation() {
      return generation;
    }
  }
}
