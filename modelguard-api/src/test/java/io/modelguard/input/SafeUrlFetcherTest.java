package io.modelguard.input;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.modelguard.ReasonCode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real fetches against loopback test servers (WireMock, and a raw socket server for misbehaving
 * responses), which the fetcher may reach only through its explicit internal-endpoint exemption;
 * every redirect hop is checked again, and a hop to any other internal target is refused before
 * connecting. Public addresses are never connected to: the connector only records them.
 */
class SafeUrlFetcherTest {
  private static final byte[] PNG = TestImages.real("png", 8, 8);

  private static WireMockServer images;
  private static AcceptRecorder listener;
  private static int wm;
  private static int lp;

  private final FakeResolver resolver = new FakeResolver()
      .map("images.test", "127.0.0.1")
      .map("internal.test", "127.0.0.1")
      .map("public.example", "93.184.216.34")
      .map("rebinding.example", "93.184.216.34")
      .map("rebinding.example", "127.0.0.1");
  private RecordingConnector connector;
  private SafeUrlFetcher fetcher;

  @BeforeAll
  static void startServers() throws IOException {
    images = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    images.start();
    wm = images.port();
    listener = new AcceptRecorder();
    lp = listener.port();
  }

  @AfterAll
  static void stopServers() throws IOException {
    images.stop();
    listener.close();
  }

  @BeforeEach
  void setUp() {
    images.resetAll();
    images.stubFor(get("/cat.png").willReturn(aResponse().withHeader("Content-Type", "image/png").withBody(PNG)));
    connector = new RecordingConnector(wm);
    fetcher = builder().build();
  }

  @AfterEach
  void theListenerNeverSawAConnection() {
    assertThat(listener.accepts()).isZero();
  }

  private SafeUrlFetcher.Builder builder() {
    // The test server is the one loopback endpoint this fetcher may reach; the listener's port is
    // allowed too, so redirects to it are stopped by the address rules alone.
    return SafeUrlFetcher.builder().resolver(resolver).connector(connector)
        .allowInternalEndpoint("127.0.0.1", wm).allowPorts(80, 443, lp)
        .connectTimeout(Duration.ofSeconds(2)).totalTimeout(Duration.ofSeconds(4));
  }

  private String url(String path) {
    return "http://127.0.0.1:" + wm + path;
  }

  @Test
  void fetchesAnImageFromAnAllowedEndpoint() {
    FetchResult r = fetcher.fetch(url("/cat.png"));

    assertThat(r.isFetched()).isTrue();
    assertThat(r.body()).contains(PNG);
    assertThat(r.format()).contains(ImageFormat.PNG);
    assertThat(r.decision().isAllowed()).isTrue();
  }

  @Test
  void sendsTheUrlsHostButConnectsToTheAddressItChecked() {
    FetchResult r = fetcher.fetch("http://images.test:" + wm + "/cat.png");

    assertThat(r.isFetched()).isTrue();
    assertThat(connector.attempts).containsExactly(new InetSocketAddress(FakeResolver.parse("127.0.0.1").get(0), wm));
    images.verify(getRequestedFor(urlEqualTo("/cat.png")).withHeader("Host", equalTo("images.test:" + wm)));
    assertThat(resolver.lookups).containsExactly("images.test");
  }

  @Test
  void pinsTheCheckedAddressSoDnsRebindingCannotSwapIt() {
    FetchResult r = fetcher.fetch("http://rebinding.example/cat.png");

    // The first answer was public and was checked; the second (loopback) was never asked for.
    assertThat(resolver.lookups).containsExactly("rebinding.example");
    assertThat(connector.attempts).extracting(a -> a.getAddress().getHostAddress()).containsExactly("93.184.216.34");
    assertThat(r.failure()).contains(FetchFailure.CONNECT_FAILED);
  }

  @Test
  void connectsToAPublicHttpsUrlOnPort443OfTheCheckedAddress() {
    FetchResult r = fetcher.fetch("https://public.example/cat.png");

    assertThat(connector.attempts).extracting(InetSocketAddress::getPort).containsExactly(443);
    assertThat(connector.attempts).extracting(a -> a.getAddress().getHostAddress()).containsExactly("93.184.216.34");
    assertThat(r.decision().reason()).contains(ReasonCode.INPUT_FETCH_FAILED);
  }

