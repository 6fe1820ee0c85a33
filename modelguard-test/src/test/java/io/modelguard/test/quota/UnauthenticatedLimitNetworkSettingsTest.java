package io.modelguard.test.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.RandomSource;
import io.modelguard.ReasonCode;
import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.authn.ApiKeyHasher;
import io.modelguard.authn.InMemoryApiKeyStore;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.quota.InMemoryQuotaStore;
import io.modelguard.quota.QuotaDecision;
import io.modelguard.quota.QuotaKey;
import io.modelguard.quota.QuotaLimit;
import io.modelguard.quota.QuotaPlan;
import io.modelguard.quota.QuotaStore;
import io.modelguard.quota.QuotaStoreException;
import io.modelguard.quota.UnauthenticatedLimit;
import io.modelguard.test.FakeClock;
import io.modelguard.test.FakeRequest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** How {@link UnauthenticatedLimit} limits IPv6 networks as a whole: the defaults, the settings, the off switch. */
class UnauthenticatedLimitNetworkSettingsTest {
  private static final QuotaLimit PER_ADDRESS = QuotaLimit.tokenBucket("unauthenticated", 3, Duration.ofMinutes(1));

  private final FakeClock clock = FakeClock.standard();
  private final InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(clock).build();
  private final ApiKeyAuthenticator noKeyIsValid;

  UnauthenticatedLimitNetworkSettingsTest() {
    byte[] pepper = new byte[32];
    RandomSource.seeded(11).nextBytes(pepper);
    noKeyIsValid = ApiKeyAuthenticator.builder(new InMemoryApiKeyStore(), ApiKeyHasher.withPepper(pepper)).build();
  }

  private ModelGuard guard(UnauthenticatedLimit limit) {
    return ModelGuard.builder().clock(clock).auditLog(false).models("digits")
        .chain("default", c -> limit.addTo(c).policy(Phase.AUTHENTICATE, "api-key", noKeyIsValid))
        .build();
  }

  /** A well-formed API key that is not in the store, from {@code address}. */
  private static FakeRequest guess(String address) {
    return FakeRequest.builder().remoteAddress(address).header("X-API-Key", "mg_live_" + "A".repeat(50)).build();
  }

  /** How many of {@code tries} guesses, three from each /64 of 2001:db8:a::/48 in turn, reach the authenticator. */
  private static int guessesChecked(ModelGuard guard, int tries) {
    int checked = 0;
    for (int i = 0; i < tries; i++) {
      GuardDecision d = guard.check(guess("2001:db8:a:" + (i / 3) + "::1"));
      if (d.reason().orElseThrow() == ReasonCode.AUTH_INVALID_API_KEY) {
        checked++;
      } else {
        assertThat(d.reason()).contains(ReasonCode.QUOTA_EXCEEDED);
      }
    }
    return checked;
  }

  @Test
  void byDefaultEachSlash48Has16TimesThePerAddressLimits() {
    UnauthenticatedLimit limit = UnauthenticatedLimit.of(store, PER_ADDRESS);
    assertThat(limit.ipv6NetworkPrefix()).hasValue(48);
    assertThat(limit.ipv6NetworkPlan())
        .contains(QuotaPlan.of(QuotaLimit.tokenBucket("unauthenticated", 48, Duration.ofMinutes(1))));
    assertThat(UnauthenticatedLimit.builder(store, PER_ADDRESS).build().ipv6NetworkPlan())
        .isEqualTo(limit.ipv6NetworkPlan());
  }

  @Test
  void theOffSwitchLeavesIpv6LimitedPerSlash64Only() {
    UnauthenticatedLimit limit = UnauthenticatedLimit.builder(store, PER_ADDRESS).noIpv6NetworkLimit().build();
    assertThat(limit.ipv6NetworkPlan()).isEmpty();
    assertThat(limit.ipv6NetworkPrefix()).isEmpty();
    assertThat(guessesChecked(guard(limit), 300)).as("3 from each of 100 /64s").isEqualTo(300);
  }

