package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** Chain {@code rewriting}: answers with {@code sendError(409)}, which the container renders. */
@ModelSecured(model = "digits", chain = "rewriting")
public class ErrorServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.getOutputStream().write("partial output".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    response.sendError(409);
  }
}
