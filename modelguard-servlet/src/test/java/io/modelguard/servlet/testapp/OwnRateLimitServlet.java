package io.modelguard.servlet.testapp;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Not annotated (guarded by path rules): sets rate-limit fields of its own, {@link #OWN_POLICY}
 * and {@link #OWN_LIMIT}, through every kind of header setter and in other letter cases, next to
 * {@code X-Own: 1}, and answers {@code 200} with {@link #BODY}.
 */
public class OwnRateLimitServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  /** The body of the answer. */
  public static final String BODY = "{\"label\":7}";

  /** The {@code RateLimit-Policy} the servlet claims. */
  public static final String OWN_POLICY = "\"own\";q=9;w=1";

  /** The {@code RateLimit} the servlet claims. */
  public static final String OWN_LIMIT = "\"own\";r=9;t=1";

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setHeader("RateLimit-Policy", OWN_POLICY);
    response.addHeader("ratelimit", OWN_LIMIT);
    response.setIntHeader("RATELIMIT", 9);
    response.addIntHeader("RateLimit-Policy", 9);
    response.addDateHeader("RateLimit", 0L);
    response.setDateHeader("ratelimit-policy", 0L);
    response.setHeader("X-Own", "1");
    response.setContentType("application/json");
    response.getOutputStream().write(BODY.getBytes(StandardCharsets.UTF_8));
  }
}
