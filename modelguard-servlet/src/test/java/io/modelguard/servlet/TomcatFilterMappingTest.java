package io.modelguard.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.ModelGuard;
import io.modelguard.servlet.testapp.PredictServlet;
import io.modelguard.servlet.testapp.ServletDef;
import io.modelguard.servlet.testapp.TomcatRuntime;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import io.modelguard.test.ConformanceFixture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A filter mapped more narrowly than the servlet it guards fails start-up on Tomcat 11 too, where a
 * filter's failed {@code init} leaves the context unavailable rather than failing {@code start}:
 * the requests outside the filter's mapping then never reach the servlet.
 */
class TomcatFilterMappingTest {
  private final ModelGuard guard = ConformanceFixture.create().guard();
  private final TomcatRuntime runtime = new TomcatRuntime();

  private static int postPrediction(Deployment deployment, String path) throws Exception {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(deployment.baseUri() + path))
            .POST(HttpRequest.BodyPublishers.ofString("{\"pixels\":[1]}")).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void aFilterNarrowerThanAnAnnotatedServletLeavesTheContextUnavailable() throws Exception {
    try (Deployment deployment = runtime.filterPatterns("/v1/models/digits/*").start("",
        new ModelGuardFilter(guard), List.of(ServletDef.of(PredictServlet.class, "/v1/models/*")))) {
      assertThat(runtime.lastContext().getState().isAvailable()).as("context available").isFalse();
      // Outside the filter's mapping: before the check, the servlet answered it unauthenticated (200).
      assertThat(postPrediction(deployment, "/v1/models/iris/predict")).isNotEqualTo(200);
    }
  }

  @Test
  void aFilterCoveringTheServletStartsAndGuards() throws Exception {
    try (Deployment deployment = runtime.filterPatterns("/v1/*").start("",
        new ModelGuardFilter(guard), List.of(ServletDef.of(PredictServlet.class, "/v1/models/*")))) {
      assertThat(runtime.lastContext().getState().isAvailable()).as("context available").isTrue();
      assertThat(postPrediction(deployment, "/v1/models/iris/predict")).isEqualTo(401);
    }
  }
}
