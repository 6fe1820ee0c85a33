package io.modelguard.examples.jaxrs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelguard.examples.AppOptions;
import io.modelguard.examples.ModelServingApp;
import io.modelguard.examples.gateway.Loopback;
import io.modelguard.examples.model.ModelCatalog;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JAX-RS variant (Jersey, {@code ModelGuardFeature}) and the servlet variant ({@code
 * ModelGuardFilter}), both started from the same configuration on loopback, answer the same
 * requests with the same status, problem body and contract headers.
 */
class JerseyVariantTest {
  private static final String DIGITS = "/v1/models/digits/predict";
  private static final String IRIS = "/v1/models/iris/predict";
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ModelServingApp servlet;
  private static ModelServingApp jersey;

  @BeforeAll
  static void start() throws Exception {
    PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
    servlet = ModelServingApp.start(AppOptions.defaults().withPort(0), quiet);
    jersey = ModelServingApp.start(AppOptions.defaults().withPort(0), quiet, JerseyServingApp.ENDPOINTS);
  }

  @AfterAll
  static void stop() {
    for (ModelServingApp app : new ModelServingApp[] {servlet, jersey}) {
      if (app != null) {
        app.close();
      }
    }
  }

  @Test
  void errorsOutsideTheGuardAreProblemsWhateverTheAcceptHeader() throws Exception {
    String notFound = "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404}";
    String notAllowed = "{\"type\":\"about:blank\",\"title\":\"Method Not Allowed\",\"status\":405}";
    for (ModelServingApp app : new ModelServingApp[] {servlet, jersey}) {
      String variant = app == servlet ? "servlet" : "jersey";
      for (String accept : List.of("text/html", "text/plain", "*/*")) {
        // An unknown path (the servlet variant's NotFoundServlet, Jersey's own 404), any method.
        assertErrorProblem(variant, Loopback.get(app.baseUri(), "/nope-secret?q=%3Cb%3E", "Accept", accept), notFound);
        assertErrorProblem(variant, Loopback.send(app.baseUri(), "PUT", "/nope-secret", "Accept", accept), notFound);
        // A method the endpoint does not serve: Jersey's 405 in the JAX-RS variant, sendError(405) of HttpServlet.
        assertErrorProblem(variant, Loopback.send(app.baseUri(), "POST", "/v1/models", "Accept", accept,
            "X-API-Key", key(app, "pro")), notAllowed);
        assertErrorProblem(variant, Loopback.get(app.baseUri(), "/demo/token", "Accept", accept), notAllowed);
        assertErrorProblem(variant, Loopback.send(app.baseUri(), "POST", "/metrics", "Accept", accept), notAllowed);
      }
    }
  }

  private static void assertErrorProblem(String variant, HttpResponse<String> r, String body) {
    String what = variant + " " + r.request().method() + " " + r.request().uri().getPath() + " Accept "
        + r.request().headers().firstValue("Accept").orElse("");
    assertThat(r.headers().firstValue("Content-Type")).as(what).hasValueSatisfying(
        t -> assertThat(t).as(what).startsWith("application/problem+json"));
    assertThat(r.body()).as(what).isEqualTo(body).doesNotContain("nope").doesNotContain("Jetty");
    assertThat(r.statusCode()).as(what).isEqualTo(body.contains("404") ? 404 : 405);
  }

  /** One request, sent to a variant with that variant's keys. */
  private record Case(String name, Function<ModelServingApp, HttpResponse<String>> request) {}

  private static String key(ModelServingApp app, String label) {
    return app.key(label).orElseThrow().plaintext();
  }

  private static String example(ModelServingApp app, String model, String field) {
    return Loopback.body(field, app.models().get(model).orElseThrow().example());
  }

