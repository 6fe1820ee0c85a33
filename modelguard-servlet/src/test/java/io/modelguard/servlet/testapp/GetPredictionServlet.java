package io.modelguard.servlet.testapp;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Not annotated (guarded by path rules): answers {@code GET} with {@link #BODY} through its output
 * stream, or through its writer on a path ending {@code /writer}. {@code HEAD} is {@code
 * HttpServlet}'s default, which runs {@code doGet} and lets the container drop the body, except on
 * a path ending {@code /own-head}, where the servlet answers it itself, without the body, naming
 * the length of {@link #BODY}, or ending {@code /own-head-untold}, where it names no length.
 */
public class GetPredictionServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  /** The body of the answer to {@code GET}. */
  public static final String BODY = "{\"label\":7,\"probabilities\":[0.1,0.9]}";

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setContentType("application/json");
    if (request.getRequestURI().endsWith("/writer")) {
      response.setCharacterEncoding("UTF-8");
      response.getWriter().print(BODY);
    } else {
      response.getOutputStream().write(BODY.getBytes(StandardCharsets.UTF_8));
    }
  }

  @Override
  protected void doHead(HttpServletRequest request, HttpServletResponse response) throws ServletException, IOException {
    String uri = request.getRequestURI();
    if (uri.endsWith("/own-head")) {
      response.setContentType("application/json");
      response.setContentLength(BODY.getBytes(StandardCharsets.UTF_8).length);
    } else if (uri.endsWith("/own-head-untold")) {
      response.setContentType("application/json");
    } else {
      super.doHead(request, response);
    }
  }
}
