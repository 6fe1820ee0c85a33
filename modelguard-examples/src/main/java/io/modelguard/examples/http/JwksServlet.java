package io.modelguard.examples.http;

import io.modelguard.examples.issuer.DemoIssuer;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * {@code GET /.well-known/jwks.json}: the demo issuer's JWK Set, the public key only, for the
 * app's own JWKS client and for anyone who wants to check a demo token. Unguarded; registered only
 * while the demo issuer runs. Cacheable for five minutes (the key never changes during a run).
 */
public final class JwksServlet extends HttpServlet {
  /** The path it is mapped to. */
  public static final String PATH = DemoIssuer.JWKS_PATH;

  private static final long serialVersionUID = 1L;

  private final byte[] body;

  /** Serves the key set of {@code issuer}. */
  public JwksServlet(DemoIssuer issuer) {
    this.body = Objects.requireNonNull(issuer, "issuer").jwksJson().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setStatus(HttpServletResponse.SC_OK);
    response.setContentType("application/jwk-set+json");
    response.setHeader("Cache-Control", "public, max-age=300");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
