package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.RandomSource;
import io.modelguard.ReasonCode;
import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.authn.ApiKeyHasher;
import io.modelguard.authn.InMemoryApiKeyStore;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * An IPv6 address that stands for an IPv4 host (6to4, Teredo, as IPv4-mapped and
 * well-known NAT64 ones already were) is keyed as that host's IPv4 address: by its /64 or /48,
 * Teredo clients of one server shared one budget, and one 6to4 site had a budget per /64 besides
 * its IPv4 one.
 */
class EmbeddedIpv4KeyTest {
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
  /** A Teredo server, shared by the clients below. */
  private static final String TEREDO_SERVER = "192.0.2.45";

  /** A 6to4 address of the site of {@code ipv4}: 2002:{ipv4}:{subnet}::{host}. */
  private static String sixToFour(String ipv4, int subnet, int host) throws UnknownHostException {
    byte[] v4 = InetAddress.getByName(ipv4).getAddress();
    byte[] b = new byte[16];
    b[0] = 0x20;
    b[1] = 0x02;
    System.arraycopy(v4, 0, b, 2, 4);
    b[6] = (byte) (subnet >>> 8);
    b[7] = (byte) subnet;
    b[15] = (byte) host;
    return text(b);
  }

  /**
   * The Teredo address (RFC 4380) of a client whose NAT maps it to {@code ipv4}:{@code port}, served
   * by {@link #TEREDO_SERVER}: 2001:0:{server}:{flags}:{~port}:{~ipv4}.
   */
  private static String teredo(String ipv4, int port, int flags) throws UnknownHostException {
    byte[] server = InetAddress.getByName(TEREDO_SERVER).getAddress();
    byte[] client = InetAddress.getByName(ipv4).getAddress();
    byte[] b = new byte[16];
    b[0] = 0x20;
    b[1] = 0x01;
    System.arraycopy(server, 0, b, 4, 4);
    b[8] = (byte) (flags >>> 8);
    b[9] = (byte) flags;
    b[10] = (byte) ~(port >>> 8);
    b[11] = (byte) ~port;
    for (int i = 0; i < 4; i++) {
      b[12 + i] = (byte) ~client[i];
    }
    return text(b);
  }

  /** The IPv4-compatible address ::{ipv4}. */
  private static String compatible(String ipv4) throws UnknownHostException {
    byte[] b = new byte[16];
    System.arraycopy(InetAddress.getByName(ipv4).getAddress(), 0, b, 12, 4);
    return text(b);
  }

  /** {@code b} as Java writes an IPv6 address (remote addresses come so from the servlet API). */
  private static String text(byte[] b) throws UnknownHostException {
    InetAddress a = InetAddress.getByAddress(b);
    assertThat(a).isInstanceOf(Inet6Address.class);
    return a.getHostAddress();
  }

  @Test
  void aTeredoClientIsKeyedAsItsPublicIpv4AddressNotAsItsServer() throws Exception {
    String alice = teredo("203.0.113.5", 40000, 0x8000);
    String bob = teredo("198.51.100.7", 40000, 0x8000);
    assertThat(alice).startsWith("2001:0:c000:22d:");

    assertThat(QuotaKey.forAddress(alice)).as("another client of the same server")
        .isNotEqualTo(QuotaKey.forAddress(bob))
        .isEqualTo(QuotaKey.forAddress("203.0.113.5"));
    assertThat(QuotaKey.forAddress(teredo("203.0.113.5", 51234, 0x0a3c))).as("another port, random flags")
        .isEqualTo(QuotaKey.forAddress(alice));
    assertThat(QuotaKey.forAddress("[" + alice + "]:4711")).isEqualTo(QuotaKey.forAddress(alice));
    assertThat(QuotaKey.forIpv6Network(alice, 48)).as("an IPv4 host has no IPv6 network").isEmpty();
  }

  @Test
  void aSixToFourSiteIsKeyedAsItsIpv4AddressOnEverySubnet() throws Exception {
    String site = sixToFour("203.0.113.5", 1, 1);
    assertThat(site).startsWith("2002:cb00:7105:1:");

    assertThat(QuotaKey.forAddress(site)).isEqualTo(QuotaKey.forAddress("203.0.113.5"))
        .isEqualTo(QuotaKey.forAddress(sixToFour("203.0.113.5", 0xffff, 9)))
        .isNotEqualTo(QuotaKey.forAddress(sixToFour("203.0.113.6", 1, 1)));
    assertThat(QuotaKey.forIpv6Network(site, 48)).isEmpty();
  }

