package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;

/** Chain {@code peek}: a policy read the start of the body; the rest is still in the stream. */
@ModelSecured(model = "digits", chain = "peek")
public class PeekNonBlockingEchoServlet extends NonBlockingEchoServlet {
  private static final long serialVersionUID = 1L;
}
