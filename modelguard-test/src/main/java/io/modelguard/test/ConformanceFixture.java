package io.modelguard.test;

import io.modelguard.BodyTooLargeException;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.PolicyChain;
import io.modelguard.RandomSource;
import io.modelguard.ReasonCode;
import io.modelguard.Tier;
import io.modelguard.authn.ApiKeyAuthenticator;
import io.modelguard.authn.ApiKeyFormat;
import io.modelguard.authn.ApiKeyHasher;
import io.modelguard.authn.ApiKeyIssuer;
import io.modelguard.authn.InMemoryApiKeyStore;
import io.modelguard.authz.ModelAccessPolicy;
import io.modelguard.test.input.InputConformance;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The application every adapter deploys to run the {@link AdapterConformanceSuite}: one {@link
 * ModelGuard} and the endpoints below, all answering with {@link #prediction(String)} unless noted.
 *
 * <table>
 *   <caption>Endpoints the runtime under test must deploy</caption>
 *   <tr><th>method and path</th><th>{@code @ModelSecured}</th><th>handler</th></tr>
 *   <tr><td>POST {@value #PREDICT}</td><td>{@code model="{model}"} (chain default)</td>
 *       <td>200 {@code application/json} {@link #prediction(String)} of the path's model</td></tr>
 *   <tr><td>POST {@value #FAILING}</td><td>{@code model="digits", chain="failing"}</td>
 *       <td>as above for {@code digits}</td></tr>
 *   <tr><td>POST {@value #REWRITE}</td><td>{@code model="{model}", chain="rewriting"}</td>
 *       <td>as above</td></tr>
 *   <tr><td>POST {@value #ECHO}</td><td>{@code model="{model}", chain="body-limit"}</td>
 *       <td>200 {@code application/octet-stream}, the request body echoed back</td></tr>
 *   <tr><td>POST {@value #VALIDATE}</td>
 *       <td>{@code model="{model}", chain=}{@value io.modelguard.test.input.InputConformance#CHAIN}</td>
 *       <td>200 {@code application/json} {@link #prediction(String)} of the path's model; the chain's
 *       {@link io.modelguard.input.ModelInputPolicy} reads and checks the body first (see {@link
 *       InputConformance}), so the handler must accept any request media type</td></tr>
 *   <tr><td>GET {@value #OPEN}</td><td>none</td><td>200 {@code text/plain} {@code open}</td></tr>
 * </table>
 *
 * <p>Servlet runtimes declare the path with {@code @ModelSecured(path = ...)}; JAX-RS runtimes with
 * {@code @Path}.
 */
public final class ConformanceFixture {
  /** Path template of the plain prediction endpoint. */
  public static final String PREDICT = "/v1/models/{model}/predict";
  /** Path of the endpoint whose chain has a policy that throws. */
  public static final String FAILING = "/v1/fixed/predict";
  /** Path template of the endpoint whose chain rewrites the output. */
  public static final String REWRITE = "/v1/models/{model}/rewrite";
  /** Path template of the endpoint whose chain reads the body with a cap of {@link #BODY_LIMIT}. */
  public static final String ECHO = "/v1/models/{model}/echo";
  /**
   * Path template of the endpoint whose chain is {@link InputConformance#chain()}: {@value
   * InputConformance#PATH}.
   */
  public static final String VALIDATE = InputConformance.PATH;
  /** Path of the unguarded endpoint. */
  public static final String OPEN = "/v1/open";
  /** The body cap of the {@code body-limit} chain. */
  public static final int BODY_LIMIT = 64;
  /** Text in the throwing policy's exception: it must never reach a client. */
  public static final String EXCEPTION_SECRET = "conformance-exception-text-must-not-leak";

  private final FakeClock clock = FakeClock.standard();
  private final AtomicInteger failures = new AtomicInteger();
  private final AtomicInteger outputRuns = new AtomicInteger();
  private final ModelGuard guard;
  private final String basicKey;
  private final String premiumKey;
  private final String revokedKey;
  private final String expiredKey;
  private final String unknownKey;
  private final String wrongSecretKey;

  private ConformanceFixture(Consumer<ModelGuard.Builder> customizer) {
    RandomSource random = RandomSource.seeded(20260101L);
    byte[] pepper = new byte[32];
    random.nextBytes(pepper);
    ApiKeyHasher hasher = ApiKeyHasher.withPepper(pepper);
    ApiKeyIssuer issuer = new ApiKeyIssuer(hasher, random, clock);
    InMemoryApiKeyStore store = new InMemoryApiKeyStore();

    var basic = issuer.issue(ApiKeyFormat.Environment.TEST, "client-basic", "acme", "basic", null);
    var premium = issuer.issue(ApiKeyFormat.Environment.TEST, "client-premium", "globex", "premium", null);
    var revoked = issuer.issue(ApiKeyFormat.Environment.TEST, "client-revoked", "acme", "premium", null);
    var expired = issuer.issue(ApiKeyFormat.Environment.TEST, "client-expired", "acme", "premium",
        clock.instant().minus(Duration.ofHours(1)));
    store.add(basic.record());
    store.add(premium.record());
    store.add(revoked.record());
    store.add(expired.record());
    store.revoke(revoked.record().keyId());
    basicKey = basic.key();
    premiumKey = premium.key();
    revokedKey = revoked.key();
    expiredKey = expired.key();
    unknownKey = issuer.issue(ApiKeyFormat.Environment.TEST, "never-stored", "x", "basic", null).key();
    String otherSecret = ApiKeyFormat.generate(ApiKeyFormat.Environment.TEST, random)
        .substring(8 + ApiKeyFormat.KEY_ID_LENGTH, 8 + ApiKeyFormat.KEY_ID_LENGTH + ApiKeyFormat.SECRET_LENGTH);
    wrongSecretKey = ApiKeyFormat.assemble(ApiKeyFormat.Environment.TEST, basic.record().keyId(), otherSecret);

    ApiKeyAuthenticator apiKeys = ApiKeyAuthenticator.builder(store, hasher).build();
    ModelAccessPolicy access = new ModelAccessPolicy();
    Consumer<PolicyChain.Builder> base = c -> c
        .policy(Phase.AUTHENTICATE, "api-key", apiKeys)
        .policy(Phase.AUTHORIZE, "model-access", access);
    ModelGuard.Builder builder = ModelGuard.builder()
        .clock(clock)
        .random(random)
        .models("digits", "iris", "image-classifier")
        .tier(Tier.builder("basic").models("digits").build())
        .tier(Tier.builder("premium").models("digits", "iris").build())
        .chain(ModelGuard.DEFAULT_CHAIN, base)
        .chain("failing", c -> {
          base.accept(c);
          c.policy(Phase.VALIDATE, "boom", ctx -> {
            failures.incrementAndGet();
            throw new IllegalStateException(EXCEPTION_SECRET);
          });
        })
        .chain("rewriting", c -> {
          base.accept(c);
          c.output(OutputPhase.PERTURB, "tag", ctx -> {
            outputRuns.incrementAndGet();
            String body = ctx.output().bodyAsString();
            return ModelOutput.json(body.substring(0, body.length() - 1) + ",\"perturbed\":true}");
          });
        })
        .chain(InputConformance.CHAIN, InputConformance.chain())
        .chain("body-limit", c -> {
          base.accept(c);
          c.policy(Phase.VALIDATE, "body-cap", ctx -> {
            try {
              ctx.request().body(BODY_LIMIT);
              return GuardDecision.allow();
            } catch (BodyTooLargeException e) {
              return GuardDecision.deny(ReasonCode.INPUT_TOO_LARGE);
            } catch (IOException e) {
              return GuardDecision.deny(ReasonCode.INPUT_MALFORMED);
            }
          });
        });
    customizer.accept(builder);
    guard = builder.build();
  }

  /** {@return the standard fixture} */
  public static ConformanceFixture create() {
    return new ConformanceFixture(b -> {});
  }

  /**
   * {@return the fixture with extra engine configuration (listeners, for instance)}
   *
   * @param customizer applied to the engine's builder after the fixture's own configuration; not
   *     null
   */
  public static ConformanceFixture create(Consumer<ModelGuard.Builder> customizer) {
    return new ConformanceFixture(customizer);
  }

  /**
   * {@return the body every prediction handler answers for {@code model}}
   *
   * @param model the model id the handler serves, put in the body as it is (not JSON-escaped)
   */
  public static String prediction(String model) {
    return "{\"model\":\"" + model + "\",\"label\":7}";
  }

  /**
   * {@link #prediction(String)} as UTF-8 bytes.
   *
   * @param model the model id the handler serves
   * @return the UTF-8 encoding of {@code prediction(model)}, a new array on every call
   */
  public static byte[] predictionBytes(String model) {
    return prediction(model).getBytes(StandardCharsets.UTF_8);
  }

  /** {@return the engine to deploy} */
  public ModelGuard guard() {
    return guard;
  }

  /** {@return the engine's clock} */
  public FakeClock clock() {
    return clock;
  }

  /** {@return a valid key of tier {@code basic} (model digits only)} */
  public String basicKey() {
    return basicKey;
  }

  /** {@return a valid key of tier {@code premium} (digits and iris)} */
  public String premiumKey() {
    return premiumKey;
  }

  /** {@return a well-formed key that was revoked} */
  public String revokedKey() {
    return revokedKey;
  }

  /** {@return a well-formed key that expired an hour ago} */
  public String expiredKey() {
    return expiredKey;
  }

  /** {@return a well-formed key with a valid checksum that was never stored} */
  public String unknownKey() {
    return unknownKey;
  }

  /** {@return the basic key's id with another secret (valid checksum): must not authenticate} */
  public String wrongSecretKey() {
    return wrongSecretKey;
  }

  /** {@return how many times the throwing policy ran} */
  public int failures() {
    return failures.get();
  }

  /** {@return how many times the rewriting output policy ran} */
  public int outputRuns() {
    return outputRuns.get();
  }
}
