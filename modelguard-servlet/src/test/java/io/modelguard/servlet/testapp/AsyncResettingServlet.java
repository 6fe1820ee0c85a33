package io.modelguard.servlet.testapp;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Not annotated (guarded by path rules), asynchronous: starts asynchronous processing with the
 * bare {@code startAsync()}, and, through the response its context holds, starts an answer, resets
 * it, sets a {@code RateLimit} of its own ({@link OwnRateLimitServlet#OWN_LIMIT}) and answers {@code
 * 503} with {@link #BODY}, then completes. All of it on the request's thread: nothing waits.
 */
public class AsyncResettingServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  /** The body of the answer after the reset. */
  public static final String BODY = "{\"label\":7}";

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse unused) throws IOException {
    AsyncContext async = request.startAsync();
    HttpServletResponse response = (HttpServletResponse) async.getResponse();
    response.setHeader("X-Before-Reset", "1");
    response.setContentType("text/plain");
    response.getOutputStream().write("started".getBytes(StandardCharsets.US_ASCII));
    response.reset();
    response.setStatus(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
    response.setHeader("RateLimit", OwnRateLimitServlet.OWN_LIMIT);
    response.setContentType("application/json");
    response.getOutputStream().write(BODY.getBytes(StandardCharsets.UTF_8));
    async.complete();
  }
}
