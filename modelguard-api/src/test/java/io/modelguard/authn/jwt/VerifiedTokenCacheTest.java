package io.modelguard.authn.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.MutableClock;
import io.modelguard.Principal;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The verified-token cache, observed through a key source that counts lookups: a lookup happens
 * exactly when a signature is verified.
 */
class VerifiedTokenCacheTest {
  private final MutableClock clock = MutableClock.standard();
  private final JwtFixtures.CountingKeySource keys = JwtFixtures.CountingKeySource.rsa();

  private JwtAuthenticator.Builder builder() {
    return JwtAuthenticator.builder().keySource(keys).issuer(JwtFixtures.ISSUER).audience(JwtFixtures.AUDIENCE);
  }

  private final JwtAuthenticator jwt = builder().build();

  private java.util.Optional<Principal> verify(JwtAuthenticator a, String token) {
    return a.authenticate(token, clock.instant());
  }

  @Test
  void repeatCallsSkipSignatureVerification() {
    String token = Tokens.rs256(Tokens.claims(clock.instant()));

    for (int i = 0; i < 100; i++) {
      assertThat(verify(jwt, token)).map(Principal::subject).contains("alice");
    }

    assertThat(keys.lookups).hasValue(1);
  }

  @Test
  void withTheCacheDisabledEveryCallVerifies() {
    JwtAuthenticator uncached = builder().verifiedTokenCacheSize(0).build();
    String token = Tokens.rs256(Tokens.claims(clock.instant()));

    for (int i = 0; i < 5; i++) {
      assertThat(verify(uncached, token)).isPresent();
    }

    assertThat(keys.lookups).hasValue(5);
  }

  @Test
  void neverExtendsATokensLifePastItsExpiry() {
    Instant exp = clock.instant().plusSeconds(120);
    JwtAuthenticator strict = builder().clockSkew(Duration.ZERO).build();
    String token = Tokens.rs256(Tokens.claims(clock.instant()).with("exp", exp));
    assertThat(verify(strict, token)).isPresent();

    clock.set(exp.minusMillis(1));
    assertThat(verify(strict, token)).as("cached until just before exp").isPresent();
    assertThat(keys.lookups).hasValue(1);

    clock.set(exp);
    assertThat(verify(strict, token)).as("at exp the cache must not answer").isEmpty();
    clock.advance(Duration.ofDays(1));
    assertThat(verify(strict, token)).isEmpty();
  }

  @Test
  void cacheEntriesEndAtExpEvenWhereTheSkewStillAcceptsTheToken() {
    Instant exp = clock.instant().plusSeconds(120);
    String token = Tokens.rs256(Tokens.claims(clock.instant()).with("exp", exp));
    assertThat(verify(jwt, token)).isPresent();

    clock.set(exp.plusSeconds(30)); // within the 60 s skew: accepted, but only by a full verification
    assertThat(verify(jwt, token)).isPresent();
    assertThat(keys.lookups).as("the cache did not answer after exp").hasValue(2);

    clock.set(exp.plus(JwtAuthenticator.DEFAULT_CLOCK_SKEW));
    assertThat(verify(jwt, token)).isEmpty();
  }

  @Test
  void cacheEntriesEndAtTheMaximumAgeWhenThatComesFirst() {
    JwtAuthenticator young = builder().maxTokenAge(Duration.ofMinutes(10)).clockSkew(Duration.ZERO).build();
    Instant iat = clock.instant();
    String token = Tokens.rs256(Tokens.claims(iat).with("exp", iat.plus(Duration.ofHours(1))));
    assertThat(verify(young, token)).isPresent();

    clock.set(iat.plus(Duration.ofMinutes(10)).plusSeconds(1));

    assertThat(verify(young, token)).isEmpty();
  }

  @Test
  void aCachedTokenIsNotAcceptedBeforeItsNotBefore() {
    Instant nbf = clock.instant().plusSeconds(30);
    String token = Tokens.rs256(Tokens.claims(clock.instant()).with("nbf", nbf));
    assertThat(verify(jwt, token)).isPresent(); // nbf within the skew

    clock.set(nbf.minus(JwtAuthenticator.DEFAULT_CLOCK_SKEW).minusSeconds(1)); // a clock stepped back

    assertThat(verify(jwt, token)).isEmpty();
  }

  @Test
  void otherSpellingsOfACachedTokenAreRefusedNotServedFromTheCache() {
    String token = Tokens.rs256(Tokens.claims(clock.instant()));
    assertThat(verify(jwt, token)).isPresent();
    String sig = Tokens.parts(token)[2];
    byte[] raw = Base64.getUrlDecoder().decode(sig);
    String padded = token.substring(0, token.length() - sig.length()) + Base64.getUrlEncoder().encodeToString(raw);

    assertThat(padded).isNotEqualTo(token);
    assertThat(verify(jwt, padded)).isEmpty();
    assertThat(verify(jwt, token + "=")).isEmpty();
    assertThat(keys.lookups).as("variants never reached the parser").hasValue(1);
  }

  @Test
  void aCachedTokenDoesNotVouchForAnotherPayloadOrSignature() {
    // The swapped payload keeps the signature, so it lands in the same hash bucket: only exact
    // string equality keeps it out.
    String token = Tokens.rs256(Tokens.claims(clock.instant()));
    assertThat(verify(jwt, token)).isPresent();
    String[] p = Tokens.parts(token);
    String otherPayload = Tokens.b64(Tokens.claims(clock.instant()).with("sub", "admin").text());
    String junkSignature = Tokens.b64(new byte[256]);

    assertThat(verify(jwt, p[0] + "." + otherPayload + "." + p[2])).isEmpty();
    assertThat(verify(jwt, p[0] + "." + p[1] + "." + junkSignature)).isEmpty();
  }

  @Test
  void aWithdrawnKeyTakesItsCachedTokensWithIt() {
    String token = Tokens.rs256(Tokens.claims(clock.instant()));
    assertThat(verify(jwt, token)).isPresent();

    keys.generation++;

    assertThat(verify(jwt, token)).as("re-verified").isPresent();
    assertThat(keys.lookups).hasValue(2);
  }

  @Test
  void theCachedPrincipalIsDeeplyImmutable() {
    String token = Tokens.rs256(Tokens.claims(clock.instant())
        .with(JwtAuthenticator.QUOTA_CLAIM, Map.of("perMinute", 600, "models", java.util.List.of("digits"))));
    Principal p = verify(jwt, token).orElseThrow();

    Object quota = p.claims().get(JwtAuthenticator.QUOTA_CLAIM);
    assertThat(quota).isInstanceOf(Map.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
      @SuppressWarnings("unchecked")
      Map<String, Object> m = (Map<String, Object>) quota;
      m.put("perMinute", 1_000_000);
    }).isInstanceOf(UnsupportedOperationException.class);
    assertThat(verify(jwt, token).orElseThrow().claims().get(JwtAuthenticator.QUOTA_CLAIM)).isEqualTo(quota);
  }

  @Test
  void isBoundedBySize() {
    VerifiedTokenCache cache = new VerifiedTokenCache(10);
    Principal p = Principal.builder("alice").build();
    Instant now = clock.instant();
    for (int i = 0; i < 1000; i++) {
      cache.put(cache.key("token" + i), p, Instant.MIN, now.plusSeconds(60), 0, now);
    }
    cache.cleanUp(); // Caffeine evicts asynchronously

    assertThat(cache.size()).isLessThanOrEqualTo(10);
  }
}
