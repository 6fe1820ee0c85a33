package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;

/** Names a chain no {@code ModelGuard} in these tests has: deployment must fail. */
@ModelSecured(model = "digits", chain = "no-such-chain")
public class UnknownChainServlet extends PredictionServlet {
  private static final long serialVersionUID = 1L;
}
