package io.modelguard.input;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import com.github.tomakehurst.wiremock.WireMockServer;
import io.modelguard.GuardDecision;
import io.modelguard.LogCapture;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Behind split-horizon DNS a name such as {@code jenkins.corp.internal} resolves to an internal
 * address for the server only. If the fetcher answered such a name differently from a name that
 * does not resolve, a client could list the internal names that exist without reaching any of them.
 * So the client's answer for the two is the same, byte for byte, while the application's result
 * and the log keep the true reason; an IP literal, which the client wrote itself, keeps its {@code
 * input.url_blocked}.
 */
class InternalNameOracleTest {
  /** A model taking one image by URL, {@code imageUrl}. */
  static final ModelSpec IMAGE_MODEL = ModelSpec.builder("image-classifier")
      .field("imageUrl", FieldSpec.imageUrl(ImageSpec.builder().maxWidth(64).maxHeight(64).build()))
      .build();
  private static WireMockServer redirector;

  private final FakeResolver resolver = new FakeResolver()
      .map("jenkins.corp.internal", "10.0.0.5")
      .map("mixed.corp.internal", "93.184.216.34", "10.0.0.5")
      .map("v6.corp.internal", "fd00::5")
      .map("public.example", "93.184.216.34");
  private RecordingConnector connector;
  private SafeUrlFetcher fetcher;
  private LogCapture log;

  @BeforeAll
  static void startRedirector() {
    redirector = redirector();
  }

  /**
   * A started WireMock server on loopback redirecting {@code /to-internal-name} to
   * jenkins.corp.internal, {@code /to-unknown-name} to a name that does not resolve and {@code
   * /to-internal-literal} to 10.0.0.5.
   */
  static WireMockServer redirector() {
    WireMockServer server = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
    server.start();
    server.stubFor(get("/to-internal-name")
        .willReturn(aResponse().withStatus(302).withHeader("Location", "http://jenkins.corp.internal/cat.png")));
    server.stubFor(get("/to-unknown-name")
        .willReturn(aResponse().withStatus(302).withHeader("Location", "http://nope.corp.internal/cat.png")));
    server.stubFor(get("/to-internal-literal")
        .willReturn(aResponse().withStatus(302).withHeader("Location", "http://10.0.0.5/cat.png")));
    return server;
  }

  @AfterAll
  static void stopRedirector() {
    redirector.stop();
  }

  @BeforeEach
  void setUp() {
    connector = new RecordingConnector(redirector.port());
    fetcher = SafeUrlFetcher.builder().resolver(resolver).connector(connector)
        .allowInternalEndpoint("127.0.0.1", redirector.port()).build();
    log = LogCapture.of(SafeUrlFetcher.class, Level.DEBUG);
  }

  @AfterEach
  void release() {
    log.close();
  }

  private static void assertSameClientAnswer(GuardDecision internal, GuardDecision unknown) {
    assertThat(internal.reason()).contains(ReasonCode.INPUT_FETCH_FAILED).isEqualTo(unknown.reason());
    assertThat(internal.detail()).contains(FetchFailure.UNRESOLVABLE.clientDetail()).isEqualTo(unknown.detail());
    ProblemResponse a = ProblemRenderer.render(internal);
    ProblemResponse b = ProblemRenderer.render(unknown);
    assertThat(a.status()).isEqualTo(502).isEqualTo(b.status());
    assertThat(a.headers()).isEqualTo(b.headers());
    assertThat(a.body()).isEqualTo(b.body());
  }

  @ParameterizedTest
  @ValueSource(strings = {"jenkins.corp.internal", "mixed.corp.internal", "v6.corp.internal"})
  void aNameResolvingToAnInternalAddressIsAnsweredAsANameThatDoesNotResolve(String name) {
    FetchResult internal = fetcher.fetch("http://" + name + "/cat.png");
    FetchResult unknown = fetcher.fetch("http://nope.corp.internal/cat.png");

    assertThat(unknown.failure()).contains(FetchFailure.UNRESOLVABLE);
    assertSameClientAnswer(internal.decision(), unknown.decision());
    assertThat(internal.refusal()).as("the application still sees the true reason").contains(UrlRefusal.DENIED_ADDRESS);
    assertThat(connector.attempts).isEmpty();
  }

