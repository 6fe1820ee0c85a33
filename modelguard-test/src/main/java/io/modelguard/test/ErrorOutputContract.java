package io.modelguard.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * The rule every adapter keeps for output policies and the status of a response, as tests a
 * runtime's test class inherits: the output policies see every response with a body the
 * application produced, whatever its status, and are told the status (a response without a body
 * has no output to check and skips them); a prediction in an error body is rewritten like one
 * in a 200, and an error body that is no prediction passes the built-in policies unchanged.
 *
 * <p>The implementing class deploys, with a guard that has {@link ErrorOutputFixture#chain()} of
 * {@link #errorOutput()} under {@value ErrorOutputFixture#CHAIN}, a handler guarded by {@code
 * @ModelSecured(model = "digits", chain = ErrorOutputFixture.CHAIN)} that answers {@code POST
 * .../error-output/{answer}} with a body and status it sets itself:
 *
 * <table>
 *   <caption>Answers of the handler</caption>
 *   <tr><th>answer</th><th>status</th><th>body</th></tr>
 *   <tr><td>{@code ok}</td><td>200</td><td>{@link ErrorOutputFixture#PREDICTION}, JSON</td></tr>
 *   <tr><td>{@code partial}</td><td>422</td><td>{@link ErrorOutputFixture#PREDICTION}, JSON</td></tr>
 *   <tr><td>{@code debug}</td><td>500</td><td>{@link ErrorOutputFixture#PREDICTION}, JSON</td></tr>
 *   <tr><td>{@code problem}</td><td>422</td><td>{@link ErrorOutputFixture#PROBLEM}, {@value
 *       ErrorOutputFixture#PROBLEM_TYPE}</td></tr>
 *   <tr><td>{@code none}</td><td>204</td><td>none</td></tr>
 * </table>
 */
public interface ErrorOutputContract {

  /** {@return the fixture whose chain guards the handler} */
  ErrorOutputFixture errorOutput();

  /**
   * POSTs {@link ErrorOutputFixture#REQUEST} as {@code application/json} to the handler's {@code
   * answer} and returns the response, its body decoded as UTF-8.
   *
   * @param answer which answer the handler gives (see the table above)
   * @return the response
   * @throws Exception if the request fails
   */
  HttpResponse<String> postErrorOutput(String answer) throws Exception;

  /**
   * A 422 with a prediction body passes the output policies, which see its status.
   *
   * @throws Exception if the request fails
   */
  @Test
  default void predictionInA422ResponsePassesTheOutputPoliciesWhichSeeTheStatus() throws Exception {
    errorOutput().reset();
    errorOutput().assertRewritten(postErrorOutput("partial"), 422);
  }

  /**
   * A 500 with a prediction body passes the output policies, which see its status.
   *
   * @throws Exception if the request fails
   */
  @Test
  default void predictionInA500ResponsePassesTheOutputPoliciesWhichSeeTheStatus() throws Exception {
    errorOutput().reset();
    errorOutput().assertRewritten(postErrorOutput("debug"), 500);
  }

  /**
   * A 200 with a prediction body passes the output policies, which see its status.
   *
   * @throws Exception if the request fails
   */
  @Test
  default void predictionInA200ResponsePassesTheOutputPoliciesWhichSeeTheStatus() throws Exception {
    errorOutput().reset();
    errorOutput().assertRewritten(postErrorOutput("ok"), 200);
  }

  /**
   * A 204 without a body runs no output policy and gets no {@code Content-Length}.
   *
   * @throws Exception if the request fails
   */
  @Test
  default void responseWithoutABodySkipsTheOutputPolicies() throws Exception {
    errorOutput().reset();
    HttpResponse<String> response = postErrorOutput("none");
    assertThat(response.statusCode()).isEqualTo(204);
    assertThat(response.body()).isEmpty();
    assertThat(response.headers().firstValue("Content-Length")).as("a 204 has no Content-Length").isEmpty();
    assertThat(errorOutput().lastSeen()).as("no output policy ran").isEmpty();
  }

  /**
   * An error body that is no prediction (a problem document) passes the built-in output policies unchanged.
   *
   * @throws Exception if the request fails
   */
  @Test
  default void errorBodyThatIsNoPredictionPassesTheBuiltInOutputPoliciesUnchanged() throws Exception {
    errorOutput().reset();
    errorOutput().assertPassedUnchanged(postErrorOutput("problem"));
  }
}
