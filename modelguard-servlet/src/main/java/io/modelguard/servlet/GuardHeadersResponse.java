package io.modelguard.servlet;

import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.util.Map;

/**
 * The response an allowed request whose decision has headers ({@code RateLimit}, say) continues
 * with when the chain has no output policies: it streams as the container's own does, and only
 * puts the guard's headers back after the servlet's {@code reset()}, which would otherwise clear
 * them with its own (before an error page, say). A decision without headers needs no wrapper.
 * (An asynchronous context the servlet starts with {@code startAsync()}, on a request whose body no
 * policy read, holds the container's own response, as the specification has it: a reset there
 * clears the guard's headers too.) {@link BufferingResponse}, the response of a chain with output
 * policies, builds on it, so both put them back by one mechanism.
 */
class GuardHeadersResponse extends HttpServletResponseWrapper {
  private final Map<String, String> guardHeaders;

  GuardHeadersResponse(HttpServletResponse response, Map<String, String> guardHeaders) {
    super(response);
    this.guardHeaders = guardHeaders;
  }

  /** Clears status, headers and body, as the container does, then sets the guard's headers again. */
  @Override
  public void reset() {
    super.reset();
    restoreGuardHeaders();
  }

  /** Sets the guard's headers on the wrapped response again, as after a reset of it. */
  final void restoreGuardHeaders() {
    guardHeaders.forEach(super::setHeader);
  }
}
