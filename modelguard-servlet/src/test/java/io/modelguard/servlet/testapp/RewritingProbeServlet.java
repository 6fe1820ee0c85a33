package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;

/** A probe on chain {@code rewriting} (one output policy), model {@code digits}. */
@ModelSecured(model = "digits", chain = "rewriting")
public class RewritingProbeServlet extends ProbeServlet {
  private static final long serialVersionUID = 1L;
}