  @Test
  void aLongerPrefixAndAnotherFactorLimitThatNetwork() {
    ModelGuard guard = guard(UnauthenticatedLimit.builder(store, PER_ADDRESS)
        .ipv6NetworkPrefix(56).ipv6NetworkFactor(2).build());
    for (int j = 0; j < 3; j++) {
      assertThat(guard.check(guess("2001:db8:a:1::1")).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
      assertThat(guard.check(guess("2001:db8:a:2::1")).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
    }
    assertThat(guard.check(guess("2001:db8:a:ff::1")).reason()).as("the same /56")
        .contains(ReasonCode.QUOTA_EXCEEDED);
    assertThat(guard.check(guess("2001:db8:a:100::1")).reason()).as("the next /56, in the same /48")
        .contains(ReasonCode.AUTH_INVALID_API_KEY);
  }

  @Test
  void explicitNetworkLimitsReplaceTheScaledOnesAndNameThe429() {
    ModelGuard guard = guard(UnauthenticatedLimit.builder(store, PER_ADDRESS)
        .ipv6NetworkLimits(QuotaLimit.slidingWindow("unauthenticated-network", 5, Duration.ofMinutes(10))).build());
    assertThat(guessesChecked(guard, 6)).isEqualTo(5);
    GuardDecision refused = guard.check(guess("2001:db8:a:99::1"));
    assertThat(ProblemRenderer.render(refused).headers())
        .containsEntry("RateLimit-Policy", "\"unauthenticated-network\";q=5;w=600")
        .containsKey("Retry-After");
  }

  @Test
  void aStoreFailingTheNetworksChargeGivesTheAddressItsUnitBack() {
    QuotaStore networksFail = new QuotaStore() {
      @Override
      public QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost) {
        if (key.partition().startsWith("n:")) {
          throw new QuotaStoreException("connection refused");
        }
        return store.acquire(key, plan, cost);
      }

      @Override
      public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
        store.adjust(key, plan, delta, decidedAtMicros);
      }
    };
    ModelGuard guard = guard(UnauthenticatedLimit.of(networksFail, PER_ADDRESS));
    for (int j = 0; j < 5; j++) {
      assertThat(guard.check(guess("2001:db8:a:1::1")).reason()).as("fails closed: the store is unavailable")
          .contains(ReasonCode.QUOTA_UNAVAILABLE);
    }
    assertThat(store.acquire(QuotaKey.forAddress("2001:db8:a:1::1"), QuotaPlan.of(PER_ADDRESS), 1).remaining(0))
        .as("all 3 units were left, this one charged").isEqualTo(2);
  }

  @Test
  void refusesAPrefixOutside32To63() {
    UnauthenticatedLimit.Builder builder = UnauthenticatedLimit.builder(store, PER_ADDRESS);
    assertThatThrownBy(() -> builder.ipv6NetworkPrefix(31)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("UnauthenticatedLimit.ipv6NetworkPrefix must be from 32 to 63, was 31");
    assertThatThrownBy(() -> builder.ipv6NetworkPrefix(64)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("UnauthenticatedLimit.ipv6NetworkPrefix must be from 32 to 63, was 64");
  }

  @Test
  void refusesAFactorThatCouldNeverBindOrMakesNoValidLimit() {
    assertThatThrownBy(() -> UnauthenticatedLimit.builder(store, PER_ADDRESS).ipv6NetworkFactor(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("UnauthenticatedLimit.ipv6NetworkFactor must be at least 1, was 0");
    assertThatThrownBy(() -> UnauthenticatedLimit.builder(store, PER_ADDRESS).ipv6NetworkFactor(65_536).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("UnauthenticatedLimit.ipv6NetworkFactor must be below 65536 (the /64s in a /48), "
            + "was 65536: the network limit would never bind");
    assertThatThrownBy(() -> UnauthenticatedLimit.builder(store, PER_ADDRESS).ipv6NetworkPrefix(62).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("UnauthenticatedLimit.ipv6NetworkFactor must be below 4 (the /64s in a /62), "
            + "was 16 (the default)");
    QuotaLimit perSecond = QuotaLimit.tokenBucket("unauthenticated", 100_000, Duration.ofSeconds(1));
    assertThatThrownBy(() -> UnauthenticatedLimit.of(store, perSecond))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("UnauthenticatedLimit.ipv6NetworkFactor 16 (the default) times the quota 100000 "
            + "of 'unauthenticated' is no valid limit");
  }

  @Test
  void refusesContradictorySettings() {
    assertThatThrownBy(() -> UnauthenticatedLimit.builder(store, PER_ADDRESS).noIpv6NetworkLimit()
        .ipv6NetworkPrefix(56).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("noIpv6NetworkLimit() turns the IPv6 network limit off");
    assertThatThrownBy(() -> UnauthenticatedLimit.builder(store, PER_ADDRESS).ipv6NetworkFactor(4)
        .ipv6NetworkLimits(PER_ADDRESS).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("UnauthenticatedLimit: set ipv6NetworkFactor or ipv6NetworkLimits, not both");
  }
}
