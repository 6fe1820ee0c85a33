package io.modelguard.examples.http;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * The default servlet ({@code /}): {@code 404} for every path no other servlet serves, whatever
 * the method. Without it the container answers a {@code POST} to an unknown path with {@code 405},
 * which would tell a client that, say, {@code /demo/token} exists while the demo issuer is off.
 */
public final class NotFoundServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  /** The servlet. */
  public NotFoundServlet() {}

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.sendError(HttpServletResponse.SC_NOT_FOUND);
  }
}