  @Test
  void anIpv4CompatibleAddressStaysIpv6SoThatNobodyCanNameAnIpv4HostsKeyWithIt() throws Exception {
    // Nothing carries answers to ::a.b.c.d's IPv4 address: whoever sends from ::/96 proves no hold on
    // it, and keyed by it would get a budget per IPv4 address or spend a victim's.
    assertThat(QuotaKey.forAddress(compatible("203.0.113.5"))).isNotEqualTo(QuotaKey.forAddress("203.0.113.5"))
        .isEqualTo(QuotaKey.forAddress(compatible("198.51.100.7")))
        .isEqualTo(QuotaKey.forAddress("::1"));
    assertThat(QuotaKey.forAddress("::192.0.2.1")).as("as written").isNotEqualTo(QuotaKey.forAddress("192.0.2.1"));
    assertThat(QuotaKey.forIpv6Network(compatible("203.0.113.5"), 48)).isPresent();
    assertThat(QuotaKey.forAddress("::1").partition()).isEqualTo("a:0%3A0%3A0%3A0%3A%3A/64");
    assertThat(QuotaKey.forAddress("::").partition()).isEqualTo("a:0%3A0%3A0%3A0%3A%3A/64");
  }

  @Test
  void nativeIpv6NeighboursOfThosePrefixesStayIpv6() {
    // 2001:1::/32 and 2003::/16 embed nothing: keyed by their /64 as any other IPv6 address.
    assertThat(QuotaKey.forAddress("2001:1:c000:22d::1").partition()).isEqualTo("a:2001%3A1%3Ac000%3A22d%3A%3A/64");
    assertThat(QuotaKey.forAddress("2003:cb00:7105:1::1").partition()).isEqualTo("a:2003%3Acb00%3A7105%3A1%3A%3A/64");
    assertThat(QuotaKey.forAddress("::1:cb00:7105").partition()).as("not ::/96")
        .isEqualTo("a:0%3A0%3A0%3A0%3A%3A/64");
  }

  @Test
  void oneTeredoGuesserNoLongerSpendsTheBudgetOfItsServersOtherClients() throws Exception {
    ModelGuard guard = guard();
    String guesser = teredo("203.0.113.5", 40000, 0x8000);
    for (int i = 0; i < 3; i++) {
      assertThat(guess(guard, guesser).reason()).contains(ReasonCode.AUTH_INVALID_API_KEY);
    }
    assertThat(guess(guard, teredo("203.0.113.5", 40001, 0)).reason()).as("the guesser on another port")
        .contains(ReasonCode.QUOTA_EXCEEDED);

    assertThat(guess(guard, teredo("198.51.100.7", 40000, 0x8000)).reason()).as("another client of the server")
        .contains(ReasonCode.AUTH_INVALID_API_KEY);
  }

  @Test
  void aSixToFourSiteGuessesNoFasterThanItsIpv4Address() throws Exception {
    ModelGuard guard = guard();
    int checked = 0;
    for (int subnet = 0; subnet < 64; subnet++) {
      if (guess(guard, sixToFour("203.0.113.5", subnet, 1)).reason().orElseThrow() == ReasonCode.AUTH_INVALID_API_KEY) {
        checked++;
      }
    }
    assertThat(checked).as("guesses checked from 64 /64s of one 6to4 site").isEqualTo(3);
    assertThat(guess(guard, "203.0.113.5").reason()).as("its IPv4 address: the same budget")
        .contains(ReasonCode.QUOTA_EXCEEDED);
  }

  private static ModelGuard guard() {
    byte[] pepper = new byte[32];
    RandomSource.seeded(11).nextBytes(pepper);
    ApiKeyHasher hasher = ApiKeyHasher.withPepper(pepper);
    InMemoryQuotaStore store = InMemoryQuotaStore.builder().clock(CLOCK).build();
    return ModelGuard.builder().clock(CLOCK).auditLog(false).models("digits")
        .chain("default", c -> {
          UnauthenticatedLimit.of(store, QuotaLimit.tokenBucket("unauthenticated", 3, Duration.ofMinutes(1))).addTo(c);
          c.policy(Phase.AUTHENTICATE, "api-key", ApiKeyAuthenticator.builder(new InMemoryApiKeyStore(), hasher).build());
        })
        .build();
  }

  private static GuardDecision guess(ModelGuard guard, String address) {
    return guard.check(new AddressKeyPortTest.Guess(address));
  }
}
