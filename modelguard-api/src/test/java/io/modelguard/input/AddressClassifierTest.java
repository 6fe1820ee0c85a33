package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The default deny set, including the addresses the well-known tools let through. */
class AddressClassifierTest {
  private final AddressClassifier classifier = AddressClassifier.defaults();

  private static byte[] ip(String literal) {
    byte[] b = literal.indexOf(':') >= 0 ? IpLiterals.parseIpv6(literal) : IpLiterals.parseCanonicalIpv4(literal);
    assertThat(b).as(literal).isNotNull();
    return b;
  }

  @ParameterizedTest
  @ValueSource(strings = {
      // The ones Smokescreen, Python's ipaddress (CVE-2024-4032) or the JDK's isXxx() miss:
      "192.0.0.192", "198.18.0.1", "240.0.0.1", "255.255.255.255", "100.100.100.200", "0.1.2.3",
      "64:ff9b:1::1", "::127.0.0.1", "fd00:ec2::254", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1",
      "::ffff:0:127.0.0.1", "::ffff:0:a9fe:a9fe", "168.63.129.16",
      // IPv6 outside global unicast 2000::/3: reserved by IANA, or assigned for uses never on the path to a public host
      "1::", "0:0:1::", "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "4000::1", "5f00::1", "8000::1", "fbff::1",
      // and the rest of the set
      "0.0.0.0", "10.255.255.255", "100.64.0.0", "100.127.255.255", "127.0.0.1", "169.254.169.254", "172.16.0.0",
      "172.31.255.255", "192.0.2.255", "192.88.99.1", "192.168.0.1", "198.51.100.7", "203.0.113.9", "224.0.0.251",
      "::", "::1", "::ffff:10.0.0.1", "100::ffff", "2001:db8::1", "2001::1", "2001:1ff:ffff::1", "3fff:fff::1",
      "fc00::1", "fdff::1", "fe80::1", "febf::1", "fec0::1", "ff02::fb"})
  void deniesEveryAddressOfTheDefaultSet(String literal) {
    assertThat(classifier.deniedBy(ip(literal))).as(literal).isPresent();
  }

  @ParameterizedTest
  @ValueSource(strings = {"8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.0", "172.15.255.255",
      "172.32.0.0", "192.0.1.1", "198.17.255.255", "198.20.0.0", "223.255.255.255", "2606:4700:4700::1111",
      "2a00:1450:4001:80b::200e", "2001:200::1", "::ffff:8.8.8.8", "2000::1", "3ffe:ffff::1", "168.63.129.15",
      "168.63.129.17"})
  void allowsPublicAddresses(String literal) {
    assertThat(classifier.deniedBy(ip(literal))).as(literal).isEmpty();
  }

  @Test
  void namesTheRangeAndTheEmbeddedIpv4() {
    assertThat(classifier.deniedBy(ip("::ffff:127.0.0.1"))).contains("IPv4-mapped 127.0.0.0/8 (loopback)");
    assertThat(classifier.deniedBy(ip("2002:7f00:1::"))).contains("2002::/16 (6to4) embedding 127.0.0.1");
    assertThat(classifier.deniedBy(ip("64:ff9b::a9fe:a9fe"))).contains("64:ff9b::/96 (NAT64) embedding 169.254.169.254");
    assertThat(classifier.deniedBy(ip("::ffff:0:a9fe:a9fe")))
        .contains("::ffff:0:0:0/96 (IPv4-translated, SIIT) embedding 169.254.169.254");
    assertThat(classifier.deniedBy(ip("5f00::1"))).contains("4000::/2 (outside global unicast 2000::/3)");
    assertThat(classifier.deniedBy(ip("fe80::1"))).contains("fe80::/10 (link-local)");
    assertThat(classifier.deniedBy(ip("2001:0:4136:e378:8000:63bf:80ff:fffe")))
        .contains("2001::/23 (IETF protocol assignments (includes Teredo)) embedding 127.0.0.1");
  }

  @Test
  void operatorRangesAddToTheDefaults() {
    AddressClassifier c = AddressClassifier.defaultsPlus(List.of("93.184.216.0/24"));
    assertThat(c.deniedBy(ip("93.184.216.34"))).contains("93.184.216.0/24 (operator deny list)");
    assertThat(c.deniedBy(ip("127.0.0.1"))).isPresent();
    assertThatThrownBy(() -> AddressClassifier.defaultsPlus(List.of("10.0.0.0/33"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> AddressClassifier.defaultsPlus(List.of("010.0.0.0/8"))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void parsesIpv6TextFormsStrictly() {
    assertThat(IpLiterals.format(ip("::ffff:127.0.0.1"))).isEqualTo("0:0:0:0:0:ffff:7f00:1");
    assertThat(IpLiterals.format(ip("1::"))).isEqualTo("1:0:0:0:0:0:0:0");
    assertThat(IpLiterals.format(ip("1:2:3:4:5:6:7:8"))).isEqualTo("1:2:3:4:5:6:7:8");
    for (String bad : List.of("1:2:3:4:5:6:7:8:9", "1::2::3", ":1::", "1:::", "12345::", "::1%eth0", "g::", "1:2:3:4:5:6:7",
        "２６０６:４７００::１１１１", "::ｆｆｆｆ:7f00:1", "::١")) {
      assertThat(IpLiterals.parseIpv6(bad)).as(bad).isNull();
    }
  }
}
