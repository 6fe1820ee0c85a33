package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.examples.http.ProblemErrorHandler;
import io.modelguard.examples.metrics.MetricsServlet;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code TRACE} echoes nothing back: not an API key, not any other header of the request. */
class TraceAppTest {
  @Test
  void traceIsRefusedOnEveryPathWithoutEchoingTheKey() throws Exception {
    try (ModelServingApp app = ModelServingApp.start(AppOptions.defaults().withPort(0),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
      DemoClient client = new DemoClient(app.baseUri());
      String key = app.key("pro").orElseThrow().plaintext();
      for (String path : List.of("/v1/models", MetricsServlet.PATH, "/healthz", "/.well-known/jwks.json",
          "/demo/token", "/v1/models/digits/predict", "/nowhere")) {
        HttpResponse<String> r = client.send("TRACE", path, "X-API-Key", key, "X-Secret", "s3cr3t-header");
        assertThat(r.body()).as("TRACE %s", path).doesNotContain(key).doesNotContain("s3cr3t-header");
        assertThat(r.statusCode()).as("TRACE %s: %s", path, r.body()).isGreaterThanOrEqualTo(400);
        assertThat(r.headers().firstValue("Content-Type")).as("TRACE %s", path)
            .hasValueSatisfying(t -> assertThat(t).startsWith(ProblemErrorHandler.PROBLEM_JSON));
      }
      // The other methods still work.
      assertThat(client.get("/v1/models", key).statusCode()).isEqualTo(200);
      assertThat(client.get(MetricsServlet.PATH, null).statusCode()).isEqualTo(200);
    }
  }
}
