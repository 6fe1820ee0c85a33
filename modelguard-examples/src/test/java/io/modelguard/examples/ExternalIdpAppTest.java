package io.modelguard.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.moreThanOrExactly;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static io.modelguard.examples.DemoIssuerAppTest.DIGITS;
import static io.modelguard.examples.DemoIssuerAppTest.INVALID_TOKEN_BODY;
import static io.modelguard.examples.DemoIssuerAppTest.IRIS;
import static io.modelguard.examples.DemoIssuerAppTest.assertInvalidToken;
import static io.modelguard.examples.ModelServingAppTest.assertProblem;
import static io.modelguard.examples.TestTokens.AUDIENCE;
import static io.modelguard.examples.TestTokens.ISSUER;
import static io.modelguard.examples.TestTokens.idpToken;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import io.jsonwebtoken.JwtBuilder;
import io.modelguard.examples.issuer.DemoIssuer;
import io.modelguard.examples.model.ModelCatalog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo trusting an external identity provider, as an operator starts it: a WireMock IdP on
 * 127.0.0.1 serves a JWK Set, the test signs tokens with the IdP's private key, and real apps are
 * started from command-line arguments ({@code --jwks-url}, {@code --jwt-public-key}, ...) and a
 * configuration file.
 */
class ExternalIdpAppTest {
  private static final KeyPair IDP_KEY = TestTokens.rsa();
  private static final KeyPair STRANGER = TestTokens.rsa();

  @TempDir
  static Path dir;

