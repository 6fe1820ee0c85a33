package io.modelguard.examples.http;

import io.modelguard.ModelSecured;
import io.modelguard.PathTemplate;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.examples.model.Predictions;
import io.modelguard.input.FetchedInputs;
import io.modelguard.problem.ProblemRenderer;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code POST /v1/models/{model}/predict}: runs one prediction with {@link Predictions}, which
 * documents the bodies, the second-line input checks and their problem responses.
 *
 * <p>Guarded by the {@code default} chain: ModelGuard authenticates the caller, checks that the
 * caller's tier grants the model, and validates the input against the model's {@link
 * io.modelguard.input.ModelSpec} ({@link ModelCatalog#inputSpecs()}) before this servlet runs. For
 * {@code image-classifier} it also fetches the image URL through its SSRF-safe fetcher; the servlet
 * passes exactly those bytes on ({@link FetchedInputs}, a request attribute) and never fetches the
 * URL itself. Thread-safe.
 */
@ModelSecured(model = "{model}", path = PredictServlet.PATH)
public final class PredictServlet extends HttpServlet {
  /** The path template, relative to the context path. */
  public static final String PATH = "/v1/models/{model}/predict";
  /** The largest request body accepted for digits and iris; a digits request is well under 1 KiB. */
  public static final int MAX_BODY_BYTES = ModelCatalog.MAX_BODY_BYTES;

  private static final long serialVersionUID = 1L;
  private static final PathTemplate TEMPLATE = PathTemplate.compile(PATH);

  private final transient Predictions predictions;

  /** Serves the models of {@code models}, behind ModelGuard ({@link Predictions.ImageSource#FETCHED}). */
  public PredictServlet(ModelCatalog models) {
    this(models, Predictions.ImageSource.FETCHED);
  }

  /**
   * Serves the models of {@code models}, {@code image-classifier} classifying the image from {@code
   * images}: {@link Predictions.ImageSource#FORWARDED} for a model server behind the gateway.
   */
  public PredictServlet(ModelCatalog models, Predictions.ImageSource images) {
    this.predictions = new Predictions(Objects.requireNonNull(models, "models"), images);
  }

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    Optional<String> model = modelId(request);
    if (model.isEmpty()) {
      response.sendError(HttpServletResponse.SC_NOT_FOUND);
      return;
    }
    Predictions.Answer answer;
    try (InputStream body = request.getInputStream()) {
      // The header as sent: Jetty's getContentType() throws for a charset the JVM does not know.
      answer = predictions.predict(model.get(), request.getHeader("Content-Type"), request.getContentLengthLong(), body,
          request.getAttribute(FetchedInputs.ATTRIBUTE));
    }
    if (answer.notFound()) {
      response.sendError(HttpServletResponse.SC_NOT_FOUND);
      return;
    }
    if (answer.refusal().isPresent()) {
      Problems.send(response, ProblemRenderer.render(answer.refusal().get()));
      return;
    }
    byte[] out = answer.json().orElseThrow();
    response.setStatus(HttpServletResponse.SC_OK);
    response.setContentType("application/json");
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(out.length);
    response.getOutputStream().write(out);
  }

  /**
   * The {@code {model}} of {@link #PATH} in the request's path, read as {@code ModelGuardFilter}
   * reads it: empty segments (a trailing or doubled slash) ignored. The filter guards {@code
   * /v1/models/digits/predict/} as {@code digits}, charging its quota and auditing it as allowed;
   * the servlet must then serve that model, not answer 404.
   */
  public static Optional<String> modelId(HttpServletRequest request) {
    String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
    String model = TEMPLATE.variable(path, "model");
    if (model == null) {
      String trimmed = PathTemplate.withoutEmptySegments(path);
      model = trimmed == path ? null : TEMPLATE.variable(trimmed, "model");
    }
    return Optional.ofNullable(model);
  }
}
