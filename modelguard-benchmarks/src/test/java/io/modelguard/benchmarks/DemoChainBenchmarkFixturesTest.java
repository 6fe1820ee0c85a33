package io.modelguard.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.PolicyChain;
import io.modelguard.ReasonCode;
import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.examples.AppOptions;
import io.modelguard.examples.ModelServingApp;
import io.modelguard.examples.http.ModelListServlet;
import io.modelguard.examples.metrics.DemoMetrics;
import io.modelguard.extraction.Prediction;
import io.modelguard.extraction.PredictionCodec;
import io.modelguard.input.RequestAttributes;
import io.modelguard.test.AttributedRequest;
import io.modelguard.test.FakeRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Checks that every {@link DemoChainBenchmark} method, run on the very states JMH builds, takes the
 * path its name claims: the guard is the demo app's own chain, every request is allowed as one of
 * the benchmark's clients and answered by the digits model, the input policy really validates the
 * body, the extraction defence really observes and perturbs the answers, the listeners are there
 * or not as named, and the ablations lack exactly their part. Times nothing.
 */
class DemoChainBenchmarkFixturesTest {
  private static final PredictionCodec CODEC = PredictionCodec.standard();

  private final DemoChainBenchmark benchmark = new DemoChainBenchmark();

  @Test
  void theGuardIsTheOneTheDemoAppInstallsForTheSameOptions() throws Exception {
    DemoChainBenchmark.FullChainNoAuditLog state = new DemoChainBenchmark.FullChainNoAuditLog();
    AppOptions options = AppOptions.defaults().withConfigFile(state.config()).withAuditLog(false).withPort(0);
    try (ModelServingApp app = ModelServingApp.start(options, new PrintStream(OutputStream.nullOutputStream()))) {
      for (String chain : List.of(ModelGuard.DEFAULT_CHAIN, ModelListServlet.CHAIN)) {
        assertThat(stepsInDetail(state.guard.chain(chain))).isEqualTo(stepsInDetail(app.guard().chain(chain)));
      }
      assertThat(state.guard.tiers()).hasToString(app.guard().tiers().toString());
      assertThat(state.guard.models()).isEqualTo(app.guard().models());
    } finally {
      close(state);
    }
    assertThat(steps(state.guard.chain(ModelGuard.DEFAULT_CHAIN))).containsExactly(
        "AUTHENTICATE unauthenticated-limit", "AUTHENTICATE api-key", "AUTHENTICATE bearer-token",
        "AUTHORIZE unauthenticated-limit-refund", "AUTHORIZE model-access", "QUOTA quota", "VALIDATE input", "DETECT extraction-detect-digits",
        "OBSERVE extraction-observe-digits", "OBSERVE extraction-observe-image-classifier",
        "PERTURB extraction-perturb-digits", "PERTURB extraction-perturb-image-classifier",
        "PERTURB tier-fidelity");
  }

  @Test
  void fullChainAllowsEachClientOfTierBenchAndAnswersWithTheModelsPrediction(@TempDir Path dir) throws Exception {
    Path audit = dir.resolve("audit.jsonl");
    DemoChainBenchmark.FullChain state = new DemoChainBenchmark.FullChain(audit);
    try {
      ModelOutput output = benchmark.fullChain(state);

      assertThat(state.denied()).isZero();
      assertPrediction(output);
      // The meters' listener counted it, as allowed, for the first client's tenant.
      assertThat(requests(state.metrics(), "allowed")).isEqualTo(1);
      assertThat(state.metrics().registry().find(DemoMetrics.REQUESTS).tag("tenant", "bench-0").counter())
          .isNotNull();
    } finally {
      state.closeGuard();
      state.deleteInputs();
    }
    // The JSON audit log wrote the decision (closing flushed it).
    assertThat(Files.readAllLines(audit, StandardCharsets.UTF_8)).singleElement().asString()
        .contains("\"event\":\"decision\"", "\"outcome\":\"allowed\"", "\"subject\":\"bench-0\"");
  }

