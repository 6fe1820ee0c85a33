package io.modelguard.servlet.testapp;

import io.modelguard.GuardDecision;
import io.modelguard.Principal;
import io.modelguard.servlet.ModelGuardFilter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.PrintWriter;

/**
 * Reports, as a JSON object written through {@code getWriter()}, whether it was handed a wrapped
 * request and response, and the subject of the {@link GuardDecision} the filter published. Subclasses carry the annotation.
 */
public abstract class ProbeServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setContentType("application/json");
    response.setCharacterEncoding("UTF-8");
    PrintWriter writer = response.getWriter();
    writer.print("{\"requestWrapped\":" + (request instanceof HttpServletRequestWrapper)
        + ",\"responseWrapped\":" + (response instanceof HttpServletResponseWrapper)
        + ",\"subject\":\"" + subject(request) + "\"}");
    response.flushBuffer();
  }

  private static String subject(HttpServletRequest request) {
    Object decision = request.getAttribute(ModelGuardFilter.DECISION_ATTRIBUTE);
    return decision instanceof GuardDecision
        ? ((GuardDecision) decision).principal().map(Principal::subject).orElse("anonymous")
        : "no-decision";
  }
}
