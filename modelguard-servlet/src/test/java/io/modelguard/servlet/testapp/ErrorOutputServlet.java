package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import io.modelguard.test.ErrorOutputFixture;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Chain {@value ErrorOutputFixture#CHAIN}: answers with {@code setStatus} and a body it writes
 * itself, by path info: {@code /partial} 422 and {@code /debug} 500 with {@link
 * ErrorOutputFixture#PREDICTION}, {@code /problem} 422 with {@link ErrorOutputFixture#PROBLEM}, and
 * {@code /ok} 200 with the prediction, {@code /none} 204 without a body.
 */
@ModelSecured(model = "digits", chain = ErrorOutputFixture.CHAIN)
public class ErrorOutputServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    String answer = String.valueOf(request.getPathInfo());
    switch (answer) {
      case "/partial" -> write(response, 422, "application/json", ErrorOutputFixture.PREDICTION);
      case "/debug" -> write(response, 500, "application/json", ErrorOutputFixture.PREDICTION);
      case "/problem" -> write(response, 422, ErrorOutputFixture.PROBLEM_TYPE, ErrorOutputFixture.PROBLEM);
      case "/ok" -> write(response, 200, "application/json", ErrorOutputFixture.PREDICTION);
      case "/none" -> response.setStatus(204);
      default -> response.sendError(404);
    }
  }

  private static void write(HttpServletResponse response, int status, String contentType, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    response.setStatus(status);
    response.setContentType(contentType);
    response.setContentLength(bytes.length);
    response.getOutputStream().write(bytes);
  }
}
