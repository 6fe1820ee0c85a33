package io.modelguard.examples.http;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /healthz}: unguarded liveness probe, {@code 200 {"status":"ok"}}. Says nothing about
 * models, keys or configuration.
 */
public final class HealthServlet extends HttpServlet {
  /** The path it is mapped to. */
  public static final String PATH = "/healthz";

  private static final long serialVersionUID = 1L;
  private static final byte[] OK = "{\"status\":\"ok\"}".getBytes(StandardCharsets.UTF_8);

  /** The servlet. */
  public HealthServlet() {}

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setStatus(HttpServletResponse.SC_OK);
    response.setContentType("application/json");
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(OK.length);
    response.getOutputStream().write(OK);
  }
}
