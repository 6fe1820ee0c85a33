package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import io.modelguard.test.ConformanceFixture;

/** {@value ConformanceFixture#PREDICT}: the model comes from the path, chain {@code default}. */
@ModelSecured(model = "{model}", path = ConformanceFixture.PREDICT)
public class PredictServlet extends PredictionServlet {
  private static final long serialVersionUID = 1L;
}
