package io.modelguard.servlet.testapp;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Not annotated (guarded by path rules): starts an answer, then calls {@code response.reset()}, as
 * a servlet or framework does before writing an error page, and answers {@code 503} with {@link
 * #BODY}; on a path ending {@code -fails}, throws after writing instead.
 */
public class ResettingServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  /** The body of the answer after the reset. */
  public static final String BODY = "{\"label\":7}";

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setHeader("X-Before-Reset", "1");
    response.setContentType("text/plain");
    response.getOutputStream().write("started".getBytes(StandardCharsets.US_ASCII));
    if (request.getRequestURI().endsWith("-fails")) {
      throw new IllegalStateException("the model failed after writing");
    }
    response.reset();
    response.setStatus(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
    response.setContentType("application/json");
    response.getOutputStream().write(BODY.getBytes(StandardCharsets.UTF_8));
  }
}