  private static List<Case> cases() {
    List<Case> cases = new ArrayList<>();
    cases.add(new Case("valid pro digits → 200", a -> Loopback.post(a.baseUri(), DIGITS, "application/json",
        example(a, ModelCatalog.DIGITS, "pixels"), "X-API-Key", key(a, "pro"))));
    cases.add(new Case("valid pro iris → 200", a -> Loopback.post(a.baseUri(), IRIS, "application/json",
        example(a, ModelCatalog.IRIS, "features"), "X-API-Key", key(a, "pro"))));
    cases.add(new Case("no key → 401", a -> Loopback.post(a.baseUri(), DIGITS, "application/json",
        example(a, ModelCatalog.DIGITS, "pixels"))));
    cases.add(new Case("revoked key → 401", a -> Loopback.post(a.baseUri(), DIGITS, "application/json",
        example(a, ModelCatalog.DIGITS, "pixels"), "X-API-Key", key(a, "revoked"))));
    cases.add(new Case("garbage key → 401", a -> Loopback.post(a.baseUri(), DIGITS, "application/json",
        example(a, ModelCatalog.DIGITS, "pixels"), "X-API-Key", "mg_test_nope")));
    cases.add(new Case("free key, iris → 403", a -> Loopback.post(a.baseUri(), IRIS, "application/json",
        example(a, ModelCatalog.IRIS, "features"), "X-API-Key", key(a, "free"))));
    cases.add(new Case("unknown model → 403", a -> Loopback.post(a.baseUri(), "/v1/models/resnet/predict",
        "application/json", "{}", "X-API-Key", key(a, "pro"))));
    cases.add(new Case("wrong length → 422", a -> Loopback.post(a.baseUri(), DIGITS, "application/json",
        "{\"pixels\":[1,2,3]}", "X-API-Key", key(a, "pro"))));
    cases.add(new Case("unknown field → 422", a -> Loopback.post(a.baseUri(), IRIS, "application/json",
        "{\"petals\":[1,2,3,4]}", "X-API-Key", key(a, "pro"))));
    cases.add(new Case("not JSON → 400", a -> Loopback.post(a.baseUri(), DIGITS, "application/json",
        "{\"pixels\":[1,2", "X-API-Key", key(a, "pro"))));
    cases.add(new Case("text/plain → 415", a -> Loopback.post(a.baseUri(), DIGITS, "text/plain",
        "pixels", "X-API-Key", key(a, "pro"))));
    cases.add(new Case("too large → 413", a -> Loopback.post(a.baseUri(), DIGITS, "application/json",
        "{\"pixels\":[" + "1,".repeat(8_200) + "1]}", "X-API-Key", key(a, "pro"))));
    cases.add(new Case("model list, pro → 200", a -> Loopback.get(a.baseUri(), "/v1/models",
        "X-API-Key", key(a, "pro"))));
    cases.add(new Case("model list, free → 200", a -> Loopback.get(a.baseUri(), "/v1/models",
        "X-API-Key", key(a, "free"))));
    cases.add(new Case("model list, no key → 401", a -> Loopback.get(a.baseUri(), "/v1/models")));
    cases.add(new Case("free sentiment → 200", a -> Loopback.post(a.baseUri(), "/v1/models/sentiment/predict",
        "application/json", "{\"text\":\"The room was clean and quiet\"}", "X-API-Key", key(a, "free"))));
    cases.add(new Case("sentiment, number → 422", a -> Loopback.post(a.baseUri(), "/v1/models/sentiment/predict",
        "application/json", "{\"text\":42}", "X-API-Key", key(a, "free"))));
    // The servlet variant ignores Accept; Jersey refused these (406) before the guard ran, unaudited.
    cases.add(new Case("no key, Accept text/html → 401", a -> Loopback.post(a.baseUri(), DIGITS, "application/json",
        example(a, ModelCatalog.DIGITS, "pixels"), "Accept", "text/html")));
    cases.add(new Case("pro key, Accept text/html → 200", a -> Loopback.post(a.baseUri(), DIGITS, "application/json",
        example(a, ModelCatalog.DIGITS, "pixels"), "X-API-Key", key(a, "pro"), "Accept", "text/html")));
    cases.add(new Case("model list, no key, Accept text/html → 401", a -> Loopback.get(a.baseUri(), "/v1/models",
        "Accept", "text/html")));
    return cases;
  }

