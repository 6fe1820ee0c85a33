package io.modelguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.CoreConstants;
import io.modelguard.examples.gateway.GatewayApp;
import io.modelguard.examples.gateway.UpstreamServer;
import io.modelguard.examples.jaxrs.JerseyServingApp;
import io.modelguard.examples.model.ModelCatalog;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The demo's log at the end of the process: a normal stop (SIGTERM, as Ctrl-C or a container
 * runtime sends it) writes the demo's last lines, its "Stopped" line and the audit lines of the
 * requests it answered, and a start-up failure writes what was logged before it. Each main method
 * (the servlet demo, the JAX-RS one, the gateway and its upstream) runs in its own JVM with the
 * demo's real {@code logback.xml} ({@link DemoProcess}).
 *
 * <p>Logback's own shutdown hook, had the configuration kept it, would stop the log at the same
 * time as the demo's hook stops the server, so lines logged while stopping were lost or not as the
 * two threads happened to run; {@link #theDemosLogConfigurationLeavesStoppingTheLogToTheDemo}
 * checks the cause without depending on that race.
 */
class ShutdownLoggingTest {
  /** The start-up banner's line on stdout that names the base URI. */
  private static final Pattern LISTENING = Pattern.compile("ModelGuard demo listening on (http://127\\.0\\.0\\.1:\\d+)");
  /** The banner's line with the active demo key of the free tier. */
  private static final Pattern FREE_KEY = Pattern.compile("^\\s+free\\s+tier free\\s+active\\s+(mg_test_\\S+)");
  /** The upstream's line on stdout once it listens. */
  private static final Pattern UPSTREAM_READY = Pattern.compile(Pattern.quote(UpstreamServer.READY) + "(\\S+)");
  private static final String IRIS = "/v1/models/iris/predict";
  private static final String IRIS_BODY = "{\"features\":[5.1,3.5,1.4,0.2]}";
  /** A model the free tier may use (iris is for the paid tiers). */
  private static final String SENTIMENT = "/v1/models/" + ModelCatalog.SENTIMENT + "/predict";
  private static final String SENTIMENT_BODY = "{\"" + ModelCatalog.TEXT_FIELD + "\":\"The staff were friendly\"}";

  @TempDir
  Path dir;

  private static HttpResponse<String> predict(String base, String path, String body, String... headers)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      request.headers(headers);
    }
    return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @ParameterizedTest
  @ValueSource(classes = {ModelServingApp.class, JerseyServingApp.class})
  void aStopBySigtermWritesTheAuditLineOfTheLastRequestAndTheStoppedLine(Class<?> main) throws Exception {
    try (DemoProcess demo = DemoProcess.start(dir, main, "--port", "0")) {
      String base = demo.awaitStdout(LISTENING);
      assertThat(predict(base, IRIS, IRIS_BODY).statusCode()).as("no key").isEqualTo(401);

      demo.stop();

      String stderr = demo.stderrText();
      assertThat(stderr).as("the audit line of the request")
          .contains("\"event\":\"decision\",\"outcome\":\"denied\"")
          .contains("\"path\":\"" + IRIS + "\"");
      assertThat(stderr).as("the demo's last line").endsWith("Stopped " + base);
    }
  }

  @Test
  void aStopBySigtermWritesTheGatewaysAndTheUpstreamsLastLines() throws Exception {
    try (DemoProcess upstream = DemoProcess.start(dir, UpstreamServer.class, "--port", "0")) {
      String upstreamBase = upstream.awaitStdout(UPSTREAM_READY);
      try (DemoProcess gateway = DemoProcess.start(dir, GatewayApp.class, "--upstream", upstreamBase, "--port", "0")) {
        String base = gateway.awaitStdout(LISTENING);
        String key = gateway.awaitStdout(FREE_KEY);
        assertThat(predict(base, SENTIMENT, SENTIMENT_BODY, "X-API-Key", key).statusCode())
            .as("served by the upstream").isEqualTo(200);

        gateway.stop();

        String stderr = gateway.stderrText();
        assertThat(stderr).as("the audit line of the request")
            .contains("\"event\":\"decision\",\"outcome\":\"allowed\"")
            .contains("\"path\":\"" + SENTIMENT + "\"");
        assertThat(stderr).as("the gateway's last line").endsWith("Stopped " + base);
      }

      upstream.stop();

      assertThat(upstream.stderrText()).as("the upstream's last line").endsWith("Stopped " + upstreamBase);
    }
  }

  @Test
  void aStartUpFailureExitsTwoWithWhatWasLoggedBeforeIt() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        DemoProcess demo = DemoProcess.start(dir, ModelServingApp.class, "--port",
            Integer.toString(taken.getLocalPort()))) {
      assertThat(demo.awaitExit()).isEqualTo(StartupException.EXIT_CODE);
      assertThat(demo.stderrText()).as("the last line logged before the port was tried")
          .contains("Trained model 'sentiment'")
          .contains("modelguard-examples: cannot listen on 127.0.0.1:" + taken.getLocalPort());
    }
  }

  @Test
  void theDemosLogConfigurationLeavesStoppingTheLogToTheDemo() throws Exception {
    LoggerContext context = new LoggerContext();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    try {
      configurator.doConfigure(ShutdownLoggingTest.class.getClassLoader().getResource("logback.xml"));

      assertThat(context.getObject(CoreConstants.SHUTDOWN_HOOK_THREAD))
          .as("Logback's shutdown hook, which would stop the log while the demo still logs").isNull();
    } finally {
      Object hook = context.getObject(CoreConstants.SHUTDOWN_HOOK_THREAD);
      if (hook instanceof Thread thread) {
        Runtime.getRuntime().removeShutdownHook(thread);
      }
      context.stop();
    }
  }
}
