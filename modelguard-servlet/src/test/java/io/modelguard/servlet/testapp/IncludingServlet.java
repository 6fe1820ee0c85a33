package io.modelguard.servlet.testapp;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Unguarded: a page that writes {@code before:}, includes the path that follows its own mapping
 * ({@code /include/escape/after-error} includes {@code /escape/after-error}), and writes {@code
 * :after}, all through its output stream.
 */
public class IncludingServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws ServletException, IOException {
    response.setContentType("text/plain;charset=UTF-8");
    response.getOutputStream().print("before:");
    request.getRequestDispatcher(request.getPathInfo()).include(request, response);
    response.getOutputStream().print(":after");
  }
}
