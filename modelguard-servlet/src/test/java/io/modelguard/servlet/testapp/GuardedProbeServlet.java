package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;

/** A probe on chain {@code default} (no output policies), model {@code digits}. */
@ModelSecured(model = "digits")
public class GuardedProbeServlet extends ProbeServlet {
  private static final long serialVersionUID = 1L;
}
