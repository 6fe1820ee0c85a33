package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Chain {@code failing-output}, whose output policy throws: neither this servlet's body nor its
 * header may reach the client.
 */
@ModelSecured(model = "digits", chain = "failing-output")
public class LeakyOutputServlet extends PredictionServlet {
  private static final long serialVersionUID = 1L;

  /** The header this servlet sets; it must be dropped with the body. */
  public static final String HEADER = "X-Model-Internals";

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setHeader(HEADER, "weights-v3");
    super.doPost(request, response);
  }

  @Override
  protected String model(HttpServletRequest request) {
    return "digits";
  }
}
