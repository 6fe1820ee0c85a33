package io.modelguard.examples.http;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;

/**
 * Marks error responses to requests that carry a body with {@code Connection: close}. Mapped in
 * front of {@link io.modelguard.servlet.ModelGuardFilter}.
 *
 * <p>Why: an error answer may be written before the request's body was read. The demo's own 404
 * and 405 never read it, and ModelGuard refuses a request (401, 403, 413, ...) whose body is
 * declared larger than 1 MiB without reading it (a smaller one it reads and discards first). If the
 * body has not fully arrived when the answer is complete, Jetty does not wait for it, and closes
 * the connection after the response; but the response, already committed, does not say so,
 * so a keep-alive client may send its next request on a connection that is being closed and see
 * it fail. Saying {@code Connection: close} up front lets the client open a fresh connection
 * instead. Requests without a body and successful responses are untouched.
 */
public final class CloseAfterErrorFilter implements Filter {
  /** The filter. */
  public CloseAfterErrorFilter() {}

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    if (request instanceof HttpServletRequest && response instanceof HttpServletResponse
        && hasBody((HttpServletRequest) request)) {
      chain.doFilter(request, new CloseOnError((HttpServletResponse) response));
    } else {
      chain.doFilter(request, response);
    }
  }

  private static boolean hasBody(HttpServletRequest request) {
    return request.getContentLengthLong() > 0 || request.getHeader("Transfer-Encoding") != null;
  }

  /** Adds {@code Connection: close} when an error status is set. */
  private static final class CloseOnError extends HttpServletResponseWrapper {
    CloseOnError(HttpServletResponse response) {
      super(response);
    }

    private void closeIfError(int status) {
      if (status >= 400 && !isCommitted()) {
        setHeader("Connection", "close");
      }
    }

    @Override
    public void setStatus(int status) {
      closeIfError(status);
      super.setStatus(status);
    }

    @Override
    public void sendError(int status) throws IOException {
      closeIfError(status);
      super.sendError(status);
    }

    @Override
    public void sendError(int status, String message) throws IOException {
      closeIfError(status);
      super.sendError(status, message);
    }
  }
}
