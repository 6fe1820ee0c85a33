package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * As {@link DispatchingServlet}, but guarded itself, by chain {@code default} (no output policies):
 * a front servlet that hands an allowed request on to {@code /probe-rewrite}, whose chain has an
 * output policy.
 */
@ModelSecured(model = "digits")
public class GuardedDispatchingServlet extends DispatchingServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response)
      throws IOException, ServletException {
    super.doPost(request, response);
  }
}
