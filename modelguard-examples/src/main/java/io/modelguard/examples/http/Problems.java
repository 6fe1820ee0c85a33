package io.modelguard.examples.http;

import io.modelguard.GuardDecision;
import io.modelguard.ReasonCode;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Writes the handlers' own denials (bad input, a missing guard decision) in the same RFC 9457 form
 * as ModelGuard's, by rendering them through {@link ProblemRenderer}. Details are fixed, safe
 * texts chosen by the caller: never a parser message or stack trace.
 */
final class Problems {
  private Problems() {}

  /** Writes the problem for {@code reason} with the client-safe {@code detail}. */
  static void send(HttpServletResponse response, ReasonCode reason, String detail) throws IOException {
    send(response, ProblemRenderer.render(GuardDecision.deny(reason, detail)));
  }

  /** Writes the problem for {@code reason} with its generic detail. */
  static void send(HttpServletResponse response, ReasonCode reason) throws IOException {
    send(response, ProblemRenderer.render(GuardDecision.deny(reason)));
  }

  /** Writes a rendered problem verbatim. */
  static void send(HttpServletResponse response, ProblemResponse problem) throws IOException {
    if (response.isCommitted()) {
      return;
    }
    response.resetBuffer();
    response.setStatus(problem.status());
    problem.headers().forEach(response::setHeader);
    byte[] body = problem.body();
    response.setContentType(problem.contentType());
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
