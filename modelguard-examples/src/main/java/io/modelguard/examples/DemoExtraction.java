package io.modelguard.examples;

import io.lettuce.core.RedisURI;
import io.lettuce.core.resource.ClientResources;
import io.modelguard.InferenceRequest;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.PolicyChain;
import io.modelguard.RandomSource;
import io.modelguard.examples.model.DigitImages;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.extraction.ExtractionDefence;
import io.modelguard.extraction.ExtractionEvent;
import io.modelguard.extraction.NoiseKeys;
import io.modelguard.extraction.Perturbation;
import io.modelguard.extraction.PredictionCodec;
import io.modelguard.extraction.QueryEncoder;
import io.modelguard.extraction.RiskLevel;
import io.modelguard.input.FetchedInputs;
import io.modelguard.input.RequestAttributes;
import io.modelguard.internal.LogText;
import io.modelguard.redis.RedisRiskExchange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's model-extraction defence, on by default in the default chain.
 *
 * <ul>
 *   <li>{@code digits}: the library's default detectors (PRADA, Blacklight-style hashing, coverage
 *       monitor) and graduated response, fed with the request's {@code /pixels} and the response's
 *       probabilities ({@link PredictionCodec#standard()}). Phase {@link Phase#DETECT} refuses
 *       throttled ({@code 429 quota.exceeded}) and blocked ({@code 403 extraction.blocked}) clients;
 *       {@link OutputPhase#OBSERVE} feeds the detectors; {@link OutputPhase#PERTURB} rewrites the
 *       probabilities: keyed noise (rounded to the 6 decimals of every answer) or misinformation
 *       (the least likely class, confidences keyed by the query) for a flagged client. (Tier {@code free}'s cut to the top
 *       three probabilities comes after it: {@link TierFidelity}.)
 *   <li>{@code image-classifier}: the same {@code digits} model behind an image URL, under the same
 *       defence: its queries are the 8×8 grey levels of the image ModelGuard fetched and checked
 *       ({@link FetchedInputs}, reduced exactly as the model sees it), so a client's queries count
 *       together whichever of the two endpoints they go to, and a client throttled or blocked on
 *       one is refused on the other.
 *   <li>{@code iris}: not defended (four measurements in centimetres; the default hashing step
 *       suits 0..16 pixel values, not them).
 * </ul>
 *
 * <p>One chain serves every model, so each policy is wrapped to apply only to its own model
 * ({@code endpoint().model()}). Detections are logged through SLF4J (a WARN line per level
 * change, naming the client, the detector and the levels); the risk level never reaches the
 * client, in a header or a field.
 *
 * <p>With {@code --redis-url}, the levels are shared with every instance on the same Redis ({@link
 * RedisRiskExchange}, label {@value ModelCatalog#DIGITS}): a client blocked on one instance is
 * blocked on all. Each instance's detectors still see only the queries it serves. Closing this
 * closes the defence (it leaves the exchange) and then the exchange.
 */
final class DemoExtraction implements AutoCloseable {
  /** The most of a request body the encoder reads (the digits input limit). */
  private static final int MAX_BODY_BYTES = 16 * 1024;

  private static final Logger log = LoggerFactory.getLogger(DemoExtraction.class);

  /** How long start-up waits for the risk exchange to connect to Redis and subscribe. */
  private static final Duration EXCHANGE_READY = Duration.ofSeconds(2);

  private final ExtractionDefence digits;
  /** The exchange sharing the levels with other instances, if any; closed with this. */
  private final RedisRiskExchange exchange;

  private DemoExtraction(ExtractionDefence digits, RedisRiskExchange exchange) {
    this.digits = digits;
    this.exchange = exchange;
  }

  /**
   * The defence keyed by {@code keys} {@link NoiseKeys#derive derived} under the model's name
   * ({@value ModelCatalog#DIGITS}), decaying and throttling on {@code clock}: a defence for another
   * model on the same keys, derived under its own name, draws independent noise, so a client asking
   * both cannot cancel it in the difference of their answers. Both endpoints of {@code digits}
   * share this one defence, and so its noise: the same model, one history and one noise per input.
   * Level changes are logged here at WARN; every detection also reaches the engine's listeners
   * (metrics, the JSON audit log) as an {@link io.modelguard.event.ExtractionDetectionEvent}.
   */
  static DemoExtraction create(NoiseKeys keys, Clock clock) {
    return new DemoExtraction(builder(keys, clock).build(), null);
  }

  /**
   * {@link #create}, sharing the levels through Redis when {@code settings} name one ({@code
   * --redis-url}, the quota store's Redis): start-up waits up to two seconds for the exchange to
   * subscribe, and otherwise starts anyway (it connects in the background; raises meanwhile stay on
   * their instance).
   */
  static DemoExtraction open(NoiseKeys keys, Clock clock, QuotaSettings settings) {
    return open(keys, clock, settings, Optional.empty());
  }

  /**
   * {@link #open(NoiseKeys, Clock, QuotaSettings)}, the exchange's Redis client running on {@code
   * resources} if given (the quota store's: {@link QuotaBackend#redisResources}), which closing
   * this leaves running for their owner to shut down.
   */
  static DemoExtraction open(NoiseKeys keys, Clock clock, QuotaSettings settings, Optional<ClientResources> resources) {
    Optional<String> url = settings.redisUrl();
    if (url.isEmpty()) {
      return create(keys, clock);
    }
    String where = QuotaSettings.describeRedis(url.get());
    RedisRiskExchange.Builder builder = RedisRiskExchange.builder(RedisURI.create(url.get()));
    resources.ifPresent(builder::clientResources);
    RedisRiskExchange exchange = builder.build();
    try {
      ExtractionDefence digits = builder(keys, clock).exchange(exchange, ModelCatalog.DIGITS).build();
      if (exchange.awaitReady(EXCHANGE_READY)) {
        log.info("Extraction risk levels are shared through Redis at {} (channel {})", where,
            RedisRiskExchange.DEFAULT_CHANNEL);
      } else {
        log.warn("Redis at {} did not answer the extraction risk exchange within {} s: starting anyway; levels "
            + "are shared once it answers", where, EXCHANGE_READY.toSeconds());
      }
      return new DemoExtraction(digits, exchange);
    } catch (RuntimeException e) {
      exchange.close();
      throw e;
    }
  }

  /** The demo's defence of {@code digits}, before {@link ExtractionDefence.Builder#build}. */
  private static ExtractionDefence.Builder builder(NoiseKeys keys, Clock clock) {
    return ExtractionDefence.builder(keys.derive(ModelCatalog.DIGITS), 10)
        .clock(clock)
        // Keyed noise and misinformation rounded to the servlet's 6 decimals: the precision of an
        // answer does not show the level.
        .levelPerturbation(RiskLevel.PERTURB, Perturbation.gaussianNoise(0.2).then(Perturbation.rounding(6)))
        .levelPerturbation(RiskLevel.MISINFORM, Perturbation.misinformation().then(Perturbation.rounding(6)))
        .levelPerturbation(RiskLevel.THROTTLE, Perturbation.misinformation().then(Perturbation.rounding(6)))
        .levelPerturbation(RiskLevel.BLOCK, Perturbation.misinformation().then(Perturbation.rounding(6)))
        .listener(e -> logEvent(ModelCatalog.DIGITS, e));
  }

  /** Closes the defence, so that it leaves the risk exchange, then the exchange, if any; idempotent. */
  @Override
  public void close() {
    try {
      digits.close();
    } finally {
      if (exchange != null) {
        exchange.close();
      }
    }
  }

  /** The exchange sharing the levels through Redis; empty without {@code --redis-url}. */
  Optional<RedisRiskExchange> exchange() {
    return Optional.ofNullable(exchange);
  }

  /** The defence of {@code digits} (for tests and metrics). */
  ExtractionDefence digits() {
    return digits;
  }

  /** Adds the DETECT, OBSERVE and PERTURB policies to {@code chain}. */
  void addTo(PolicyChain.Builder chain) {
    QueryEncoder pixels = QueryEncoder.jsonNumbers("/pixels");
    // A rewritten answer keeps its model name; anything else the model might add is dropped.
    // image-classifier answers as digits does.
    PredictionCodec codec = ModelCatalog.codec(ModelCatalog.DIGITS).orElseThrow();
    QueryEncoder image = new FetchedImageEncoder();
    chain.policy(Phase.DETECT, "extraction-detect-digits",
            digits.requestPolicy().forModels(ModelCatalog.DIGITS, ModelCatalog.IMAGE_CLASSIFIER))
        .output(OutputPhase.OBSERVE, "extraction-observe-digits",
            digits.observePolicy(pixels, codec, MAX_BODY_BYTES).forModels(ModelCatalog.DIGITS))
        .output(OutputPhase.OBSERVE, "extraction-observe-image-classifier",
            digits.observePolicy(image, codec, MAX_BODY_BYTES).forModels(ModelCatalog.IMAGE_CLASSIFIER))
        .output(OutputPhase.PERTURB, "extraction-perturb-digits",
            digits.perturbPolicy(pixels, codec, MAX_BODY_BYTES).forModels(ModelCatalog.DIGITS))
        .output(OutputPhase.PERTURB, "extraction-perturb-image-classifier",
            digits.perturbPolicy(image, codec, MAX_BODY_BYTES).forModels(ModelCatalog.IMAGE_CLASSIFIER));
  }

  /**
   * The features of an {@code image-classifier} query: the fetched image reduced to the 64 grey
   * levels the digits model classifies ({@link DigitImages#toPixels}). Empty without a fetched
   * image or for one that does not decode (the handler refuses those anyway).
   */
  static final class FetchedImageEncoder implements QueryEncoder {
    @Override
    public Optional<double[]> encode(byte[] body) {
      return Optional.empty();
    }

    @Override
    public Optional<double[]> encode(InferenceRequest request, int maxBodyBytes) {
      if (!(request instanceof RequestAttributes attributes)) {
        return Optional.empty();
      }
      Optional<FetchedInputs.FetchedImage> fetched = FetchedInputs.from(attributes)
          .flatMap(f -> f.image(ModelCatalog.IMAGE_URL_FIELD));
      if (fetched.isEmpty()) {
        return Optional.empty();
      }
      try {
        return Optional.of(DigitImages.toPixels(ModelCatalog.IMAGE_SPEC.decode(fetched.get().bytes())));
      } catch (IOException | RuntimeException e) {
        return Optional.empty();
      }
    }
  }

  /**
   * One WARN line per level change a detector made; other detections, and levels other instances'
   * raises made, at DEBUG (the library logs the latter at INFO, at most once a minute: whoever can
   * publish on the exchange names the clients, so a line each is not paced by any client's queries).
   * Never input data or keys.
   */
  private static void logEvent(String model, ExtractionEvent e) {
    if (e.source() == ExtractionEvent.Source.EXCHANGE) {
      // The key came over the wire: cut and stripped of controls, as the library logs it.
      log.debug("Extraction risk of client {} on model {} raised from {} to {} by a level another instance shared",
          LogText.oneLine(e.client(), 256), model, e.from(), e.to());
    } else if (e.from() != e.to()) {
      log.warn("Extraction risk of client {} on model {} changed from {} to {}: flagged by detector {} "
          + "at its query {}", e.client(), model, e.from(), e.to(), e.detector(), e.query());
    } else if (log.isDebugEnabled()) {
      log.debug("Extraction detector {} flagged client {} on model {} at its query {} (level {})", e.detector(),
          e.client(), model, e.query(), e.to());
    }
  }

  /**
   * The noise secret: from {@code --extraction-secret-file}, else {@value
   * AppOptions#EXTRACTION_SECRET_ENV}, else {@value NoiseKeys#MIN_SECRET_BYTES} random bytes for
   * this run. Base64 (standard or URL-safe alphabet), at least {@value NoiseKeys#MIN_SECRET_BYTES}
   * bytes once decoded. Never logged.
   *
   * @throws StartupException naming the flag or variable if the secret cannot be read or is too short
   */
  static NoiseKeys loadKeys(AppOptions options, RandomSource random) throws StartupException {
    byte[] secret;
    Optional<Path> file = options.extractionSecretFile();
    Optional<String> env = options.extractionSecretFromEnv();
    if (file.isPresent()) {
      String text;
      try {
        text = Files.readString(file.get(), StandardCharsets.US_ASCII);
      } catch (IOException e) {
        throw new StartupException("--extraction-secret-file " + file.get() + ": cannot read ("
            + e.getClass().getSimpleName() + ")", e);
      }
      secret = decode(text, "--extraction-secret-file " + file.get());
      log.info("Using the extraction-defence noise secret from --extraction-secret-file");
    } else if (env.isPresent()) {
      secret = decode(env.get(), AppOptions.EXTRACTION_SECRET_ENV);
      log.info("Using the extraction-defence noise secret from ${}", AppOptions.EXTRACTION_SECRET_ENV);
    } else {
      secret = new byte[NoiseKeys.MIN_SECRET_BYTES];
      random.nextBytes(secret);
      log.info("No --extraction-secret-file or ${} given: generated a random extraction-defence noise secret "
          + "for this run (perturbed answers will differ after a restart)", AppOptions.EXTRACTION_SECRET_ENV);
    }
    try {
      return NoiseKeys.withSecret(secret);
    } finally {
      Arrays.fill(secret, (byte) 0);
    }
  }

  private static byte[] decode(String text, String source) throws StartupException {
    String trimmed = text.strip();
    byte[] secret;
    try {
      secret = trimmed.indexOf('-') >= 0 || trimmed.indexOf('_') >= 0
          ? Base64.getUrlDecoder().decode(trimmed)
          : Base64.getDecoder().decode(trimmed);
    } catch (IllegalArgumentException e) {
      // The decoder's message quotes an offending character: leave it out.
      throw new StartupException(source + ": the extraction secret must be base64");
    }
    if (secret.length < NoiseKeys.MIN_SECRET_BYTES) {
      int length = secret.length;
      Arrays.fill(secret, (byte) 0);
      throw new StartupException(source + ": the extraction secret must decode to at least "
          + NoiseKeys.MIN_SECRET_BYTES + " bytes, got " + length);
    }
    return secret;
  }
}
