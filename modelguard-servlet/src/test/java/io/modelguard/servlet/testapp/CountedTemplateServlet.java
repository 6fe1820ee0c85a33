package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;

/**
 * A probe whose model comes from its path template, on chain {@code counted}: one policy, no
 * authentication and no {@code ModelAccessPolicy}, so only the engine can refuse a path that names
 * no model.
 */
@ModelSecured(model = "{model}", chain = "counted", path = CountedTemplateServlet.TEMPLATE)
public class CountedTemplateServlet extends ProbeServlet {
  /** The path template, within the context. */
  public static final String TEMPLATE = "/counted/models/{model}/predict";
  private static final long serialVersionUID = 1L;
}