  @Test
  void checkingWithoutFetchingAnswersTheSame() {
    UrlCheck internal = fetcher.check("https://jenkins.corp.internal/cat.png");
    UrlCheck unknown = fetcher.check("https://nope.corp.internal/cat.png");

    assertSameClientAnswer(internal.decision(), unknown.decision());
    assertThat(internal.refusal()).contains(UrlRefusal.DENIED_ADDRESS);
    assertThat(internal.isAllowed()).isFalse();
  }

  @Test
  void theLogKeepsTheTrueReason() {
    fetcher.fetch("http://jenkins.corp.internal/cat.png");

    assertThat(log.messagesAt(Level.INFO)).anySatisfy(m -> assertThat(m)
        .contains("jenkins.corp.internal").contains("DENIED_ADDRESS").contains("10.0.0.0/8"));
  }

  @Test
  void theOperatorIsToldOfTheSsrfRefusalTheClientIsNotToldOf() {
    // The client's answer and the audit line say input.fetch_failed for both requests; only the
    // fetcher's INFO line tells an SSRF attempt apart from a name that does not resolve (before,
    // a DEBUG line did, without saying whose request it was).
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("image-classifier")
        .chain(ModelGuard.DEFAULT_CHAIN, c -> c
            .policy(Phase.AUTHENTICATE, "tenant", ctx -> GuardDecision.authenticated(Principal.builder("svc").tenant("acme").build()))
            .policy(Phase.VALIDATE, "input", ModelInputPolicy.builder().model(IMAGE_MODEL).fetcher(fetcher).build()))
        .build();

    GuardDecision unknown = guard.check(
        TestRequest.json("image-classifier", "{\"imageUrl\":\"http://nope.corp.internal/cat.png\"}"));
    assertThat(log.messagesAt(Level.INFO)).as("a name that does not resolve is no SSRF attempt").isEmpty();
    GuardDecision internal = guard.check(
        TestRequest.json("image-classifier", "{\"imageUrl\":\"http://127.0.0.1:" + redirector.port() + "/to-internal-name\"}"));

    assertThat(internal.reason()).contains(ReasonCode.INPUT_FETCH_FAILED).isEqualTo(unknown.reason());
    assertThat(internal.detail()).isEqualTo(unknown.detail());
    assertThat(log.messagesAt(Level.INFO)).singleElement().satisfies(m -> assertThat(m)
        .startsWith("SafeUrlFetcher: SSRF refusal: host jenkins.corp.internal refused for caller t:acme: DENIED_ADDRESS")
        .contains("10.0.0.0/8"));
  }

