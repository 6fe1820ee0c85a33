package io.modelguard.servlet.testapp;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Not annotated (guarded by path rules): sets headers under names that read, on the wire, as the
 * guard's rate-limit fields ({@code "RateLimit "}, {@code " RateLimit-Policy"}, tabs, a no-break
 * space, a colon), one whose name starts with a space ({@code " X-Folded"}, which a recipient reads
 * as the end of the line before it), and, for the output policies, {@code "ETag "} and {@code
 * "Content-Type "}; each with the value {@link #OWN}. Then {@code X-Own: 1}, and {@code 200} with
 * {@link #BODY}.
 */
public class PaddedHeadersServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  /** The body of the answer. */
  public static final String BODY = "{\"label\":7}";

  /** The value of every padded header: a rate-limit item the quota never counted. */
  public static final String OWN = "\"own\";r=9;t=1";

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setContentType("application/json");
    response.setHeader("RateLimit ", OWN);
    response.addHeader(" RateLimit-Policy", OWN);
    response.setHeader("\tRateLimit", OWN);
    response.addHeader("RateLimit\t", OWN);
    response.setHeader("ratelimit\u00a0", OWN);
    response.addHeader("RateLimit:", OWN);
    response.setIntHeader("RateLimit\r", 9);
    response.addDateHeader(" RateLimit-Policy ", 0L);
    response.setHeader(" X-Folded", OWN);
    response.setHeader("ETag ", "\"" + OWN.length() + "\"");
    response.setHeader("Content-Type ", "text/html");
    response.setHeader("X-Own", "1");
    response.getOutputStream().write(BODY.getBytes(StandardCharsets.UTF_8));
  }
}
