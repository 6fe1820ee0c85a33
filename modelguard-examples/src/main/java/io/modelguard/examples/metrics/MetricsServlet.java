package io.modelguard.examples.metrics;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * {@code GET /metrics}: the demo's meters ({@link DemoMetrics}) in the Prometheus text format.
 * Unguarded, like {@code /healthz}: the demo binds loopback by default; where it is reachable from
 * a network, put the path behind the network's own access control. The meters name tenants and
 * models, never a subject, a key or a request's content; by default they tell no more than the
 * clients' own answers do ({@link DemoMetrics#SSRF_REFUSALS}, which tells more, is counted only
 * when asked for).
 */
public final class MetricsServlet extends HttpServlet {
  /** The path it is mapped to. */
  public static final String PATH = "/metrics";
  /** The Prometheus text exposition format. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private static final long serialVersionUID = 1L;

  private final transient DemoMetrics metrics;

  /** Serves {@code metrics}. */
  public MetricsServlet(DemoMetrics metrics) {
    this.metrics = Objects.requireNonNull(metrics, "metrics");
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    byte[] body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
    response.setStatus(HttpServletResponse.SC_OK);
    response.setContentType(CONTENT_TYPE);
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