  @Test
  void aRedirectToANameResolvingInternallyIsAnsweredAsOneToANameThatDoesNotResolve() {
    String base = "http://127.0.0.1:" + redirector.port();
    FetchResult internal = fetcher.fetch(base + "/to-internal-name");
    FetchResult unknown = fetcher.fetch(base + "/to-unknown-name");

    assertSameClientAnswer(internal.decision(), unknown.decision());
    assertThat(internal.refusal()).contains(UrlRefusal.DENIED_ADDRESS);
    assertThat(internal.redirects()).isEqualTo(1).isEqualTo(unknown.redirects());
    assertThat(connector.attempts).allSatisfy(a -> assertThat(a.getPort()).isEqualTo(redirector.port()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://10.0.0.5/cat.png", "http://169.254.169.254/latest/meta-data/", "http://[fd00::5]/"})
  void anInternalIpLiteralIsStillBlocked(String url) {
    FetchResult r = fetcher.fetch(url);

    assertThat(r.refusal()).contains(UrlRefusal.DENIED_ADDRESS);
    assertThat(r.decision().reason()).contains(ReasonCode.INPUT_URL_BLOCKED);
    assertThat(r.decision().detail()).contains(UrlRefusal.DENIED_ADDRESS.clientDetail());
    assertThat(ProblemRenderer.render(r.decision()).status()).isEqualTo(422);
  }

  @Test
  void aRedirectToAnInternalIpLiteralIsStillBlocked() {
    FetchResult r = fetcher.fetch("http://127.0.0.1:" + redirector.port() + "/to-internal-literal");

    assertThat(r.decision().reason()).contains(ReasonCode.INPUT_URL_BLOCKED);
    assertThat(r.redirects()).isEqualTo(1);
  }

  @Test
  void namesRefusedBeforeAnyLookupAreStillBlocked() {
    SafeUrlFetcher listed = SafeUrlFetcher.builder().resolver(resolver).connector(connector)
        .denyNames("*.corp.internal").build();
    assertThat(listed.check("http://jenkins.corp.internal/").decision().reason()).contains(ReasonCode.INPUT_URL_BLOCKED);
    assertThat(fetcher.check("http://jenkins.corp.internal:22/").decision().reason()).contains(ReasonCode.INPUT_URL_BLOCKED);
    assertThat(fetcher.check("http://localhost/").decision().reason()).contains(ReasonCode.INPUT_URL_BLOCKED);
    assertThat(fetcher.check("ftp://jenkins.corp.internal/").decision().reason()).contains(ReasonCode.INPUT_URL_BLOCKED);
    assertThat(resolver.lookups).isEmpty();
  }

  @Test
  void aPortAllowedOnlyForAnInternalEndpointTellsNothingAboutTheName() {
    // Port 8080 is allowed for 10.0.0.9 alone, so a name on it must be looked up; whatever else it
    // resolves to is refused, and the client must not learn that the name resolved at all.
    SafeUrlFetcher exempt = SafeUrlFetcher.builder().resolver(resolver).connector(connector)
        .allowInternalEndpoint("10.0.0.9", 8080).build();
    UrlCheck publicName = exempt.check("http://public.example:8080/");
    UrlCheck internalName = exempt.check("http://jenkins.corp.internal:8080/");
    UrlCheck unknown = exempt.check("http://nope.corp.internal:8080/");

    assertThat(publicName.refusal()).contains(UrlRefusal.PORT_NOT_ALLOWED);
    assertThat(internalName.refusal()).contains(UrlRefusal.DENIED_ADDRESS);
    assertSameClientAnswer(publicName.decision(), unknown.decision());
    assertSameClientAnswer(internalName.decision(), unknown.decision());
    assertThat(exempt.check("http://10.0.0.5:8080/").decision().reason()).contains(ReasonCode.INPUT_URL_BLOCKED);
  }

  @Test
  void aGuardAnswersBothRequestsIdentically() {
    ModelSpec spec = IMAGE_MODEL;
    ModelGuard guard = ModelGuard.builder().auditLog(false).models("image-classifier")
        .chain(ModelGuard.DEFAULT_CHAIN, c -> c.policy(Phase.VALIDATE, "input",
            ModelInputPolicy.builder().model(spec).fetcher(fetcher).build()))
        .build();

    GuardDecision internal = guard.check(
        TestRequest.json("image-classifier", "{\"imageUrl\":\"http://jenkins.corp.internal/cat.png\"}"));
    GuardDecision unknown = guard.check(
        TestRequest.json("image-classifier", "{\"imageUrl\":\"http://nope.corp.internal/cat.png\"}"));

    assertThat(internal.detail()).contains("Field 'imageUrl': " + FetchFailure.UNRESOLVABLE.clientDetail());
    assertThat(internal.reason()).contains(ReasonCode.INPUT_FETCH_FAILED).isEqualTo(unknown.reason());
    assertThat(internal.detail()).isEqualTo(unknown.detail());
    ProblemResponse a = ProblemRenderer.render(internal);
    ProblemResponse b = ProblemRenderer.render(unknown);
    assertThat(a.status()).isEqualTo(b.status());
    assertThat(a.headers()).isEqualTo(b.headers());
    assertThat(a.body()).isEqualTo(b.body());
  }
}
