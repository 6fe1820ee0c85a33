package io.modelguard.jaxrs;

import io.modelguard.EndpointSpec;
import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.ReasonCode;
import io.modelguard.internal.ContentCodings;
import io.modelguard.internal.RepresentationHeaders;
import io.modelguard.jaxrs.internal.GuardResponseFilter;
import io.modelguard.jaxrs.internal.OutputFaultLog;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Checks one guarded resource method's requests: translates the request, asks the engine, and
 * either aborts with the problem response or records the decision for the resource and the
 * response filter. Holds the endpoint resolved at deployment; stateless otherwise, so one instance
 * serves concurrent requests.
 */
final class GuardRequestFilter implements ContainerRequestFilter {
  private final ModelGuard guard;
  private final EndpointSpec spec;
  private final ServingClassCheck servingClass;
  private final GuardedLocatorCheck locators;
  private final Function<ContainerRequestContext, Optional<String>> remoteAddress;
  private final Integer maxOutputBytes;
  private final OutputFaultLog.Resource outputFaults;

  GuardRequestFilter(ModelGuard guard, EndpointSpec spec, ServingClassCheck servingClass, GuardedLocatorCheck locators,
      Function<ContainerRequestContext, Optional<String>> remoteAddress, int maxOutputBytes,
      OutputFaultLog.Resource outputFaults) {
    this.guard = guard;
    this.spec = spec;
    this.servingClass = servingClass;
    this.locators = locators;
    this.remoteAddress = remoteAddress;
    this.maxOutputBytes = maxOutputBytes;
    this.outputFaults = outputFaults;
  }

  @Override
  public void filter(ContainerRequestContext context) {
    if (servingClass.refused(context)) {
      // The class serving the request guards it otherwise than deployment could see.
      return;
    }
    if (locators.refused(context)) {
      // A locator that led here carries an annotation of its own, which no filter applies: the
      // located method's own annotation may be more lenient (another chain, model or cost).
      return;
    }
    List<String> codings = context.getHeaders().get(HttpHeaders.CONTENT_ENCODING);
    if (codings != null && !ContentCodings.declared(codings).isEmpty()) {
      // The policies would read the body as sent (compressed) while a decoding reader interceptor
      // hands the resource the decoded bytes, which no policy saw.
      context.abortWith(problem(ProblemRenderer.render(ContentCodings.compressedRequestRefusal())));
      return;
    }
    MultivaluedMap<String, String> pathParameters = context.getUriInfo().getPathParameters();
    Optional<String> variable = spec.modelVariable();
    if (variable.isPresent() && !oneValue(pathParameters.get(variable.get()))) {
      // The path repeats the model's variable with different values: the guard would check one
      // model while the runtime may inject the other into the resource (RESTEasy takes the last).
      context.abortWith(problem(ProblemRenderer.render(GuardDecision.deny(ReasonCode.INPUT_MALFORMED,
          "The request path names the model more than once, differently."))));
      return;
    }
    JaxrsInferenceRequest request =
        new JaxrsInferenceRequest(context, spec.resolve(pathParameters::getFirst, pathParameters::containsKey),
            remoteAddress);
    GuardDecision decision = guard.check(request);
    if (!decision.isAllowed()) {
      Response denial = problem(ProblemRenderer.render(decision));
      if (request.hasUnreadBody() && !request.discardUnreadBody() && request.mayCloseConnection()) {
        // The denial is sent before the body was read (more than CappedBody reads and discards).
        // The container then drops the connection; saying so stops a keep-alive client from
        // sending its next request into a closed socket. Not over HTTP/2, which has no such field.
        denial = Response.fromResponse(denial).header("Connection", "close").build();
      }
      context.abortWith(denial);
      return;
    }
    boolean outputPolicies = guard.chain(request.endpoint().chain()).hasOutputPolicies();
    request.replayBody(outputPolicies);
    if (outputPolicies) {
      // A 304 or 206 the resource computes on the model's own output would confirm or reveal what
      // the output policies rewrite.
      context.getHeaders().keySet().removeIf(RepresentationHeaders::isConditional);
    }
    context.setProperty(GuardResponseFilter.GUARD_PROPERTY, guard);
    context.setProperty(GuardResponseFilter.DECISION_PROPERTY, decision);
    context.setProperty(GuardResponseFilter.REQUEST_PROPERTY, request);
    context.setProperty(GuardResponseFilter.MAX_OUTPUT_PROPERTY, maxOutputBytes);
    context.setProperty(OutputFaultLog.PROPERTY, outputFaults);
  }

  /** Whether {@code values} (a path variable's) are all one value, or none. */
  private static boolean oneValue(List<String> values) {
    if (values == null) {
      return true;
    }
    for (String v : values) {
      if (!v.equals(values.get(0))) {
        return false;
      }
    }
    return true;
  }

  /**
   * The problem as a response: its status and headers, its exact media type and its body. No
   * {@code Content-Length}: response filters run on an aborted response too, so the runtime's
   * compression may still code the body, and only the runtime knows the length it finally writes.
   */
  static Response problem(ProblemResponse problem) {
    Response.ResponseBuilder response = Response.status(problem.status());
    problem.headers().forEach(response::header);
    return response
        .header(HttpHeaders.CONTENT_TYPE, ProblemResponse.CONTENT_TYPE)
        .entity(problem.body())
        .build();
  }

  @Override
  public String toString() {
    return "ModelGuard request filter for " + spec;
  }
}
