package io.modelguard.examples;

import static io.modelguard.examples.ModelServingAppTest.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jsonwebtoken.Jwts;
import io.modelguard.examples.issuer.DemoIssuer;
import io.modelguard.examples.model.ModelCatalog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bearer tokens from the demo issuer, end to end: the real app on a free loopback port mints tokens
 * at {@code POST /demo/token}, serves its key at {@code /.well-known/jwks.json}, and verifies the
 * tokens through its own JWKS client, in the same chains as API keys. A second app runs with
 * {@code --no-demo-issuer}.
 */
class DemoIssuerAppTest {
  static final String DIGITS = "/v1/models/digits/predict";
  static final String IRIS = "/v1/models/iris/predict";
  static final String INVALID_TOKEN_CHALLENGE = "Bearer realm=\"modelguard\", error=\"invalid_token\"";
  static final String INVALID_TOKEN_BODY = "{\"type\":\"urn:modelguard:problem:auth.invalid_token\","
      + "\"title\":\"Invalid token\",\"status\":401,\"detail\":\"The bearer token is not valid.\","
      + "\"code\":\"auth.invalid_token\"}";

  private static ModelServingApp app;
  private static ModelServingApp withoutIssuer;
  private static DemoClient client;
  private static DemoClient withoutIssuerClient;
  private static String banner;
  private static String withoutIssuerBanner;
  private static String digitsBody;
  private static String irisBody;

  @BeforeAll
  static void start() throws Exception {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    app = ModelServingApp.start(AppOptions.defaults().withPort(0).withQuotaClock(QuotaClocks.leaping()),
        new PrintStream(console, true, StandardCharsets.UTF_8));
    banner = console.toString(StandardCharsets.UTF_8);
    client = new DemoClient(app.baseUri());
    ByteArrayOutputStream console2 = new ByteArrayOutputStream();
    withoutIssuer = ModelServingApp.start(AppOptions.parse(new String[] {"--port", "0", "--no-demo-issuer"}, Map.of())
        .withQuotaClock(QuotaClocks.leaping()),
        new PrintStream(console2, true, StandardCharsets.UTF_8));
    withoutIssuerBanner = console2.toString(StandardCharsets.UTF_8);
    withoutIssuerClient = new DemoClient(withoutIssuer.baseUri());
    digitsBody = DemoClient.body("pixels", app.models().get(ModelCatalog.DIGITS).orElseThrow().example());
    irisBody = DemoClient.body("features", app.models().get(ModelCatalog.IRIS).orElseThrow().example());
  }

  @AfterAll
  static void stop() {
    for (ModelServingApp a : new ModelServingApp[] {app, withoutIssuer}) {
      if (a != null) {
        a.close();
      }
    }
  }

  private static String token(String tier) {
    return client.demoToken("{\"subject\":\"alice\",\"tier\":\"" + tier + "\"}");
  }

  static void assertInvalidToken(HttpResponse<String> r) {
    assertProblem(r, 401, "auth.invalid_token");
    assertThat(r.headers().allValues("WWW-Authenticate")).containsExactly(INVALID_TOKEN_CHALLENGE);
  }

  @Test
  void theTokenEndpointAnswersAnOAuthStyleTokenResponse() {
    HttpResponse<String> r = client.postWith("/demo/token", "{\"subject\":\"alice\",\"tier\":\"free\"}");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Cache-Control")).contains("no-store");
    JsonNode body = DemoClient.json(r);
    assertThat(body.get("token_type").asText()).isEqualTo("Bearer");
    assertThat(body.get("expires_in").asLong()).isEqualTo(300);
    assertThat(body.size()).isEqualTo(3);
    String token = body.get("access_token").asText();
    JsonNode header = TestTokens.part(token, 0);
    JsonNode claims = TestTokens.part(token, 1);
    assertThat(header.get("alg").asText()).isEqualTo("ES256");
    assertThat(header.get("kid").asText()).isEqualTo(app.demoIssuer().orElseThrow().keyId());
    assertThat(claims.get("iss").asText()).isEqualTo(app.baseUri().toString());
    assertThat(claims.get("aud").toString()).contains("modelguard-demo");
    assertThat(claims.get("sub").asText()).isEqualTo("alice");
    assertThat(claims.get("tenant").asText()).isEqualTo("demo");
    assertThat(claims.get("tier").asText()).isEqualTo("free");
    assertThat(claims.get("exp").asLong() - claims.get("iat").asLong()).isEqualTo(300);
    assertThat(claims.has("models")).isFalse();
  }

