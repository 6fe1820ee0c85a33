package io.modelguard.authn.jwt;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Level;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import io.jsonwebtoken.security.Jwks;
import io.modelguard.LogCapture;
import io.modelguard.MutableClock;
import io.modelguard.Principal;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.math.BigInteger;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.InetAddress;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The JWKS client against a WireMock IdP on 127.0.0.1. Time moves by a fake clock; nothing sleeps. */
class JwksKeySourceTest {
  private static final String PATH = "/realms/ml/certs";
  // Slow-IdP tests: the request would wait up to LONG_REFRESH_WAIT, and the IdP answers only after
  // SLOW_IDP_MILLIS; returning within RETURNS_WITHIN (shorter than both) is possible only because the
  // read timeout ends the fetch. Generous margins: the assertion is that it returns, not how fast.
  // (A loaded machine once took more than the 1.8 s the margin used to be over a 1 s timeout.)
  private static final int SLOW_IDP_MILLIS = 6_000;
  private static final Duration READ_TIMEOUT = Duration.ofMillis(500);
  private static final Duration LONG_REFRESH_WAIT = Duration.ofMillis(5_900);
  private static final Duration RETURNS_WITHIN = Duration.ofMillis(5_800);

  private final MutableClock clock = MutableClock.standard();
  private WireMockServer idp;
  private URI url;
  private final List<JwksKeySource> sources = new ArrayList<>();
  private LogCapture log;

  @BeforeEach
  void start() {
    idp = new WireMockServer(WireMockConfiguration.options().bindAddress("127.0.0.1").dynamicPort());
    idp.start();
    url = URI.create("http://127.0.0.1:" + idp.port() + PATH);
    log = LogCapture.of(JwksKeySource.class, Level.INFO);
  }

  @AfterEach
  void stop() {
    log.close();
    idp.stop();
  }

  // ---- fixtures ----

  private static String jwk(String kid, KeyPair pair) {
    return Jwks.json(Jwks.builder().key((RSAPublicKey) pair.getPublic()).id(kid).build());
  }

  private static String set(String... members) {
    return "{\"keys\":[" + String.join(",", members) + "]}";
  }

  private void serve(String body, String cacheControl) {
    ResponseDefinitionBuilder r = aResponse().withStatus(200).withHeader("Content-Type", "application/json").withBody(body);
    if (cacheControl != null) {
      r.withHeader("Cache-Control", cacheControl);
    }
    idp.stubFor(get(PATH).willReturn(r));
  }

  private void serve(String body) {
    serve(body, "max-age=300");
  }

  private int fetches() {
    return idp.countRequestsMatching(getRequestedFor(urlEqualTo(PATH)).build()).getCount();
  }

  private JwksKeySource.Builder builder() {
    return JwksKeySource.builder(url).clock(clock);
  }

  /** Builds the source and waits for its first fetch to finish (successfully or not). */
  private JwksKeySource started(JwksKeySource.Builder b) {
    JwksKeySource s = b.build();
    sources.add(s);
    s.lastFetch().join();
    return s;
  }

  private JwtAuthenticator authenticator(JwksKeySource source) {
    return JwtAuthenticator.builder().keySource(source).issuer(JwtFixtures.ISSUER).audience(JwtFixtures.AUDIENCE)
        .verifiedTokenCacheSize(0).build();
  }

  private String token(String kid, KeyPair pair) {
    return Tokens.sign("RS256", pair.getPrivate(), Tokens.header("RS256", kid), Tokens.claims(clock.instant())
        .with("exp", clock.instant().plus(Duration.ofDays(1))));
  }

  /** A token naming a random kid; its signature is junk, which never matters: no key is found. */
  private String randomKidToken() {
    String header = Tokens.b64(Tokens.header("RS256", UUID.randomUUID().toString()).text());
    return header + "." + Tokens.b64(Tokens.claims(clock.instant()).text()) + "." + Tokens.b64(new byte[256]);
  }

  private Optional<Principal> verify(JwtAuthenticator jwt, String token) {
    return jwt.authenticate(token, clock.instant());
  }

  private List<String> warnings() {
    return log.messagesAt(Level.WARN);
  }

  // ---- behaviour ----

  @Test
  void keyIdsAndParseErrorsFromTheKeySetAreLoggedOnOneLine() {
    // The identity provider's text (a kid, a member it cannot parse) reaches the log: a newline in
    // it would start a forged line.
    serve(set(jwk("k1\nWARN forged", TestKeys.RSA), "{\"kty\":\"RSA\",\"kid\":\"bad\\u2028kid\",\"n\":\"x\"}"));
    started(builder());

    assertThat(log.messages()).anyMatch(m -> m.contains("k1?WARN forged"))
        .allSatisfy(m -> assertThat(m).doesNotContainPattern("[\\p{Cc}\\u2028\\u2029]"));
  }

  @Test
  void fetchesOnceAtStartAndVerifiesTokensSignedWithTheFetchedKeys() {
    serve(set(jwk("k1", TestKeys.RSA)));
    JwksKeySource source = started(builder());
    JwtAuthenticator jwt = authenticator(source);

    assertThat(verify(jwt, token("k1", TestKeys.RSA))).isPresent();
    assertThat(verify(jwt, token("k1", TestKeys.RSA_ATTACKER))).isEmpty();
    assertThat(source.keyIds()).containsExactly("k1");
    assertThat(fetches()).isEqualTo(1);
  }

