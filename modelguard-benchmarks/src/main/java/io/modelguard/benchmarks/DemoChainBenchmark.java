package io.modelguard.benchmarks;

import io.micrometer.core.instrument.Counter;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.PolicyChain;
import io.modelguard.Tier;
import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.benchmarks.e2e.E2eSetup;
import io.modelguard.examples.AppOptions;
import io.modelguard.examples.InProcessGuard;
import io.modelguard.examples.StartupException;
import io.modelguard.examples.http.ModelListServlet;
import io.modelguard.examples.metrics.DemoMetrics;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.examples.model.Predictions;
import io.modelguard.test.AttributedRequest;
import io.modelguard.test.FakeRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Average time of one guarded prediction of the demo, in process and without an HTTP server, in
 * microseconds: the guard's own cost a request, apart from Jetty's, on the chain {@code e2e.sh}'s
 * API-key row runs.
 *
 * <p>One operation is what {@code ModelGuardFilter} and {@code PredictServlet} do for a request,
 * less the servlet container: {@link ModelGuard#check} on a {@link FakeRequest} (a new one each
 * time, so every request reads its body once, as a servlet request does) given request attributes
 * as the adapters' requests have ({@link AttributedRequest}), the demo's real digits
 * model answering (Jackson in, a 64×10 softmax, Jackson out: {@link Predictions}), then {@link
 * ModelGuard#onResponse} with status 200. The guard is the demo's own, built by {@link
 * InProcessGuard} from the options and the configuration {@code e2e.sh} uses ({@link E2eSetup}:
 * tier {@code bench}, limits out of reach, API keys of one tenant each). Requests rotate over
 * {@value #CLIENTS} clients' keys and, independently, over every row of the demo's digits data,
 * from 127.0.0.1, as {@code e2e/predict.lua} sends them; after {@value #QUERIES_PER_CLIENT}
 * requests each, the clients are replaced by {@value #CLIENTS} fresh ones, as {@code e2e.sh}
 * measures with clients its warm-up did not use, so that the extraction defence sees benign clients
 * throughout (a trial fails if a client's risk level changes where the meters can tell).
 *
 * <p>The chain: per-address limit, API-key and (demo issuer) bearer-token authentication, model
 * access, in-memory quota, input validation, the extraction defence (DETECT; OBSERVE and PERTURB
 * on the answer), tier fidelity, and the listeners the demo registers (the JSON audit log, here
 * written to {@code /dev/null} by its background thread, and the Micrometer meters). The variants
 * take parts away, so the differences say where the time goes:
 *
 * <ul>
 *   <li>{@link #unguarded}: the request built and the model's answer, no guard: the floor;
 *   <li>{@link #fullChain}: the demo's guard as {@code e2e.sh} runs it ({@code --audit-log});
 *   <li>{@link #fullChainPlainRequests}: the same with bare {@link FakeRequest}s, which carry no
 *       attributes, so the per-address limit keeps each charge in a shared cache instead;
 *   <li>{@link #fullChainNoAuditLog}: the demo with {@code --no-audit-log} (the meters stay);
 *   <li>{@link #fullChainNoListeners}: the same policies, no listener at all;
 *   <li>{@link #noListenersNoExtractionDefence} and {@link #noListenersNoInputValidation}: the
 *       latter without the extraction defence's steps, or without the input policy.
 * </ul>
 *
 * <p>Every request must be allowed: a state counts the denials, and a trial with any fails at its
 * end, naming the first reason ({@code DemoChainBenchmarkFixturesTest} checks the paths once).
 * The guard uses the system clock and a secure random source, as the demo does. Not measured: the
 * servlet adapter (request wrapper, response buffering, headers), the demo's timing filters and
 * the audit log's writer thread, which runs beside the benchmark thread.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
// The heap e2e.sh gives the demo.
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Threads(1)
public class DemoChainBenchmark {
  /** How many clients the requests rotate over at any time: {@code e2e.sh}'s {@code CLIENTS}. */
  public static final int CLIENTS = 512;
  /**
   * How many requests each client sends before fresh clients take over: about what each of {@code
   * e2e.sh}'s measured clients sends in its 20 s, and below the 1,000 queries at which the demo's
   * coverage detector flags a client sending the digits rows (which would then measure the
   * perturbation of a flagged client's answers, not the benign path).
   */
  public static final int QUERIES_PER_CLIENT = 500;
  /**
   * How many sets of {@value #CLIENTS} fresh clients a trial may use: {@value} × {@value #CLIENTS} ×
   * {@value #QUERIES_PER_CLIENT} requests, about 45 s of the fastest guarded variant (the demo
   * reads at most 1 MiB of configuration, which holds about 8,000 keys). A guarded trial that needs
   * more fails rather than send a client past {@value #QUERIES_PER_CLIENT} requests.
   */
  public static final int GENERATIONS = 12;
  /** The model every request is for. */
  public static final String MODEL = ModelCatalog.DIGITS;
  /** The predict path of {@link #MODEL}, as the demo serves it. */
  public static final String PATH = "/v1/models/" + MODEL + "/predict";

  /** The benchmarks; JMH instantiates this class. */
  public DemoChainBenchmark() {}

  /** No guard: the request and the model's answer, what every variant pays besides the guard. */
  @Benchmark
  public byte[] unguarded(Unguarded state, Blackhole blackhole) {
    int n = state.next();
    blackhole.consume(state.request(n));
    return state.predict(n);
  }

  /** The demo's guard as {@code e2e.sh}'s API-key row runs it: JSON audit log and meters. */
  @Benchmark
  public ModelOutput fullChain(FullChain state) {
    return state.serve();
  }

  /** As {@link #fullChain} with requests that carry no attributes (an adapter without them). */
  @Benchmark
  public ModelOutput fullChainPlainRequests(FullChainPlainRequests state) {
    return state.serve();
  }

  /** As {@link #fullChain} with the demo's {@code --no-audit-log}: the meters' listener only. */
  @Benchmark
  public ModelOutput fullChainNoAuditLog(FullChainNoAuditLog state) {
    return state.serve();
  }

  /** The demo's policies with no listener at all. */
  @Benchmark
  public ModelOutput fullChainNoListeners(NoListeners state) {
    return state.serve();
  }

  /** {@link #fullChainNoListeners} without the extraction defence (DETECT, OBSERVE, PERTURB). */
  @Benchmark
  public ModelOutput noListenersNoExtractionDefence(NoListenersNoExtractionDefence state) {
    return state.serve();
  }

  /** {@link #fullChainNoListeners} without the input policy. */
  @Benchmark
  public ModelOutput noListenersNoInputValidation(NoListenersNoInputValidation state) {
    return state.serve();
  }

  /**
   * The inputs: {@link E2eSetup}'s configuration, keys and bodies in a temporary directory, and
   * the demo's trained models.
   */
  @State(Scope.Benchmark)
  public static class Inputs {
    /** The directory E2eSetup wrote; deleted at the end of the trial. */
    final Path dir;
    /** The API keys: {@value DemoChainBenchmark#GENERATIONS} sets of {@value DemoChainBenchmark#CLIENTS} clients. */
    final String[] keys;
    /** Every digits row as a request body. */
    final byte[][] bodies;
    /** Each body's length, as a Content-Length header. */
    final String[] lengths;
    private final Predictions predictions;
    /** Whether requests are bare {@link FakeRequest}s rather than {@link AttributedRequest}. */
    boolean plainRequests;
    private int next;

    /** Writes the inputs and trains the models. */
    public Inputs() {
      try {
        dir = Files.createTempDirectory("modelguard-demo-chain");
        E2eSetup.main(new String[] {dir.toString(), Integer.toString(CLIENTS * GENERATIONS)});
        keys = Files.readAllLines(dir.resolve("keys.txt"), StandardCharsets.US_ASCII).toArray(new String[0]);
        bodies = Files.readAllLines(dir.resolve("bodies.txt"), StandardCharsets.US_ASCII).stream()
            .map(line -> line.getBytes(StandardCharsets.US_ASCII))
            .toArray(byte[][]::new);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      lengths = Stream.of(bodies).map(b -> Integer.toString(b.length)).toArray(String[]::new);
      predictions = new Predictions(ModelCatalog.trainDemoModels());
    }

    /** The configuration E2eSetup wrote. */
    Path config() {
      return dir.resolve("bench-config.json");
    }

    /** The next request's number; its client and its body rotate independently. */
    final int next() {
      return next++ & Integer.MAX_VALUE;
    }

    /**
     * Request {@code n}: digits row {@code n} mod rows, from client {@code n} mod {@value
     * DemoChainBenchmark#CLIENTS} of the current set of clients (a new set every {@value
     * DemoChainBenchmark#CLIENTS} × {@value DemoChainBenchmark#QUERIES_PER_CLIENT} requests).
     *
     * @throws IllegalStateException once the {@value DemoChainBenchmark#GENERATIONS} sets are used up
     */
    final InferenceRequest request(int n) {
      FakeRequest request = fakeRequest(n);
      return plainRequests ? request : new AttributedRequest(request);
    }

    /** Request {@code n} as the {@link FakeRequest} {@link #request} sends. */
    final FakeRequest fakeRequest(int n) {
      int row = n % bodies.length;
      return FakeRequest.builder()
          .model(MODEL)
          .path(PATH)
          .remoteAddress("127.0.0.1")
          .header(ApiKeyAuthenticator.DEFAULT_HEADER, key(n))
          .header("Content-Type", "application/json")
          .header("Content-Length", lengths[row])
          .body(bodies[row])
          .build();
    }

    /** The API key of request {@code n}'s client. */
    String key(int n) {
      int generation = n / (CLIENTS * QUERIES_PER_CLIENT);
      if (generation >= GENERATIONS) {
        throw new IllegalStateException("every client has sent its " + QUERIES_PER_CLIENT + " requests: shorten the "
            + "trial or raise DemoChainBenchmark.GENERATIONS");
      }
      return keys[generation * CLIENTS + n % CLIENTS];
    }

    /** The digits model's answer to request {@code n}'s body. */
    final byte[] predict(int n) {
      return predict(bodies[n % bodies.length]);
    }

    /** The digits model's answer to {@code body}, as {@code PredictServlet} writes it. */
    final byte[] predict(byte[] body) {
      try {
        Predictions.Answer answer = predictions.predict(MODEL, "application/json", body.length,
            new ByteArrayInputStream(body), null);
        return answer.json().orElseThrow(() -> new IllegalStateException("the digits model refused "
            + new String(body, StandardCharsets.US_ASCII) + ": "
            + answer.refusal().flatMap(GuardDecision::reason).orElse(null)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Deletes the inputs. */
    @TearDown(Level.Trial)
    public void deleteInputs() throws IOException {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** The inputs, for {@link #unguarded}: with no guard to notice, the first clients never retire. */
  @State(Scope.Benchmark)
  public static class Unguarded extends Inputs {
    /** Writes the inputs and trains the models. */
    public Unguarded() {}

    @Override
    String key(int n) {
      return keys[n % CLIENTS];
    }
  }

  /**
   * The demo's guard ({@link InProcessGuard}) over {@link Inputs}, with the JSON audit log appended
   * to {@code /dev/null}.
   */
  @State(Scope.Benchmark)
  public static class FullChain extends Inputs {
    /** The demo's guard, closed at the end of the trial. */
    final InProcessGuard demo;
    /** The engine the benchmark calls: the demo's, or one rebuilt from its policies. */
    final ModelGuard guard;
    private long denied;
    private Optional<String> firstDenial = Optional.empty();

    /** The demo as {@code e2e.sh} runs it, audit lines to {@code /dev/null}. */
    public FullChain() {
      this(Path.of("/dev/null"));
    }

    /** The demo as {@code e2e.sh} runs it, audit lines appended to {@code auditLog}. */
    FullChain(Path auditLog) {
      this(options -> options.withAuditLogFile(auditLog), guard -> guard);
    }

    FullChain(UnaryOperator<AppOptions> options, UnaryOperator<ModelGuard> rebuild) {
      try {
        demo = InProcessGuard.create(options.apply(AppOptions.defaults().withConfigFile(config())));
      } catch (StartupException e) {
        throw new IllegalStateException("the demo's guard: " + e.getMessage(), e);
      }
      guard = rebuild.apply(demo.guard());
    }

    /** The meters of the demo's listener. */
    DemoMetrics metrics() {
      return demo.metrics();
    }

    /** One request, guarded, answered by the model, its answer through the output policies. */
    final ModelOutput serve() {
      int n = next();
      return serve(request(n), bodies[n % bodies.length]);
    }

    /** {@link #serve()} for {@code request}, whose body is {@code body}: null if it was denied. */
    final ModelOutput serve(InferenceRequest request, byte[] body) {
      GuardDecision decision = guard.check(request);
      if (!decision.isAllowed()) {
        // Counted, not thrown, so the trial ends and says how many; the first says why.
        if (denied++ == 0) {
          firstDenial = decision.reason().map(r -> r.code());
        }
        return null;
      }
      return guard.onResponse(request, decision, 200, ModelOutput.of(predict(body), "application/json"));
    }

    /** How many requests were denied so far. */
    long denied() {
      return denied;
    }

    /**
     * Closes the demo's guard, then fails the trial if any request was denied or, where the meters
     * listen, any client's extraction risk level changed (the demo also logs such a change at WARN).
     */
    @TearDown(Level.Trial)
    public void closeGuard() {
      demo.close();
      if (denied > 0) {
        throw new IllegalStateException(denied + " requests were denied (the first: " + firstDenial.orElse("?")
            + "): the benchmark measured denials, not the allowed chain");
      }
      double riskChanges = metrics().registry().find(DemoMetrics.RISK_CHANGES).counters().stream()
          .mapToDouble(Counter::count).sum();
      if (riskChanges > 0) {
        throw new IllegalStateException((long) riskChanges + " extraction risk level changes: the benchmark measured "
            + "flagged clients, not the benign path");
      }
    }
  }

  /**
   * {@link FullChain} sending bare {@link FakeRequest}s, which carry no request attributes (unlike
   * the servlet and JAX-RS adapters' requests): what a request of an adapter without attributes
   * costs, since the per-address limit then keeps its charge in a shared weak-keyed cache until the
   * refund.
   */
  @State(Scope.Benchmark)
  public static class FullChainPlainRequests extends FullChain {
    /** The demo as {@code e2e.sh} runs it, audit lines to {@code /dev/null}, requests without attributes. */
    public FullChainPlainRequests() {
      plainRequests = true;
    }
  }

  /** {@link FullChain} with the demo's {@code --no-audit-log}. */
  @State(Scope.Benchmark)
  public static class FullChainNoAuditLog extends FullChain {
    /** Builds the demo without its audit log. */
    public FullChainNoAuditLog() {
      super(options -> options.withAuditLog(false), guard -> guard);
    }
  }

  /** The demo's policies (audit log off) in an engine with no listener. */
  @State(Scope.Benchmark)
  public static class NoListeners extends FullChain {
    /** Rebuilds the demo's engine without listeners. */
    public NoListeners() {
      this(step -> true);
    }

    NoListeners(Predicate<String> keepStep) {
      super(options -> options.withAuditLog(false), guard -> rebuilt(guard, keepStep));
    }
  }

  /** {@link NoListeners} without the extraction defence's steps ({@code extraction-*}). */
  @State(Scope.Benchmark)
  public static class NoListenersNoExtractionDefence extends NoListeners {
    /** Rebuilds the demo's engine without listeners and without the extraction defence. */
    public NoListenersNoExtractionDefence() {
      super(step -> !step.startsWith("extraction-"));
    }
  }

  /** {@link NoListeners} without the input policy (step {@code input}). */
  @State(Scope.Benchmark)
  public static class NoListenersNoInputValidation extends NoListeners {
    /** Rebuilds the demo's engine without listeners and without input validation. */
    public NoListenersNoInputValidation() {
      super(step -> !step.equals("input"));
    }
  }

  /**
   * An engine with {@code demo}'s clock, random source, models, tiers and chains (the same policy
   * objects, in the same order, with the same failure modes), less the steps {@code keepStep}
   * refuses, and no listener (the engine's own audit log off, as in the demo).
   */
  static ModelGuard rebuilt(ModelGuard demo, Predicate<String> keepStep) {
    ModelGuard.Builder builder = ModelGuard.builder()
        .clock(demo.clock())
        .random(demo.random())
        .auditLog(false)
        .models(demo.models().toArray(new String[0]));
    for (Tier tier : demo.tiers().values()) {
      builder.tier(tier);
    }
    for (String name : List.of(ModelGuard.DEFAULT_CHAIN, ModelListServlet.CHAIN)) {
      PolicyChain chain = demo.chain(name);
      PolicyChain.Builder copy = PolicyChain.builder(name);
      chain.requestSteps().stream().filter(s -> keepStep.test(s.name()))
          .forEach(s -> copy.policy(s.phase(), s.name(), s.policy(), s.failureMode()));
      chain.outputSteps().stream().filter(s -> keepStep.test(s.name()))
          .forEach(s -> copy.output(s.phase(), s.name(), s.policy(), s.failureMode()));
      builder.chain(copy.build());
    }
    return builder.build();
  }
}