  @Test
  void requestsRotateOverEveryClientAndEveryDigitsRowFromTheSameAddress() {
    DemoChainBenchmark.Inputs inputs = new DemoChainBenchmark.Inputs();
    try {
      Set<String> keys = new HashSet<>();
      Set<String> bodies = new HashSet<>();
      for (int n = 0; n < inputs.bodies.length; n++) {
        InferenceRequest request = inputs.request(n);
        assertThat(request).isInstanceOf(RequestAttributes.class);
        keys.add(request.header(ApiKeyAuthenticator.DEFAULT_HEADER).orElseThrow());
        bodies.add(new String(inputs.bodies[n], StandardCharsets.US_ASCII));
        assertThat(request.remoteAddress()).contains("127.0.0.1");
        assertThat(request.path()).isEqualTo(DemoChainBenchmark.PATH);
      }
      assertThat(keys).hasSize(DemoChainBenchmark.CLIENTS);
      assertThat(inputs.bodies.length).isGreaterThan(1700);
      assertThat(bodies).hasSizeGreaterThan(1700);

      // Each client sends its QUERIES_PER_CLIENT requests, then fresh clients take over.
      int perSet = DemoChainBenchmark.CLIENTS * DemoChainBenchmark.QUERIES_PER_CLIENT;
      assertThat(inputs.key(perSet - 1)).isEqualTo(inputs.key(DemoChainBenchmark.CLIENTS - 1));
      assertThat(inputs.key(perSet)).isNotIn(keys);
      Set<String> all = new HashSet<>();
      for (int set = 0; set < DemoChainBenchmark.GENERATIONS; set++) {
        for (int client = 0; client < DemoChainBenchmark.CLIENTS; client++) {
          all.add(inputs.key(set * perSet + client));
        }
      }
      assertThat(all).hasSize(DemoChainBenchmark.CLIENTS * DemoChainBenchmark.GENERATIONS);
      assertThatThrownBy(() -> inputs.key(perSet * DemoChainBenchmark.GENERATIONS))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("raise DemoChainBenchmark.GENERATIONS");
    } finally {
      deleteInputs(inputs);
    }
  }

  @Test
  void theAdaptersRequestsCarryThePerAddressChargeAsAnAttributeAndPlainOnesDoNot() {
    DemoChainBenchmark.FullChainNoAuditLog state = new DemoChainBenchmark.FullChainNoAuditLog();
    DemoChainBenchmark.FullChainPlainRequests plain = new DemoChainBenchmark.FullChainPlainRequests();
    try {
      InferenceRequest request = state.request(0);
      GuardDecision decision = state.guard.check(request);
      // The charge went on the request and the refund took it off: the attribute was set, then cleared.
      AttributedRequest attributes = (AttributedRequest) request;
      assertThat(decision.isAllowed()).isTrue();
      assertThat(attributes.attributeWasSet()).isTrue();
      assertThat(attributes.attributes()).isEmpty();
      // The input policy read the body.
      assertThat(attributes.request().bodyReads()).isPositive();
      assertThat(plain.request(0)).isInstanceOf(FakeRequest.class).isNotInstanceOf(RequestAttributes.class);
      assertPrediction(benchmark.fullChainPlainRequests(plain));
    } finally {
      close(state);
      close(plain);
    }
  }

  @Test
  void unguardedAnswersWithThePredictionAlone() {
    DemoChainBenchmark.Unguarded state = new DemoChainBenchmark.Unguarded();
    try {
      byte[] answer = benchmark.unguarded(state, new Blackhole(
          "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous."));

      assertPrediction(ModelOutput.of(answer, "application/json"));
    } finally {
      deleteInputs(state);
    }
  }

