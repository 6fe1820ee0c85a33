package io.modelguard.examples.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import io.modelguard.input.FetchedInputs;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/models/{model}/predict} without a web framework: one prediction from the request's
 * model id, content type, body and the image ModelGuard fetched, answered as a JSON body or a
 * refusal. The servlet ({@code PredictServlet}) and the JAX-RS resource ({@code ModelsResource})
 * only copy the answer to their response, so both variants answer byte for byte alike.
 *
 * <pre>
 * digits:           {"pixels":[64 numbers 0..16]} → {"model":"digits","label":3,"probabilities":[10 numbers]}
 * iris:             {"features":[4 numbers, cm]}  → {"model":"iris","label":0,"probabilities":[3 numbers]}
 * image-classifier: {"imageUrl":"https://..."}    → {"model":"image-classifier","label":7,"probabilities":[10 numbers]}
 *   behind a gateway: {"image":{"contentType":"image/png","base64":"..."}} (ForwardedImage), the same answer
 * sentiment:        {"text":"Great service"}       → {"model":"sentiment","label":"positive","probabilities":[negative, positive]}
 * </pre>
 *
 * <p>ModelGuard has validated the input against the model's {@link io.modelguard.input.ModelSpec}
 * before this runs; the handler still checks what it parses as a second line of defence, in the
 * same problem form: {@code 415 input.unsupported_media_type} (not JSON), {@code 413
 * input.too_large} (over the model's cap, declared or read), {@code 400 input.malformed} (not
 * parseable), {@code 422 input.invalid} (wrong shape or range; the detail names the field). It
 * reads at most the cap plus one byte. {@code image-classifier} is classified from the bytes
 * ModelGuard fetched and checked ({@link FetchedInputs}), never by fetching the URL itself; without
 * them it refuses with {@code 500 internal.error}. A model server behind the gateway ({@link
 * ImageSource#FORWARDED}) takes those bytes from the body instead, in {@link ForwardedImage}'s
 * form (at most {@value ForwardedImage#MAX_BODY_BYTES} bytes), and refuses any other body, an
 * image URL included, with {@code 422 input.invalid}: it fetches nothing either. Parser and
 * decoder messages never reach the client. Thread-safe.
 */
public final class Predictions {
  private static final Logger log = LoggerFactory.getLogger(Predictions.class);
  private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder()
              .maxNestingDepth(8)
              .maxNumberLength(64)
              .maxStringLength(1024)
              .build())
          .build())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .build();

  private final ModelCatalog models;
  private final ImageSource images;

  /**
   * Where {@value ModelCatalog#IMAGE_CLASSIFIER} takes the image it classifies from. Neither ever
   * fetches the image URL.
   */
  public enum ImageSource {
    /**
     * The bytes ModelGuard fetched and checked for this request ({@link FetchedInputs}, a request
     * attribute): a server with ModelGuard in front of it, such as the demo.
     */
    FETCHED,
    /**
     * The request body, in {@link ForwardedImage}'s form: a model server behind the gateway, which
     * fetched and checked the image at the edge and forwards its bytes.
     */
    FORWARDED
  }

  /** Predicts with the models of {@code models}; images as ModelGuard fetched them ({@link ImageSource#FETCHED}). */
  public Predictions(ModelCatalog models) {
    this(models, ImageSource.FETCHED);
  }

  /** Predicts with the models of {@code models}, {@value ModelCatalog#IMAGE_CLASSIFIER}'s image from {@code images}. */
  public Predictions(ModelCatalog models, ImageSource images) {
    this.models = Objects.requireNonNull(models, "models");
    this.images = Objects.requireNonNull(images, "images");
  }

  /**
   * What a prediction request comes to: a JSON body ({@code 200}), a refusal rendered like
   * ModelGuard's, or no such model ({@code 404}).
   */
  public static final class Answer {
    private static final Answer NOT_FOUND = new Answer(null, null);

    private final byte[] json;
    private final GuardDecision refusal;

    private Answer(byte[] json, GuardDecision refusal) {
      this.json = json;
      this.refusal = refusal;
    }

    /** The {@code application/json} body of a prediction. */
    public Optional<byte[]> json() {
      return Optional.ofNullable(json).map(byte[]::clone);
    }

    /** The refusal, to render with {@link io.modelguard.problem.ProblemRenderer}. */
    public Optional<GuardDecision> refusal() {
      return Optional.ofNullable(refusal);
    }

    /** True for a model the demo does not serve. */
    public boolean notFound() {
      return json == null && refusal == null;
    }

    static Answer refuse(ReasonCode reason, String detail) {
      return new Answer(null, detail == null ? GuardDecision.deny(reason) : GuardDecision.deny(reason, detail));
    }
  }

  /** The body of a successful prediction. */
  record Prediction(String model, int label, double[] probabilities) {}

  /** The body of a successful prediction whose classes have names (sentiment). */
  record NamedPrediction(String model, String label, double[] probabilities) {}

  /**
   * Answers one request.
   *
   * @param model the {@code {model}} path segment
   * @param contentType the request's {@code Content-Type}, or null
   * @param declaredLength the request's {@code Content-Length}, or -1
   * @param body the request body; read at most up to the model's cap plus one byte
   * @param fetched what ModelGuard fetched for the request (the request attribute {@value
   *     FetchedInputs#ATTRIBUTE}), or null; ignored with {@link ImageSource#FORWARDED}
   * @throws IOException if reading the body failed
   */
  public Answer predict(String model, String contentType, long declaredLength, InputStream body, Object fetched)
      throws IOException {
    boolean image = ModelCatalog.IMAGE_CLASSIFIER.equals(model);
    if (image && images == ImageSource.FETCHED) {
      return predictImage(fetched);
    }
    boolean text = ModelCatalog.SENTIMENT.equals(model);
    Optional<ModelCatalog.ServedModel> served = text || image ? Optional.empty() : models.get(model);
    if (!text && !image && served.isEmpty()) {
      return Answer.NOT_FOUND;
    }
    if (!isJson(contentType)) {
      return Answer.refuse(ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE, "Send the input as application/json.");
    }
    int cap = text ? ModelCatalog.TEXT_REQUEST_MAX_BODY_BYTES
        : image ? ForwardedImage.MAX_BODY_BYTES : ModelCatalog.MAX_BODY_BYTES;
    if (declaredLength > cap) {
      return Answer.refuse(ReasonCode.INPUT_TOO_LARGE, null);
    }
    byte[] bytes = body.readNBytes(cap + 1);
    if (bytes.length > cap) {
      return Answer.refuse(ReasonCode.INPUT_TOO_LARGE, null);
    }
    if (image) {
      return predictForwardedImage(bytes);
    }
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (JsonProcessingException e) {
      return Answer.refuse(ReasonCode.INPUT_MALFORMED, null);
    }
    return text ? predictSentiment(root) : predictNumbers(served.get(), root);
  }

  private Answer predictNumbers(ModelCatalog.ServedModel model, JsonNode root) {
    InputSpec spec = model.input();
    if (root == null || !root.isObject() || root.size() != 1 || !root.has(spec.field())) {
      return Answer.refuse(ReasonCode.INPUT_INVALID,
          "The body must be a JSON object with exactly one field, '" + spec.field() + "'.");
    }
    Optional<double[]> features = numbers(root.get(spec.field()), spec);
    if (features.isEmpty()) {
      return Answer.refuse(ReasonCode.INPUT_INVALID, capitalized(spec.requirement()) + ".");
    }
    return prediction(model.id(), model.classifier().predictProba(features.get()));
  }

  private Answer predictSentiment(JsonNode root) {
    JsonNode text = root != null && root.isObject() && root.size() == 1 ? root.get(ModelCatalog.TEXT_FIELD) : null;
    if (text == null || !text.isTextual() || text.asText().isEmpty()
        || text.asText().codePointCount(0, text.asText().length()) > ModelCatalog.TEXT_MAX_LENGTH) {
      return Answer.refuse(ReasonCode.INPUT_INVALID, "The body must be a JSON object with exactly one field, '"
          + ModelCatalog.TEXT_FIELD + "': a string of 1 to " + ModelCatalog.TEXT_MAX_LENGTH + " characters.");
    }
    double[] p = models.sentiment().predictProba(text.asText());
    String label = SentimentModel.LABELS.get(SoftmaxRegression.argMax(p));
    return json(new NamedPrediction(ModelCatalog.SENTIMENT, label, rounded(p)));
  }

  private Answer predictImage(Object attribute) {
    Optional<FetchedInputs.FetchedImage> fetched = attribute instanceof FetchedInputs
        ? ((FetchedInputs) attribute).image(ModelCatalog.IMAGE_URL_FIELD)
        : Optional.empty();
    if (fetched.isEmpty()) {
      log.error("POST {}: no fetched image in request attribute {}; is ModelGuard with a ModelInputPolicy "
          + "in front of this endpoint? Refusing.", ModelCatalog.IMAGE_CLASSIFIER, FetchedInputs.ATTRIBUTE);
      return Answer.refuse(ReasonCode.INTERNAL_ERROR, null);
    }
    return classifyImage(fetched.get().bytes());
  }

  /** {@value ModelCatalog#IMAGE_CLASSIFIER} behind the gateway: the image's bytes from the body. */
  private Answer predictForwardedImage(byte[] body) throws IOException {
    Optional<byte[]> image;
    try {
      image = ForwardedImage.read(body);
    } catch (JsonProcessingException e) {
      return Answer.refuse(ReasonCode.INPUT_MALFORMED, null);
    }
    if (image.isEmpty()) {
      return Answer.refuse(ReasonCode.INPUT_INVALID, "The body must be a JSON object with exactly one field, '"
          + ForwardedImage.FIELD + "': the contentType and base64 of an image the gateway fetched; this server "
          + "fetches no URL.");
    }
    return classifyImage(image.get());
  }

  /**
   * Classifies the image ModelGuard fetched (at this server's edge or the gateway's); its refusals
   * name the client's field, {@value ModelCatalog#IMAGE_URL_FIELD}, so that both answer alike.
   */
  private Answer classifyImage(byte[] bytes) {
    String field = "Field '" + ModelCatalog.IMAGE_URL_FIELD + "': ";
    BufferedImage image;
    try {
      image = ModelCatalog.IMAGE_SPEC.decode(bytes);
    } catch (IllegalArgumentException e) {
      // The spec's message names the rule the image breaks and is client-safe.
      return Answer.refuse(ReasonCode.INPUT_INVALID,
          field + e.getMessage().replaceFirst("^The image", "the fetched image"));
    } catch (IOException | RuntimeException e) {
      // A decoder's message may describe the content: log the type only, answer a fixed text.
      log.debug("POST {}: the fetched image could not be decoded ({})", ModelCatalog.IMAGE_CLASSIFIER,
          e.getClass().getSimpleName());
      return Answer.refuse(ReasonCode.INPUT_INVALID, field + "the fetched image could not be decoded.");
    }
    return prediction(ModelCatalog.IMAGE_CLASSIFIER, models.classifyDigitImage(image));
  }

  /**
   * The JSON body of a prediction: {@code {"model":...,"label":argmax,"probabilities":[...]}},
   * probabilities rounded to six decimals.
   */
  public static byte[] predictionJson(String model, double[] probabilities) {
    return bytes(new Prediction(model, SoftmaxRegression.argMax(probabilities), rounded(probabilities)));
  }

  private static Answer prediction(String model, double[] probabilities) {
    return new Answer(predictionJson(model, probabilities), null);
  }

  private static Answer json(Object body) {
    return new Answer(bytes(body), null);
  }

  private static byte[] bytes(Object body) {
    try {
      return JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Six decimals: more would say nothing useful and only help a model-extraction attacker. */
  private static double[] rounded(double[] probabilities) {
    double[] rounded = new double[probabilities.length];
    for (int i = 0; i < rounded.length; i++) {
      rounded[i] = Math.round(probabilities[i] * 1e6) / 1e6;
    }
    return rounded;
  }

  private static Optional<double[]> numbers(JsonNode node, InputSpec spec) {
    if (node == null || !node.isArray() || node.size() != spec.length()) {
      return Optional.empty();
    }
    double[] out = new double[spec.length()];
    Iterator<JsonNode> it = node.elements();
    for (int i = 0; it.hasNext(); i++) {
      JsonNode n = it.next();
      if (!n.isNumber()) {
        return Optional.empty();
      }
      double v = n.asDouble();
      if (!Double.isFinite(v) || v < spec.min() || v > spec.max()) {
        return Optional.empty();
      }
      out[i] = v;
    }
    return Optional.of(out);
  }

  /** True for {@code application/json} and {@code application/*+json}, parameters ignored. */
  public static boolean isJson(String contentType) {
    if (contentType == null) {
      return false;
    }
    String type = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    return type.equals("application/json") || (type.startsWith("application/") && type.endsWith("+json"));
  }

  private static String capitalized(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }
}