  @Test
  void followsRelativeAndAbsoluteRedirectsCheckingEveryHop() {
    images.stubFor(get("/r1").willReturn(aResponse().withStatus(302).withHeader("Location", "/r2")));
    images.stubFor(get("/r2").willReturn(aResponse().withStatus(301).withHeader("Location", "r3?x=1")));
    images.stubFor(get("/r3?x=1").willReturn(aResponse().withStatus(307)
        .withHeader("Location", "http://images.test:" + wm + "/cat.png")));

    FetchResult r = fetcher.fetch(url("/r1"));

    assertThat(r.isFetched()).isTrue();
    assertThat(r.redirects()).isEqualTo(3);
    assertThat(resolver.lookups).containsExactly("images.test");
  }

  @Test
  void followsARelativeRedirectWithAColonInItsQueryOrFragment() {
    // RFC 3986 4.2: only a colon before the first '/', '?' or '#' ends a scheme; "cat.png?v=1:2" is
    // a relative reference to this server, not a URL with the scheme "cat.png?v=1".
    images.stubFor(get("/q").willReturn(aResponse().withStatus(302).withHeader("Location", "cat.png?v=1:2")));
    images.stubFor(get("/cat.png?v=1:2").willReturn(aResponse().withBody(PNG)));
    images.stubFor(get("/f").willReturn(aResponse().withStatus(302).withHeader("Location", "?v=3#t=0:10")));
    images.stubFor(get("/f?v=3").willReturn(aResponse().withBody(PNG)));

    assertThat(fetcher.fetch(url("/q")).body()).contains(PNG);
    assertThat(fetcher.fetch(url("/f")).body()).contains(PNG);
    assertThat(connector.attempts).allSatisfy(a -> assertThat(a.getPort()).isEqualTo(wm));
  }

  @Test
  void aLookupAfterARedirectGetsOnlyWhatIsLeftOfTheTotalTimeout() {
    images.stubFor(get("/late").willReturn(aResponse().withFixedDelay(600).withStatus(302)
        .withHeader("Location", "http://images.test:" + wm + "/cat.png")));

    FetchResult r = fetcher.fetch(url("/late"));

    assertThat(r.isFetched()).isTrue();
    assertThat(resolver.lookups).containsExactly("images.test");
    // The total timeout is 4 s and the first hop took at least 600 ms of it.
    assertThat(resolver.timesLeft).singleElement()
        .satisfies(left -> assertThat(left).isPositive().isLessThanOrEqualTo(Duration.ofMillis(3_400)));
  }

