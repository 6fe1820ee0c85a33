package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;

/** Chain {@code body-limit}: the whole body was read by a policy before the listener is set. */
@ModelSecured(model = "digits", chain = "body-limit")
public class CappedNonBlockingEchoServlet extends NonBlockingEchoServlet {
  private static final long serialVersionUID = 1L;
}
