package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Chain {@code default}, model {@code digits}: an error page, answering any method (Tomcat 11
 * dispatches error pages as {@code GET}, Jetty with the request's method) with {@code error page}
 * and the status the container passed on.
 */
@ModelSecured(model = "digits")
public class GuardedErrorPageServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setContentType("text/plain");
    response.getOutputStream().write(("error page " + request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE))
        .getBytes(StandardCharsets.US_ASCII));
  }
}