  @Test
  void rotationAcceptsTheNewKidAfterARefreshAndHonoursTheOldOneUntilItIsRemoved() {
    serve(set(jwk("k1", TestKeys.RSA)));
    JwksKeySource source = started(builder());
    JwtAuthenticator jwt = JwtAuthenticator.builder().keySource(source).build(); // with the verified-token cache
    String oldToken = token("k1", TestKeys.RSA);
    String newToken = token("k2", TestKeys.RSA_OTHER);
    assertThat(verify(jwt, oldToken)).isPresent();

    serve(set(jwk("k1", TestKeys.RSA), jwk("k2", TestKeys.RSA_OTHER)));
    assertThat(verify(jwt, newToken)).as("within 30 s of the last fetch: no refresh yet").isEmpty();
    assertThat(fetches()).isEqualTo(1);

    clock.advance(JwksKeySource.DEFAULT_MIN_REFRESH_INTERVAL);
    assertThat(verify(jwt, newToken)).as("unknown kid triggers a refresh").isPresent();
    assertThat(verify(jwt, oldToken)).as("old key still published").isPresent();
    assertThat(fetches()).isEqualTo(2);

    serve(set(jwk("k2", TestKeys.RSA_OTHER)));
    clock.advance(Duration.ofSeconds(300)); // the set fetched 300 s ago (max-age=300) has expired
    assertThat(verify(jwt, token("k2", TestKeys.RSA_OTHER))).as("a fresh token: not in the cache").isPresent();
    assertThat(fetches()).isEqualTo(3);
    assertThat(source.keyIds()).containsExactly("k2");
    assertThat(verify(jwt, oldToken)).as("k1 withdrawn: even its cached verification is dropped").isEmpty();
  }

  @Test
  void aWithdrawnKeyEndsItsCachedTokensOnceTheSetExpiresEvenIfOnlyThoseTokensArrive() {
    // A verification served from the cache never asked the key source for a key, and only that
    // question let the source notice that its set had expired: a client re-presenting the same
    // token (the common case) kept the set from ever being refreshed, so a key the IdP withdrew
    // (rotated out after a compromise) went on vouching for its cached tokens until their exp,
    // a day here, although without the cache they were refused as soon as the set expired.
    serve(set(jwk("k1", TestKeys.RSA))); // max-age=300
    JwksKeySource source = started(builder());
    JwtAuthenticator jwt = JwtAuthenticator.builder().keySource(source).build(); // with the verified-token cache
    String t = token("k1", TestKeys.RSA);
    assertThat(verify(jwt, t)).isPresent();

    serve(set(jwk("k2", TestKeys.RSA_OTHER))); // k1 withdrawn at the IdP
    clock.advance(Duration.ofSeconds(300)); // the set fetched 300 s ago has expired
    Optional<Principal> afterExpiry = verify(jwt, t);
    clock.advance(Duration.ofHours(1));
    Optional<Principal> anHourLater = verify(jwt, t);

    assertThat(fetches()).as("the expired set is refreshed").isGreaterThanOrEqualTo(2);
    assertThat(afterExpiry).as("k1 withdrawn: its cached verification is dropped").isEmpty();
    assertThat(anHourLater).isEmpty();
    assertThat(verify(authenticator(source), t)).as("control: without the cache").isEmpty();
  }

  @Test
  void anUnknownKidFloodCostsAtMostOneFetchPerIntervalAndConcurrentCallersShareOneFetch() throws Exception {
    serve(set(jwk("k1", TestKeys.RSA)));
    JwksKeySource source = started(builder());
    JwtAuthenticator jwt = authenticator(source);

    for (int i = 0; i < 1000; i++) {
      assertThat(verify(jwt, randomKidToken())).isEmpty();
    }
    assertThat(fetches()).as("inside the first interval: only the start-up fetch").isEqualTo(1);

    clock.advance(Duration.ofSeconds(30));
    for (int i = 0; i < 1000; i++) {
      verify(jwt, randomKidToken());
    }
    assertThat(fetches()).isEqualTo(2);

    clock.advance(Duration.ofSeconds(29));
    for (int i = 0; i < 1000; i++) {
      verify(jwt, randomKidToken());
    }
    assertThat(fetches()).as("29 s later: still rate-limited").isEqualTo(2);

    // 16 threads at once present a kid published a moment ago, while the IdP is slow: one fetch,
    // and every caller waits for that one (single flight) and is then accepted.
    idp.stubFor(get(PATH).willReturn(aResponse().withStatus(200)
        .withBody(set(jwk("k1", TestKeys.RSA), jwk("k2", TestKeys.RSA_OTHER)))
        .withHeader("Cache-Control", "max-age=300").withFixedDelay(300)));
    clock.advance(Duration.ofSeconds(1));
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Optional<Principal>>> results = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        String t = token("k2", TestKeys.RSA_OTHER);
        results.add(pool.submit(() -> {
          go.await();
          return verify(jwt, t);
        }));
      }
      go.countDown();
      for (Future<Optional<Principal>> f : results) {
        assertThat(f.get(10, TimeUnit.SECONDS)).isPresent();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(fetches()).isEqualTo(3);
    assertThat(verify(jwt, token("k1", TestKeys.RSA))).as("genuine tokens unaffected").isPresent();
  }

