package io.modelguard.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.modelguard.EndpointSpec;
import io.modelguard.ModelGuard;
import io.modelguard.servlet.testapp.JettyRuntime;
import io.modelguard.servlet.testapp.OpenServlet;
import io.modelguard.servlet.testapp.PredictServlet;
import io.modelguard.servlet.testapp.ServletDef;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import io.modelguard.test.ConformanceFixture;
import jakarta.servlet.Filter;
import jakarta.servlet.ServletException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A filter mapped more narrowly than the servlets and routes it guards fails start-up, on Jetty 12:
 * requests outside its mapping would reach them unchecked.
 */
class JettyFilterMappingTest {
  private final ModelGuard guard = ConformanceFixture.create().guard();
  private final JettyRuntime runtime = new JettyRuntime();

  /**
   * Starts {@code filter} on {@code filterPatterns} in front of {@code servlets}; null if it failed.
   * Should it start, the failure assertion reports the status of an unauthenticated prediction
   * to {@code probe}, which the filter does not see.
   */
  private Throwable startFailure(Filter filter, String probe, String[] filterPatterns, ServletDef... servlets)
      throws Exception {
    Deployment deployment;
    try {
      deployment = runtime.filterPatterns(filterPatterns).start("", filter, List.of(servlets));
    } catch (Exception e) {
      return e;
    }
    try (deployment) {
      HttpResponse<String> response = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(deployment.baseUri() + probe))
              .POST(HttpRequest.BodyPublishers.ofString("{\"pixels\":[1]}")).build(),
          HttpResponse.BodyHandlers.ofString());
      throw new AssertionError("started; an unauthenticated POST " + probe + " got " + response.statusCode());
    }
  }

  @Test
  void aFilterNarrowerThanAnAnnotatedServletFailsStartUpNamingTheFix() throws Exception {
    Throwable failure = startFailure(new ModelGuardFilter(guard), "/v1/models/iris/predict",
        new String[] {"/v1/models/digits/*"}, ServletDef.of(PredictServlet.class, "/v1/models/*"));

    assertThat(failure)
        .isInstanceOf(ServletException.class)
        .hasMessageContaining("servlet 'PredictServlet'")
        .hasMessageContaining("'/v1/models/*'")
        .hasMessageContaining("[/v1/models/digits/*]")
        .hasMessageContaining("map the filter to \"/*\"");
    assertThat(runtime.lastContext().isAvailable()).isFalse();
  }

  @Test
  void aRouteOutsideTheFiltersMappingFailsStartUp() throws Exception {
    ModelGuardFilter filter = ModelGuardFilter.builder(guard)
        .route("/api/models/{model}/predict", EndpointSpec.of("{model}", "default", 1))
        .build();

    Throwable failure = startFailure(filter, "/api/models/digits/predict", new String[] {"/v1/*"},
        ServletDef.of(OpenServlet.class, "/api/*"));

    assertThat(failure)
        .isInstanceOf(ServletException.class)
        .hasMessageContaining("route /api/models/{model}/predict")
        .hasMessageContaining("map the filter to \"/*\"");
  }

  @Test
  void aFilterCoveringWhatItGuardsStartsAndGuards() throws Exception {
    // Prefix patterns above the servlet's and the route's, an unguarded servlet outside them.
    ModelGuardFilter filter = ModelGuardFilter.builder(guard)
        .route("/v1/routed/{model}/predict", EndpointSpec.of("{model}", "default", 1))
        .build();
    try (Deployment deployment = runtime.filterPatterns("/v1/*").start("", filter, List.of(
        ServletDef.of(PredictServlet.class, "/v1/models/*"),
        ServletDef.of(OpenServlet.class, "/open", "/v1/routed/*")))) {
      HttpClient client = HttpClient.newHttpClient();
      for (String path : List.of("/v1/models/digits/predict", "/v1/routed/digits/predict")) {
        HttpResponse<String> response = client.send(
            HttpRequest.newBuilder(URI.create(deployment.baseUri() + path))
                .POST(HttpRequest.BodyPublishers.ofString("{\"pixels\":[1]}")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path).isEqualTo(401);
      }
    }
  }
}