  @Test
  void bothVariantsAnswerEveryCaseTheSame() {
    List<String> expectedStatuses = List.of("200", "200", "401", "401", "401", "403", "403", "422", "422", "400",
        "415", "413", "200", "200", "401", "200", "422", "401", "200", "401");
    List<Case> cases = cases();
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      HttpResponse<String> s = c.request().apply(servlet);
      HttpResponse<String> j = c.request().apply(jersey);
      assertThat(String.valueOf(s.statusCode())).as("servlet: " + c.name()).isEqualTo(expectedStatuses.get(i));
      assertThat(j.statusCode()).as("jersey: " + c.name()).isEqualTo(s.statusCode());
      assertThat(j.body()).as("jersey body: " + c.name()).isEqualTo(s.body());
      assertThat(mediaType(j)).as("jersey content type: " + c.name()).isEqualTo(mediaType(s));
      for (String h : new String[] {"WWW-Authenticate", "Cache-Control", "RateLimit-Policy"}) {
        assertThat(j.headers().firstValue(h)).as(h + ": " + c.name()).isEqualTo(s.headers().firstValue(h));
      }
      if (s.statusCode() >= 400) {
        assertThat(mediaType(s)).as(c.name()).isEqualTo("application/problem+json");
      }
    }
  }

  @Test
  void bearerTokensAndQuotaAnswerTheSameOnBothVariants() throws Exception {
    List<HttpResponse<String>> last = new ArrayList<>();
    for (ModelServingApp app : new ModelServingApp[] {servlet, jersey}) {
      HttpResponse<String> minted = Loopback.post(app.baseUri(), "/demo/token", "application/json",
          "{\"subject\":\"carol\",\"tier\":\"pro\"}");
      assertThat(minted.statusCode()).as(minted.body()).isEqualTo(200);
      String token = JSON.readTree(minted.body()).get("access_token").asText();
      HttpResponse<String> ok = Loopback.post(app.baseUri(), IRIS, "application/json",
          example(app, ModelCatalog.IRIS, "features"), "Authorization", "Bearer " + token);
      assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
      HttpResponse<String> forged = Loopback.post(app.baseUri(), IRIS, "application/json",
          example(app, ModelCatalog.IRIS, "features"), "Authorization", "Bearer " + token + "x");
      last.add(forged);
      // Free: a burst of 5 and 60 a minute, so the 61st request within a minute is refused whatever the pace.
      HttpResponse<String> r = null;
      for (int i = 0; i < 61; i++) {
        r = Loopback.post(app.baseUri(), DIGITS, "application/json", example(app, ModelCatalog.DIGITS, "pixels"),
            "X-API-Key", key(app, "free"));
        if (r.statusCode() != 200) {
          break;
        }
      }
      last.add(r);
    }
    HttpResponse<String> servletForged = last.get(0);
    HttpResponse<String> jerseyForged = last.get(2);
    assertThat(servletForged.statusCode()).isEqualTo(401);
    assertThat(jerseyForged.statusCode()).isEqualTo(401);
    assertThat(jerseyForged.body()).isEqualTo(servletForged.body()).contains("auth.invalid_token");
    assertThat(jerseyForged.headers().firstValue("WWW-Authenticate"))
        .isEqualTo(servletForged.headers().firstValue("WWW-Authenticate"));
    HttpResponse<String> servletLimited = last.get(1);
    HttpResponse<String> jerseyLimited = last.get(3);
    assertThat(servletLimited.statusCode()).isEqualTo(429);
    assertThat(jerseyLimited.statusCode()).isEqualTo(429);
    assertThat(jerseyLimited.body()).isEqualTo(servletLimited.body()).contains("quota.exceeded");
    assertThat(jerseyLimited.headers().firstValue("Retry-After")).isPresent();
    assertThat(jerseyLimited.headers().firstValue("RateLimit-Policy"))
        .isEqualTo(servletLimited.headers().firstValue("RateLimit-Policy"));
  }

  @Test
  void predictionsComeFromTheModelAndListsFromTheTier() {
    HttpResponse<String> r = Loopback.post(jersey.baseUri(), DIGITS, "application/json",
        example(jersey, ModelCatalog.DIGITS, "pixels"), "X-API-Key", key(jersey, "pro"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).startsWith("{\"model\":\"digits\",\"label\":0,\"probabilities\":[");
    assertThat(Loopback.get(jersey.baseUri(), "/v1/models", "X-API-Key", key(jersey, "free")).body())
        .isEqualTo("{\"models\":[\"digits\",\"sentiment\"]}");
  }

  @Test
  void unknownPathsAreNotFoundAndHealthIsServed() {
    URI base = jersey.baseUri();
    assertThat(Loopback.get(base, "/v1/nothing", "X-API-Key", key(jersey, "pro")).statusCode()).isEqualTo(404);
    assertThat(Loopback.get(base, "/application.wadl").statusCode()).isEqualTo(404);
    assertThat(Loopback.get(base, "/healthz").statusCode()).isEqualTo(200);
  }

  private static String mediaType(HttpResponse<String> r) {
    return r.headers().firstValue("Content-Type").map(t -> t.split(";")[0].trim()).orElse("");
  }
}
