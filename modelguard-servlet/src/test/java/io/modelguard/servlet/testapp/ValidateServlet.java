package io.modelguard.servlet.testapp;

import io.modelguard.ModelSecured;
import io.modelguard.test.ConformanceFixture;
import io.modelguard.test.input.InputConformance;

/**
 * {@value ConformanceFixture#VALIDATE}: chain {@value InputConformance#CHAIN}, whose input policy
 * reads and checks the body before the prediction is answered.
 */
@ModelSecured(model = "{model}", chain = InputConformance.CHAIN, path = ConformanceFixture.VALIDATE)
public class ValidateServlet extends PredictionServlet {
  private static final long serialVersionUID = 1L;
}
