package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Chain {@code label-only}: writes {@link EscapingOutputServlet#PREDICTION} as it is, not
 * compressed, under the {@code Content-Encoding} the query parameter {@code coding} names (as the
 * servlet gives it, spaces, tabs and letter case included), as a servlet does that declares "no
 * coding" in a form of its own. {@code HEAD} it answers itself, as such a servlet may: the same
 * header, without the body.
 */
@ModelSecured(model = "digits", chain = "label-only")
public class DeclaredCodingServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setContentType("application/json");
    response.setHeader("Content-Encoding", request.getParameter("coding"));
    response.getOutputStream().write(EscapingOutputServlet.PREDICTION.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  protected void doHead(HttpServletRequest request, HttpServletResponse response) {
    response.setContentType("application/json");
    response.setHeader("Content-Encoding", request.getParameter("coding"));
  }
}
