package io.modelguard.servlet.testapp;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A servlet whose client decides how it fails, as a client's input makes a parser throw: it writes
 * a label, then throws {@link IllegalArgumentException} for a body {@code "argument"} and {@link
 * IllegalStateException} for any other.
 */
public class ThrowingServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    String body = new String(request.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    response.setContentType("application/json");
    response.getOutputStream().write("{\"label\":7}".getBytes(StandardCharsets.UTF_8));
    if (body.equals("argument")) {
      throw new IllegalArgumentException("cannot read " + body);
    }
    throw new IllegalStateException("cannot read " + body);
  }
}
