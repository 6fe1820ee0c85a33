package io.modelguard.examples.jaxrs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.ModelSecured;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.examples.http.ModelListServlet;
import io.modelguard.examples.http.PredictServlet;
import io.modelguard.examples.model.InputSpec;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.input.FetchedInputs;
import io.modelguard.jaxrs.ModelGuardFeature;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JAX-RS variant's endpoints, the same as the servlet variant's ({@link PredictServlet},
 * {@link ModelListServlet}) with the same bodies:
 *
 * <ul>
 *   <li>{@code POST /v1/models/{model}/predict} — {@code @ModelSecured(model = "{model}")}, the
 *       {@code default} chain;
 *   <li>{@code GET /v1/models} — the {@value ModelListServlet#CHAIN} chain (authentication only).
 * </ul>
 *
 * <p>{@link ModelGuardFeature} runs the chain before these methods; like the servlet, the resource
 * still checks the input it parses (415, 413, 400, 422 in the same problem form), reads at most
 * {@value PredictServlet#MAX_BODY_BYTES} bytes, and classifies {@code image-classifier} images
 * from the bytes ModelGuard fetched ({@link FetchedInputs}), never fetching the URL itself. It runs
 * in a servlet-hosted runtime (Jersey's servlet container): request properties are the servlet
 * request's attributes. Thread-safe.
 */
@Path("/v1/models")
public final class ModelsResource {
  private static final Logger log = LoggerFactory.getLogger(ModelsResource.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ModelCatalog models;
  private final ModelGuard guard;

  /** Serves the models of {@code models} and lists them as {@code guard} grants them. */
  public ModelsResource(ModelCatalog models, ModelGuard guard) {
    this.models = Objects.requireNonNull(models, "models");
    this.guard = Objects.requireNonNull(guard, "guard");
  }

  /** {@code POST /v1/models/{model}/predict}. */
  @POST
  @Path("/{model}/predict")
  @ModelSecured(model = "{model}")
  @Produces(MediaType.APPLICATION_JSON)
  public Response predict(@PathParam("model") String model, @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType,
      @Context HttpServletRequest request, InputStream body) throws IOException {
    if (model.equals(ModelCatalog.IMAGE_CLASSIFIER)) {
      return predictImage(request);
    }
    Optional<ModelCatalog.ServedModel> served = models.get(model);
    if (served.isEmpty()) {
      return Response.status(Response.Status.NOT_FOUND).build();
    }
    InputSpec spec = served.get().input();
    if (!PredictServlet.isJson(contentType)) {
      return problem(ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE, "Send the input as application/json.");
    }
    byte[] bytes = body.readNBytes(PredictServlet.MAX_BODY_BYTES + 1);
    if (bytes.length > PredictServlet.MAX_BODY_BYTES) {
      return problem(ProblemRenderer.render(GuardDecision.deny(ReasonCode.INPUT_TOO_LARGE)));
    }
    JsonNode root;
    try {
      root = PredictServlet.parse(bytes);
    } catch (JsonProcessingException e) {
      return problem(ProblemRenderer.render(GuardDecision.deny(ReasonCode.INPUT_MALFORMED)));
    }
    if (root == null || !root.isObject() || root.size() != 1 || !root.has(spec.field())) {
      return problem(ReasonCode.INPUT_INVALID,
          "The body must be a JSON object with exactly one field, '" + spec.field() + "'.");
    }
    Optional<double[]> features = PredictServlet.numbers(root.get(spec.field()), spec);
    if (features.isEmpty()) {
      return problem(ReasonCode.INPUT_INVALID, PredictServlet.capitalized(spec.requirement()) + ".");
    }
    return prediction(model, served.get().classifier().predictProba(features.get()));
  }

  /** {@code GET /v1/models}: {@code {"models":[...]}}, the models the caller may invoke. */
  @GET
  @ModelSecured(chain = ModelListServlet.CHAIN)
  @Produces(MediaType.APPLICATION_JSON)
  public Response list(@Context HttpServletRequest request) throws IOException {
    Object decision = request.getAttribute(ModelGuardFeature.DECISION_PROPERTY);
    Optional<Principal> principal = decision instanceof GuardDecision
        ? ((GuardDecision) decision).principal()
        : Optional.empty();
    if (principal.isEmpty()) {
      log.error("GET /v1/models: no GuardDecision in request property {}; is ModelGuardFeature registered? Refusing.",
          ModelGuardFeature.DECISION_PROPERTY);
      return problem(ProblemRenderer.render(GuardDecision.deny(ReasonCode.INTERNAL_ERROR)));
    }
    return json(JSON.writeValueAsBytes(Map.of("models", List.copyOf(guard.modelsFor(principal.get())))));
  }

  private Response predictImage(HttpServletRequest request) throws IOException {
    Object attribute = request.getAttribute(FetchedInputs.ATTRIBUTE);
    Optional<FetchedInputs.FetchedImage> fetched = attribute instanceof FetchedInputs
        ? ((FetchedInputs) attribute).image(ModelCatalog.IMAGE_URL_FIELD)
        : Optional.empty();
    if (fetched.isEmpty()) {
      log.error("POST {}: no fetched image in request property {}; is ModelGuardFeature with a ModelInputPolicy "
          + "registered? Refusing.", ModelCatalog.IMAGE_CLASSIFIER, FetchedInputs.ATTRIBUTE);
      return problem(ProblemRenderer.render(GuardDecision.deny(ReasonCode.INTERNAL_ERROR)));
    }
    String field = "Field '" + ModelCatalog.IMAGE_URL_FIELD + "': ";
    BufferedImage image;
    try {
      image = ModelCatalog.IMAGE_SPEC.decode(fetched.get().bytes());
    } catch (IllegalArgumentException e) {
      return problem(ReasonCode.INPUT_INVALID, field + e.getMessage().replaceFirst("^The image", "the fetched image"));
    } catch (IOException | RuntimeException e) {
      log.debug("POST {}: the fetched image could not be decoded ({})", ModelCatalog.IMAGE_CLASSIFIER,
          e.getClass().getSimpleName());
      return problem(ReasonCode.INPUT_INVALID, field + "the fetched image could not be decoded.");
    }
    return prediction(ModelCatalog.IMAGE_CLASSIFIER, models.classifyDigitImage(image));
  }

  private static Response prediction(String model, double[] probabilities) throws IOException {
    return json(PredictServlet.predictionJson(model, probabilities));
  }

  private static Response json(byte[] body) {
    return Response.ok(body, MediaType.APPLICATION_JSON_TYPE).header("Cache-Control", "no-store").build();
  }

  private static Response problem(ReasonCode reason, String detail) {
    return problem(ProblemRenderer.render(GuardDecision.deny(reason, detail)));
  }

  /** The problem as ModelGuard's adapters write it: status, headers, problem+json body. */
  static Response problem(ProblemResponse problem) {
    Response.ResponseBuilder response = Response.status(problem.status())
        .entity(problem.body())
        .type(problem.contentType());
    problem.headers().forEach(response::header);
    return response.build();
  }
}
