package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Chain {@code counted} (no output policies): starts asynchronous processing and dispatches the
 * request back to itself, as servlets that wait for a model asynchronously do, and answers {@code
 * dispatched} on that second, {@code ASYNC}, dispatch.
 */
@ModelSecured(model = "digits", chain = "counted")
public class RedispatchingServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    if (request.getDispatcherType() != DispatcherType.ASYNC) {
      request.startAsync().dispatch();
      return;
    }
    response.setContentType("text/plain");
    response.getOutputStream().write("dispatched".getBytes(StandardCharsets.US_ASCII));
  }
}
