package io.modelguard.servlet.testapp;

import io.modelguard.test.ConformanceFixture;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Answers {@link ConformanceFixture#prediction(String)} as {@code application/json}, for the model
 * named by the third path segment ({@code /v1/models/{model}/...}) unless a subclass fixes it.
 */
public abstract class PredictionServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    byte[] body = ConformanceFixture.predictionBytes(model(request));
    response.setStatus(200);
    response.setContentType("application/json");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }

  /** The model this request is for. */
  protected String model(HttpServletRequest request) {
    String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
    String[] segments = path.split("/");
    return segments.length > 3 ? segments[3] : "";
  }
}