  @Test
  void keepsServingCachedKeysWhileTheIdpIsDownAndLogsIt() {
    serve(set(jwk("k1", TestKeys.RSA)));
    JwksKeySource source = started(builder());
    JwtAuthenticator jwt = authenticator(source);
    String t = token("k1", TestKeys.RSA);

    idp.stubFor(get(PATH).willReturn(aResponse().withStatus(503)));
    clock.advance(Duration.ofSeconds(301)); // expired: a refresh is due

    assertThat(verify(jwt, t)).isPresent();
    assertThat(fetches()).isEqualTo(2);
    assertThat(warnings()).anyMatch(w -> w.contains("HTTP status 503") && w.contains("still serving the 1 cached key"));

    idp.stop(); // now not even a TCP connection
    clock.advance(Duration.ofSeconds(30));
    assertThat(verify(jwt, t)).isPresent();
    source.lastFetch().join();
    assertThat(warnings()).hasSizeGreaterThanOrEqualTo(2);
  }

  @Test
  void keysExpiredForLongerThanMaxStaleStopVouchingEvenForCachedTokensUntilAFetchSucceeds() {
    // Stale-on-error had no age limit: whoever could keep this server from its IdP kept a key the
    // IdP had withdrawn (after a leak, say) vouching for tokens for ever, cached ones included.
    serve(set(jwk("k1", TestKeys.RSA))); // max-age=300
    JwksKeySource source = started(builder().maxStale(Duration.ofHours(1)));
    JwtAuthenticator cached = JwtAuthenticator.builder().keySource(source).build(); // verified-token cache on
    JwtAuthenticator uncached = authenticator(source);
    String t = token("k1", TestKeys.RSA);
    assertThat(verify(cached, t)).isPresent();

    idp.stubFor(get(PATH).willReturn(aResponse().withStatus(503)));
    clock.advance(Duration.ofSeconds(300).plus(Duration.ofMinutes(59))); // expired 59 min ago
    assertThat(verify(cached, t)).as("within maxStale: the held keys still serve").isPresent();
    assertThat(verify(uncached, t)).isPresent();
    assertThat(source.hasKeys()).isTrue();

    clock.advance(Duration.ofMinutes(1)); // expired an hour ago, every refresh failed
    assertThat(verify(cached, t)).as("past maxStale: the cached verification is dropped").isEmpty();
    assertThat(verify(uncached, t)).isEmpty();
    assertThat(source.hasKeys()).isFalse();
    assertThat(warnings()).anyMatch(w -> w.contains("maxStale") && w.contains("every bearer token is refused"));

    serve(set(jwk("k1", TestKeys.RSA))); // the IdP is back
    clock.advance(Duration.ofSeconds(30)); // past minRefreshInterval: the next token may fetch
    assertThat(verify(uncached, t)).as("a successful fetch restores the keys").isPresent();
    assertThat(verify(cached, t)).isPresent();
  }

  /**
   * A lookup of an unknown kid waits for the refresh it started, then reads the set again. Once a
   * set could be dropped (maxStale), another request past the set's age dropped it meanwhile, and
   * the lookup threw a NullPointerException out of find() (which never throws) instead of returning
   * empty. A raw socket holds the refresh until the drop has happened, so the order is certain.
   */
  @Test
  void aLookupWhoseRefreshOutlivesTheDropOfTheStaleSetFindsNothingAndDoesNotThrow() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
      JwksKeySource source = JwksKeySource.builder(URI.create("http://127.0.0.1:" + server.getLocalPort() + PATH))
          .clock(clock).maxStale(Duration.ZERO).refreshWait(Duration.ofSeconds(30)).build();
      sources.add(source);
      try (Socket first = server.accept()) {
        readRequestHead(first);
        byte[] body = set(jwk("k1", TestKeys.RSA)).getBytes(StandardCharsets.UTF_8);
        first.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=300"
            + "\r\nConnection: close\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        first.getOutputStream().write(body);
      }
      source.lastFetch().get(10, TimeUnit.SECONDS);
      assertThat(source.hasKeys()).isTrue();

      clock.advance(Duration.ofSeconds(31)); // past minRefreshInterval, before expiry
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        Future<Optional<java.security.Key>> lookup = pool.submit(() -> source.find("RS256", "rotated"));
        try (Socket refresh = server.accept()) { // the lookup's refresh: held until the set is dropped
          readRequestHead(refresh);
          clock.advance(Duration.ofSeconds(300)); // expired, maxStale 0
          Thread.currentThread().interrupt(); // this request does not wait for the held refresh
          source.generation();
          Thread.interrupted();
          assertThat(source.hasKeys()).as("dropped while the lookup waits").isFalse();
          refresh.getOutputStream().write("HTTP/1.1 503 Down\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
        }
        assertThat(lookup.get(10, TimeUnit.SECONDS)).isEmpty();
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /**
   * A lookup that finds the set too stale (maxStale) drops it under the lock a fetch installs a new
   * set under. It read the set before taking that lock, and when a fetch installed a fresh set in
   * between, the drop rightly left the fresh set alone, but the lookup still answered "too stale,
   * no key" instead of using it: a valid token refused while the IdP was up. The lock is the only
   * point where the lookup can be held between that read and its decision, so this thread holds it
   * (taken by reflection) and completes the refresh itself, which installs the new set under the
   * same lock while the lookup waits for it. The refresh is a real request to the IdP; only the
   * thread that hands its response to the source is this one.
   */
  @Test
  void aLookupThatSawTheStaleSetUsesTheSetAFetchInstalledMeanwhile() throws Exception {
    serve(set(jwk("k1", TestKeys.RSA))); // max-age=300
    JwksKeySource source = started(builder().maxStale(Duration.ZERO).refreshWait(Duration.ofSeconds(30))
        .connectTimeout(Duration.ofSeconds(30)).readTimeout(Duration.ofSeconds(30)));
    HeldResponses http = new HeldResponses(source);
    serve(set(jwk("k2", TestKeys.RSA_OTHER))); // the IdP rotated
    clock.advance(Duration.ofSeconds(300)); // expired; with maxStale 0, too stale to serve

    AtomicReference<Optional<java.security.Key>> found = new AtomicReference<>();
    Thread lookup = new Thread(() -> found.set(source.find("RS256", "k2")), "lookup");
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      lookup.start();
      HttpResponse<?> refreshed = http.arrived.get(); // the lookup's refresh, answered by the IdP
      while (lookup.getState() != Thread.State.TIMED_WAITING) {
        Thread.onSpinWait(); // the lookup waits for its refresh
      }
      synchronized (lockOf(source)) {
        lookup.interrupt(); // it stops waiting, reads the stale set, and needs the lock to decide
        while (lookup.getState() != Thread.State.BLOCKED) {
          Thread.onSpinWait();
        }
        http.release(refreshed); // the refresh installs the new set, on this thread
        assertThat(source.keyIds()).containsExactly("k2");
      }
      lookup.join();
    });

