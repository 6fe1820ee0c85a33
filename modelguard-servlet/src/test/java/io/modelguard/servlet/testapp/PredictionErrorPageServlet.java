package io.modelguard.servlet.testapp;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Not guarded: an application's error page that renders what the failed request left for it, as a
 * view renders its model: the prediction in {@link EscapingOutputServlet#PREDICTION_ATTRIBUTE} as
 * the body, the error's message (which the filter drops) in {@code X-Error-Message}.
 */
public class PredictionErrorPageServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
    Object message = request.getAttribute(RequestDispatcher.ERROR_MESSAGE);
    response.setHeader("X-Error-Message", String.valueOf(message));
    response.setContentType("application/json");
    Object prediction = request.getAttribute(EscapingOutputServlet.PREDICTION_ATTRIBUTE);
    response.getOutputStream().write(String.valueOf(prediction).getBytes(StandardCharsets.UTF_8));
  }
}
