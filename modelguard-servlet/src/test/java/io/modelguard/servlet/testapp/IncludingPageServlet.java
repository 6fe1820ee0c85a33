package io.modelguard.servlet.testapp;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.PrintWriter;

/**
 * Unguarded: a page that writes through its writer and includes {@code /probe-rewrite} in the
 * middle; with a request header {@code X-Flush}, it flushes (commits) what it wrote before the
 * include, as a page that streams its head does; with {@code X-Include-Twice}, it includes {@code
 * /probe-rewrite} once more after the suffix, as a page composed of several fragments does.
 */
public class IncludingPageServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws ServletException, IOException {
    response.setContentType("text/plain;charset=UTF-8");
    PrintWriter writer = response.getWriter();
    writer.print("prefix:");
    if (request.getHeader("X-Flush") != null) {
      response.flushBuffer();
    }
    request.getRequestDispatcher("/probe-rewrite").include(request, response);
    writer.print(":suffix");
    if (request.getHeader("X-Include-Twice") != null) {
      writer.print(":again:");
      request.getRequestDispatcher("/probe-rewrite").include(request, response);
    }
  }
}
