package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import io.modelguard.test.ConformanceFixture;

/** {@value ConformanceFixture#REWRITE}: chain {@code rewriting}, whose output policy tags the body. */
@ModelSecured(model = "{model}", chain = "rewriting", path = ConformanceFixture.REWRITE)
public class RewriteServlet extends PredictionServlet {
  private static final long serialVersionUID = 1L;
}
