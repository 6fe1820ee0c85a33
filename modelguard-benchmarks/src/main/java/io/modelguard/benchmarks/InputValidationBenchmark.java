package io.modelguard.benchmarks;

import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.input.FieldSpec;
import io.modelguard.input.ModelInputPolicy;
import io.modelguard.input.ModelSpec;
import io.modelguard.input.TensorDatatype;
import io.modelguard.input.TensorSpec;
import io.modelguard.input.TextSpec;
import io.modelguard.test.FakeRequest;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Average time of validating one typical model input with {@link ModelInputPolicy}, in
 * nanoseconds. Target: a digits input (64 pixels in 0..16) under 20 µs.
 *
 * <p>Each request is built once; {@code FakeRequest} keeps the body it read, so every call pays the
 * whole policy (spec lookup, Content-Length and Content-Type checks, the body cap, and the streaming
 * parse and spec check of every token) but not the building of a request.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@Threads(1)
public class InputValidationBenchmark {
  /** A real row of the digits data set (label 0), as the examples app sends it. */
  public static final String DIGITS_JSON = "{\"pixels\":[0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,"
      + "0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0]}";
  /** A KServe v2 request for an iris model: one FP32 tensor of shape [1, 4]. */
  public static final String IRIS_V2_JSON = "{\"id\":\"1\",\"inputs\":[{\"name\":\"input-0\",\"shape\":[1,4],"
      + "\"datatype\":\"FP32\",\"data\":[5.1,3.5,1.4,0.2]}]}";
  /** A short prompt for a text model with invisible-Unicode and deny-pattern checks. */
  public static final String PROMPT_JSON = "{\"prompt\":\"Summarise the attached review in one sentence, please: "
      + "the battery lasts two days and the screen is bright.\"}";

  /**
   * The same prompt in German, with umlauts and a no-break space: text outside ASCII, which the
   * deny patterns also see in its NFKC form and its look-alike form (Unicode TR 39).
   */
  public static final String PROMPT_NON_ASCII_JSON = "{\"prompt\":\"Fasse die beigef\u00fcgte Bewertung in einem "
      + "Satz zusammen, bitte: der Akku h\u00e4lt zwei Tage und der Bildschirm ist hell.\u00a0\"}";

  /** The benchmarks; JMH instantiates this class. */
  public InputValidationBenchmark() {}

  /** The digits input through the policy alone. */
  @Benchmark
  public GuardDecision digitsPolicy(Inputs s) {
    return s.policy.check(s.digits);
  }

  /** The digits input through an engine whose only policy is the input policy (audit log off). */
  @Benchmark
  public GuardDecision digitsThroughEngine(Inputs s) {
    return s.guard.check(s.digits);
  }

  /** The KServe v2 iris tensor through the policy. */
  @Benchmark
  public GuardDecision irisTensorPolicy(Inputs s) {
    return s.policy.check(s.iris);
  }

  /** A 100-character prompt through the policy (length, invisible Unicode, two deny patterns). */
  @Benchmark
  public GuardDecision promptPolicy(Inputs s) {
    return s.policy.check(s.prompt);
  }

  /** The prompt outside ASCII through the policy: the NFKC and look-alike forms are made too. */
  @Benchmark
  public GuardDecision promptNonAsciiPolicy(Inputs s) {
    return s.policy.check(s.promptNonAscii);
  }

  /** A digits input with one pixel out of range: the refusal path, detail included. */
  @Benchmark
  public GuardDecision digitsOutOfRangeRefused(Inputs s) {
    return s.policy.check(s.digitsOutOfRange);
  }

  /** The specs, the policy, an engine and the requests. */
  @State(Scope.Benchmark)
  public static class Inputs {
    /** digits, iris-v2 and chat. */
    public final ModelInputPolicy policy;
    /** An engine with the policy in VALIDATE. */
    public final ModelGuard guard;
    /** A valid digits request. */
    public final FakeRequest digits;
    /** A digits request whose last pixel is 17. */
    public final FakeRequest digitsOutOfRange;
    /** A valid v2 request. */
    public final FakeRequest iris;
    /** A valid prompt. */
    public final FakeRequest prompt;
    /** A valid prompt with characters outside ASCII. */
    public final FakeRequest promptNonAscii;

    /** Builds everything. */
    public Inputs() {
      policy = ModelInputPolicy.builder()
          .model(ModelSpec.builder("digits").maxBodyBytes(16 * 1024)
              .field("pixels", FieldSpec.numbers(64).range(0, 16)).build())
          .model(ModelSpec.builder("iris-v2")
              .tensor(TensorSpec.builder("input-0").datatypes(TensorDatatype.FP32).shape(-1, 4).build()).build())
          .model(ModelSpec.builder("chat").field("prompt", FieldSpec.text(TextSpec.builder().maxLength(2000)
              .denyPattern("api-key", "sk-[A-Za-z0-9]{20,}")
              .denyPattern("ignore-instructions", "(?i)ignore (all )?previous instructions").build())).build())
          .build();
      guard = ModelGuard.builder().clock(Clock.systemUTC()).models("digits", "iris-v2", "chat").auditLog(false)
          .chain(ModelGuard.DEFAULT_CHAIN, c -> c.policy(Phase.VALIDATE, "input", policy))
          .build();
      digits = FakeRequest.builder().model("digits").jsonBody(DIGITS_JSON).build();
      digitsOutOfRange = FakeRequest.builder().model("digits").jsonBody(DIGITS_JSON.replace(",0,0,0]}", ",0,0,17]}")).build();
      iris = FakeRequest.builder().model("iris-v2").jsonBody(IRIS_V2_JSON).build();
      prompt = FakeRequest.builder().model("chat").jsonBody(PROMPT_JSON).build();
      promptNonAscii = FakeRequest.builder().model("chat").jsonBody(PROMPT_NON_ASCII_JSON).build();
    }
  }
}
