package io.modelguard.examples.jaxrs;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.ModelSecured;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.examples.http.ModelListServlet;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.examples.model.Predictions;
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
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JAX-RS variant's endpoints, the same as the servlet variant's ({@code PredictServlet},
 * {@link ModelListServlet}) with the same bodies:
 *
 * <ul>
 *   <li>{@code POST /v1/models/{model}/predict} — {@code @ModelSecured(model = "{model}")}, the
 *       {@code default} chain;
 *   <li>{@code GET /v1/models} — the {@value ModelListServlet#CHAIN} chain (authentication only).
 * </ul>
 *
 * <p>{@link ModelGuardFeature} runs the chain before these methods; predictions are answered by
 * {@link Predictions}, exactly as the servlet's (its second-line input checks, body caps and
 * images from the bytes ModelGuard fetched, {@link FetchedInputs}). It runs
 * in a servlet-hosted runtime (Jersey's servlet container): request properties are the servlet
 * request's attributes. The methods declare no {@code @Produces}: each response sets its own media
 * type, and with one Jersey would answer a request whose {@code Accept} does not match (406) in its
 * matching, before any filter, so before ModelGuard could authenticate, charge or audit it (the
 * servlet variant ignores {@code Accept}). Thread-safe.
 */
@Path("/v1/models")
public final class ModelsResource {
  private static final Logger log = LoggerFactory.getLogger(ModelsResource.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Predictions predictions;
  private final ModelGuard guard;

  /** Serves the models of {@code models} and lists them as {@code guard} grants them. */
  public ModelsResource(ModelCatalog models, ModelGuard guard) {
    this.predictions = new Predictions(Objects.requireNonNull(models, "models"));
    this.guard = Objects.requireNonNull(guard, "guard");
  }

  /** {@code POST /v1/models/{model}/predict}: {@link Predictions} answers, as for the servlet variant. */
  @POST
  @Path("/{model}/predict")
  @ModelSecured(model = "{model}")
  public Response predict(@PathParam("model") String model, @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType,
      @Context HttpServletRequest request, InputStream body) throws IOException {
    Predictions.Answer answer = predictions.predict(model, contentType, request.getContentLengthLong(), body,
        request.getAttribute(FetchedInputs.ATTRIBUTE));
    if (answer.notFound()) {
      return Response.status(Response.Status.NOT_FOUND).build();
    }
    if (answer.refusal().isPresent()) {
      return problem(ProblemRenderer.render(answer.refusal().get()));
    }
    return json(answer.json().orElseThrow());
  }

  /** {@code GET /v1/models}: {@code {"models":[...]}}, the models the caller may invoke. */
  @GET
  @ModelSecured(chain = ModelListServlet.CHAIN)
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

  private static Response json(byte[] body) {
    return Response.ok(body, MediaType.APPLICATION_JSON_TYPE).header("Cache-Control", "no-store").build();
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
