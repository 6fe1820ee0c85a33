package io.modelguard.test.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.PolicyChain;
import io.modelguard.RandomSource;
import io.modelguard.ReasonCode;
import io.modelguard.Tier;
import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.authn.ApiKeyHasher;
import io.modelguard.authn.ApiKeyIssuer;
import io.modelguard.authn.InMemoryApiKeyStore;
import io.modelguard.authn.IssuedApiKey;
import io.modelguard.authz.ModelAccessPolicy;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import io.modelguard.quota.FailurePolicy;
import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.QuotaStore;
import io.modelguard.quota.ResilientQuotaStore;
import io.modelguard.quota.UnauthenticatedLimit;
import io.modelguard.test.FakeClock;
import io.modelguard.test.AttributedRequest;
import io.modelguard.test.FakeRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Credential guessing is throttled per client address, before any credential is checked. */
class UnauthenticatedLimitTest {
  private final FakeClock clock = FakeClock.standard();
  private final AtomicInteger authenticatorRuns = new AtomicInteger();
  private final ModelGuard guard;
  private final String validKey;
  private final String guessedKey;
  private final ApiKeyAuthenticator apiKeys;
  private final InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).build();
  private final UnauthenticatedLimit limit =
      UnauthenticatedLimit.of(store, QuotaLimit.tokenBucket("unauthenticated", 3, Duration.ofMinutes(1)));

  UnauthenticatedLimitTest() {
    RandomSource random = RandomSource.seeded(7);
    byte[] pepper = new byte[32];
    random.nextBytes(pepper);
    ApiKeyHasher hasher = ApiKeyHasher.withPepper(pepper);
    InMemoryApiKeyStore keys = new InMemoryApiKeyStore();
    ApiKeyIssuer issuer = new ApiKeyIssuer(hasher, random, clock);
    IssuedApiKey issued = issuer.issue(ApiKeyFormat.Environment.TEST, "client", "acme", "basic", null);
    keys.add(issued.record());
    validKey = issued.key();
    guessedKey = issuer.issue(ApiKeyFormat.Environment.TEST, "never-stored", "x", "basic", null).key();
    apiKeys = ApiKeyAuthenticator.builder(keys, hasher).build();
    PolicyChain.Builder chain = PolicyChain.builder("default");
    limit.addTo(chain)
        .policy(Phase.AUTHENTICATE, "api-key", ctx -> {
          authenticatorRuns.incrementAndGet();
          return apiKeys.evaluate(ctx);
        })
        .policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy());
    guard = ModelGuard.builder().clock(clock).auditLog(false).models("digits")
        .tier(Tier.builder("basic").models("digits").build()).chain(chain.build()).build();
  }

  /** Whether requests carry attributes, as the servlet and JAX-RS adapters' requests do. */
  private boolean withAttributes;
  private final List<AttributedRequest> sent = new ArrayList<>();

  private GuardDecision call(String address, String key) {
    FakeRequest.Builder r = FakeRequest.builder().remoteAddress(address);
    if (key != null) {
      r.header("X-API-Key", key);
    }
    if (!withAttributes) {
      return guard.check(r.build());
    }
    AttributedRequest request = new AttributedRequest(r.build());
    sent.add(request);
    return guard.check(request);
  }

  @Test
  void failedAndMissingCredentialsUseUpTheAddressAndThenGet429WithoutBeingChecked() {
    assertThat(call("203.0.113.5", guessedKey).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
    assertThat(call("203.0.113.5", guessedKey).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
    assertThat(call("203.0.113.5", null).reason()).contains(ReasonCode.AUTH_MISSING_CREDENTIALS);
    int runs = authenticatorRuns.get();
    GuardDecision throttled = call("203.0.113.5", validKey);
    assertThat(throttled.reason()).contains(ReasonCode.QUOTA_EXCEEDED);
    assertThat(authenticatorRuns.get()).as("no credential is checked once throttled").isEqualTo(runs);
    assertThat(ProblemRenderer.render(throttled).headers()).containsEntry("Retry-After", "20");
    clock.advance(Duration.ofSeconds(20));
    assertThat(call("203.0.113.5", validKey).isAllowed()).isTrue();
  }

  @Test
  void authenticatedRequestsGiveTheirUnitBack() {
    for (int i = 0; i < 10; i++) {
      assertThat(call("198.51.100.7", validKey).isAllowed()).as("request " + i).isTrue();
    }
    assertThat(call("198.51.100.7", guessedKey).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
  }

  @Test
  void addressesAreIsolatedAndIpv6IsLimitedPerSlash64() {
    for (int i = 0; i < 3; i++) {
      call("2001:db8:1:2::" + (i + 1), guessedKey);
    }
    assertThat(call("2001:db8:1:2:ffff::9", guessedKey).reason()).as("same /64").contains(ReasonCode.QUOTA_EXCEEDED);
    assertThat(call("2001:db8:1:3::1", guessedKey).reason()).as("another /64").contains(ReasonCode.AUTH_INVALID_API_KEY);
    assertThat(call("192.0.2.1", guessedKey).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
  }

  /** An address on the {@code i}-th /64 of the attacker's /48, 2001:db8:a::/48. */
  private static String attacker(int i) {
    return "2001:db8:a:" + Integer.toHexString(i) + "::1";
  }

  /**
   * Spends the attacker's /48: by default 16 times the per-address 3 a minute, 48 units, three
   * guesses from each of 16 /64s, each of them reaching the authenticator.
   */
  private void spendTheAttackersNetwork() {
    for (int i = 0; i < 16; i++) {
      for (int j = 0; j < 3; j++) {
        assertThat(call(attacker(i), guessedKey).reason()).as("guess %d from /64 %d", j, i)
            .contains(ReasonCode.AUTH_INVALID_API_KEY);
      }
    }
  }

  @Test
  void anAttackerRotatingSlash64sInOneSlash48IsRefusedOnceItsNetworkIsSpent() {
    spendTheAttackersNetwork();
    int runs = authenticatorRuns.get();
    GuardDecision refused = call(attacker(0x100), guessedKey);
    assertThat(refused.reason()).as("a fresh /64 of the same /48").contains(ReasonCode.QUOTA_EXCEEDED);
    assertThat(authenticatorRuns.get()).as("no credential is checked once throttled").isEqualTo(runs);
    ProblemResponse problem = ProblemRenderer.render(refused);
    assertThat(problem.status()).isEqualTo(429);
    // 48 a minute: one unit back every 1.25 s.
    assertThat(problem.headers()).containsEntry("Retry-After", "2")
        .containsEntry("RateLimit-Policy", "\"unauthenticated\";q=48;w=60");
    assertThat(problem.bodyAsString()).contains("\"code\":\"quota.exceeded\"");
    for (int i = 0x200; i < 0x300; i++) {
      assertThat(call(attacker(i), guessedKey).reason()).as("/64 %x", i).contains(ReasonCode.QUOTA_EXCEEDED);
    }
    assertThat(authenticatorRuns.get()).isEqualTo(runs);

    clock.advance(Duration.ofMillis(1250));
    assertThat(call(attacker(0x300), guessedKey).reason()).as("one unit refilled")
        .contains(ReasonCode.AUTH_INVALID_API_KEY);
    assertThat(call(attacker(0x301), guessedKey).reason()).contains(ReasonCode.QUOTA_EXCEEDED);
  }

  @Test
  void aClientInAnotherSlash48IsUnaffectedByASpentNetwork() {
    spendTheAttackersNetwork();
    assertThat(call("2001:db8:b:1::1", validKey).isAllowed()).isTrue();
    for (int j = 0; j < 3; j++) {
      assertThat(call("2001:db8:b:2::1", guessedKey).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
    }
    assertThat(call("192.0.2.1", guessedKey).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
    assertThat(call("2001:db8:a:100::1", validKey).reason()).as("the cost: a valid key in the spent /48 waits too")
        .contains(ReasonCode.QUOTA_EXCEEDED);
  }

  @Test
  void aRequestItsNetworkRefusesLeavesItsSlash64Uncharged() {
    spendTheAttackersNetwork();
    for (int j = 0; j < 5; j++) {
      assertThat(call(attacker(0x100), guessedKey).reason()).contains(ReasonCode.QUOTA_EXCEEDED);
    }
    // Had its /64 kept those units, it would be out of them for another 20 s.
    clock.advance(Duration.ofMillis(1250));
    assertThat(call(attacker(0x100), guessedKey).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
    assertThat(store.acquire(QuotaKey.forAddress(attacker(0x100)), limit.plan(), 1).remaining(0))
        .as("the /64 charged once before this").isEqualTo(1);
  }

  @Test
  void aSlash64sRefusalsDoNotSpendItsNetwork() {
    for (int j = 0; j < 3; j++) {
      call(attacker(0), guessedKey);
    }
    for (int j = 0; j < 20; j++) {
      assertThat(call(attacker(0), guessedKey).reason()).contains(ReasonCode.QUOTA_EXCEEDED);
    }
    for (int i = 1; i < 16; i++) {
      for (int j = 0; j < 3; j++) {
        assertThat(call(attacker(i), guessedKey).reason()).as("guess %d from /64 %d", j, i)
            .contains(ReasonCode.AUTH_INVALID_API_KEY);
      }
    }
    assertThat(call(attacker(16), guessedKey).reason()).as("48 charged").contains(ReasonCode.QUOTA_EXCEEDED);
  }

  @Test
  void successfulAuthenticationRefundsTheAddressAndTheNetwork() {
    for (int i = 0; i < 60; i++) {
      assertThat(call(attacker(i % 20), validKey).isAllowed()).as("request %d", i).isTrue();
    }
    // All 48 units are back: 48 guesses reach the authenticator, and no more.
    spendTheAttackersNetwork();
    assertThat(call(attacker(0x100), guessedKey).reason()).contains(ReasonCode.QUOTA_EXCEEDED);
  }

  @Test
  void ipv4AndIpv4MappedAddressesHaveNoNetworkLimit() {
    for (int i = 0; i < 20; i++) {
      for (int j = 0; j < 3; j++) {
        assertThat(call("192.0.2." + i, guessedKey).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
        assertThat(call("::ffff:198.51.100." + i, guessedKey).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
      }
    }
    assertThat(call("192.0.2.0", guessedKey).reason()).contains(ReasonCode.QUOTA_EXCEEDED);
    assertThat(call("198.51.100.0", guessedKey).reason()).as("mapped: the IPv4 address's key")
        .contains(ReasonCode.QUOTA_EXCEEDED);
  }

  @Test
  void aUnitTheLocalFallbackChargedIsNeverRefundedToTheSharedStoreOnceItIsBack() {
    InMemoryQuotaStore shared = InMemoryQuotaStore.builder().clock(clock).build();
    SwitchableStore flaky = new SwitchableStore(shared);
    AtomicLong nanos = new AtomicLong();
    QuotaStore resilient = ResilientQuotaStore.builder(flaky).failurePolicy(FailurePolicy.localFallback(1))
        .failureThreshold(1).ticker(nanos::get).clock(clock).build();
    QuotaLimit perAddress = QuotaLimit.tokenBucket("unauthenticated", 3, Duration.ofMinutes(1));
    PolicyChain.Builder chain = PolicyChain.builder("default");
    UnauthenticatedLimit.of(resilient, perAddress).addTo(chain)
        .policy(Phase.AUTHENTICATE, "api-key", ctx -> {
          if (flaky.down.get()) {
            // The shared store comes back while this request authenticates.
            flaky.down.set(false);
            nanos.addAndGet(Duration.ofSeconds(1).toNanos());
          }
          return apiKeys.evaluate(ctx);
        })
        .policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy());
    ModelGuard resilientGuard = ModelGuard.builder().clock(clock).auditLog(false).models("digits")
        .tier(Tier.builder("basic").models("digits").build()).chain(chain.build()).build();
    assertThat(resilientGuard.check(fromAddress("198.51.100.7", guessedKey)).reason())
        .as("a failed guess keeps its unit in the shared store").contains(ReasonCode.AUTH_INVALID_API_KEY);
    flaky.down.set(true);
    assertThat(resilientGuard.check(fromAddress("198.51.100.7", validKey)).isAllowed())
        .as("charged by the local fallback, refunded once authenticated").isTrue();

    // The shared store charged one unit (the guess), so two are left for this one and 1 after it;
    // with the fallback's unit refunded there, 2 would be.
    assertThat(shared.acquire(QuotaKey.forAddress("198.51.100.7"), QuotaPlan.of(perAddress), 1).remaining(0))
        .isEqualTo(1);
  }

  private static FakeRequest fromAddress(String address, String key) {
    return FakeRequest.builder().remoteAddress(address).header("X-API-Key", key).build();
  }

  /** The same cases on requests that carry their charge as an attribute instead of in the limit's map. */
  @Nested
  class OnRequestsWithAttributes {
    @BeforeEach
    void carryAttributes() {
      withAttributes = true;
    }

    @Test
    void throttlesTheSame() {
      failedAndMissingCredentialsUseUpTheAddressAndThenGet429WithoutBeingChecked();
    }

    @Test
    void refundsTheSameAndLeavesNoChargeOnTheRequest() {
      authenticatedRequestsGiveTheirUnitBack();
      assertThat(sent).hasSize(11);
      assertThat(sent.subList(0, 10)).allSatisfy(r -> assertThat(r.attributes()).isEmpty());
      assertThat(sent.get(10).attributes()).as("a failed credential keeps its charge").hasSize(1);
    }

    @Test
    void isolatesAddressesTheSame() {
      addressesAreIsolatedAndIpv6IsLimitedPerSlash64();
    }

    @Test
    void refusesAnAttackerRotatingSlash64sTheSame() {
      anAttackerRotatingSlash64sInOneSlash48IsRefusedOnceItsNetworkIsSpent();
    }

    @Test
    void leavesTheSlash64OfANetworksRefusalUnchargedTheSame() {
      aRequestItsNetworkRefusesLeavesItsSlash64Uncharged();
    }

    @Test
    void refundsTheAddressAndTheNetworkTheSameAndLeavesNoChargeOnTheRequest() {
      successfulAuthenticationRefundsTheAddressAndTheNetwork();
      assertThat(sent.subList(0, 60)).allSatisfy(r -> assertThat(r.attributes()).isEmpty());
      assertThat(sent.get(60).attributes()).as("a failed credential keeps its charge").hasSize(1);
    }

    @Test
    void twoLimitsInOneChainEachRefundTheirOwnCharge() {
      UnauthenticatedLimit perMinute = UnauthenticatedLimit.of(InMemoryQuotaStore.builder().clock(clock).build(),
          QuotaLimit.tokenBucket("unauthenticated", 3, Duration.ofMinutes(1)));
      UnauthenticatedLimit perHour = UnauthenticatedLimit.of(InMemoryQuotaStore.builder().clock(clock).build(),
          QuotaLimit.tokenBucket("unauthenticated-hourly", 5, Duration.ofHours(1)));
      ModelGuard twoLimits = ModelGuard.builder().clock(clock).auditLog(false).models("digits")
          .tier(Tier.builder("basic").models("digits").build())
          .chain("default", c -> c
              .policy(Phase.AUTHENTICATE, "per-minute", perMinute.charge())
              .policy(Phase.AUTHENTICATE, "per-hour", perHour.charge())
              .policy(Phase.AUTHENTICATE, "api-key", apiKeys)
              .policy(Phase.AUTHORIZE, "per-minute-refund", perMinute.refund())
              .policy(Phase.AUTHORIZE, "per-hour-refund", perHour.refund())
              .policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy()))
          .build();

      for (int i = 0; i < 10; i++) {
        AttributedRequest r = new AttributedRequest(
            FakeRequest.builder().remoteAddress("198.51.100.9").header("X-API-Key", validKey).build());
        assertThat(twoLimits.check(r).isAllowed()).as("request " + i).isTrue();
        assertThat(r.attributes()).as("both charges refunded").isEmpty();
      }
      for (int i = 0; i < 3; i++) {
        AttributedRequest r = new AttributedRequest(
            FakeRequest.builder().remoteAddress("198.51.100.9").header("X-API-Key", guessedKey).build());
        assertThat(twoLimits.check(r).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
        assertThat(r.attributes()).as("both charges kept").hasSize(2);
      }
      AttributedRequest r = new AttributedRequest(
          FakeRequest.builder().remoteAddress("198.51.100.9").header("X-API-Key", guessedKey).build());
      assertThat(twoLimits.check(r).reason()).contains(ReasonCode.QUOTA_EXCEEDED);
    }
  }
}
