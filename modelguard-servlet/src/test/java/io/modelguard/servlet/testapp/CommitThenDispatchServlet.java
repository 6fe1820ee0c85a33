package io.modelguard.servlet.testapp;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Not guarded itself: starts its answer with {@link #STARTED}, flushes it (committing the
 * response), then dispatches the request asynchronously to {@code /refused}, as a page that streams
 * its head before handing the request on does. Mapped at {@code /refused} too, where it never runs
 * if the guard refuses the request there.
 */
public class CommitThenDispatchServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  /** What the servlet writes before it dispatches. */
  public static final String STARTED = "started";

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setContentType("text/plain");
    response.getOutputStream().write(STARTED.getBytes(StandardCharsets.US_ASCII));
    response.flushBuffer();
    request.startAsync().dispatch("/refused");
  }
}
