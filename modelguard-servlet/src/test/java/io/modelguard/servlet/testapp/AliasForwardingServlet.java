package io.modelguard.servlet.testapp;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Not guarded: an alias of {@code /api/*}, built the way aliases often are, by concatenation. It
 * forwards {@code /alias/models/digits/predict} to {@code "/api/" + pathInfo}; a path info starts
 * with a slash, so the target is {@code /api//models/digits/predict}, which the container still
 * dispatches to the servlet mapped at {@code /api/*}.
 */
public class AliasForwardingServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response)
      throws IOException, ServletException {
    request.getRequestDispatcher("/api/" + request.getPathInfo()).forward(request, response);
  }
}
