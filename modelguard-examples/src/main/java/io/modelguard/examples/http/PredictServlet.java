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

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    Optional<String> id = modelId(request);
    if (id.isPresent() && id.get().equals(ModelCatalog.IMAGE_CLASSIFIER)) {
      predictImage(request, response);
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

  private static void writePrediction(HttpServletResponse response, String model, double[] probabilities)
      throws IOException {
    byte[] out = predictionJson(model, probabilities);
    response.setStatus(HttpServletResponse.SC_OK);
    response.setContentType("application/json");
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(out.length);
    response.getOutputStream().write(out);
  }

  /**
   * The body of a successful prediction, {@code {"model":…,"label":…,"probabilities":[…]}} with
   * probabilities rounded to 6 decimals (shared with the JAX-RS variant, so both answer the same bytes).
   */
  public static byte[] predictionJson(String model, double[] probabilities) throws IOException {
    double[] rounded = new double[probabilities.length];
    for (int i = 0; i < rounded.length; i++) {
      rounded[i] = Math.round(probabilities[i] * 1e6) / 1e6;
    }
    return JSON.writeValueAsBytes(new Prediction(model, SoftmaxRegression.argMax(probabilities), rounded));
  }

  /** Parses a request body with this servlet's parser limits (nesting, number and string lengths, no duplicate fields). */
  public static JsonNode parse(byte[] body) throws IOException {
    return JSON.readTree(body);
  }

  private static Optional<String> modelId(HttpServletRequest request) {
    String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
    return TEMPLATE.match(path).map(v -> v.get("model"));
  }

  /** The numbers of {@code node} if it is the array {@code spec} asks for (length, finite, in range). */
  public static Optional<double[]> numbers(JsonNode node, InputSpec spec) {
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

  /** Whether {@code contentType} is JSON ({@code application/json} or {@code application/*+json}). */
  public static boolean isJson(String contentType) {
    if (contentType == null) {
      return false;
    }
    String type = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    return type.equals("application/json") || (type.startsWith("application/") && type.endsWith("+json"));
  }

  /** {@code s} with its first letter in upper case. */
  public static String capitalized(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }
}