  private static WireMockServer idp;
  private static String jwksUrl;
  private static ModelServingApp app;
  private static DemoClient client;
  private static String banner;
  private static String digitsBody;
  private static String irisBody;
  private static final List<ModelServingApp> started = new java.util.ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    idp = new WireMockServer(WireMockConfiguration.options().bindAddress("127.0.0.1").dynamicPort());
    idp.start();
    idp.stubFor(get(urlEqualTo("/jwks")).willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json")
        .withHeader("Cache-Control", "public, max-age=300")
        .withBody(TestTokens.jwks("idp-1", IDP_KEY))));
    jwksUrl = "http://127.0.0.1:" + idp.port() + "/jwks";
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    app = start(console, "--port", "0", "--jwks-url", jwksUrl, "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE);
    banner = console.toString(StandardCharsets.UTF_8);
    client = new DemoClient(app.baseUri());
    digitsBody = DemoClient.body("pixels", app.models().get(ModelCatalog.DIGITS).orElseThrow().example());
    irisBody = DemoClient.body("features", app.models().get(ModelCatalog.IRIS).orElseThrow().example());
  }

  private static ModelServingApp start(ByteArrayOutputStream console, String... args) throws Exception {
    ModelServingApp a = ModelServingApp.start(AppOptions.parse(args, Map.of()).withQuotaClock(QuotaClocks.leaping()),
        new PrintStream(console, true, StandardCharsets.UTF_8));
    started.add(a);
    return a;
  }

  private static ModelServingApp start(String... args) throws Exception {
    return start(new ByteArrayOutputStream(), args);
  }

  @AfterAll
  static void stop() {
    started.forEach(ModelServingApp::close);
    if (idp != null) {
      idp.stop();
    }
  }

  private static String idpSigned(Map<String, ?> claims) {
    return TestTokens.rs256(IDP_KEY, idpToken("idp-1", claims));
  }

  @Test
  void aTokenSignedByTheIdpsKeyIsAccepted() {
    HttpResponse<String> r = client.postBearer(DIGITS, idpSigned(Map.of("tier", "free")), digitsBody);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    idp.verify(moreThanOrExactly(1), getRequestedFor(urlEqualTo("/jwks")));
  }

  @Test
  void theTierClaimDecidesTheModels() {
    assertProblem(client.postBearer(IRIS, idpSigned(Map.of("tier", "free")), irisBody), 403, "authz.model_forbidden");
    assertThat(client.postBearer(IRIS, idpSigned(Map.of("tier", "pro")), irisBody).statusCode()).isEqualTo(200);
    // A scope narrows the tier: a pro token scoped to digits may not use iris.
    String scoped = idpSigned(Map.of("tier", "pro", "scope", "openid model:digits:invoke"));
    assertThat(client.postBearer(DIGITS, scoped, digitsBody).statusCode()).isEqualTo(200);
    assertProblem(client.postBearer(IRIS, scoped, irisBody), 403, "authz.model_forbidden");
    // No tier claim and no --jwt-default-tier: authenticated, but no model.
    assertProblem(client.postBearer(DIGITS, idpSigned(Map.of()), digitsBody), 403, "authz.model_forbidden");
  }

  @Test
  void tokensTheIdpDidNotIssueForUsAre401() {
    Instant now = Instant.now();
    Map<String, String> rejected = new LinkedHashMap<>();
    rejected.put("another key, the IdP's kid", TestTokens.rs256(STRANGER, idpToken("idp-1", Map.of("tier", "pro"))));
    rejected.put("another key, an unknown kid", TestTokens.rs256(STRANGER, idpToken("idp-2", Map.of("tier", "pro"))));
    rejected.put("wrong audience", TestTokens.rs256(IDP_KEY, idpToken("idp-1", Map.of("tier", "pro"))
        .audience().single("another-service")));
    rejected.put("wrong issuer", TestTokens.rs256(IDP_KEY, idpToken("idp-1", Map.of("tier", "pro"))
        .issuer("https://other-idp.test/")));
    rejected.put("expired", TestTokens.rs256(IDP_KEY, idpToken("idp-1", Map.of("tier", "pro"))
        .issuedAt(Date.from(now.minus(Duration.ofMinutes(20))))
        .expiration(Date.from(now.minus(Duration.ofMinutes(10))))));
    rejected.put("garbage", "garbage");

    rejected.forEach((what, token) -> {
      HttpResponse<String> r = client.postBearer(DIGITS, token, digitsBody);
      assertThat(r.statusCode()).as(what).isEqualTo(401);
      assertInvalidToken(r);
      assertThat(r.body()).as(what).isEqualTo(INVALID_TOKEN_BODY);
    });
  }

  @Test
  void withAnExternalIdpTheDemoIssuerIsOffAndApiKeysStillWork() {
    assertThat(app.demoIssuer()).isEmpty();
    assertThat(client.postWith(DemoIssuer.TOKEN_PATH, "{\"subject\":\"alice\",\"tier\":\"pro\"}").statusCode())
        .isEqualTo(404);
    assertThat(client.get(DemoIssuer.JWKS_PATH, null).statusCode()).isEqualTo(404);
    assertThat(client.post(DIGITS, app.key("free").orElseThrow().plaintext(), digitsBody).statusCode()).isEqualTo(200);
    assertThat(banner).contains("external IdP: iss " + ISSUER + ", aud " + AUDIENCE + ", keys from " + jwksUrl)
        .contains("claims: subject sub; tenant tenant (else jwt:<iss>#<sub>); tier tier (no default: no model without it); "
            + "'models' and 'model:<id>:invoke' scopes narrow the tier")
        .doesNotContain("/demo/token");
  }

  @Test
  void aPublicKeyFileWorksInsteadOfAJwksUrl() throws Exception {
    for (KeyPair key : List.of(TestTokens.ec(), TestTokens.ed25519(), TestTokens.rsa())) {
      String kind = key.getPublic().getAlgorithm();
      Path pem = dir.resolve("idp-" + kind + ".pem");
      Files.writeString(pem, TestTokens.pem(key.getPublic()));
      KeyPair other = kind.equals("EC") ? TestTokens.ec() : kind.equals("RSA") ? TestTokens.rsa() : TestTokens.ed25519();
      ModelServingApp pemApp = start("--port", "0", "--jwt-public-key", pem.toString(), "--jwt-issuer", ISSUER,
          "--jwt-audience", AUDIENCE);
      DemoClient c = new DemoClient(pemApp.baseUri());
      JwtBuilder claims = idpToken("any-kid", Map.of("tier", "free"));

      assertThat(c.postBearer(DIGITS, TestTokens.sign(key, claims), digitsBody).statusCode()).as(kind).isEqualTo(200);
      assertInvalidToken(c.postBearer(DIGITS, TestTokens.sign(other, idpToken("any-kid", Map.of("tier", "free"))),
          digitsBody));
      pemApp.close();
    }
  }

  @Test
  void theConfigFileCarriesTheSameSettingsAndFlagsOverrideIt() throws Exception {
    Path config = dir.resolve("jwt.json");
    Files.writeString(config, "{\"jwt\": {\"jwksUrl\": \"" + jwksUrl + "\", \"issuer\": \"" + ISSUER + "\","
        + " \"audience\": \"stale-audience\", \"tierClaim\": \"plan\", \"tenantClaim\": \"org\","
        + " \"defaultTier\": \"free\"}}");
    ModelServingApp mapped = start("--port", "0", "--config", config.toString(), "--jwt-audience", AUDIENCE);
    DemoClient c = new DemoClient(mapped.baseUri());

    assertThat(c.postBearer(IRIS, idpSigned(Map.of("plan", "pro", "org", "globex")), irisBody).statusCode())
        .isEqualTo(200);
    // The default tier applies without the plan claim; "tier" is no longer the tier claim.
    assertThat(c.postBearer(DIGITS, idpSigned(Map.of("tier", "pro")), digitsBody).statusCode()).isEqualTo(200);
    assertProblem(c.postBearer(IRIS, idpSigned(Map.of("tier", "pro")), irisBody), 403, "authz.model_forbidden");
    // The flag's audience replaced the file's.
    assertInvalidToken(c.postBearer(DIGITS, TestTokens.rs256(IDP_KEY,
        idpToken("idp-1", Map.of("plan", "pro")).audience().single("stale-audience")), digitsBody));
    assertThat(mapped.demoIssuer()).isEmpty();
  }

  @Test
  void theDemoIssuerCanRunBesideAnExternalIdpEachTokenCheckedByItsOwnIssuer() throws Exception {
    ModelServingApp both = start("--port", "0", "--jwks-url", jwksUrl, "--jwt-issuer", ISSUER, "--jwt-audience",
        AUDIENCE, "--demo-issuer");
    DemoClient c = new DemoClient(both.baseUri());
    String demoToken = c.demoToken("{\"subject\":\"carol\",\"tier\":\"pro\"}");
    String demoIss = both.demoIssuer().orElseThrow().issuer();

    assertThat(c.postBearer(IRIS, demoToken, irisBody).statusCode()).isEqualTo(200);
    assertThat(c.postBearer(IRIS, idpSigned(Map.of("tier", "pro")), irisBody).statusCode()).isEqualTo(200);
    // The IdP's key is not trusted for the demo issuer's tokens, nor for an unknown issuer.
    assertInvalidToken(c.postBearer(IRIS, TestTokens.rs256(IDP_KEY, idpToken("idp-1", Map.of("tier", "pro"))
        .issuer(demoIss).audience().single(DemoIssuer.AUDIENCE)), irisBody));
    assertInvalidToken(c.postBearer(IRIS, TestTokens.rs256(IDP_KEY, idpToken("idp-1", Map.of("tier", "pro"))
        .issuer("https://unknown.test/")), irisBody));
    // Still one credential per request.
    assertThat(c.postWith(DIGITS, digitsBody, "Authorization", "Bearer " + demoToken, "X-API-Key",
        both.key("free").orElseThrow().plaintext()).statusCode()).isEqualTo(401);
  }

  @Test
  void besideTheDemoIssuerTheIdpsTenantDemoIsNotTheDemoIssuersTenant() throws Exception {
    // Anyone who can reach the demo mints tokens of tenant "demo": without a namespace, the IdP's
    // tenant "demo" shared their quota (and extraction state). A frozen quota clock: no refill.
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    ModelServingApp both = ModelServingApp.start(QuotaClocks.frozen(AppOptions.parse(new String[] {"--port", "0",
        "--jwks-url", jwksUrl, "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE, "--demo-issuer"}, Map.of())),
        new PrintStream(console, true, StandardCharsets.UTF_8));
    started.add(both);
    DemoClient c = new DemoClient(both.baseUri());
    String minted = c.demoToken("{\"subject\":\"mallory\",\"tier\":\"free\"}");
    int allowed = 0;
    HttpResponse<String> r;
    while ((r = c.postBearer(DIGITS, minted, digitsBody)).statusCode() == 200 && allowed < 100) {
      allowed++;
    }
    assertProblem(r, 429, "quota.exceeded");
    assertThat(allowed).as("the free tier's burst").isEqualTo(5);

    HttpResponse<String> ofIdp = c.postBearer(DIGITS, idpSigned(Map.of("tenant", DemoIssuer.TENANT, "tier", "free")),
        digitsBody);

    assertThat(ofIdp.statusCode()).as(ofIdp.body()).isEqualTo(200);
    assertThat(console.toString(StandardCharsets.UTF_8))
        .contains("  tenants in namespace idp: jwt:idp/<tenant>, never the demo issuer's 'demo'");
    assertThat(banner).as("without the demo issuer, no namespace").doesNotContain("namespace");
  }
}
