package io.modelguard.examples.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.input.FieldSpec;
import io.modelguard.input.ImageSpec;
import io.modelguard.input.ModelInputPolicy;
import io.modelguard.input.ModelSpec;
import io.modelguard.input.SafeUrlFetcher;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import io.modelguard.test.FakeRequest;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The demo's audit line and meters tell an SSRF attempt (a host name that resolves to an internal
 * address) from a name that does not resolve, which the client cannot: its answer is the same.
 * A real engine, input policy and fetcher; the resolver is injected, and nothing is connected to.
 */
class SsrfRefusalObservabilityTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ModelSpec IMAGE_MODEL = ModelSpec.builder("image-classifier")
      .field("imageUrl", FieldSpec.imageUrl(ImageSpec.builder().maxWidth(64).maxHeight(64).build()))
      .build();

  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final DemoMetrics metrics =
      new DemoMetrics(Set.of("image-classifier"), Set.of("acme"), Set.of("burst"), true);
  private final ModelGuard guard = guard(metrics);

  /** A real engine authenticating tenant acme and fetching image URLs, counting into {@code meters}. */
  private ModelGuard guard(DemoMetrics meters) {
    return ModelGuard.builder().auditLog(false).models("image-classifier")
        .listener(JsonAuditLog.to(lines::add))
        .listener(meters.listener())
        .chain(ModelGuard.DEFAULT_CHAIN, c -> c
            .policy(Phase.AUTHENTICATE, "tenant",
                ctx -> GuardDecision.authenticated(Principal.builder("svc").tenant("acme").build()))
            .policy(Phase.VALIDATE, "input", ModelInputPolicy.builder().model(IMAGE_MODEL).fetcher(SafeUrlFetcher
                .builder()
                .resolver(SsrfRefusalObservabilityTest::splitHorizon)
                .minUnresolvableTime(Duration.ZERO)
                .build()).build()))
        .build();
  }

  /** A split-horizon resolver: one internal name, every other name unknown. */
  private static List<InetAddress> splitHorizon(String host) throws UnknownHostException {
    if (host.equals("jenkins.corp.internal")) {
      return List.of(InetAddress.getByAddress(host, new byte[] {10, 0, 0, 5}));
    }
    throw new UnknownHostException(host);
  }

  private GuardDecision ask(String url) {
    return ask(guard, url);
  }

  private static GuardDecision ask(ModelGuard guard, String url) {
    return guard.check(FakeRequest.builder().model("image-classifier").path("/v1/models/image-classifier/predict")
        .jsonBody("{\"imageUrl\":\"" + url + "\"}").build());
  }

  private double ssrfRefusals(String refusal) {
    Counter c = metrics.registry().find(DemoMetrics.SSRF_REFUSALS)
        .tags("model", "image-classifier", "tenant", "acme", "refusal", refusal).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void theClientsAnswersAreOneAndTheSameWhileTheAuditLineAndTheMetricTellTheSsrfRefusal() throws Exception {
    GuardDecision unknown = ask("http://nope.corp.internal/cat.png");
    assertThat(ssrfRefusals("denied_address")).as("a name that does not resolve is no SSRF attempt").isZero();
    GuardDecision internal = ask("http://jenkins.corp.internal/cat.png");

    ProblemResponse a = ProblemRenderer.render(internal);
    ProblemResponse b = ProblemRenderer.render(unknown);
    assertThat(a.status()).isEqualTo(502).isEqualTo(b.status());
    assertThat(a.headers()).isEqualTo(b.headers());
    assertThat(a.body()).isEqualTo(b.body());
    assertThat(a.bodyAsString()).doesNotContain("ssrf").doesNotContain("DENIED");

    assertThat(lines).hasSize(2);
    JsonNode unknownLine = JSON.readTree(lines.get(0));
    JsonNode internalLine = JSON.readTree(lines.get(1));
    assertThat(unknownLine.get("code").asText()).isEqualTo("input.fetch_failed");
    assertThat(unknownLine.has("operatorNote")).isFalse();
    assertThat(internalLine.get("code").asText()).isEqualTo("input.fetch_failed");
    assertThat(internalLine.get("operatorNote").asText()).isEqualTo("ssrf_refused:DENIED_ADDRESS");
    assertThat(internalLine.get("tenant").asText()).isEqualTo("acme");

    assertThat(ssrfRefusals("denied_address")).isEqualTo(1);
    assertThat(metrics.registry().find(DemoMetrics.DENIALS)
        .tags("model", "image-classifier", "tenant", "acme", "reason", "input.fetch_failed").counter().count())
        .as("both are denials of the same code").isEqualTo(2);
    assertThat(metrics.scrape()).contains(
        "modelguard_ssrf_refusals_total{model=\"image-classifier\",refusal=\"denied_address\",tenant=\"acme\"} 1.0");
  }

  @Test
  void theDefaultMetersTellWhoeverReadsThemNoMoreThanTheClientsAnswer() {
    // GET /metrics is unguarded, on the API's own port: a client that could read an SSRF refusal
    // there would learn that a name exists internally, which its 502 conceals on purpose.
    DemoMetrics afterUnknown = new DemoMetrics(Set.of("image-classifier"), Set.of("acme"), Set.of("burst"));
    DemoMetrics afterInternal = new DemoMetrics(Set.of("image-classifier"), Set.of("acme"), Set.of("burst"));

    ask(guard(afterUnknown), "http://nope.corp.internal/cat.png");
    ask(guard(afterInternal), "http://jenkins.corp.internal/cat.png");

    assertThat(afterInternal.scrape()).isEqualTo(afterUnknown.scrape()).doesNotContain("ssrf");
    assertThat(afterInternal.registry().find(DemoMetrics.SSRF_REFUSALS).counters()).isEmpty();
  }
}