  @Test
  void theJwksHoldsThePublicKeyOnly() {
    HttpResponse<String> r = client.get(DemoIssuer.JWKS_PATH, null);

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/jwk-set+json"));
    JsonNode keys = DemoClient.json(r).get("keys");
    assertThat(keys.size()).isEqualTo(1);
    JsonNode key = keys.get(0);
    assertThat(key.get("kty").asText()).isEqualTo("EC");
    assertThat(key.get("crv").asText()).isEqualTo("P-256");
    assertThat(key.get("kid").asText()).isEqualTo(app.demoIssuer().orElseThrow().keyId());
    assertThat(key.has("d")).as("no private part").isFalse();
    assertThat(key.get("use").asText()).isEqualTo("sig");
  }

  @Test
  void aFreeTokenPredictsADigit() {
    HttpResponse<String> r = client.postBearer(DIGITS, token("free"), digitsBody);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(DemoClient.json(r).get("model").asText()).isEqualTo("digits");
  }

  @Test
  void aFreeTokenIsForbiddenIrisNamingTheScope() {
    HttpResponse<String> r = client.postBearer(IRIS, token("free"), irisBody);

    assertProblem(r, 403, "authz.model_forbidden");
    assertThat(r.headers().allValues("WWW-Authenticate"))
        .containsExactly("Bearer error=\"insufficient_scope\", scope=\"model:iris:invoke\"");
  }

  @Test
  void aProTokenPredictsAnIris() {
    HttpResponse<String> r = client.postBearer(IRIS, token("pro"), irisBody);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(DemoClient.json(r).get("model").asText()).isEqualTo("iris");
  }

  @Test
  void theCatalogListsTheTokensModels() {
    String narrowed = client.demoToken("{\"subject\":\"bob\",\"tier\":\"pro\",\"models\":[\"iris\"]}");

    assertThat(client.getWith("/v1/models", "Authorization", "Bearer " + token("free")).body())
        .isEqualTo("{\"models\":[\"digits\",\"sentiment\"]}");
    assertThat(client.getWith("/v1/models", "Authorization", "Bearer " + token("pro")).body())
        .isEqualTo("{\"models\":[\"digits\",\"iris\",\"sentiment\"]}");
    assertThat(client.getWith("/v1/models", "Authorization", "Bearer " + narrowed).body())
        .isEqualTo("{\"models\":[\"iris\"]}");
  }

  @Test
  void aModelsClaimNarrowsTheTier() {
    String irisOnly = client.demoToken("{\"subject\":\"bob\",\"tier\":\"pro\",\"models\":[\"iris\"]}");

    assertThat(TestTokens.part(irisOnly, 1).get("models").toString()).isEqualTo("[\"iris\"]");
    assertThat(client.postBearer(IRIS, irisOnly, irisBody).statusCode()).isEqualTo(200);
    assertProblem(client.postBearer(DIGITS, irisOnly, digitsBody), 403, "authz.model_forbidden");
  }