    assertThat(found.get()).as("the set installed meanwhile serves the lookup").contains(TestKeys.RSA_OTHER.getPublic());
    assertThat(source.keyIds()).containsExactly("k2");
  }

  /** The source's private lock, under which a fetch installs a new key set. */
  private static Object lockOf(JwksKeySource source) throws ReflectiveOperationException {
    Field f = JwksKeySource.class.getDeclaredField("lock");
    f.setAccessible(true);
    return f.get(source);
  }

  /**
   * Replaces a source's HTTP client by one that sends each request with the original client but
   * hands the response to the source only when {@link #release} is called, on the caller's thread.
   */
  private static final class HeldResponses extends HttpClient {
    final CompletableFuture<HttpResponse<?>> arrived = new CompletableFuture<>();
    private final HttpClient real;
    private CompletableFuture<HttpResponse<?>> held;

    HeldResponses(JwksKeySource source) throws ReflectiveOperationException {
      Field f = JwksKeySource.class.getDeclaredField("http");
      f.setAccessible(true);
      this.real = (HttpClient) f.get(source);
      f.set(source, this);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    void release(HttpResponse<?> response) {
      ((CompletableFuture) held).complete(response);
    }

    @Override
    public synchronized <T> CompletableFuture<HttpResponse<T>> sendAsync(
        HttpRequest request, HttpResponse.BodyHandler<T> handler) {
      assertThat(held).as("one request only").isNull();
      CompletableFuture<HttpResponse<T>> response = new CompletableFuture<>();
      @SuppressWarnings({"unchecked", "rawtypes"})
      CompletableFuture<HttpResponse<?>> untyped = (CompletableFuture) response;
      held = untyped;
      real.sendAsync(request, handler).whenComplete((r, e) -> {
        if (e != null) {
          arrived.completeExceptionally(e);
        } else {
          arrived.complete(r);
        }
      });
      return response;
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(
        HttpRequest request, HttpResponse.BodyHandler<T> handler, HttpResponse.PushPromiseHandler<T> push) {
      throw new UnsupportedOperationException();
    }

    @Override
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<CookieHandler> cookieHandler() {
      return real.cookieHandler();
    }

    @Override
    public Optional<Duration> connectTimeout() {
      return real.connectTimeout();
    }

    @Override
    public Redirect followRedirects() {
      return real.followRedirects();
    }

    @Override
    public Optional<ProxySelector> proxy() {
      return real.proxy();
    }

    @Override
    public SSLContext sslContext() {
      return real.sslContext();
    }

    @Override
    public SSLParameters sslParameters() {
      return real.sslParameters();
    }

    @Override
    public Optional<Authenticator> authenticator() {
      return real.authenticator();
    }

    @Override
    public Version version() {
      return real.version();
    }

    @Override
    public Optional<Executor> executor() {
      return real.executor();
    }
  }

  private static void readRequestHead(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    for (int last = 0, c; (c = in.read()) != -1; ) { // the request head ends with an empty line
      last = (last << 8 | c) & 0xFFFFFFFF;
      if (last == 0x0D0A0D0A) {
        return;
      }
    }
  }

  @Test
  void theDefaultMaxStaleIsADayAndUntilThenTheHeldKeysServe() {
    serve(set(jwk("k1", TestKeys.RSA)));
    JwksKeySource source = started(builder());
    JwtAuthenticator jwt = authenticator(source);
    idp.stubFor(get(PATH).willReturn(aResponse().withStatus(503)));

    clock.advance(Duration.ofSeconds(300).plus(JwksKeySource.DEFAULT_MAX_STALE).minusSeconds(1));
    assertThat(verify(jwt, token("k1", TestKeys.RSA))).as("a fresh token, a day-old stale set").isPresent();
    clock.advance(Duration.ofSeconds(1));
    assertThat(verify(jwt, token("k1", TestKeys.RSA))).isEmpty();
    assertThat(JwksKeySource.DEFAULT_MAX_STALE).isEqualTo(Duration.ofHours(24));
    assertThatThrownBy(() -> builder().maxStale(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("JwksKeySource.maxStale");
  }

  @Test
  void startsWithTheIdpDownRefusesTokensThenRecovers() {
    idp.stubFor(get(PATH).willReturn(aResponse().withStatus(503)));
    JwksKeySource source = started(builder()); // does not throw
    JwtAuthenticator jwt = authenticator(source);
    String t = token("k1", TestKeys.RSA);

    assertThat(source.hasKeys()).isFalse();
    assertThat(verify(jwt, t)).isEmpty();
    assertThat(warnings()).anyMatch(w -> w.contains("no keys yet"));

    serve(set(jwk("k1", TestKeys.RSA)));
    assertThat(verify(jwt, t)).as("rate-limited: no new fetch within 30 s").isEmpty();
    assertThat(fetches()).isEqualTo(1);

    clock.advance(Duration.ofSeconds(30));
    assertThat(verify(jwt, t)).isPresent();
    assertThat(fetches()).isEqualTo(2);
  }

  @Test
  void startsWithNothingListeningWithoutThrowing() {
    idp.stop();
    JwksKeySource source = started(builder());

    assertThat(source.hasKeys()).isFalse();
    assertThat(verify(authenticator(source), token("k1", TestKeys.RSA))).isEmpty();
  }

  @Test
  void failFastThrowsAtBuildWhenTheIdpIsDownAndLoadsKeysWhenItIsUp() {
    idp.stubFor(get(PATH).willReturn(aResponse().withStatus(500)));
    assertThatThrownBy(() -> builder().failFast(true).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("failFast").hasMessageContaining(url.toString());

    serve(set(jwk("k1", TestKeys.RSA)));
    JwksKeySource source = builder().failFast(true).build();
    assertThat(source.hasKeys()).isTrue();
  }

  /**
   * generation() now waits for the refresh of an expired set; the authenticator asks it before it
   * looks at the token, so a token it refuses without a key lookup (malformed) waited too, and a
   * token that does need one waited twice on the same in-flight fetch: refreshWait in generation(),
   * refreshWait again in find(). Each bounded wait is one refreshWait at most.
   */
  @Test
  void anExpiredSetCostsARequestAtMostOneRefreshWaitAndAMalformedTokenNone() {
    serve(set(jwk("k1", TestKeys.RSA))); // max-age=300
    Duration wait = Duration.ofMillis(1_500);
    JwksKeySource source = started(builder().readTimeout(Duration.ofSeconds(20)).refreshWait(wait));
    JwtAuthenticator jwt = authenticator(source);
    idp.stubFor(get(PATH).willReturn(aResponse().withStatus(200).withHeader("Cache-Control", "max-age=300")
        .withBody(set(jwk("k1", TestKeys.RSA))).withFixedDelay(8_000))); // hung well past both waits
    clock.advance(Duration.ofSeconds(300)); // expired

    long t0 = System.nanoTime();
    assertThat(verify(jwt, "not-a-jwt")).isEmpty();
    long malformed = System.nanoTime() - t0;

    t0 = System.nanoTime();
    assertThat(verify(jwt, token("k1", TestKeys.RSA))).as("the keys held still verify").isPresent();
    long valid = System.nanoTime() - t0;

    assertThat(Duration.ofNanos(malformed)).as("a malformed token needs no key").isLessThan(Duration.ofMillis(700));
    // Two waits take at least 2 × wait; one leaves a whole wait of margin for a loaded machine.
    assertThat(Duration.ofNanos(valid)).as("one refreshWait, not two").isLessThan(wait.multipliedBy(2));
  }

  /**
   * The fetch generation() waited for was remembered per thread and forgotten only by the next
   * find() or generation() on that thread: a token the authenticator answered from its cache (no
   * find()) left it set, and a later find() on that pooled thread for a key the in-flight refresh
   * brings (a rotated kid) returned at once, empty, instead of waiting its refreshWait for it.
   */
  @Test
  void aCachedTokenLeavesNoAwaitedFetchBehindForALaterLookupOnTheSameThread() {
    serve(set(jwk("k1", TestKeys.RSA))); // max-age=300
    Duration wait = Duration.ofMillis(1_500);
    JwksKeySource source = started(builder().readTimeout(Duration.ofSeconds(20)).refreshWait(wait));
    JwtAuthenticator jwt = JwtAuthenticator.builder().keySource(source).issuer(JwtFixtures.ISSUER)
        .audience(JwtFixtures.AUDIENCE).verifiedTokenCacheSize(16).build();
    String cached = token("k1", TestKeys.RSA);
    assertThat(verify(jwt, cached)).isPresent();
    idp.stubFor(get(PATH).willReturn(aResponse().withStatus(200).withHeader("Cache-Control", "max-age=300")
        .withBody(set(jwk("k1", TestKeys.RSA), jwk("k2", TestKeys.RSA))).withFixedDelay(2_500)));
    clock.advance(Duration.ofSeconds(300)); // expired: the refresh is slower than one refreshWait

    assertThat(verify(jwt, cached)).as("served from the cache, after one refreshWait").isPresent();

    // The next lookup on this thread (another caller of the key source) for the rotated key: the
    // refresh still in flight brings it within this lookup's own refreshWait.
    assertThat(source.find("RS256", "k2")).as("waited for the refresh that brings k2").isPresent();
  }

  @Test
  void aSlowIdpIsBoundedByTheReadTimeout() {
    idp.stubFor(get(PATH).willReturn(aResponse().withStatus(200).withBody(set(jwk("k1", TestKeys.RSA)))
        .withFixedDelay(SLOW_IDP_MILLIS)));
    JwksKeySource source = builder().readTimeout(READ_TIMEOUT).refreshWait(LONG_REFRESH_WAIT).build();
    sources.add(source);
    JwtAuthenticator jwt = authenticator(source);

    Optional<Principal> result = assertTimeoutPreemptively(RETURNS_WITHIN, () -> verify(jwt, token("k1", TestKeys.RSA)));

    assertThat(result).isEmpty();
    source.lastFetch().join();
    assertThat(warnings()).anyMatch(w -> w.contains("timed out"));
  }

  /**
   * The read timeout ends only the wait for the response headers; a body that stalls after them
   * (a hung IdP or proxy) is bounded by the fetch deadline, and at that deadline the connection
   * must be given up, or each refresh interval leaks one open connection for as long as the
   * stall lasts. An error status is not worth reading at all. A raw socket, since WireMock cannot
   * stop half-way through a body.
   */
  @ParameterizedTest
  @ValueSource(ints = {200, 503})
  void aBodyThatStallsAfterTheHeadersIsAbandonedAtTheDeadline(int status) throws Exception {
    CountDownLatch closedByClient = new CountDownLatch(1);
    AtomicReference<Socket> accepted = new AtomicReference<>();
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread stalling = new Thread(() -> {
        try (Socket s = server.accept()) {
          accepted.set(s);
          InputStream in = s.getInputStream();
          for (int last = 0, c; (c = in.read()) != -1; ) { // the request head ends with an empty line
            last = (last << 8 | c) & 0xFFFFFFFF;
            if (last == 0x0D0A0D0A) {
              break;
            }
          }
          s.getOutputStream().write(("HTTP/1.1 " + status + " Whatever\r\nContent-Type: application/json\r\n"
              + "Content-Length: 4096\r\n\r\n{\"keys\":[").getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
          if (in.read() == -1) {
            closedByClient.countDown();
          }
        } catch (IOException e) {
          closedByClient.countDown(); // reset by the client: given up as well
        }
      }, "stalling-idp");
      stalling.setDaemon(true);
      stalling.start();
      JwksKeySource source = JwksKeySource.builder(URI.create("http://127.0.0.1:" + server.getLocalPort() + PATH))
          .clock(clock).connectTimeout(Duration.ofMillis(500)).readTimeout(Duration.ofMillis(500)).build();
      sources.add(source);
      try {
        source.lastFetch().get(10, TimeUnit.SECONDS);

        assertThat(source.hasKeys()).isFalse();
        // An error status needs no body: it is reported at once. A 200 waits for the deadline.
        assertThat(warnings()).anyMatch(w -> w.contains(status == 200 ? "timed out" : "HTTP status " + status));
        assertThat(closedByClient.await(5, TimeUnit.SECONDS)).as("the stalled connection was closed").isTrue();
      } finally {
        Socket s = accepted.get();
        if (s != null) {
          s.close();
        }
      }
    }
  }

  @Test
  void aSlowIdpDuringRefreshLeavesTheCachedKeysInService() {
    serve(set(jwk("k1", TestKeys.RSA)));
    JwksKeySource source = started(builder().readTimeout(READ_TIMEOUT).refreshWait(LONG_REFRESH_WAIT));
    JwtAuthenticator jwt = authenticator(source);
    idp.stubFor(get(PATH).willReturn(aResponse().withStatus(200).withBody(set()).withFixedDelay(SLOW_IDP_MILLIS)));
    clock.advance(Duration.ofSeconds(301));

    Optional<Principal> result = assertTimeoutPreemptively(RETURNS_WITHIN, () -> verify(jwt, token("k1", TestKeys.RSA)));

    assertThat(result).isPresent();
  }

  @Test
  void ignoresGarbageAndKeepsTheOldKeys() {
    serve(set(jwk("k1", TestKeys.RSA)));
    JwksKeySource source = started(builder());
    JwtAuthenticator jwt = authenticator(source);
    List<String> garbage = List.of(
        "<html>login</html>",
        "{\"keys\":\"none\"}",
        "[]",
        "",
        "{\"keys\":[]}",
        set("{\"kty\":\"RSA\",\"kid\":\"k9\",\"n\":\"AQAB\",\"e\":\"AQAB\"}"),
        set("{\"kty\":\"oct\",\"kid\":\"h1\",\"k\":\"" + Tokens.b64(new byte[32]) + "\"}"));

    for (String body : garbage) {
      serve(body);
      clock.advance(Duration.ofSeconds(30));
      assertThat(verify(jwt, token("unknown-" + body.length(), TestKeys.RSA))).isEmpty(); // triggers a refresh
      assertThat(verify(jwt, token("k1", TestKeys.RSA))).as("after %s", body).isPresent();
      assertThat(source.keyIds()).containsExactly("k1");
    }
    assertThat(fetches()).isEqualTo(1 + garbage.size());
    assertThat(warnings()).hasSizeGreaterThanOrEqualTo(garbage.size());
  }

  @Test
  void skipsPrivateSecretAndEncryptionKeysButKeepsTheRest() {
    RSAPrivateCrtKey priv = (RSAPrivateCrtKey) TestKeys.RSA_OTHER.getPrivate();
    String privateJwk = Jwks.UNSAFE_JSON(Jwks.builder().key(priv).id("p1").build());
    String secret = "{\"kty\":\"oct\",\"kid\":\"h1\",\"k\":\"" + Tokens.b64(new byte[64]) + "\"}";
    String encryption = Jwks.json(Jwks.builder().key((RSAPublicKey) TestKeys.RSA_OTHER.getPublic()).id("e1")
        .publicKeyUse("enc").build());
    serve(set(jwk("k1", TestKeys.RSA), privateJwk, secret, encryption));
    JwksKeySource source = started(builder());
    JwtAuthenticator jwt = authenticator(source);

    assertThat(source.keyIds()).containsExactly("k1");
    String hs = Tokens.sign("HS256", new SecretKeySpec(new byte[64], "HmacSHA256"), Tokens.header("HS256", "h1"),
        Tokens.claims(clock.instant()));
    assertThat(verify(jwt, hs)).isEmpty();
    assertThat(verify(jwt, token("e1", TestKeys.RSA_OTHER))).isEmpty();
    assertThat(verify(jwt, token("k1", TestKeys.RSA))).isPresent();
  }

  @Test
  void skipsAnRsaKeyOver8192BitsWithAWarningAndKeepsTheRest() {
    // Every verification with a 16,384-bit modulus is many times slower than with a usual key:
    // the IdP (or whoever serves its JWKS) must not make each of its tokens cost that.
    String huge = Jwks.json(Jwks.builder().key(TestKeys.rsaPublicKey(8193)).id("huge").build());
    serve(set(jwk("k1", TestKeys.RSA), huge));
    JwksKeySource source = started(builder());

    assertThat(source.keyIds()).containsExactly("k1");
    assertThat(warnings()).anyMatch(w -> w.contains("keys[1] skipped") && w.contains("key 'huge' has a 8193-bit modulus")
        && w.contains("at most 8192 bits"));
    assertThat(verify(authenticator(source), token("k1", TestKeys.RSA))).isPresent();
  }

  @Test
  void skipsAnRsaKeyWithAnExponentOf2To256OrMoreWithAWarningAndKeepsTheRest() {
    // The JDK accepts an exponent as long as a 2048-bit modulus: every verification with it would
    // cost as much as a private-key operation.
    RSAPublicKey slow = TestKeys.rsaPublicKey(2048, BigInteger.ONE.shiftLeft(256).add(BigInteger.ONE));
    serve(set(jwk("k1", TestKeys.RSA), Jwks.json(Jwks.builder().key(slow).id("slow").build())));
    JwksKeySource source = started(builder());

    assertThat(source.keyIds()).containsExactly("k1");
    assertThat(warnings()).anyMatch(w -> w.contains("keys[1] skipped")
        && w.contains("key 'slow' has a 257-bit public exponent; at most 256 bits are accepted"));
    assertThat(verify(authenticator(source), token("k1", TestKeys.RSA))).isPresent();
  }

  @Test
  void skipsAnRsaKeyWithAnEvenExponentWithAWarningAndKeepsTheRest() {
    // No RSA key has an even exponent; the JDK's key factory builds one all the same.
    RSAPublicKey even = TestKeys.rsaPublicKey(2048, BigInteger.valueOf(65_536));
    serve(set(jwk("k1", TestKeys.RSA), Jwks.json(Jwks.builder().key(even).id("even").build())));
    JwksKeySource source = started(builder());

    assertThat(source.keyIds()).containsExactly("k1");
    assertThat(warnings()).anyMatch(w -> w.contains("keys[1] skipped")
        && w.contains("key 'even' has public exponent 65536, which no RSA key has: it must be odd and at least 3"));
    assertThat(verify(authenticator(source), token("k1", TestKeys.RSA))).isPresent();
  }

  @Test
  void refusesAnOversizedSetWholeAndKeepsTheOldKeys() {
    serve(set(jwk("k1", TestKeys.RSA)));
    JwksKeySource source = started(builder().maxKeys(3).maxBytes(4096));
    JwtAuthenticator jwt = authenticator(source);

    List<String> four = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      four.add(Jwks.json(Jwks.builder().key(TestKeys.EC_P256.getPublic()).id("ec" + i).build()));
    }
    serve(set(four.toArray(new String[0])));
    clock.advance(Duration.ofSeconds(30));
    assertThat(verify(jwt, token("ec0", TestKeys.RSA))).isEmpty();
    assertThat(source.keyIds()).containsExactly("k1");
    assertThat(warnings()).anyMatch(w -> w.contains("more than maxKeys=3"));

    serve(set(jwk("k1", TestKeys.RSA), jwk("k2", TestKeys.RSA_OTHER)).replace("]}", "],\"pad\":\""
        + "x".repeat(5000) + "\"}"));
    clock.advance(Duration.ofSeconds(30));
    assertThat(verify(jwt, token("k2", TestKeys.RSA_OTHER))).isEmpty();
    assertThat(source.keyIds()).containsExactly("k1");
    assertThat(warnings()).anyMatch(w -> w.contains("maxBytes=4096"));
    assertThat(verify(jwt, token("k1", TestKeys.RSA))).isPresent();
  }

  @Test
  void takesTheLifetimeFromCacheControlWithinTheBounds() {
    record Case(String cacheControl, Duration expected) {}
    List<Case> cases = List.of(
        new Case("public, max-age=300", Duration.ofSeconds(300)),
        new Case("max-age=5", Duration.ofMinutes(1)), // below minTtl
        new Case("max-age=999999", Duration.ofHours(2)), // above maxTtl
        new Case("no-store", Duration.ofMinutes(1)),
        new Case(null, Duration.ofMinutes(10))); // defaultTtl
    for (Case c : cases) {
      idp.resetRequests();
      serve(set(jwk("k1", TestKeys.RSA)), c.cacheControl);
      JwksKeySource source = started(builder().refreshAhead(Duration.ZERO).maxTtl(Duration.ofHours(2)));
      String t = token("k1", TestKeys.RSA);
      Instant start = clock.instant();

      clock.set(start.plus(c.expected).minusSeconds(1));
      assertThat(source.find("RS256", "k1")).isPresent();
      assertThat(fetches()).as("%s: still fresh 1 s before %s", c.cacheControl, c.expected).isEqualTo(1);

      clock.set(start.plus(c.expected));
      assertThat(verify(authenticator(source), t)).isPresent();
      assertThat(fetches()).as("%s: refreshed at %s", c.cacheControl, c.expected).isEqualTo(2);
      clock.set(start);
    }
  }

  @Test
  void refreshesAheadOfExpiryWithoutMakingTheRequestWait() {
    serve(set(jwk("k1", TestKeys.RSA)), "max-age=300");
    JwksKeySource source = started(builder()); // refreshAhead: 60 s
    JwtAuthenticator jwt = authenticator(source);
    String t = token("k1", TestKeys.RSA);

    clock.advance(Duration.ofSeconds(239));
    assertThat(verify(jwt, t)).isPresent();
    assertThat(fetches()).isEqualTo(1);

    idp.stubFor(get(PATH).willReturn(aResponse().withStatus(200).withBody(set(jwk("k1", TestKeys.RSA)))
        .withHeader("Cache-Control", "max-age=300").withFixedDelay(2_000)));
    clock.advance(Duration.ofSeconds(1)); // 240 s: inside the refresh-ahead window
    Optional<Principal> result = assertTimeoutPreemptively(Duration.ofMillis(1_500), () -> verify(jwt, t));
    assertThat(result).as("served from the current keys at once").isPresent();

    source.lastFetch().join();
    assertThat(fetches()).isEqualTo(2);
    clock.advance(Duration.ofSeconds(100)); // 340 s: past the old expiry, within the new set's life
    assertThat(verify(jwt, t)).isPresent();
    assertThat(fetches()).isEqualTo(2);
  }

  @Test
  void refusesPlainHttpToARemoteHost() {
    assertThatThrownBy(() -> JwksKeySource.builder(URI.create("http://idp.example/certs")).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("uri: plain http");
    assertThatThrownBy(() -> JwksKeySource.builder(URI.create("file:///etc/passwd")).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("uri:");
    assertThatThrownBy(() -> JwksKeySource.builder(url).minTtl(Duration.ofHours(2)).maxTtl(Duration.ofHours(1)).build())
        .hasMessageContaining("minTtl");
    assertThatThrownBy(() -> JwksKeySource.builder(url).minRefreshInterval(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("JwksKeySource.minRefreshInterval");
  }

  @Test
  void aDurationTooLongToAddToAnInstantFailsAtItsSetterNotAtTheFirstRefresh() {
    // Accepted by the setters, "forever" (ChronoUnit.FOREVER, Long.MAX_VALUE seconds) overflowed
    // later: as minRefreshInterval, find() threw once the set was due for a refresh, so every token
    // was refused from then on instead of being served from the held keys; as defaultTtl or
    // maxTtl, every fetch failed, so no key was ever installed; as refreshWait, find() threw on
    // every wait.
    Duration forever = java.time.temporal.ChronoUnit.FOREVER.getDuration();
    List<java.util.function.Consumer<JwksKeySource.Builder>> setters = List.of(
        b -> b.minRefreshInterval(forever), b -> b.defaultTtl(forever), b -> b.minTtl(forever),
        b -> b.maxTtl(forever), b -> b.refreshAhead(forever), b -> b.refreshWait(forever),
        b -> b.connectTimeout(forever), b -> b.readTimeout(forever));
    for (java.util.function.Consumer<JwksKeySource.Builder> setter : setters) {
      assertThatThrownBy(() -> setter.accept(builder()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("JwksKeySource.")
          .hasMessageContaining("at most");
    }

    // The longest accepted values work through an expiry: the held keys are still served.
    serve(set(jwk("k1", TestKeys.RSA)));
    JwksKeySource source = started(builder()
        .minRefreshInterval(Duration.ofDays(3650))
        .maxTtl(Duration.ofDays(3650))
        .refreshAhead(Duration.ofDays(3650)));
    JwtAuthenticator jwt = authenticator(source);
    assertThat(verify(jwt, token("k1", TestKeys.RSA))).isPresent();

    clock.advance(Duration.ofSeconds(301)); // max-age=300: the set has expired; no refresh is allowed yet
    assertThat(verify(jwt, token("k1", TestKeys.RSA))).as("stale keys still serve").isPresent();
    assertThat(fetches()).isEqualTo(1);
  }

  @Test
  void findsTheOnlySuitableKeyForATokenWithoutKidAndNeverAnAmbiguousOne() {
    serve(set(jwk("k1", TestKeys.RSA)));
    JwksKeySource one = started(builder());
    assertThat(verify(authenticator(one), token(null, TestKeys.RSA))).isPresent();

    serve(set(jwk("k1", TestKeys.RSA), jwk("k2", TestKeys.RSA_OTHER)));
    JwksKeySource two = started(builder());
    assertThat(verify(authenticator(two), token(null, TestKeys.RSA))).isEmpty();
  }
}
