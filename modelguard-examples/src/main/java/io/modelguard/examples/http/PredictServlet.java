package io.modelguard.examples.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.modelguard.ModelSecured;
import io.modelguard.PathTemplate;
import io.modelguard.ReasonCode;
import io.modelguard.examples.model.InputSpec;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.examples.model.SentimentModel;
import io.modelguard.examples.model.SoftmaxRegression;
import io.modelguard.input.FetchedInputs;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/models/{model}/predict}: runs one prediction.
 *
 * <pre>
 * digits:           {"pixels":[64 numbers 0..16]} → {"model":"digits","label":3,"probabilities":[10 numbers]}
 * iris:             {"features":[4 numbers, cm]}  → {"model":"iris","label":0,"probabilities":[3 numbers]}
 * image-classifier: {"imageUrl":"https://..."}    → {"model":"image-classifier","label":7,"probabilities":[10 numbers]}
 * sentiment:        {"text":"Great service"}       → {"model":"sentiment","label":"positive","probabilities":[negative, positive]}
 * </pre>
 *
 * <p>Guarded by the {@code default} chain: ModelGuard authenticates the caller, checks that the
 * caller's tier grants the model, and validates the input against the model's {@link
 * io.modelguard.input.ModelSpec} ({@link ModelCatalog#inputSpecs()}) before this servlet runs. For
 * {@code image-classifier} it also fetches the image URL through its SSRF-safe fetcher and checks
 * the image's header; the servlet uses exactly those bytes ({@link FetchedInputs}, a request
 * attribute) and never fetches the URL itself. It decodes them with {@link ModelCatalog#IMAGE_SPEC},
 * reduces the image to 8×8 grey levels ({@link io.modelguard.examples.model.DigitImages}) and
 * classifies it with the digits model; an image that passes the header checks but cannot be
 * decoded is {@code 422 input.invalid}.
 *
 * <p>For digits and iris the servlet still checks its own input as a second line of defence (it
 * must parse the body anyway), answering in the same problem form as ModelGuard: {@code 415
 * input.unsupported_media_type} (not JSON), {@code 413 input.too_large} (over {@value
 * #MAX_BODY_BYTES} bytes), {@code 400 input.malformed} (not parseable), {@code 422 input.invalid}
 * (wrong shape or range; the detail names the field). Parser and decoder messages never reach the
 * client. Thread-safe.
 */
@ModelSecured(model = "{model}", path = PredictServlet.PATH)
public final class PredictServlet extends HttpServlet {
  /** The path template, relative to the context path. */
  public static final String PATH = "/v1/models/{model}/predict";
  /** The largest request body accepted for digits and iris; a digits request is well under 1 KiB. */
  public static final int MAX_BODY_BYTES = ModelCatalog.MAX_BODY_BYTES;

  private static final long serialVersionUID = 1L;
  private static final Logger log = LoggerFactory.getLogger(PredictServlet.class);
  private static final PathTemplate TEMPLATE = PathTemplate.compile(PATH);
  private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder()
              .maxNestingDepth(8)
              .maxNumberLength(64)
              .maxStringLength(1024)
              .build())
          .build())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .build();

  private final transient ModelCatalog models;

  /** Serves the models of {@code models}. */
  public PredictServlet(ModelCatalog models) {
    this.models = Objects.requireNonNull(models, "models");
  }

  /** The body of a successful prediction. */
  record Prediction(String model, int label, double[] probabilities) {}

  /** The body of a successful prediction whose classes have names (sentiment). */
  record NamedPrediction(String model, String label, double[] probabilities) {}

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    Optional<String> id = modelId(request);
    if (id.isPresent() && id.get().equals(ModelCatalog.IMAGE_CLASSIFIER)) {
      predictImage(request, response);
      return;
    }
    if (id.isPresent() && id.get().equals(ModelCatalog.SENTIMENT)) {
      predictSentiment(request, response);
      return;
    }
    Optional<ModelCatalog.ServedModel> model = id.flatMap(models::get);
    if (model.isEmpty()) {
      response.sendError(HttpServletResponse.SC_NOT_FOUND);
      return;
    }
    InputSpec spec = model.get().input();
    if (!isJson(request.getContentType())) {
      Problems.send(response, ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE, "Send the input as application/json.");
      return;
    }
    Optional<JsonNode> parsed = JsonBodies.read(request, response, JSON, MAX_BODY_BYTES);
    if (parsed.isEmpty()) {
      return;
    }
    JsonNode root = parsed.get();
    if (root == null || !root.isObject() || root.size() != 1 || !root.has(spec.field())) {
      Problems.send(response, ReasonCode.INPUT_INVALID,
          "The body must be a JSON object with exactly one field, '" + spec.field() + "'.");
      return;
    }
    Optional<double[]> features = numbers(root.get(spec.field()), spec);
    if (features.isEmpty()) {
      Problems.send(response, ReasonCode.INPUT_INVALID, capitalized(spec.requirement()) + ".");
      return;
    }
    writePrediction(response, model.get().id(), model.get().classifier().predictProba(features.get()));
  }

  /** {@code image-classifier}: classifies the image ModelGuard fetched and checked. */
  private void predictImage(HttpServletRequest request, HttpServletResponse response) throws IOException {
    Object attribute = request.getAttribute(FetchedInputs.ATTRIBUTE);
    Optional<FetchedInputs.FetchedImage> fetched = attribute instanceof FetchedInputs
        ? ((FetchedInputs) attribute).image(ModelCatalog.IMAGE_URL_FIELD)
        : Optional.empty();
    if (fetched.isEmpty()) {
      log.error("POST {}: no fetched image in request attribute {}; is ModelGuardFilter with a ModelInputPolicy "
          + "in front of this servlet? Refusing.", ModelCatalog.IMAGE_CLASSIFIER, FetchedInputs.ATTRIBUTE);
      Problems.send(response, ReasonCode.INTERNAL_ERROR);
      return;
    }
    String field = "Field '" + ModelCatalog.IMAGE_URL_FIELD + "': ";
    BufferedImage image;
    try {
      image = ModelCatalog.IMAGE_SPEC.decode(fetched.get().bytes());
    } catch (IllegalArgumentException e) {
      // The spec's message names the rule the image breaks and is client-safe.
      Problems.send(response, ReasonCode.INPUT_INVALID, field + e.getMessage().replaceFirst("^The image", "the fetched image"));
      return;
    } catch (IOException | RuntimeException e) {
      // A decoder's message may describe the content: log the type only, answer a fixed text.
      log.debug("POST {}: the fetched image could not be decoded ({})", ModelCatalog.IMAGE_CLASSIFIER,
          e.getClass().getSimpleName());
      Problems.send(response, ReasonCode.INPUT_INVALID, field + "the fetched image could not be decoded.");
      return;
    }
    writePrediction(response, ModelCatalog.IMAGE_CLASSIFIER, models.classifyDigitImage(image));
  }

  /**
   * {@code sentiment}: ModelGuard checked the text against {@link ModelCatalog#TEXT_SPEC}; the
   * servlet checks shape and length again, as for the numeric models.
   */
  private void predictSentiment(HttpServletRequest request, HttpServletResponse response) throws IOException {
    if (!isJson(request.getContentType())) {
      Problems.send(response, ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE, "Send the input as application/json.");
      return;
    }
    Optional<JsonNode> parsed = JsonBodies.read(request, response, JSON, ModelCatalog.TEXT_REQUEST_MAX_BODY_BYTES);
    if (parsed.isEmpty()) {
      return;
    }
    JsonNode root = parsed.get();
    JsonNode text = root != null && root.isObject() && root.size() == 1 ? root.get(ModelCatalog.TEXT_FIELD) : null;
    if (text == null || !text.isTextual() || text.asText().isEmpty()
        || text.asText().codePointCount(0, text.asText().length()) > ModelCatalog.TEXT_MAX_LENGTH) {
      Problems.send(response, ReasonCode.INPUT_INVALID, "The body must be a JSON object with exactly one field, '"
          + ModelCatalog.TEXT_FIELD + "': a string of 1 to " + ModelCatalog.TEXT_MAX_LENGTH + " characters.");
      return;
    }
    double[] p = models.sentiment().predictProba(text.asText());
    String label = SentimentModel.LABELS.get(SoftmaxRegression.argMax(p));
    write(response, new NamedPrediction(ModelCatalog.SENTIMENT, label, rounded(p)));
  }

  private static void writePrediction(HttpServletResponse response, String model, double[] probabilities)
      throws IOException {
    write(response, new Prediction(model, SoftmaxRegression.argMax(probabilities), rounded(probabilities)));
  }

  /** Six decimals: more would say nothing useful and only help a model-extraction attacker. */
  private static double[] rounded(double[] probabilities) {
    double[] rounded = new double[probabilities.length];
    for (int i = 0; i < rounded.length; i++) {
      rounded[i] = Math.round(probabilities[i] * 1e6) / 1e6;
    }
    return rounded;
  }

  private static void write(HttpServletResponse response, Object prediction) throws IOException {
    byte[] out = JSON.writeValueAsBytes(prediction);
    response.setStatus(HttpServletResponse.SC_OK);
    response.setContentType("application/json");
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(out.length);
    response.getOutputStream().write(out);
  }

  private static Optional<String> modelId(HttpServletRequest request) {
    String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
    return TEMPLATE.match(path).map(v -> v.get("model"));
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

  private static boolean isJson(String contentType) {
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
