package io.modelguard.benchmarks;

import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.RandomSource;
import io.modelguard.Tier;
import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.authn.ApiKeyHasher;
import io.modelguard.authn.ApiKeyIssuer;
import io.modelguard.authn.InMemoryApiKeyStore;
import io.modelguard.authn.IssuedApiKey;
import io.modelguard.authz.ModelAccessPolicy;
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
 * Average time of one {@link ModelGuard#check} call on one thread, in nanoseconds. Targets: an
 * empty chain under 200 ns; API-key authentication plus the tier check under 1 µs.
 *
 * <p>Every request is built once, in the states below, so the figures are the engine's own cost and
 * not that of building a request. Each benchmark returns the decision, which JMH consumes, so the
 * JIT cannot drop the call. {@code EngineBenchmarkFixturesTest} builds the same states and checks
 * that each benchmark takes the path its name claims (allowed, or denied with {@code
 * auth.invalid_api_key}).
 *
 * <p>The engines use the system clock, as in production: a key expiry check and the decision event
 * each read it once per call, and that cost belongs in the figure.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@Threads(1)
public class EngineBenchmark {
  /** The model every benchmark request is for. */
  public static final String MODEL = "digits";
  /** The stored key's tier: it allows {@value #MODEL} only. */
  public static final String TIER = "basic";
  /** The stored key's owner. */
  public static final String SUBJECT = "bench-client";

  /** The benchmarks; JMH instantiates this class. */
  public EngineBenchmark() {}

  /** A chain with no policies, audit log off: the floor every request pays. */
  @Benchmark
  public GuardDecision emptyChain(EmptyChain state) {
    return state.guard.check(state.request);
  }

  /** A valid API key, then the tier allows the model; audit log off. */
  @Benchmark
  public GuardDecision apiKeyAndTier(ApiKeyChain state) {
    return state.guard.check(state.validKeyRequest);
  }

  /**
   * As {@link #apiKeyAndTier}, with the SLF4J audit listener on and its logger at INFO: allowed
   * decisions log at DEBUG, so this adds the cost of a disabled log statement.
   */
  @Benchmark
  public GuardDecision apiKeyAndTierAuditLogAtInfo(ApiKeyChainWithAuditLog state) {
    return state.guard.check(state.validKeyRequest);
  }

  /**
   * A well-formed key with a known key id but the wrong secret: hashed, looked up and refused with
   * {@code auth.invalid_api_key} (401). Should cost about as much as {@link #apiKeyAndTier}, which
   * is the point of hashing before the lookup.
   */
  @Benchmark
  public GuardDecision apiKeyWrongSecret(ApiKeyChain state) {
    return state.guard.check(state.wrongSecretRequest);
  }

  /**
   * A key with a bad checksum: refused with {@code auth.invalid_api_key} (401) before any hashing or
   * lookup, the cheap path for mistyped keys and guessing.
   */
  @Benchmark
  public GuardDecision apiKeyBadChecksum(ApiKeyChain state) {
    return state.guard.check(state.badChecksumRequest);
  }

  /** An engine whose default chain has no policies at all, with the audit log off. */
  @State(Scope.Benchmark)
  public static class EmptyChain {
    /** The engine. */
    public final ModelGuard guard;
    /** A request for model {@code digits} on the default chain, without credentials. */
    public final FakeRequest request;

    /** Builds the engine and the request. */
    public EmptyChain() {
      guard = ModelGuard.builder()
          .clock(Clock.systemUTC())
          .models(MODEL)
          .chain(ModelGuard.DEFAULT_CHAIN, chain -> {})
          .auditLog(false)
          .build();
      request = FakeRequest.builder().model(MODEL).build();
    }
  }

  /**
   * An engine whose default chain authenticates by API key ({@link ApiKeyAuthenticator}, in-memory
   * store) and then checks the principal's tier ({@link ModelAccessPolicy}); audit log off. One
   * key is stored, of tier {@value EngineBenchmark#TIER}, which allows model {@value
   * EngineBenchmark#MODEL}.
   */
  @State(Scope.Benchmark)
  public static class ApiKeyChain {
    /** The engine. */
    public final ModelGuard guard;
    /** Presents the stored key. */
    public final FakeRequest validKeyRequest;
    /** Presents the stored key's id with another secret and a valid checksum. */
    public final FakeRequest wrongSecretRequest;
    /** Presents the stored key with its last checksum character changed. */
    public final FakeRequest badChecksumRequest;

    /** Builds the engine with the audit log off. */
    public ApiKeyChain() {
      this(false);
    }

    ApiKeyChain(boolean auditLog) {
      // Seeded so every run hashes the same keys under the same pepper.
      RandomSource random = RandomSource.seeded(20260101L);
      byte[] pepper = new byte[ApiKeyHasher.MIN_PEPPER_BYTES];
      random.nextBytes(pepper);
      ApiKeyHasher hasher = ApiKeyHasher.withPepper(pepper);
      Clock clock = Clock.systemUTC();
      IssuedApiKey issued = new ApiKeyIssuer(hasher, random, clock)
          .issue(ApiKeyFormat.Environment.LIVE, SUBJECT, "bench-tenant", TIER, null);
      InMemoryApiKeyStore store = new InMemoryApiKeyStore();
      store.add(issued.record());

      guard = ModelGuard.builder()
          .clock(clock)
          .models(MODEL, "iris")
          .tier(Tier.builder(TIER).models(MODEL).build())
          .chain(ModelGuard.DEFAULT_CHAIN, chain -> chain
              .policy(Phase.AUTHENTICATE, "api-key", ApiKeyAuthenticator.builder(store, hasher).build())
              .policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy()))
          .auditLog(auditLog)
          .build();

      String validKey = issued.key();
      int secretAt = ApiKeyFormat.PREFIX.length() + "live_".length() + ApiKeyFormat.KEY_ID_LENGTH;
      String otherSecret = ApiKeyFormat.generate(ApiKeyFormat.Environment.LIVE, random)
          .substring(secretAt, secretAt + ApiKeyFormat.SECRET_LENGTH);
      String wrongSecretKey = ApiKeyFormat.assemble(ApiKeyFormat.Environment.LIVE, issued.record().keyId(), otherSecret);
      char last = validKey.charAt(validKey.length() - 1);
      String badChecksumKey = validKey.substring(0, validKey.length() - 1) + (last == 'A' ? 'B' : 'A');

      validKeyRequest = withKey(validKey);
      wrongSecretRequest = withKey(wrongSecretKey);
      badChecksumRequest = withKey(badChecksumKey);
    }

    private static FakeRequest withKey(String key) {
      return FakeRequest.builder().model(MODEL).header(ApiKeyAuthenticator.DEFAULT_HEADER, key).build();
    }
  }

  /**
   * {@link ApiKeyChain} with the SLF4J audit listener on. The bundled {@code logback.xml} sets
   * logger {@code io.modelguard.audit} to INFO, so allowed decisions are not written.
   */
  @State(Scope.Benchmark)
  public static class ApiKeyChainWithAuditLog extends ApiKeyChain {
    /** Builds the engine with the audit log on. */
    public ApiKeyChainWithAuditLog() {
      super(true);
    }
  }
}
