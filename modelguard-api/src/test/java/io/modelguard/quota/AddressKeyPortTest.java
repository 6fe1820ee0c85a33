package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.Endpoint;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.RandomSource;
import io.modelguard.ReasonCode;
import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.authn.ApiKeyHasher;
import io.modelguard.authn.InMemoryApiKeyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * An address that carries its port (RFC 7239 {@code for="192.0.2.43:47011"}, load balancers that
 * append ":port" to X-Forwarded-For, or a remoteAddress function that passes it on) is keyed
 * without it: one unauthenticated budget per host, not per source port.
 */
class AddressKeyPortTest {
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

  static final class Guess implements InferenceRequest {
    final String address;

    Guess(String address) {
      this.address = address;
    }

    @Override public String method() { return "POST"; }
    @Override public String path() { return "/v1/models/digits/predict"; }
    @Override public Optional<String> header(String n) { return headers(n).stream().findFirst(); }
    @Override public List<String> headers(String n) {
      // a well-formed key that is not in the store: a guess
      return n.equalsIgnoreCase("X-API-Key") ? List.of("mg_live_" + "A".repeat(50)) : List.of();
    }
    @Override public Optional<String> remoteAddress() { return Optional.of(address); }
    @Override public Endpoint endpoint() { return Endpoint.of("digits", "default", 1); }
    @Override public byte[] body(int max) { return new byte[0]; }
  }

  @Test
  void theSameHostOnAnotherSourcePortHasTheSameAddressKey() {
    assertThat(QuotaKey.forAddress("192.0.2.43:47011")).as("IPv4 with port")
        .isEqualTo(QuotaKey.forAddress("192.0.2.43:47012"));
  }

  @Test
  void aPortIsDroppedAndNothingElse() {
    assertThat(QuotaKey.forAddress("192.0.2.43:47011").partition()).isEqualTo("a:192.0.2.43");
    assertThat(QuotaKey.forAddress("[2001:db8:cafe::17]:4711").partition()).isEqualTo("a:2001%3Adb8%3Acafe%3A0%3A%3A/64");
    // Not an address with a port: kept as given (escaped).
    assertThat(QuotaKey.forAddress("proxy.example:8080").partition()).isEqualTo("a:proxy.example%3A8080");
    assertThat(QuotaKey.forAddress("192.0.2.43")).isNotEqualTo(QuotaKey.forAddress("192.0.2.44:1"));
  }

  @Test
  void theSameIpv6SubnetOnAnotherSourcePortHasTheSameAddressKey() {
    assertThat(QuotaKey.forAddress("[2001:db8:cafe::17]:4711")).as("bracketed IPv6 with port")
        .isEqualTo(QuotaKey.forAddress("[2001:db8:cafe::18]:4712"));
  }

  @Test
  void aGuesserChangingItsSourcePortStaysThrottled() {
    byte[] pepper = new byte[32];
    RandomSource.seeded(5).nextBytes(pepper);
    ApiKeyHasher hasher = ApiKeyHasher.withPepper(pepper);
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(CLOCK).build();
    ModelGuard guard = ModelGuard.builder().clock(CLOCK).auditLog(false).models("digits")
        .chain("default", c -> {
          UnauthenticatedLimit.of(store, QuotaLimit.tokenBucket("unauthenticated", 3, Duration.ofMinutes(1))).addTo(c);
          c.policy(Phase.AUTHENTICATE, "api-key", ApiKeyAuthenticator.builder(new InMemoryApiKeyStore(), hasher).build());
        })
        .build();

    // Control: from one address:port, the 4th guess is throttled.
    for (int i = 0; i < 3; i++) {
      assertThat(guard.check(new Guess("192.0.2.43:40000")).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
    }
    assertThat(guard.check(new Guess("192.0.2.43:40000")).reason()).contains(ReasonCode.QUOTA_EXCEEDED);

    int throttled = 0;
    for (int port = 40001; port < 40101; port++) {
      GuardDecision d = guard.check(new Guess("192.0.2.43:" + port));
      if (d.reason().orElse(null) == ReasonCode.QUOTA_EXCEEDED) {
        throttled++;
      }
    }
    assertThat(throttled).as("100 further guesses from the same host, one per source port, throttled").isEqualTo(100);
  }
}
