package io.modelguard.benchmarks;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.jsonwebtoken.Claims;
import io.jsonwebtoken.Jws;
import io.jsonwebtoken.JwtParser;
import io.jsonwebtoken.Jwts;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.Tier;
import io.modelguard.authn.jwt.JwtAuthenticator;
import io.modelguard.authz.ModelAccessPolicy;
import io.modelguard.test.FakeRequest;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Bearer-token verification, side by side on the same tokens and keys, average time per call on
 * one thread, in nanoseconds:
 *
 * <ul>
 *   <li>{@code ours*Uncached}: {@link JwtAuthenticator#authenticate} with the verified-token cache
 *       off: shape check, jjwt {@code parseSignedClaims}, time/iss/aud checks, claims → principal.
 *   <li>{@code ours*Cached}: the same authenticator with its cache on, for a token seen before.
 *   <li>{@code jjwt*}: raw jjwt 0.13 {@code parseSignedClaims} with the key: the floor for the
 *       uncached path (target: ours within 1.2×).
 *   <li>{@code nimbus*}: Nimbus JOSE+JWT {@code DefaultJWTProcessor} (what Spring Security's
 *       {@code NimbusJwtDecoder} wraps) with a JWS key selector over the same key and a claims
 *       verifier for the same iss/aud/exp rules (target: our cached path ≥ 20× faster).
 *   <li>{@code oursRefuses1MiBToken}, {@code engineRefuses1MiBBearerHeader}: a 1 MiB token, refused
 *       by the size cap (target: well under 1 ms).
 *   <li>{@code engineCachedRs256}: a whole {@link ModelGuard#check} (bearer token, then the tier
 *       check) with the cache warm: what a request pays.
 * </ul>
 *
 * <p>Every call reads the system clock, as production does. Tokens are RS256 (RSA 2048) and ES256
 * (P-256), about 700 and 450 characters, with realistic claims; they expire a day after set-up.
 * {@link Fixtures#setUp()} checks that each benchmark takes the path its name claims, and fails the
 * run otherwise.
 *
 * <p>Run: {@code java -jar modelguard-benchmarks/target/benchmarks.jar JwtBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 2, timeUnit = TimeUnit.SECONDS)
@Fork(1)
@Threads(1)
public class JwtBenchmark {
  /** The issuer every benchmark token carries and every verifier requires. */
  public static final String ISSUER = "https://idp.example/realms/ml";
  /** The audience every benchmark token carries and every verifier requires. */
  public static final String AUDIENCE = "modelguard";

  /** The benchmarks; JMH instantiates this class. */
  public JwtBenchmark() {}

  /** Ours, RS256, cache off. */
  @Benchmark
  public Optional<Principal> oursRs256Uncached(Fixtures f) {
    return f.uncached.authenticate(f.rs256, Instant.now());
  }

  /** Ours, ES256, cache off. */
  @Benchmark
  public Optional<Principal> oursEs256Uncached(Fixtures f) {
    return f.uncached.authenticate(f.es256, Instant.now());
  }

  /** Ours, RS256, a token already verified (cache hit). */
  @Benchmark
  public Optional<Principal> oursRs256Cached(Fixtures f) {
    return f.cached.authenticate(f.rs256, Instant.now());
  }

  /** Ours, ES256, a token already verified (cache hit). */
  @Benchmark
  public Optional<Principal> oursEs256Cached(Fixtures f) {
    return f.cached.authenticate(f.es256, Instant.now());
  }

  /** Raw jjwt, RS256: parse and verify only. */
  @Benchmark
  public Jws<Claims> jjwtRs256(Fixtures f) {
    return f.jjwtRsa.parseSignedClaims(f.rs256);
  }

  /** Raw jjwt, ES256: parse and verify only. */
  @Benchmark
  public Jws<Claims> jjwtEs256(Fixtures f) {
    return f.jjwtEc.parseSignedClaims(f.es256);
  }

  /** Nimbus DefaultJWTProcessor, RS256, with iss/aud/exp checks. */
  @Benchmark
  public JWTClaimsSet nimbusRs256(Fixtures f) throws Exception {
    return f.nimbusRsa.process(f.rs256, null);
  }

  /** Nimbus DefaultJWTProcessor, ES256, with iss/aud/exp checks. */
  @Benchmark
  public JWTClaimsSet nimbusEs256(Fixtures f) throws Exception {
    return f.nimbusEc.process(f.es256, null);
  }

  /** Ours, a 1 MiB token: refused by the length cap. */
  @Benchmark
  public Optional<Principal> oursRefuses1MiBToken(Fixtures f) {
    return f.uncached.authenticate(f.oneMebibyte, Instant.now());
  }

  /** The engine, a 1 MiB {@code Authorization: Bearer} header: 401 {@code auth.invalid_token}. */
  @Benchmark
  public GuardDecision engineRefuses1MiBBearerHeader(Fixtures f) {
    return f.guard.check(f.oneMebibyteRequest);
  }

  /** The engine, a cached RS256 token then the tier check: allowed. */
  @Benchmark
  public GuardDecision engineCachedRs256(Fixtures f) {
    return f.guard.check(f.rs256Request);
  }

  /** Keys, tokens and the verifiers under test, built once per run. */
  @State(Scope.Benchmark)
  public static class Fixtures {
    String rs256;
    String es256;
    String oneMebibyte;
    JwtAuthenticator uncached;
    JwtAuthenticator cached;
    JwtParser jjwtRsa;
    JwtParser jjwtEc;
    DefaultJWTProcessor<SecurityContext> nimbusRsa;
    DefaultJWTProcessor<SecurityContext> nimbusEc;
    ModelGuard guard;
    FakeRequest rs256Request;
    FakeRequest oneMebibyteRequest;

    /** JMH creates the state. */
    public Fixtures() {}

    /** Builds everything and checks each benchmark's path. */
    @Setup
    public void setUp() throws Exception {
      KeyPairGenerator rsaGen = KeyPairGenerator.getInstance("RSA");
      rsaGen.initialize(2048);
      KeyPair rsa = rsaGen.generateKeyPair();
      KeyPairGenerator ecGen = KeyPairGenerator.getInstance("EC");
      ecGen.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair ec = ecGen.generateKeyPair();

      rs256 = token(rsa, "rsa-1", Jwts.SIG.RS256);
      es256 = token(ec, "ec-1", Jwts.SIG.ES256);
      String[] parts = rs256.split("\\.");
      int padding = 1024 * 1024 - rs256.length();
      // The RS256 token with its payload segment stretched to 1 MiB by base64url characters.
      oneMebibyte = parts[0] + "." + "A".repeat(padding) + parts[1] + "." + parts[2];

      uncached = ours(rsa, ec).verifiedTokenCacheSize(0).build();
      cached = ours(rsa, ec).build();
      jjwtRsa = Jwts.parser().verifyWith(rsa.getPublic()).build();
      jjwtEc = Jwts.parser().verifyWith(ec.getPublic()).build();
      nimbusRsa = nimbus(JWSAlgorithm.RS256,
          new JWKSet(new RSAKey.Builder((RSAPublicKey) rsa.getPublic()).keyID("rsa-1").build()));
      nimbusEc = nimbus(JWSAlgorithm.ES256,
          new JWKSet(new ECKey.Builder(com.nimbusds.jose.jwk.Curve.P_256, (ECPublicKey) ec.getPublic())
              .keyID("ec-1").build()));

      guard = ModelGuard.builder()
          .auditLog(false)
          .models("digits", "iris")
          .tier(Tier.builder("pro").models("digits", "iris").build())
          .chain(ModelGuard.DEFAULT_CHAIN, c -> c
              .policy(Phase.AUTHENTICATE, "jwt", cached)
              .policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy()))
          .build();
      rs256Request = FakeRequest.builder().model("digits").header("Authorization", "Bearer " + rs256).build();
      oneMebibyteRequest = FakeRequest.builder().model("digits").header("Authorization", "Bearer " + oneMebibyte)
          .build();

      check(uncached.authenticate(rs256, Instant.now()).isPresent(), "ours RS256 accepts");
      check(uncached.authenticate(es256, Instant.now()).isPresent(), "ours ES256 accepts");
      check(cached.authenticate(rs256, Instant.now()).isPresent(), "cached RS256 warm");
      check(cached.authenticate(es256, Instant.now()).isPresent(), "cached ES256 warm");
      check(uncached.authenticate(oneMebibyte, Instant.now()).isEmpty(), "1 MiB refused");
      check(jjwtRsa.parseSignedClaims(rs256).getPayload().getSubject().equals("bench-client"), "jjwt RS256");
      check(jjwtEc.parseSignedClaims(es256).getPayload().getSubject().equals("bench-client"), "jjwt ES256");
      check(nimbusRsa.process(rs256, null).getSubject().equals("bench-client"), "nimbus RS256");
      check(nimbusEc.process(es256, null).getSubject().equals("bench-client"), "nimbus ES256");
      check(guard.check(rs256Request).isAllowed(), "engine allows");
      check(guard.check(oneMebibyteRequest).reason().equals(Optional.of(ReasonCode.AUTH_INVALID_TOKEN)),
          "engine refuses 1 MiB");
    }

    private static JwtAuthenticator.Builder ours(KeyPair rsa, KeyPair ec) {
      return JwtAuthenticator.builder()
          .publicKey("rsa-1", rsa.getPublic())
          .publicKey("ec-1", ec.getPublic())
          .issuer(ISSUER)
          .audience(AUDIENCE);
    }

    private static DefaultJWTProcessor<SecurityContext> nimbus(JWSAlgorithm alg, JWKSet keys) {
      DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
      p.setJWSKeySelector(new JWSVerificationKeySelector<>(alg, new ImmutableJWKSet<>(keys)));
      p.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(AUDIENCE,
          new JWTClaimsSet.Builder().issuer(ISSUER).build(), Set.of("sub", "exp", "iat")));
      return p;
    }

    private static String token(KeyPair pair, String kid, io.jsonwebtoken.security.SignatureAlgorithm alg) {
      Instant now = Instant.now();
      return Jwts.builder()
          .header().keyId(kid).and()
          .issuer(ISSUER)
          .audience().add(AUDIENCE).and()
          .subject("bench-client")
          .claim("tenant", "acme")
          .claim("tier", "pro")
          .claim("scope", "openid model:digits:invoke model:iris:invoke")
          .id("4f1c2b9e-6d3a-4e8b-9a7c-1d2e3f405162")
          .issuedAt(Date.from(now))
          .expiration(Date.from(now.plus(Duration.ofDays(1))))
          .signWith(pair.getPrivate(), alg)
          .compact();
    }

    private static void check(boolean ok, String what) {
      if (!ok) {
        throw new IllegalStateException("JwtBenchmark fixture broken: " + what);
      }
    }
  }
}
