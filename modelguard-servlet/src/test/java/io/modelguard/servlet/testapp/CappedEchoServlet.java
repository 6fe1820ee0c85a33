package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;

/** Chain {@code body-limit}: a policy reads the whole body (at most 64 bytes) before the servlet. */
@ModelSecured(model = "digits", chain = "body-limit")
public class CappedEchoServlet extends BodyEchoServlet {
  private static final long serialVersionUID = 1L;

  /** See {@link BodyEchoServlet#BodyEchoServlet(boolean)}. */
  public CappedEchoServlet(boolean useReader) {
    super(useReader);
  }
}
