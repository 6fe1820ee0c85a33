package io.modelguard.input;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import io.modelguard.problem.ProblemRenderer;
import java.net.Proxy;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fetches of one request share one time and one byte budget: a request naming three image URLs
 * whose server takes nearly a whole fetch's time for each must not hold its thread three times as
 * long as a request naming one. Time here is a fake ticker that the connector advances by one
 * "stall" per connection, so no test waits for a real deadline.
 */
class RequestFetchBudgetTest {
  private static final byte[] PNG = TestImages.real("png", 8, 8);
  /** Each connection "takes" this long: within a fetch's 5 s, but three of them are 12 s. */
  private static final long STALL_NANOS = Duration.ofSeconds(4).toNanos();

  private static WireMockServer server;

  private final AtomicLong now = new AtomicLong(1_000_000_000_000L);
  private final AtomicInteger connections = new AtomicInteger();
  /** Really connects to the loopback server, then lets the fake time run on by one stall. */
  private final SafeUrlFetcher.Connector stalling = (address, timeoutMillis) -> {
    assertThat(address.getAddress().isLoopbackAddress()).isTrue();
    Socket s = new Socket(Proxy.NO_PROXY);
    s.connect(address, timeoutMillis);
    connections.incrementAndGet();
    now.addAndGet(STALL_NANOS);
    return s;
  };

  @BeforeAll
  static void start() {
    server = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    server.start();
    server.stubFor(get("/a.png").willReturn(aResponse().withBody(PNG)));
    server.stubFor(get("/b.png").willReturn(aResponse().withBody(PNG)));
    server.stubFor(get("/c.png").willReturn(aResponse().withBody(PNG)));
  }

  @AfterAll
  static void stop() {
    server.stop();
  }

  private SafeUrlFetcher fetcher() {
    // Defaults: connect timeout 2 s, total timeout 5 s per fetch.
    return SafeUrlFetcher.builder().allowInternalEndpoint("127.0.0.1", server.port())
        .ticker(now::get).connector(stalling).build();
  }

  private static ModelInputPolicy.Builder policy(SafeUrlFetcher fetcher) {
    ModelSpec spec = ModelSpec.builder("image-classifier")
        .maxBodyBytes(4096)
        .field("a", FieldSpec.imageUrl(ImageSpec.builder().build()))
        .field("b", FieldSpec.imageUrl(ImageSpec.builder().build()))
        .field("c", FieldSpec.imageUrl(ImageSpec.builder().build()))
        .build();
    return ModelInputPolicy.builder().model(spec).fetcher(fetcher);
  }

  private static TestRequest threeUrls() {
    String base = "http://127.0.0.1:" + server.port();
    return TestRequest.json("image-classifier",
        "{\"a\":\"" + base + "/a.png\",\"b\":\"" + base + "/b.png\",\"c\":\"" + base + "/c.png\"}");
  }

  @Test
  void threeSlowUrlsShareOneFetchTimeoutByDefault() {
    long start = now.get();

    GuardDecision d = policy(fetcher()).build().check(threeUrls());

    // 'a' took 4 of the request's 5 s; 'b' had 1 s left and used it up; 'c' was never tried.
    assertThat(d.isAllowed()).isFalse();
    assertThat(d.reason()).contains(ReasonCode.INPUT_FETCH_FAILED);
    assertThat(d.detail()).contains("Field 'b': " + FetchFailure.TIMEOUT.clientDetail());
    assertThat(ProblemRenderer.render(d).status()).isEqualTo(502);
    assertThat(connections.get()).isEqualTo(2);
    assertThat(now.get() - start).as("time the request held its thread")
        .isEqualTo(2 * STALL_NANOS).isLessThan(3 * STALL_NANOS);
  }

  @Test
  void aLargerRequestBudgetLetsEveryFetchRunItsCourse() {
    GuardDecision d = policy(fetcher()).fetchTimeoutPerRequest(Duration.ofSeconds(15)).build().check(threeUrls());

    assertThat(d.isAllowed()).isTrue();
    assertThat(connections.get()).isEqualTo(3);
  }

  @Test
  void aFetchWhoseRequestHasNoTimeLeftConnectsNowhere() {
    SafeUrlFetcher f = fetcher();

    FetchResult r = f.fetch("http://127.0.0.1:" + server.port() + "/a.png", 1 << 20, f.nanoTime());

    assertThat(r.failure()).contains(FetchFailure.TIMEOUT);
    assertThat(connections.get()).isZero();
  }

  @Test
  void theImagesOfOneRequestShareOneByteBudget() {
    TestRequest request = threeUrls();

    GuardDecision d = policy(fetcher()).fetchTimeoutPerRequest(Duration.ofSeconds(15))
        .fetchBytesPerRequest(2L * PNG.length + PNG.length / 2).build().check(request);

    assertThat(d.isAllowed()).isFalse();
    assertThat(d.reason()).contains(ReasonCode.INPUT_FETCH_FAILED);
    assertThat(d.detail()).contains("Field 'c': the images of this request are together larger than "
        + (2L * PNG.length + PNG.length / 2) + " bytes.");
    assertThat(FetchedInputs.from(request)).isEmpty();
  }

  @Test
  void refusesANonPositiveBudget() {
    assertThatThrownBy(() -> ModelInputPolicy.builder().fetchTimeoutPerRequest(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fetchTimeoutPerRequest");
    assertThatThrownBy(() -> ModelInputPolicy.builder().fetchBytesPerRequest(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fetchBytesPerRequest");
  }
}
