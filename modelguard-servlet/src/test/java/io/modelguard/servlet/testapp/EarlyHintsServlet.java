package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Chain {@code rewriting}: sends 103 Early Hints the way both containers support it ({@code
 * sendError(103)}), or the informational status in {@code X-Interim}, then its answer.
 */
@ModelSecured(model = "digits", chain = "rewriting")
public class EarlyHintsServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setHeader("Link", "</model.css>; rel=preload; as=style");
    String interim = request.getHeader("X-Interim");
    response.sendError(interim == null ? 103 : Integer.parseInt(interim));
    response.setContentType("application/json");
    response.getWriter().print("{\"label\":7,\"probabilities\":[0.1,0.9]}");
  }
}
