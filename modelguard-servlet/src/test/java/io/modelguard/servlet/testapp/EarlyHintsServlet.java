package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Chain {@code rewriting}: sends 103 Early Hints the way both containers support it ({@code
 * sendError(103)}), then its answer.
 */
@ModelSecured(model = "digits", chain = "rewriting")
public class EarlyHintsServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setHeader("Link", "</model.css>; rel=preload; as=style");
    response.sendError(103);
    response.setContentType("application/json");
    response.getWriter().print("{\"label\":7,\"probabilities\":[0.1,0.9]}");
  }
}
