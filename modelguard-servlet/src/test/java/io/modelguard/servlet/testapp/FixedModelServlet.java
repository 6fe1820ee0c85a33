package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import io.modelguard.test.ConformanceFixture;
import jakarta.servlet.http.HttpServletRequest;

/** {@value ConformanceFixture#FAILING}: model {@code digits}, chain {@code failing}. */
@ModelSecured(model = "digits", chain = "failing", path = ConformanceFixture.FAILING)
public class FixedModelServlet extends PredictionServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected String model(HttpServletRequest request) {
    return "digits";
  }
}