  @Test
  void expiredGarbageTamperedAndForgedTokensAre401WithTheChallengeAndAGenericBody() {
    DemoIssuer issuer = app.demoIssuer().orElseThrow();
    String free = token("free");
    String[] parts = free.split("\\.");
    String proClaims = Base64.getUrlEncoder().withoutPadding().encodeToString(
        new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
            .replace("\"tier\":\"free\"", "\"tier\":\"pro\"").getBytes(StandardCharsets.UTF_8));
    Instant now = Instant.now();
    String forged = Jwts.builder().header().keyId(issuer.keyId()).and()
        .issuer(issuer.issuer()).audience().add(DemoIssuer.AUDIENCE).and()
        .subject("mallory").claim("tier", "pro")
        .issuedAt(Date.from(now)).expiration(Date.from(now.plusSeconds(300)))
        .signWith(TestTokens.ec().getPrivate(), Jwts.SIG.ES256).compact();
    // Another demo issuer (another key, another kid) claiming this app's issuer.
    String otherIssuer = DemoIssuer.generate(issuer.issuer(), issuer.tiers(), java.time.Clock.systemUTC())
        .mint("mallory", "pro", List.of());
    Map<String, String> rejected = new LinkedHashMap<>();
    rejected.put("expired", issuer.mint("alice", "pro", List.of(), now.minus(Duration.ofMinutes(7))));
    rejected.put("garbage", "not-a-jwt");
    rejected.put("three garbage segments", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA");
    rejected.put("tampered payload", parts[0] + "." + proClaims + "." + parts[2]);
    rejected.put("forged signature", forged);
    rejected.put("another key", otherIssuer);
    rejected.put("unsigned", Base64.getUrlEncoder().withoutPadding()
        .encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "." + parts[1] + ".");

    // The genuine token still passes, so each refusal is about what was changed.
    assertThat(client.postBearer(DIGITS, free, digitsBody).statusCode()).isEqualTo(200);
    rejected.forEach((what, token) -> {
      HttpResponse<String> r = client.postBearer(DIGITS, token, digitsBody);
      assertThat(r.statusCode()).as(what).isEqualTo(401);
      assertInvalidToken(r);
      assertThat(r.body()).as(what).isEqualTo(INVALID_TOKEN_BODY);
    });
  }

  @Test
  void aTokenAndAnApiKeyTogetherAreRefused() {
    String free = token("free");
    String key = app.key("free").orElseThrow().plaintext();

    assertThat(client.postBearer(DIGITS, free, digitsBody).statusCode()).isEqualTo(200);
    assertThat(client.post(DIGITS, key, digitsBody).statusCode()).isEqualTo(200);
    HttpResponse<String> both = client.postWith(DIGITS, digitsBody, "Authorization", "Bearer " + free, "X-API-Key", key);
    HttpResponse<String> revokedKey = client.postWith(DIGITS, digitsBody, "Authorization", "Bearer " + free,
        "X-API-Key", app.key("revoked").orElseThrow().plaintext());

    assertThat(both.statusCode()).isEqualTo(401);
    assertThat(DemoClient.json(both).get("detail").asText()).isEqualTo("Present exactly one credential.");
    assertThat(revokedKey.statusCode()).isEqualTo(401);
  }

  @Test
  void theTokenEndpointRefusesWhatItWillNotMint() {
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("{\"subject\":\"alice\",\"tier\":\"gold\"}", "Field 'tier' must be one of: free, pro, enterprise.");
    cases.put("{\"subject\":\"alice\"}", "Field 'tier' is required, one of: free, pro, enterprise.");
    cases.put("{\"tier\":\"free\"}", "Field 'subject' is required, a string.");
    cases.put("{\"subject\":\"a l i c e\",\"tier\":\"free\"}",
        "Field 'subject' must be 1-64 characters of A-Z a-z 0-9 . _ @ -.");
    cases.put("{\"subject\":\"alice\",\"tier\":\"free\",\"models\":[\"iris\"]}",
        "Field 'models' may list only models of tier 'free' (digits, sentiment), each once: a token never grants more than its tier.");
    cases.put("{\"subject\":\"alice\",\"tier\":\"pro\",\"models\":[\"iris\",\"iris\"]}",
        "Field 'models' may list only models of tier 'pro' (digits, iris, sentiment), each once: a token never "
            + "grants more than its tier.");
    cases.put("{\"subject\":\"alice\",\"tier\":\"free\",\"models\":[]}",
        "Field 'models' must be a non-empty array of model ids (omit it for the whole tier).");
    cases.put("{\"subject\":\"alice\",\"tier\":\"free\",\"tenant\":\"acme\"}",
        "Only the fields 'subject', 'tier' and 'models' are accepted.");
    cases.put("[\"alice\",\"free\"]", "The body must be a JSON object such as {\"subject\":\"alice\",\"tier\":\"free\"}.");
    cases.forEach((body, detail) -> {
      HttpResponse<String> r = client.postWith("/demo/token", body);
      assertProblem(r, 422, "input.invalid");
      assertThat(DemoClient.json(r).get("detail").asText()).as(body).isEqualTo(detail);
    });
    assertProblem(client.postWith("/demo/token", "{\"subject\":\"alice\",\"tier\":"), 400, "input.malformed");
    assertProblem(client.postWith("/demo/token", "{\"tier\":\"free\",\"tier\":\"pro\",\"subject\":\"a\"}"), 400,
        "input.malformed");
    assertProblem(client.post("/demo/token", null, "text/plain", "{\"subject\":\"alice\",\"tier\":\"free\"}"), 415,
        "input.unsupported_media_type");
    assertProblem(client.postWith("/demo/token", "{\"subject\":\"" + "a".repeat(2000) + "\"}"), 413,
        "input.too_large");
  }

  @Test
  void theTokenEndpointReadsAContentTypeWhoseCharsetJavaDoesNotKnow() {
    // Found by HttpSurfaceFuzzTest: Jetty's getContentType() throws for such a charset, and the
    // endpoint answered 500 internal.error. JSON defines no charset parameter: it is ignored.
    HttpResponse<String> minted = client.post("/demo/token", null, "application/json; charset=nope",
        "{\"subject\":\"alice\",\"tier\":\"free\"}");
    assertThat(minted.statusCode()).as(minted.body()).isEqualTo(200);
    assertThat(DemoClient.json(minted).get("access_token").asText()).startsWith("eyJ");
    assertProblem(client.post("/demo/token", null, "application/json; charset=nope",
        "{\"subject\":\"" + "a".repeat(2000) + "\"}"), 413, "input.too_large");
    assertProblem(client.post("/demo/token", null, "text/plain; charset=nope", "{}"), 415,
        "input.unsupported_media_type");
  }

  @Test
  void theBannerShowsTheIssuerAndTheTokenCurl() {
    String url = app.baseUri().toString();

    assertThat(banner).contains(" Bearer tokens (Authorization: Bearer ...) are accepted too")
        .contains("demo issuer: iss " + url + ", aud modelguard-demo, ES256 key " + app.demoIssuer().orElseThrow().keyId())
        .contains("   TOKEN=$(curl -s " + url + "/demo/token -H 'Content-Type: application/json' "
            + "-d '{\"subject\":\"alice\",\"tier\":\"free\"}' | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')")
        .contains("   curl -s " + url + DIGITS + " -H \"Authorization: Bearer $TOKEN\"");
  }

  @Test
  void withoutTheDemoIssuerItsEndpointsAre404AndApiKeysStillWork() {
    assertThat(withoutIssuer.demoIssuer()).isEmpty();
    assertThat(withoutIssuerClient.postWith("/demo/token", "{\"subject\":\"alice\",\"tier\":\"free\"}").statusCode())
        .isEqualTo(404);
    assertThat(withoutIssuerClient.get(DemoIssuer.JWKS_PATH, null).statusCode()).isEqualTo(404);
    assertThat(withoutIssuerClient.post(DIGITS, withoutIssuer.key("free").orElseThrow().plaintext(), digitsBody)
        .statusCode()).isEqualTo(200);
    // No bearer authenticator at all: a token is no credential here.
    assertProblem(withoutIssuerClient.postBearer(DIGITS, token("pro"), digitsBody), 401, "auth.missing_credentials");
    assertThat(withoutIssuerBanner).contains(" Bearer tokens: none trusted").doesNotContain("/demo/token");
  }
}