  @Test
  void theInputPolicyValidatesTheBodyUnlessTakenAway() {
    DemoChainBenchmark.NoListeners full = new DemoChainBenchmark.NoListeners();
    DemoChainBenchmark.NoListenersNoInputValidation without = new DemoChainBenchmark.NoListenersNoInputValidation();
    try {
      assertPrediction(benchmark.fullChainNoListeners(full));
      assertPrediction(benchmark.noListenersNoInputValidation(without));

      // 65 pixels: the digits spec refuses it, so a full chain's requests really are validated.
      String invalid = "{\"pixels\":[" + "0,".repeat(64) + "0]}";
      assertThat(full.guard.check(request(full, invalid)).reason()).contains(ReasonCode.INPUT_INVALID);
      assertThat(without.guard.check(request(without, invalid)).isAllowed()).isTrue();
      assertThat(steps(without.guard.chain(ModelGuard.DEFAULT_CHAIN)))
          .isEqualTo(steps(full.guard.chain(ModelGuard.DEFAULT_CHAIN)).stream()
              .filter(s -> !s.equals("VALIDATE input")).toList());
    } finally {
      close(full);
      close(without);
    }
  }

  @Test
  void theExtractionDefenceObservesAndPerturbsTheAnswersUnlessTakenAway() {
    DemoChainBenchmark.FullChainNoAuditLog full = new DemoChainBenchmark.FullChainNoAuditLog();
    DemoChainBenchmark.NoListenersNoExtractionDefence without =
        new DemoChainBenchmark.NoListenersNoExtractionDefence();
    try {
      assertPrediction(benchmark.fullChainNoAuditLog(full));
      assertPrediction(benchmark.noListenersNoExtractionDefence(without));

      // One client probing around one digit, a pixel at a time (an extraction attack's search): only
      // a defence that observes the answers flags it, and from then on it perturbs them.
      List<byte[]> probes = probes(full.bodies[0]);
      int perturbed = 0;
      for (int i = 0; i < probes.size() && perturbed == 0; i++) {
        ModelOutput answer = full.serve(request(full, probes.get(i)), probes.get(i));
        assertThat(answer).as("probe %d was refused before any answer was perturbed", i).isNotNull();
        perturbed += Arrays.equals(answer.body(), full.predict(probes.get(i))) ? 0 : 1;
      }
      assertThat(perturbed).as("answers perturbed within %d probes", probes.size()).isPositive();
      assertThat(detections(full.metrics())).isPositive();

      for (byte[] probe : probes) {
        ModelOutput answer = without.serve(request(without, probe), probe);
        assertThat(answer).isNotNull();
        assertThat(answer.body()).isEqualTo(without.predict(probe));
      }
      assertThat(steps(without.guard.chain(ModelGuard.DEFAULT_CHAIN))).noneMatch(s -> s.contains("extraction"))
          .contains("VALIDATE input", "PERTURB tier-fidelity");
      // A trial whose clients were flagged measured the wrong path, and says so at its end.
      assertThatThrownBy(full::closeGuard).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("extraction risk level changes");
    } finally {
      deleteInputs(full);
      close(without);
    }
  }

  @Test
  void theNoListenerEngineHasTheDemosPoliciesButTellsNoListener() {
    DemoChainBenchmark.NoListeners state = new DemoChainBenchmark.NoListeners();
    DemoChainBenchmark.FullChainNoAuditLog demo = new DemoChainBenchmark.FullChainNoAuditLog();
    try {
      assertPrediction(benchmark.fullChainNoListeners(state));

      assertThat(requests(state.metrics(), "allowed")).isZero();
      for (String chain : List.of(ModelGuard.DEFAULT_CHAIN, ModelListServlet.CHAIN)) {
        assertThat(stepsInDetail(state.guard.chain(chain))).isEqualTo(stepsInDetail(demo.guard.chain(chain)));
      }
      assertThat(state.guard.tiers()).hasToString(demo.guard.tiers().toString());
    } finally {
      close(state);
      close(demo);
    }
  }

