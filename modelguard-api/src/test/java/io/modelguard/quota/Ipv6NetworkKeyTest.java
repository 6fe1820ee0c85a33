package io.modelguard.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * An IPv6 network's key: the same for every address of the network however written, another for
 * another network, and never the key of an address, of a tenant or of a network of another length.
 */
class Ipv6NetworkKeyTest {

  private static QuotaKey network(String address, int prefixLength) {
    return QuotaKey.forIpv6Network(address, prefixLength).orElseThrow();
  }

  @Test
  void everyAddressOfOneNetworkHasItsKeyHoweverWritten() {
    QuotaKey slash48 = network("2001:db8:1:2::1", 48);
    assertThat(network("2001:0db8:0001:ffff:1:2:3:4", 48)).isEqualTo(slash48);
    assertThat(network("[2001:db8:1:9::1]:4711", 48)).as("bracketed, with a port").isEqualTo(slash48);
    assertThat(network("[2001:db8:1::7]", 48)).as("bracketed").isEqualTo(slash48);
    assertThat(network("fe80::1%eth0", 48)).as("a zone is dropped").isEqualTo(network("fe80::2", 48));
    assertThat(slash48.partition()).isEqualTo("n:2001%3Adb8%3A1%3A0%3A%3A/48");
  }

  @Test
  void anotherNetworkHasAnotherKey() {
    assertThat(network("2001:db8:2::1", 48)).isNotEqualTo(network("2001:db8:1::1", 48));
    assertThat(network("2001:db8:1:ff00::1", 56)).as("the prefix's bits, not whole groups")
        .isEqualTo(network("2001:db8:1:ffff::1", 56))
        .isNotEqualTo(network("2001:db8:1:fe00::1", 56));
    assertThat(network("2001:db8:1:ff00::1", 56).partition()).isEqualTo("n:2001%3Adb8%3A1%3Aff00%3A%3A/56");
  }

  @Test
  void aNetworksKeyIsNeverAnAddressesOrAnotherLengthsKey() {
    QuotaKey slash48 = network("2001:db8:1::1", 48);
    assertThat(slash48).isNotEqualTo(QuotaKey.forAddress("2001:db8:1::1"))
        .as("not even an address written as the network").isNotEqualTo(QuotaKey.forAddress("2001:db8:1:0::/48"))
        .isNotEqualTo(QuotaKey.forAddress("n:2001:db8:1:0::/48"))
        .isNotEqualTo(network("2001:db8:1::1", 49));
    assertThat(network("2001:db8:1:2::1", 64)).as("a /64 network is not the /64 address key")
        .isNotEqualTo(QuotaKey.forAddress("2001:db8:1:2::1"));
  }

  @Test
  void ipv4Ipv4MappedNamesMalformedAndMissingAddressesHaveNoNetwork() {
    assertThat(QuotaKey.forIpv6Network("192.0.2.1", 48)).isEmpty();
    assertThat(QuotaKey.forIpv6Network("192.0.2.1:4711", 48)).isEmpty();
    assertThat(QuotaKey.forIpv6Network("::ffff:192.0.2.1", 48)).isEmpty();
    assertThat(QuotaKey.forIpv6Network("::ffff:c000:201", 48)).isEmpty();
    assertThat(QuotaKey.forIpv6Network("proxy.example:8080", 48)).isEmpty();
    assertThat(QuotaKey.forIpv6Network("2001:db8::1::2", 48)).isEmpty();
    assertThat(QuotaKey.forIpv6Network("..::1", 48)).isEmpty();
    assertThat(QuotaKey.forIpv6Network(null, 48)).isEmpty();
  }

  @Test
  void anIpv4ClientBehindTheWellKnownNat64PrefixIsKeyedAsItsIpv4Address() {
    // A server behind a NAT64 or SIIT translator sees every IPv4 client in 64:ff9b::/96: keyed by
    // its /64 they all shared one budget, which one of them could spend for all.
    assertThat(QuotaKey.forAddress("64:ff9b::192.0.2.1")).isEqualTo(QuotaKey.forAddress("192.0.2.1"))
        .isNotEqualTo(QuotaKey.forAddress("64:ff9b::198.51.100.7"));
    assertThat(QuotaKey.forAddress("[64:ff9b::c000:201]:4711")).as("in any spelling")
        .isEqualTo(QuotaKey.forAddress("192.0.2.1"));
    assertThat(QuotaKey.forIpv6Network("64:ff9b::192.0.2.1", 48)).as("an IPv4 client has no IPv6 network").isEmpty();
    // The rest of 64:ff9b::/32 and the local-use 64:ff9b:1::/48 are no such prefix: IPv6 as any other.
    assertThat(QuotaKey.forAddress("64:ff9b:0:0:1::c000:201").partition()).isEqualTo("a:64%3Aff9b%3A0%3A0%3A%3A/64");
    assertThat(QuotaKey.forIpv6Network("64:ff9b:1::c000:201", 48)).isPresent();
  }

  @Test
  void refusesAPrefixLengthOutsideTheFirst64Bits() {
    assertThatThrownBy(() -> QuotaKey.forIpv6Network("2001:db8::1", 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("QuotaKey.prefixLength must be from 1 to 64, was 0");
    assertThatThrownBy(() -> QuotaKey.forIpv6Network("2001:db8::1", 65))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("was 65");
  }
}
