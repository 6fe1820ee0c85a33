package io.modelguard.servlet.testapp;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Not guarded, and as careless as an attacker could wish: hands the request on to whatever path
 * follows its mode in the request's own path ({@code /relay/forward/v1/models/iris/predict}), by
 * {@code RequestDispatcher} forward or include, by {@code startAsync().dispatch(path)}, or, for
 * mode {@code named}, to the servlet named by the rest ({@code getNamedDispatcher}).
 */
public class RelayServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response)
      throws IOException, ServletException {
    String rest = request.getPathInfo() == null ? "/" : request.getPathInfo();
    int slash = rest.indexOf('/', 1);
    String mode = slash < 0 ? rest.substring(1) : rest.substring(1, slash);
    String target = slash < 0 ? "/" : rest.substring(slash);
    switch (mode) {
      case "forward" -> request.getRequestDispatcher(target).forward(request, response);
      case "include" -> request.getRequestDispatcher(target).include(request, response);
      case "async" -> request.startAsync().dispatch(target);
      case "named" -> {
        RequestDispatcher named = getServletContext().getNamedDispatcher(target.substring(1));
        if (named == null) {
          response.sendError(404);
        } else {
          named.forward(request, response);
        }
      }
      default -> response.sendError(404); // whose error page the deployment may map
    }
  }
}