  @Test
  void aDeniedRequestFailsTheTrialNamingItsReason() {
    DemoChainBenchmark.FullChainNoAuditLog state = new DemoChainBenchmark.FullChainNoAuditLog();
    try {
      FakeRequest unknownKey = FakeRequest.builder().path(DemoChainBenchmark.PATH)
          .header(ApiKeyAuthenticator.DEFAULT_HEADER, "mg_test_notAKey").build();

      assertThat(state.serve(unknownKey, state.bodies[0])).isNull();
      assertThat(state.denied()).isEqualTo(1);
      assertThatThrownBy(state::closeGuard).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("1 requests were denied").hasMessageContaining(ReasonCode.AUTH_INVALID_API_KEY.code());
    } finally {
      deleteInputs(state);
    }
  }

  private static InferenceRequest request(DemoChainBenchmark.Inputs inputs, String body) {
    return request(inputs, body.getBytes(StandardCharsets.US_ASCII));
  }

  /** A request of the first client with {@code body}, with attributes as the benchmark's. */
  private static InferenceRequest request(DemoChainBenchmark.Inputs inputs, byte[] body) {
    return new AttributedRequest(FakeRequest.builder().path(DemoChainBenchmark.PATH)
        .header(ApiKeyAuthenticator.DEFAULT_HEADER, inputs.keys[0])
        .header("Content-Type", "application/json")
        .body(body)
        .build());
  }

  /** 400 distinct bodies, each {@code row} with one pixel changed. */
  private static List<byte[]> probes(byte[] row) {
    String json = new String(row, StandardCharsets.US_ASCII);
    int[] base = Arrays.stream(json.substring(json.indexOf('[') + 1, json.indexOf(']')).split(","))
        .mapToInt(p -> (int) Double.parseDouble(p)).toArray();
    List<byte[]> probes = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      int[] probe = base.clone();
      int pixel = i % probe.length;
      probe[pixel] = (base[pixel] + 1 + i / probe.length) % 17;
      probes.add(("{\"pixels\":" + Arrays.toString(probe).replace(" ", "") + "}").getBytes(StandardCharsets.US_ASCII));
    }
    return probes;
  }

  private static void assertPrediction(ModelOutput output) {
    assertThat(output).as("a denial").isNotNull();
    assertThat(output.bodyAsString()).startsWith("{\"model\":\"digits\",");
    Prediction prediction = CODEC.decode(output.body()).orElseThrow();
    assertThat(prediction.probabilities()).hasSize(10);
  }

  /** Each step as "PHASE name". */
  private static List<String> steps(PolicyChain chain) {
    return Stream.concat(
            chain.requestSteps().stream().map(s -> s.phase() + " " + s.name()),
            chain.outputSteps().stream().map(s -> s.phase() + " " + s.name()))
        .toList();
  }

  /** Each step as "PHASE name policy-class failure-mode": the same policies, configured alike. */
  private static List<String> stepsInDetail(PolicyChain chain) {
    return Stream.concat(
            chain.requestSteps().stream().map(s -> s.phase() + " " + s.name() + " "
                + s.policy().getClass().getName() + " " + s.failureMode()),
            chain.outputSteps().stream().map(s -> s.phase() + " " + s.name() + " "
                + s.policy().getClass().getName() + " " + s.failureMode()))
        .toList();
  }

  private static double requests(DemoMetrics metrics, String outcome) {
    return metrics.registry().find(DemoMetrics.REQUESTS).tag("outcome", outcome).counters().stream()
        .mapToDouble(Counter::count).sum();
  }

  private static double detections(DemoMetrics metrics) {
    return metrics.registry().find(DemoMetrics.DETECTIONS).counters().stream().mapToDouble(Counter::count).sum();
  }

  private static void close(DemoChainBenchmark.FullChain state) {
    try {
      state.closeGuard();
    } finally {
      deleteInputs(state);
    }
  }

  private static void deleteInputs(DemoChainBenchmark.Inputs inputs) {
    try {
      inputs.deleteInputs();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