  @Test
  void checkingAUrlWithoutFetchingItAsksTheResolverWithoutATimeLimit() {
    UrlCheck check = fetcher.check("http://images.test:" + wm + "/cat.png");

    assertThat(check.isAllowed()).isTrue();
    assertThat(resolver.lookups).containsExactly("images.test");
    assertThat(resolver.timesLeft).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://127.0.0.1:LP/", "http://localhost:LP/", "http://[::1]:LP/",
      "http://0x7f000001:LP/", "http://127.1:LP/", "http://[::ffff:127.0.0.1]:LP/", "http://127.0.0.2:WM/",
      "http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/", "gopher://127.0.0.1:LP/_x",
      "file:///etc/passwd", "ftp://127.0.0.1:LP/", "http://user@127.0.0.1:WM/cat.png", "http://①②⑦.⓪.⓪.①:LP/"})
  void refusesARedirectToAnInternalTargetWithoutConnectingToIt(String location) {
    String target = location.replace("LP", Integer.toString(lp)).replace("WM", Integer.toString(wm));
    images.stubFor(get("/bounce").willReturn(aResponse().withStatus(302).withHeader("Location", target)));

    FetchResult r = fetcher.fetch(url("/bounce"));

    assertThat(r.decision().reason()).as("redirect to %s", target).contains(ReasonCode.INPUT_URL_BLOCKED);
    assertThat(r.redirects()).isEqualTo(1);
    assertThat(connector.attempts).as("only the allowed test server was connected to")
        .allSatisfy(a -> assertThat(a.getPort()).isEqualTo(wm));
    assertThat(connector.attempts).hasSize(1);
  }

  @Test
  void refusesARedirectToANameResolvingInternallyAnsweringAsForAnUnresolvableName() {
    String target = "http://internal.test:" + lp + "/";
    images.stubFor(get("/bounce").willReturn(aResponse().withStatus(302).withHeader("Location", target)));

    FetchResult r = fetcher.fetch(url("/bounce"));

    assertThat(r.refusal()).contains(UrlRefusal.DENIED_ADDRESS);
    assertThat(r.decision().reason()).contains(ReasonCode.INPUT_FETCH_FAILED);
    assertThat(r.decision().detail()).contains(FetchFailure.UNRESOLVABLE.clientDetail());
    assertThat(r.redirects()).isEqualTo(1);
    assertThat(connector.attempts).hasSize(1).allSatisfy(a -> assertThat(a.getPort()).isEqualTo(wm));
  }

  @Test
  void followsFiveRedirectsButNotSix() {
    for (int i = 0; i < 6; i++) {
      images.stubFor(get("/hop" + i).willReturn(aResponse().withStatus(302).withHeader("Location", "/hop" + (i + 1))));
    }
    images.stubFor(get("/hop6").willReturn(aResponse().withBody(PNG)));

    assertThat(fetcher.fetch(url("/hop1")).redirects()).isEqualTo(5);
    assertThat(fetcher.fetch(url("/hop1")).isFetched()).isTrue();
    FetchResult six = fetcher.fetch(url("/hop0"));
    assertThat(six.failure()).contains(FetchFailure.TOO_MANY_REDIRECTS);
    assertThat(six.decision().reason()).contains(ReasonCode.INPUT_FETCH_FAILED);
  }

  @Test
  void anUpstreamErrorBecomesFetchFailedWithoutItsBodyOrStatusText() {
    images.stubFor(get("/boom").willReturn(aResponse().withStatus(500)
        .withStatusMessage("db password is hunter2").withBody("java.sql.SQLException at internal-db:5432")));

    FetchResult r = fetcher.fetch(url("/boom"));

    assertThat(r.failure()).contains(FetchFailure.HTTP_STATUS);
    assertThat(r.body()).isEmpty();
    assertThat(r.decision().detail().orElseThrow())
        .isEqualTo(FetchFailure.HTTP_STATUS.clientDetail())
        .doesNotContain("hunter2").doesNotContain("SQLException").doesNotContain("500");
  }

  @Test
  void refusesContentThatIsNotAnAcceptedImageWhateverItsContentType() {
    images.stubFor(get("/fake.png").willReturn(aResponse().withHeader("Content-Type", "image/png")
        .withBody("<html><script>alert(1)</script></html>")));
    images.stubFor(get("/cat.webp").willReturn(aResponse().withHeader("Content-Type", "image/png")
        .withBody(TestImages.real("png", 4, 4))));

    assertThat(fetcher.fetch(url("/fake.png")).failure()).contains(FetchFailure.CONTENT_REJECTED);
    SafeUrlFetcher gifOnly = builder().acceptedFormats(ImageFormat.GIF).build();
    assertThat(gifOnly.fetch(url("/cat.webp")).failure()).contains(FetchFailure.CONTENT_REJECTED);
  }

  @Test
  void refusesADeclaredLengthOverTheCapBeforeReadingTheBody() {
    images.stubFor(get("/big.png").willReturn(aResponse().withBody(new byte[200_000])));

    FetchResult r = builder().maxBytes(100_000).build().fetch(url("/big.png"));

    assertThat(r.failure()).contains(FetchFailure.TOO_LARGE);
  }

  @Test
  void aCallersByteCapBelowTheFetchersOwnIsAppliedButNeverRaisesIt() {
    byte[] body = Arrays.copyOf(PNG, 200_000); // a real PNG padded after its end: valid, just big
    images.stubFor(get("/big.png").willReturn(aResponse().withBody(body)));

    assertThat(fetcher.fetch(url("/big.png"), 100_000).failure()).contains(FetchFailure.TOO_LARGE);
    assertThat(fetcher.fetch(url("/big.png"), 200_000).body()).hasValueSatisfying(b -> assertThat(b).isEqualTo(body));
    assertThat(builder().maxBytes(100_000).build().fetch(url("/big.png"), 300_000).failure())
        .contains(FetchFailure.TOO_LARGE);
    assertThatThrownBy(() -> fetcher.fetch(url("/big.png"), 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxBytes");
  }

  @Test
  void refusesAnUndeclaredOrChunkedBodyOnceItPassesTheCap() throws IOException {
    String png = new String(PNG, StandardCharsets.ISO_8859_1);
    try (RawHttpServer endless = new RawHttpServer(
            ("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n" + png).getBytes(StandardCharsets.ISO_8859_1), 0, 10L << 20);
        RawHttpServer chunked = new RawHttpServer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "ffff\r\n" + "x".repeat(0xffff) + "\r\n" + "ffff\r\n" + "x".repeat(0xffff) + "\r\n0\r\n\r\n")) {
      SafeUrlFetcher capped = SafeUrlFetcher.builder().resolver(resolver).maxBytes(100_000)
          .allowInternalEndpoint("127.0.0.1", endless.port()).allowInternalEndpoint("127.0.0.1", chunked.port()).build();

      assertThat(capped.fetch("http://127.0.0.1:" + endless.port() + "/").failure()).contains(FetchFailure.TOO_LARGE);
      assertThat(capped.fetch("http://127.0.0.1:" + chunked.port() + "/").failure()).contains(FetchFailure.TOO_LARGE);
    }
  }

  @Test
  void readsAChunkedImageWithinTheCap() throws IOException {
    String png = new String(PNG, StandardCharsets.ISO_8859_1);
    String half1 = png.substring(0, png.length() / 2);
    String half2 = png.substring(png.length() / 2);
    try (RawHttpServer chunked = new RawHttpServer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + Integer.toHexString(half1.length()) + ";ext=1\r\n" + half1 + "\r\n"
        + Integer.toHexString(half2.length()) + "\r\n" + half2 + "\r\n0\r\nX-Trailer: y\r\n\r\n")) {
      SafeUrlFetcher f = SafeUrlFetcher.builder().resolver(resolver).allowInternalEndpoint("127.0.0.1", chunked.port()).build();

      FetchResult r = f.fetch("http://127.0.0.1:" + chunked.port() + "/a.png");

      assertThat(r.body()).contains(PNG);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\nxx",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nxxxxxx",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "HTTP/1.1 302 Found\r\n\r\n",
      "HTTP/2 200\r\n\r\n",
      "SSH-2.0-OpenSSH_9.6\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nxx",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nxx"})
  void refusesMalformedOrEncodedResponses(String response) throws IOException {
    try (RawHttpServer raw = new RawHttpServer(response)) {
      SafeUrlFetcher f = SafeUrlFetcher.builder().resolver(resolver).allowInternalEndpoint("127.0.0.1", raw.port()).build();

      assertThat(f.fetch("http://127.0.0.1:" + raw.port() + "/").failure()).contains(FetchFailure.BAD_RESPONSE);
    }
  }

  @Test
  void refusesAHeaderFlood() throws IOException {
    StringBuilder flood = new StringBuilder("HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 5000; i++) {
      flood.append("X-Flood-").append(i).append(": ").append("y".repeat(20)).append("\r\n");
    }
    try (RawHttpServer raw = new RawHttpServer(flood.append("\r\n").toString())) {
      SafeUrlFetcher f = SafeUrlFetcher.builder().resolver(resolver).allowInternalEndpoint("127.0.0.1", raw.port()).build();

      assertThat(f.fetch("http://127.0.0.1:" + raw.port() + "/").failure()).contains(FetchFailure.BAD_RESPONSE);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "HTTP/1.1 100 Continue\r\n\r\n",
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
      // An interim response's headers are dropped: its Location is no redirect.
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLocation: http://169.254.169.254/\r\n\r\n"})
  void readsPastInterimResponsesToTheFinalOne(String interim) throws IOException {
    String png = new String(PNG, StandardCharsets.ISO_8859_1);
    try (RawHttpServer raw = new RawHttpServer(interim + "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: "
        + png.length() + "\r\n\r\n" + png)) {
      SafeUrlFetcher f = SafeUrlFetcher.builder().resolver(resolver).allowInternalEndpoint("127.0.0.1", raw.port()).build();

      FetchResult r = f.fetch("http://127.0.0.1:" + raw.port() + "/cat.png");

      assertThat(r.body()).contains(PNG);
      assertThat(r.redirects()).isZero();
    }
  }

  @Test
  void interimResponsesShareTheHeaderCapAndAnUnaskedUpgradeIsRefused() throws IOException {
    String flood = "HTTP/1.1 100 Continue\r\n\r\n".repeat(HttpExchange.MAX_HEADER_BYTES / 20);
    try (RawHttpServer endless = new RawHttpServer(flood + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        RawHttpServer upgrade = new RawHttpServer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n")) {
      SafeUrlFetcher f = SafeUrlFetcher.builder().resolver(resolver)
          .allowInternalEndpoint("127.0.0.1", endless.port()).allowInternalEndpoint("127.0.0.1", upgrade.port()).build();

      assertThat(f.fetch("http://127.0.0.1:" + endless.port() + "/").failure()).contains(FetchFailure.BAD_RESPONSE);
      assertThat(f.fetch("http://127.0.0.1:" + upgrade.port() + "/").failure()).contains(FetchFailure.HTTP_STATUS);
    }
  }

  @Test
  void aSlowDripIsCutOffByTheTotalTimeout() throws IOException {
    byte[] head = ("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(1000)).getBytes(StandardCharsets.US_ASCII);
    try (RawHttpServer slow = new RawHttpServer(head, 20, 0)) {
      // Each byte arrives well within any per-read timeout: only a total deadline stops this.
      assertCutOffByTheTotalTimeout("http", slow);
    }
  }

  @Test
  void aSlowTlsHandshakeIsCutOffByTheTotalTimeout() throws IOException {
    // A TLS record header announcing 16 KiB of handshake, then its body one byte every 20 ms: each
    // read of the TLS layer returns within any per-read timeout, so only a total deadline stops it.
    byte[] drip = new byte[5 + 200];
    System.arraycopy(new byte[] {0x16, 0x03, 0x03, 0x40, 0x00}, 0, drip, 0, 5);
    try (RawHttpServer slow = new RawHttpServer(drip, 20, 0, false)) {
      assertCutOffByTheTotalTimeout("https", slow);
    }
  }

  /**
   * Fetches from {@code slow} with a 600 ms total timeout and asserts a {@code TIMEOUT} about then
   * (between 500 ms and 2 s).
   */
  private void assertCutOffByTheTotalTimeout(String scheme, RawHttpServer slow) {
    SafeUrlFetcher f = SafeUrlFetcher.builder().resolver(resolver).allowInternalEndpoint("127.0.0.1", slow.port())
        .connectTimeout(Duration.ofMillis(300)).totalTimeout(Duration.ofMillis(600)).build();

    long start = System.nanoTime();
    FetchResult r = f.fetch(scheme + "://127.0.0.1:" + slow.port() + "/");
    long millis = (System.nanoTime() - start) / 1_000_000;

    assertThat(r.failure()).contains(FetchFailure.TIMEOUT);
    assertThat(millis).isBetween(500L, 2_000L);
  }

  @Test
  void aSlowServerIsCutOffByTheTotalTimeout() {
    images.stubFor(get("/slow.png").willReturn(aResponse().withBody(PNG).withFixedDelay(3_000)));

    FetchResult r = builder().connectTimeout(Duration.ofMillis(500)).totalTimeout(Duration.ofMillis(800)).build()
        .fetch(url("/slow.png"));

    assertThat(r.failure()).contains(FetchFailure.TIMEOUT);
  }

  @Test
  void aResolverAnsweringWithANullAddressFailsTheLookupInsteadOfThrowing() throws Exception {
    // fetch promises never to throw; a custom resolver's list with a null in it made it throw a
    // NullPointerException out of the address checks.
    InetAddress publicAddress = InetAddress.getByAddress(new byte[] {93, (byte) 184, (byte) 216, 34});
    HostResolver nulls = host -> java.util.Arrays.asList(publicAddress, null);
    SafeUrlFetcher f = SafeUrlFetcher.builder().resolver(nulls).connector(connector).build();

    FetchResult[] r = new FetchResult[1];
    org.assertj.core.api.Assertions.assertThatCode(() -> r[0] = f.fetch("https://images.example/cat.png"))
        .doesNotThrowAnyException();
    assertThat(r[0].failure()).contains(FetchFailure.UNRESOLVABLE);
    assertThat(connector.attempts).isEmpty();
  }

  @Test
  void anUnresolvableHostFailsWithoutConnecting() {
    FetchResult r = fetcher.fetch("https://no-such-host.example/cat.png");

    assertThat(r.failure()).contains(FetchFailure.UNRESOLVABLE);
    assertThat(r.decision().reason()).contains(ReasonCode.INPUT_FETCH_FAILED);
    assertThat(connector.attempts).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "https://public.example/cat.png", "http://public.example/a/b.jpg?size=small&x=%20y", "https://8.8.8.8/cat.png",
      "https://[2606:4700:4700::1111]/cat.png", "https://PUBLIC.example./cat.png", "https://public.example:443/",
      "http://[::ffff:8.8.8.8]/cat.png", "https://public.example/cat.png#fragment", "https://1.1.1.1",
      "https://public.example?q=1"})
  void acceptsLegitimatePublicUrlsWithoutConnecting(String url) {
    UrlCheck check = fetcher.check(url);

    assertThat(check.isAllowed()).as("%s -> %s", url, check).isTrue();
    assertThat(check.addresses()).isNotEmpty();
    assertThat(connector.attempts).isEmpty();
  }

  @Test
  void theNameDenyListRefusesAnAddressItCouldNeverMatch() {
    // Accepted before, denyNames("93.184.216.34") denied nothing: literals are checked against the
    // address deny set, never against names.
    for (String address : new String[] {"93.184.216.34", "2606:4700:4700::1111", "[2606:4700:4700::1111]"}) {
      assertThatThrownBy(() -> SafeUrlFetcher.builder().denyNames(address))
          .as(address).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("use denyRanges");
    }
    assertThat(SafeUrlFetcher.builder().resolver(resolver).connector(connector).denyNames("images.test").build()
        .check("https://images.test/cat.png").refusal()).contains(UrlRefusal.DENIED_NAME);
  }

  @Test
  void anIpv4MappedDenyRangeIsRefusedForItWouldNeverMatch() {
    // Mapped addresses are judged as the IPv4 addresses they carry, so ::ffff:93.184.216.0/120 was
    // accepted and denied nothing; the IPv4 block does the job.
    assertThatThrownBy(() -> SafeUrlFetcher.builder().denyRanges("::ffff:93.184.216.0/120"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("give the IPv4 block instead");
    SafeUrlFetcher v4 = SafeUrlFetcher.builder().resolver(resolver).connector(connector)
        .denyRanges("93.184.216.0/24").build();
    assertThat(v4.check("https://93.184.216.34/cat.png").refusal()).contains(UrlRefusal.DENIED_ADDRESS);
    assertThat(v4.check("https://[::ffff:93.184.216.34]/cat.png").refusal()).contains(UrlRefusal.DENIED_ADDRESS);
    // Native IPv6 blocks, ::/0 included, are still taken, and deny what they cover.
    SafeUrlFetcher v6 = SafeUrlFetcher.builder().resolver(resolver).connector(connector)
        .denyRanges("2001:db8::/32", "::/0").build();
    assertThat(v6.check("https://[2606:4700:4700::1111]/cat.png").refusal()).contains(UrlRefusal.DENIED_ADDRESS);
    assertThat(v6.check("https://93.184.216.34/cat.png").isAllowed()).as("an IPv4 address is outside ::/0").isTrue();
  }

  @Test
  void anAllowListTakesIpLiteralsInCanonicalFormIncludingIpv6() {
    // allowHosts documents "IP literals as written in canonical form"; an IPv6 literal must be one.
    SafeUrlFetcher literals = SafeUrlFetcher.builder().resolver(resolver).connector(connector)
        .allowHosts("8.8.8.8", "2606:4700:4700::1111", "[2001:4860:4860::8888]").build();

    assertThat(literals.check("https://8.8.8.8/cat.png").isAllowed()).isTrue();
    assertThat(literals.check("https://[2606:4700:4700::1111]/cat.png").isAllowed()).isTrue();
    assertThat(literals.check("https://[2606:4700:4700:0:0:0:0:1111]/cat.png").isAllowed()).isTrue();
    assertThat(literals.check("https://[2001:4860:4860::8888]/cat.png").isAllowed()).isTrue();
    assertThat(literals.check("https://[2606:4700:4700::1001]/cat.png").refusal()).contains(UrlRefusal.HOST_NOT_ALLOWED);
    assertThat(literals.check("https://1.1.1.1/cat.png").refusal()).contains(UrlRefusal.HOST_NOT_ALLOWED);
    assertThat(connector.attempts).isEmpty();
  }

  @Test
  void normalisesAnInternationalisedHostToItsAsciiForm() {
    FakeResolver idn = new FakeResolver().map("xn--bcher-kva.example", "93.184.216.34");
    UrlCheck check = SafeUrlFetcher.builder().resolver(idn).build().check("https://Bücher.example/cover.png");

    assertThat(check.isAllowed()).isTrue();
    assertThat(check.host()).contains("xn--bcher-kva.example");
  }
}
