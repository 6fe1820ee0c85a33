package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.ReasonCode;
import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every class of SSRF trick in {@code input.md}, tried against a fetcher with the default deny set
 * and refused before any connection. The URLs point at a loopback listener whose port is even
 * allowed, so only the address, name, scheme and parser rules stand between the URL and a
 * connection; after each test, the listener must have accepted nothing and the connector must
 * never have been asked to connect anywhere.
 */
class SsrfRefusalTest {
  private static AcceptRecorder listener;
  private static int port;

  private final FakeResolver resolver = new FakeResolver()
      .map("internal.test", "127.0.0.1")
      .map("metadata-alias.test", "169.254.169.254")
      .map("v6-loopback.test", "::1")
      .map("nat64.test", "64:ff9b::7f00:1")
      .map("unique-local.test", "fd00:ec2::254")
      .map("public-then-private.test", "93.184.216.34", "127.0.0.1")
      .map("private-then-public.test", "127.0.0.1", "93.184.216.34")
      .map("mixed-v6.test", "2606:2800:220:1:248:1893:25c8:1946", "fd00::1")
      .map("mixed-families.test", "93.184.216.34", "::1")
      .map("shared-space.test", "100.64.0.1")
      .map("teredo.test", "2001:0:4136:e378:8000:63bf:80ff:fffe")
      .map("six-to-four.test", "2002:7f00:1::1")
      .map("mapped.test", "::ffff:127.0.0.1");
  private RecordingConnector connector;
  private SafeUrlFetcher fetcher;

  @BeforeAll
  static void startListener() throws IOException {
    listener = new AcceptRecorder();
    port = listener.port();
  }

  @AfterAll
  static void stopListener() throws IOException {
    listener.close();
  }

  @org.junit.jupiter.api.BeforeEach
  void buildFetcher() {
    connector = new RecordingConnector(port);
    // The listener's port is allowed on purpose: the refusals below must come from the other rules.
    fetcher = SafeUrlFetcher.builder().resolver(resolver).connector(connector).allowPorts(80, 443, port).build();
  }

  @AfterEach
  void nothingWasConnected() {
    assertThat(connector.attempts).as("connection attempts").isEmpty();
    assertThat(listener.accepts()).as("connections accepted by the loopback listener").isZero();
  }

  private void assertRefused(String url, UrlRefusal reason) {
    String u = url.replace("PORT", Integer.toString(port));
    FetchResult r = fetcher.fetch(u);
    assertThat(r.refusal()).as("refusal of %s", u).contains(reason);
    assertThat(r.decision().reason()).contains(ReasonCode.INPUT_URL_BLOCKED);
    assertThat(r.decision().detail().orElseThrow()).isEqualTo(reason.clientDetail());
  }

