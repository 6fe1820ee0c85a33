package io.modelguard.servlet.testapp;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Not guarded: hands the request on to {@code /probe-rewrite} (guarded, with an output policy):
 * through a {@code RequestDispatcher}, by forward when mapped at a path ending in {@code forward}
 * and by include when mapped at one ending in {@code include}; else by an asynchronous dispatch
 * ({@code startAsync().dispatch(path)}).
 */
public class DispatchingServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response)
      throws IOException, ServletException {
    String servletPath = request.getServletPath();
    if (servletPath.endsWith("forward")) {
      request.getRequestDispatcher("/probe-rewrite").forward(request, response);
    } else if (servletPath.endsWith("include")) {
      request.getRequestDispatcher("/probe-rewrite").include(request, response);
    } else {
      request.startAsync().dispatch("/probe-rewrite");
    }
  }
}