  /**
   * A host name refused for what it resolved to: the true reason in the result, but the client is
   * told what it is told for a name that does not resolve ({@link InternalNameOracleTest}).
   */
  private void assertRefusedName(String url, UrlRefusal reason) {
    String u = url.replace("PORT", Integer.toString(port));
    FetchResult r = fetcher.fetch(u);
    assertThat(r.refusal()).as("refusal of %s", u).contains(reason);
    assertThat(r.decision().reason()).contains(ReasonCode.INPUT_FETCH_FAILED);
    assertThat(r.decision().detail().orElseThrow()).isEqualTo(FetchFailure.UNRESOLVABLE.clientDetail());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://127.1:PORT/", "http://127.0.1:PORT/", "http://2130706433:PORT/", "http://017700000001:PORT/",
      "http://0x7f000001:PORT/", "http://0X7F000001:PORT/", "http://0x7f.0.0.1:PORT/", "http://0x7f.1:PORT/",
      "http://0177.0.0.1:PORT/", "http://0127.0.0.1:PORT/", "http://127.000.000.001:PORT/", "http://127.0.0.01:PORT/",
      "http://127.0.0.0x1:PORT/", "http://127.0.0.1.1:PORT/", "http://0:PORT/", "http://0x:PORT/",
      "http://1.2.3.4.5:PORT/", "http://256.0.0.1:PORT/"})
  void refusesNumericAndMixedIpv4FormsAsAmbiguous(String url) {
    assertRefused(url, UrlRefusal.AMBIGUOUS_IP_LITERAL);
    assertThat(resolver.lookups).as("no DNS query for a literal").isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://127.0.0.1:PORT/", "http://127.255.255.254:PORT/", "http://0.0.0.0:PORT/", "http://10.0.0.1/",
      "http://172.16.0.1/", "http://172.31.255.255/", "http://192.168.1.1/", "http://100.64.0.1/",
      "http://198.18.0.1/", "http://198.19.255.255/", "http://240.0.0.1/", "http://255.255.255.255/",
      "http://224.0.0.1/", "http://192.0.2.1/", "http://198.51.100.1/", "http://203.0.113.1/",
      "http://192.88.99.1/", "HTTP://127.0.0.1:PORT/"})
  void refusesEveryCanonicalIpv4AddressInTheDenySet(String url) {
    assertRefused(url, UrlRefusal.DENIED_ADDRESS);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://[::1]:PORT/", "http://[0:0:0:0:0:0:0:1]:PORT/", "http://[::]:PORT/",
      "http://[::ffff:127.0.0.1]:PORT/", "http://[::ffff:7f00:1]:PORT/", "http://[0:0:0:0:0:ffff:127.0.0.1]:PORT/",
      "http://[::127.0.0.1]:PORT/", "http://[::7f00:1]:PORT/",
      "http://[64:ff9b::127.0.0.1]:PORT/", "http://[64:ff9b::7f00:1]:PORT/", "http://[64:ff9b::808:808]/",
      "http://[64:ff9b:1::a9fe:a9fe]/", "http://[2002:7f00:1::1]:PORT/", "http://[2002:808:808::1]/",
      "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "http://[fe80::1]/", "http://[fc00::1]/",
      "http://[fd00:ec2::254]/", "http://[fec0::1]/", "http://[ff02::1]/", "http://[100::1]/",
      "http://[2001:db8::1]/", "http://[3fff::1]/", "http://[::ffff:169.254.169.254]/", "http://[::ffff:a9fe:a9fe]/",
      "http://[::ffff:0:169.254.169.254]/", "http://[::ffff:0:7f00:1]:PORT/"})
  void refusesIpv6LiteralsInTheDenySetIncludingEveryIpv4EmbeddingForm(String url) {
    assertRefused(url, UrlRefusal.DENIED_ADDRESS);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://[fe80::1%25eth0]/", "http://[::1/", "http://[:::1]:PORT/", "http://[1::2::3]/",
      "http://[::ffff:127.1]:PORT/", "http://[::ffff:0177.0.0.1]:PORT/", "http://[::1]x:PORT/",
      "http://[127.0.0.1]:PORT/",
      // Character.digit reads fullwidth and other Unicode digits and letters as hex digits; RFC 4291 does not.
      "http://[２６０６:４７００::１１１１]/", "http://[2606:4700::١١١١]/", "http://[::ｆｆｆｆ:7f00:1]:PORT/"})
  void refusesMalformedIpv6Literals(String url) {
    assertRefused(url, UrlRefusal.MALFORMED);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://①②⑦.⓪.⓪.①:PORT/", "http://127。0。0。1:PORT/", "http://１２７．０．０．１:PORT/",
      "http://127.0.0.1\u200b:PORT/", "http://127.0.0.1.:PORT/"})
  void normalisesUnicodeHostsBeforeTheLiteralCheckAndRefusesTheLoopbackTheyBecome(String url) {
    assertRefused(url, UrlRefusal.DENIED_ADDRESS);
    assertThat(resolver.lookups).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://①②⑦.①:PORT/", "http://０ｘ７ｆ.１:PORT/", "http://①②⑦.⓪.⓪.⓪①:PORT/"})
  void refusesUnicodeHostsThatNormaliseToAmbiguousLiterals(String url) {
    assertRefused(url, UrlRefusal.AMBIGUOUS_IP_LITERAL);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://%31%32%37.0.0.1:PORT/", "http://127.0.0.1%2f:PORT/", "http://loc%61lhost:PORT/",
      "http://127.0.0.1%00.example.com/", "http://%5B::1%5D:PORT/", "http://a_b.example/"})
  void refusesPercentEncodedAndNonLdhHosts(String url) {
    assertRefused(url, UrlRefusal.MALFORMED);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://localhost:PORT/", "http://LOCALHOST:PORT/", "http://localhost.:PORT/", "http://api.localhost:PORT/",
      "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ:PORT/", "http://ＬＯＣＡＬＨＯＳＴ:PORT/"})
  void refusesLocalhostNamesInEverySpelling(String url) {
    assertRefused(url, UrlRefusal.DENIED_NAME);
    assertThat(resolver.lookups).as("a denied name is not even resolved").isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://user:pass@127.0.0.1:PORT/", "http://example.com@127.0.0.1:PORT/", "http://127.0.0.1:PORT@example.com/",
      "http://127.0.0.1[@example.com/", "http://@127.0.0.1:PORT/", "https://example.com:443@127.0.0.1:PORT/"})
  void refusesUserinfo(String url) {
    assertRefused(url, UrlRefusal.USERINFO);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://example.com\\@127.0.0.1:PORT/", "http:\\\\127.0.0.1:PORT\\", "http:/127.0.0.1:PORT/",
      "http:127.0.0.1:PORT/", "http://127.0.0.1:PORT:80/", " http://127.0.0.1:PORT/", "http://127.0.0.1:PORT/ ",
      "http://127.0.0.1:PORT/\r\nHost: example.com", "http://127.0.0.1\t:PORT/", "http://127.0.0.1:0PORT/",
      "http://127.0.0.1:+80/", "http://127.0.0.1:65536/", "http://127.0.0.1:/", "http:///127.0.0.1:PORT/",
      "//127.0.0.1:PORT/", "http://127.0.0.1:PORT/%zz", "http://127.0.0.1:PORT/é", "", "http://",
      // U+2024 ONE DOT LEADER is no label separator to IDNA, and its NFKC form, a full stop, is no LDH character.
      "http://127․0․0․1:PORT/"})
  void refusesParserDifferentialTricksAndMalformedUrls(String url) {
    assertRefused(url, UrlRefusal.MALFORMED);
  }

  @Test
  void aFragmentCannotHideTheRealHost() {
    assertRefused("http://127.0.0.1:PORT/#@example.com", UrlRefusal.DENIED_ADDRESS);
    // ... and the other way round the host is example.com, which the fake resolver does not know:
    UrlCheck check = fetcher.check("http://example.com#@127.0.0.1:" + port + "/");
    assertThat(check.host()).contains("example.com");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://169.254.169.254/latest/meta-data/", "http://169.254.170.2/v2/credentials", "http://[fd00:ec2::254]/",
      "http://100.100.100.200/latest/meta-data/", "http://192.0.0.192/opc/v2/instance/",
      "http://[::ffff:169.254.169.254]/"})
  void refusesCloudMetadataAddresses(String url) {
    assertRefused(url, UrlRefusal.DENIED_ADDRESS);
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://metadata-alias.test/", "http://unique-local.test/"})
  void refusesNamesResolvingToCloudMetadataAddresses(String url) {
    assertRefusedName(url, UrlRefusal.DENIED_ADDRESS);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://metadata.google.internal/computeMetadata/v1/", "http://METADATA.google.internal./",
      "http://metadata/computeMetadata/v1/", "http://instance-data/latest/meta-data/"})
  void refusesCloudMetadataNamesWithoutResolvingThem(String url) {
    assertRefused(url, UrlRefusal.DENIED_NAME);
    assertThat(resolver.lookups).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "file:///etc/passwd", "file://127.0.0.1/etc/passwd", "gopher://127.0.0.1:PORT/_SET%20x", "ftp://127.0.0.1:PORT/",
      "dict://127.0.0.1:PORT/info", "ldap://127.0.0.1:PORT/", "jar:http://127.0.0.1:PORT/x.jar!/", "netdoc:///etc/passwd",
      "data:image/png;base64,iVBORw0KGgo=", "javascript:alert(1)", "ws://127.0.0.1:PORT/", "wss://example.com/",
      "sftp://127.0.0.1:PORT/", "tftp://127.0.0.1:PORT/"})
  void refusesNonHttpSchemes(String url) {
    assertRefused(url, UrlRefusal.SCHEME_NOT_ALLOWED);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://internal.test:PORT/", "http://v6-loopback.test:PORT/", "http://nat64.test:PORT/",
      "http://INTERNAL.test.:PORT/", "http://shared-space.test/", "http://teredo.test/", "http://six-to-four.test:PORT/",
      "http://mapped.test:PORT/"})
  void refusesNamesThatResolveToInternalAddresses(String url) {
    assertRefusedName(url, UrlRefusal.DENIED_ADDRESS);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://public-then-private.test:PORT/", "http://private-then-public.test:PORT/", "http://mixed-v6.test/",
      "http://mixed-families.test/"})
  void refusesDnsAnswersMixingPublicAndPrivateAddresses(String url) {
    assertRefusedName(url, UrlRefusal.DENIED_ADDRESS);
  }

  @Test
  void refusesPortsOutsideTheAllowListBeforeResolving() {
    fetcher = SafeUrlFetcher.builder().resolver(resolver).connector(connector).build();
    assertRefused("http://internal.test:" + port + "/", UrlRefusal.PORT_NOT_ALLOWED);
    assertRefused("http://example.com:22/", UrlRefusal.PORT_NOT_ALLOWED);
    assertRefused("http://8.8.8.8:6379/", UrlRefusal.PORT_NOT_ALLOWED);
    assertThat(resolver.lookups).isEmpty();
  }

  @Test
  void refusesHostsOutsideTheAllowListWithoutResolvingThem() {
    fetcher = SafeUrlFetcher.builder().resolver(resolver).connector(connector)
        .allowHosts("images.example.com", "*.cdn.example.net").build();
    assertRefused("https://evil.example.org/cat.png", UrlRefusal.HOST_NOT_ALLOWED);
    assertRefused("https://cdn.example.net/cat.png", UrlRefusal.HOST_NOT_ALLOWED);
    assertRefused("https://images.example.com.evil.org/cat.png", UrlRefusal.HOST_NOT_ALLOWED);
    assertRefused("https://8.8.8.8/cat.png", UrlRefusal.HOST_NOT_ALLOWED);
    assertThat(resolver.lookups).isEmpty();
  }

  @Test
  void anAllowListedHostIsStillRefusedWhenItResolvesToAnInternalAddress() {
    fetcher = SafeUrlFetcher.builder().resolver(resolver).connector(connector).allowPorts(80, 443, port)
        .allowHosts("internal.test").build();
    assertRefusedName("http://internal.test:PORT/", UrlRefusal.DENIED_ADDRESS);
  }

  @Test
  void operatorDenyListsExtendTheDefaults() {
    fetcher = SafeUrlFetcher.builder().resolver(new FakeResolver().map("images.example.com", "93.184.216.34"))
        .connector(connector).denyNames("*.corp.example").denyRanges("93.184.216.0/24").build();
    assertRefused("http://wiki.corp.example/", UrlRefusal.DENIED_NAME);
    assertRefusedName("http://images.example.com/", UrlRefusal.DENIED_ADDRESS);
    assertRefused("http://93.184.216.34/", UrlRefusal.DENIED_ADDRESS);
  }

  @Test
  void anInternalEndpointExemptionCoversExactlyOneAddressAndPort() {
    fetcher = SafeUrlFetcher.builder().resolver(resolver).connector(connector)
        .allowInternalEndpoint("127.0.0.1", 1).build();
    assertRefused("http://127.0.0.1:PORT/", UrlRefusal.DENIED_ADDRESS);
    assertRefused("http://127.0.0.2:1/", UrlRefusal.DENIED_ADDRESS);
    assertRefused("http://[::1]:1/", UrlRefusal.DENIED_ADDRESS);
    assertRefused("http://127.0.0.1:80/", UrlRefusal.DENIED_ADDRESS);
  }
}
