package io.modelguard.servlet;

import io.modelguard.Endpoint;
import io.modelguard.EndpointSpec;
import io.modelguard.GuardDecision;
import io.modelguard.GuardFailureException;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.PathTemplate;
import io.modelguard.internal.ContentCodings;
import io.modelguard.internal.HeaderNames;
import io.modelguard.internal.LogPace;
import io.modelguard.internal.LogText;
import io.modelguard.internal.TextBodies;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRegistration;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletMapping;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The servlet adapter: a {@link Filter} that checks every request for a guarded endpoint with a
 * {@link ModelGuard} and translates the decision to HTTP. It makes no decision of its own.
 *
 * <p>Which endpoint a request is for is resolved in this order:
 *
 * <ol>
 *   <li>the path rules given to {@link #builder(ModelGuard)}, in the order they were added,
 *       matched against the path within the context ({@code servletPath + pathInfo});
 *   <li>{@link io.modelguard.ModelSecured @ModelSecured} on the class (or a superclass) of the
 *       servlet the request is mapped to, resolved once per servlet and cached. A {@code
 *       model = "{var}"} takes its value from the annotation's {@code path} template (empty
 *       segments, trailing or doubled slashes, ignored); a path that does not match the template
 *       leaves the request without the model it was meant to name, which the engine denies
 *       ({@code authz.model_forbidden}; see {@link Endpoint#isUnresolved()}); a template that
 *       declares no such variable gives an endpoint without a model (a catalog, say).
 * </ol>
 *
 * <p>Requests that match no rule and are mapped to a servlet without the annotation pass through
 * untouched. For a guarded request: a denial is answered with the RFC 9457 problem {@link
 * ProblemRenderer} renders (the servlet is not invoked), once the rest of a body of at most 1 MiB
 * has been read and discarded, a chunked one or one without {@code Content-Length} over HTTP/2
 * included (a larger one is not read: over HTTP/1.x the denial says {@code Connection: close}, a
 * field HTTP/2 does not have, so there it is not set; see {@link io.modelguard.CappedBody#discardRest});
 * an allowed request gets the decision's
 * headers and continues down the chain. If a policy read the body, the servlet still receives all
 * of it, through {@code getInputStream()} or {@code getReader()}. Only when the endpoint's chain has
 * output policies is the response buffered, passed through {@link ModelGuard#onResponse(
 * io.modelguard.InferenceRequest, GuardDecision, int, ModelOutput)} and written with its final
 * {@code Content-Length}; otherwise it streams as usual, and is wrapped only if the decision has
 * headers, by a wrapper that does nothing but keep them: it sets them again after the servlet's
 * {@code reset()} (held or not, a reset keeps the guard's headers: the client still learns its rate
 * limits from an error page the servlet writes after one) and ignores a header of the same name the
 * servlet sets or adds itself, so that, as in the JAX-RS adapter, the guard's value wins (a servlet
 * cannot claim other rate limits than the quota counted). Names are compared as a client or proxy
 * may read them on the wire, where the containers write them as given: {@code "RateLimit "} is the
 * guard's {@code RateLimit}, and a name starting with whitespace, which would continue the line of
 * the header before it (a guard header's, say), is ignored too. The request is then wrapped too, so that
 * an asynchronous context the servlet starts with a bare {@code startAsync()} holds that response
 * and keeps the headers alike. The output policies see every response the servlet
 * writes itself, whatever status it set with {@code setStatus}: a 422 carrying partial scores, or a
 * 500 with raw probabilities in a debug body, goes through them as a 200 does, and {@link io.modelguard.ResponseContext#status()} tells them the status. A
 * response without a body (a 204, say) has no output and skips them, as in the JAX-RS adapter.
 * They see only what the servlet writes to the response it is given: a servlet that unwraps it
 * ({@code ServletResponseWrapper.getResponse()}) writes to the container's response past them, so
 * under output policies write to the response as passed.
 *
 * <p>Every method of a request to a guarded path or servlet is checked, before the servlet's own
 * method dispatch: the filter cannot know which methods a servlet serves, since its {@code service}
 * may dispatch them any way it likes. So a {@code GET} to a servlet that implements only {@code
 * doPost} gets the guard's answer first ({@code 401} without credentials, {@code 415} from an input
 * policy that wants a body) and the servlet's {@code 405} only once the guard allowed it; the JAX-RS
 * adapter, whose runtime matches the resource method first, answers {@code 405} before any policy.
 *
 * <p>The {@link io.modelguard.InferenceRequest} policies see implements {@link
 * io.modelguard.input.RequestAttributes} over the servlet request's attributes: what a policy stores
 * there reaches the servlet. {@link io.modelguard.input.ModelInputPolicy} stores the images it
 * fetched and checked, which the servlet reads instead of fetching the URL again:
 *
 * <pre>{@code
 * FetchedInputs fetched = (FetchedInputs) request.getAttribute(FetchedInputs.ATTRIBUTE);
 * byte[] image = fetched.image("imageUrl").orElseThrow().bytes();
 * }</pre>
 *
 * <p>Construct it in code and register the instance with the container, supporting asynchronous
 * processing, for every dispatcher type: {@code REQUEST}, {@code FORWARD}, {@code INCLUDE}, {@code
 * ASYNC} and {@code ERROR}. For example:
 *
 * <pre>{@code
 * FilterRegistration.Dynamic filter = servletContext.addFilter("modelguard", new ModelGuardFilter(guard));
 * filter.setAsyncSupported(true);
 * filter.addMappingForUrlPatterns(EnumSet.allOf(DispatcherType.class), false, "/*");
 * }</pre>
 *
 * <p>The filter checks a request at the first dispatch that reaches a guarded path or servlet,
 * whatever its type, so a dispatcher type it is not mapped to is a way past it: mapped to {@code
 * REQUEST} only, a servlet that forwards or includes ({@code RequestDispatcher}) or dispatches
 * asynchronously ({@code startAsync().dispatch(path)}) to a guarded servlet runs it unchecked.
 * Each dispatch is resolved by its own target: in a forward or an asynchronous dispatch, the path
 * and mapping of the request as dispatched; in an include, the included servlet's. An error
 * dispatch is treated alike: a guarded servlet serving as an error page answers a request never
 * checked (the error page of a request to an unguarded path, say) only once the filter allowed it,
 * and otherwise the client gets the denial instead of the error page. A named dispatch ({@code
 * getNamedDispatcher(name).forward} or {@code include}) carries no path of its target, so the
 * filter cannot tell which servlet it runs (Tomcat does not even apply URL-mapped filters to it): a
 * guarded servlet reached by name from an unguarded one runs unchecked. A servlet other servlets
 * may dispatch to by name should refuse a request without {@link #DECISION_ATTRIBUTE}, which the
 * filter sets on every request it allowed. One instance serves one servlet context. It is
 * thread-safe.
 *
 * <p>Output the output policies cannot see never reaches the client. With output policies, the
 * whole response is held in memory until the servlet returns, up to {@link
 * Builder#maxOutputBytes}; a servlet that writes more is answered with {@code internal.error}. So
 * is a servlet that fails with an exception (logged at ERROR with its stack trace, not passed to
 * the container, whose error page would show its message: it may quote the model's output), a servlet that sets a {@code
 * Content-Encoding} (a compressed body is bytes the policies cannot read: compress outside this
 * filter), also under a name that reads as it on the wire ({@code "Content-Encoding "}; one naming
 * no coding, {@code identity} in any letter case amid spaces, tabs or empty list members as RFC 9110
 * reads it, is none: the body is checked, and the header removed from the answer, as from one
 * without a body), a servlet that answers in a charset Java does not know, or with a body that is
 * not text in a charset other
 * than UTF-8, and a servlet that starts asynchronous processing, since its
 * output would be written after the filter returned ({@code startAsync()} binds the asynchronous
 * context to the held-back response, so nothing written there escapes either). The policies read
 * text as UTF-8: text the servlet writes in another charset is transcoded to UTF-8 for them and
 * sent so labelled (what it writes through its writer without a {@code Content-Type} is text in the
 * writer's charset, and a {@code Content-Type} header set once the writer exists keeps the writer's
 * charset, as {@code setContentType} does). A {@code HEAD} the servlet answers by writing the body,
 * as {@code HttpServlet}'s default {@code doHead} does, gets the {@code Content-Length} of that body
 * once the policies rewrote it, the length the {@code GET} would have; one it answers without the
 * body (its own {@code doHead}) is sent without a {@code Content-Length}, since the servlet's own
 * describes the output before the policies and a 0 would be false. Trailer fields the servlet sets are not sent, nor are the headers that
 * describe its own output ({@code ETag}, {@code Last-Modified}, {@code Content-MD5}, {@code
 * Digest}, {@code Repr-Digest}, {@code Content-Digest}, {@code Content-Range}, {@code
 * Accept-Ranges}, each also under a name that reads so only on the wire, such as {@code "ETag "}):
 * the policies may rewrite the body, and a validator or digest of the model's
 * output would identify the exact scores. For the same reason the servlet does not see the
 * request's conditional and range headers ({@code If-None-Match}, {@code If-Match}, {@code
 * If-Modified-Since}, {@code If-Unmodified-Since}, {@code If-Range}, {@code Range}): a 304 or 206
 * computed on its own output would confirm or reveal it. An error or redirect the servlet sends
 * with {@code sendError} or {@code sendRedirect}, even after a write over the limit failed, is
 * left to the container and skips the output policies (the container writes that response, not the servlet),
 * but an error page the application registered for it is the application's output, rendered from
 * what the request left for it (an attribute holding the prediction, say): unless it is a guarded
 * servlet whose own chain has output policies, it answers through those of the servlet that sent
 * the error. The message of {@code sendError(status, message)} is dropped, since the container's error page
 * would show it, and so is what the servlet writes before or after either call (in an include,
 * where the container ignores both, the included servlet adds nothing to the page); an
 * informational status ({@code sendError(103)}, Early Hints) is sent as the interim response it
 * is and the answer still goes through the policies. The filter's own problem responses (denials,
 * withheld output) skip them too. On Tomcat, a servlet under output policies
 * that forwards to another ({@code RequestDispatcher.forward}) has its response completed by the
 * container when the forward returns, before the policies could run: that output is withheld
 * (logged at ERROR) and the client gets an empty answer. Included by a page that writes through
 * its writer, a guarded servlet's (checked) output or the filter's problem is written through that
 * writer, as text.
 *
 * <p>The lines the filter logs about what a servlet under output policies did wrong (failed, wrote
 * too much, in a coding or charset the policies cannot read, started asynchronous processing), and
 * the line saying that a problem could not be sent on a response already committed, are logged at
 * ERROR at most once a minute (by the engine's clock) per servlet, route (or servlet binding),
 * kind of line and exception class, each saying how many like it went to DEBUG since: a client
 * whose input makes the application throw can repeat it as fast as the server answers, and a stack
 * trace per request would bury every other line; a servlet serving many routes still has each
 * route's first line told.
 *
 * <p>A request is checked once. Later dispatches of a request the filter has allowed are not
 * checked again: a guarded servlet that dispatches itself again asynchronously is neither charged
 * twice by a quota nor asked for a body a policy already read, and the error page of a guarded
 * request is not checked again (an error page that is itself guarded answers through its own
 * chain's output policies, as below; one sent by a servlet under output policies, as above). The same holds, as a limitation, for a guarded servlet that
 * forwards or dispatches to another guarded servlet: the second one runs under the first one's
 * decision. What a guarded servlet reached by such a later dispatch writes (a page including it
 * twice, a front servlet dispatching to it) still goes through the output policies of its own
 * chain, unless it writes into a response the filter already holds for them (an include or forward
 * from a servlet under output policies). A request the filter refused stays refused: a later
 * dispatch of it to a guarded servlet (a page including a guarded fragment once more) gets the
 * same problem, and the servlet does not run.
 * Each filter keeps its own mark: two {@code ModelGuardFilter}s in one chain (a platform's in
 * front of an application's, say) each check the request with their own policies, and the second
 * one's decision is the one under {@link #DECISION_ATTRIBUTE}. A
 * policy that reads the body makes it unavailable to {@code getParameter} and {@code getParts}: the
 * servlet reads it with {@code getInputStream()} or {@code getReader()}. Once the servlet has taken
 * the body ({@code getInputStream()}, {@code getReader()}, {@code getParts()}, or the parameters of
 * a form), the output policies see it only as far as the request policies read it: the rest went to
 * the servlet, which may have answered its start and left the end (a decoy query appended for the
 * extraction detectors) unread. One that asks for more (an extraction defence's {@code
 * observePolicy} in a chain where no request policy reads the body, say) gets an {@link
 * IOException}, and the answer fails closed; read the body in the request phase ({@link
 * io.modelguard.input.ModelInputPolicy}).
 */
public final class ModelGuardFilter implements Filter {
  /**
   * The request attribute under which an allowed request carries its {@link GuardDecision}, so the
   * application can read the principal: {@code (GuardDecision) request.getAttribute(DECISION_ATTRIBUTE)}.
   * The same name as the JAX-RS adapter's request property.
   */
  public static final String DECISION_ATTRIBUTE = "io.modelguard.GuardDecision";

  /**
   * The most bytes of output the filter holds for a chain's output policies unless {@link
   * Builder#maxOutputBytes} says otherwise: 8 MiB.
   */
  public static final int DEFAULT_MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

  private static final Logger log = LoggerFactory.getLogger(ModelGuardFilter.class);
  /** The most characters of a request's path a log line quotes. */
  private static final int MAX_LOGGED_PATH = 256;

  private static final AtomicLong INSTANCES = new AtomicLong();

  /**
   * Request attribute marking a request this filter already checked: one name per filter, so that
   * a second filter in the same chain (an application's own behind a platform's) checks it too.
   */
  private final String checked = ModelGuardFilter.class.getName() + ".checked." + INSTANCES.incrementAndGet();

  /**
   * Request attribute present while this filter holds the response of a dispatch for its output
   * policies: a dispatch nested in it (an include or forward from the servlet) writes into that held
   * response, whose output the policies see when it returns.
   */
  private final String holding = checked + ".holding";

  /**
   * Request attribute set when a servlet under output policies handed the response to the container
   * ({@code sendError}): the error page the container then dispatches to answers through them.
   */
  private final String errorPageHeld = checked + ".errorPage";

  private final ModelGuard guard;
  /** The pace of the lines about what a servlet did wrong: see the class documentation. */
  private final LogPace<FaultKey> faults = new LogPace<>(log, "per servlet, route, kind of line and exception class");
  private final List<Route> routes;
  private final int maxOutputBytes;
  private final Map<String, Binding> servlets = new ConcurrentHashMap<>();
  private volatile ServletContext servletContext;

  /**
   * A filter that guards the servlets annotated with {@link io.modelguard.ModelSecured
   * &#64;ModelSecured} and no other paths.
   *
   * @param guard the engine that makes every decision
   * @throws NullPointerException if {@code guard} is null
   */
  public ModelGuardFilter(ModelGuard guard) {
    this(Objects.requireNonNull(guard, "guard"), List.of(), DEFAULT_MAX_OUTPUT_BYTES);
  }

  private ModelGuardFilter(ModelGuard guard, List<Route> routes, int maxOutputBytes) {
    this.guard = guard;
    this.routes = List.copyOf(routes);
    this.maxOutputBytes = maxOutputBytes;
  }

  /**
   * Starts a builder for a filter that also guards paths given in code. Annotated servlets are
   * guarded as by {@link #ModelGuardFilter(ModelGuard)}; path rules are checked first.
   *
   * @param guard the engine that makes every decision
   * @return a builder without path rules
   * @throws NullPointerException if {@code guard} is null
   */
  public static Builder builder(ModelGuard guard) {
    return new Builder(Objects.requireNonNull(guard, "guard"));
  }

  /**
   * Resolves {@code @ModelSecured} on every servlet registered in the context and checks each
   * one's chain exists, so that a typo fails deployment rather than requests. A servlet class that
   * cannot be loaded here is logged and treated as not annotated.
   *
   * @throws ServletException naming the servlet, its class and the problem, if an annotation is
   *     invalid or names an unknown chain; the container then fails to start the context
   */
  @Override
  public void init(FilterConfig filterConfig) throws ServletException {
    ServletContext context = filterConfig.getServletContext();
    if (servletContext != null && servletContext != context) {
      throw new ServletException("ModelGuardFilter: one instance serves one servlet context; "
          + "create another filter for context '" + context.getContextPath() + "'");
    }
    servletContext = context;
    for (ServletRegistration registration : context.getServletRegistrations().values()) {
      try {
        servlets.put(registration.getName(), bind(registration.getName(), registration.getClassName()));
      } catch (IllegalArgumentException e) {
        throw new ServletException("ModelGuardFilter: servlet '" + registration.getName() + "' ("
            + registration.getClassName() + "): " + e.getMessage(), e);
      }
    }
    checkCoverage(context, filterConfig.getFilterName());
  }

  /**
   * Fails start-up if this filter is mapped more narrowly than what it guards: a route, or a
   * mapping of a {@code @ModelSecured} servlet, that its own URL patterns (or servlet names) do not
   * cover would be reached, outside them, by requests the filter never sees. Skipped where the
   * container does not tell a filter its registration.
   */
  private void checkCoverage(ServletContext context, String filterName) throws ServletException {
    FilterRegistration own;
    try {
      own = filterName == null ? null : context.getFilterRegistration(filterName);
    } catch (UnsupportedOperationException e) {
      own = null;
    }
    if (own == null) {
      log.debug("ModelGuard: the container does not show filter '{}' its mappings; they are not checked", filterName);
      return;
    }
    FilterCoverage coverage = new FilterCoverage(own.getUrlPatternMappings(), own.getServletNameMappings());
    String fix = " (its URL patterns: " + own.getUrlPatternMappings() + ", servlet names: "
        + own.getServletNameMappings() + "), so requests outside it would run unguarded; map the filter to \"/*\" "
        + "for every dispatcher type";
    for (Route route : routes) {
      if (!coverage.coversTemplate(route.template.toString())) {
        throw new ServletException("ModelGuardFilter: route " + route.template + " is not covered by the filter's "
            + "mapping" + fix);
      }
    }
    for (ServletRegistration registration : context.getServletRegistrations().values()) {
      Binding binding = servlets.get(registration.getName());
      if (binding == null || binding == Binding.UNGUARDED || coverage.coversServlet(registration.getName())) {
        continue;
      }
      for (String mapping : registration.getMappings()) {
        if (!coverage.coversMapping(mapping)) {
          throw new ServletException("ModelGuardFilter: servlet '" + registration.getName() + "' ("
              + registration.getClassName() + ") carries @ModelSecured and is mapped to '" + mapping
              + "', which is not covered by the filter's mapping" + fix + ", or to this servlet by name");
        }
      }
    }
  }

  /**
   * Checks a guarded request and either answers the denial or lets it continue; see the class
   * documentation. Requests that are not HTTP, not guarded, or already checked pass through.
   *
   * @throws IOException if writing the response fails, or as thrown by the rest of the chain
   * @throws ServletException as thrown by the rest of the chain
   */
  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    Object earlier = req.getAttribute(checked);
    if (!(req instanceof HttpServletRequest) || !(res instanceof HttpServletResponse)
        || (earlier != null && req.getAttribute(holding) != null)) {
      chain.doFilter(req, res);
      return;
    }
    HttpServletRequest request = (HttpServletRequest) req;
    HttpServletResponse response = (HttpServletResponse) res;
    String path = pathWithinContext(request);

    // Plain loops and precomputed bindings: this runs on every request the filter sees.
    Binding binding = null;
    for (Route route : routes) {
      if (matches(route.template, path)) {
        binding = route.binding;
        break;
      }
    }
    if (binding == null) {
      binding = servletBinding(request);
      if (binding == Binding.UNGUARDED) {
        if (!holdErrorPage(request, response, chain, path)) {
          chain.doFilter(request, response);
        }
        return;
      }
    }
    if (earlier != null) {
      // A later dispatch (include, forward, asynchronous or error) of a request this filter checked.
      laterDispatch(request, response, chain, binding, path, earlier);
      return;
    }
    if (binding == Binding.INVALID) {
      refuse(request, response, ProblemRenderer.internalError());
      return;
    }

    if (request.getHeader("Content-Encoding") != null // nearly every request: no header, nothing to list
        && !ContentCodings.declared(java.util.Collections.list(request.getHeaders("Content-Encoding"))).isEmpty()) {
      // The policies would read the coded bytes (and refuse them as malformed, or pass them), while
      // an application decoding them would hand the model bytes no policy saw. Answered as the
      // JAX-RS adapter answers it, before any policy.
      refuse(request, response, ProblemRenderer.render(ContentCodings.compressedRequestRefusal()));
      return;
    }
    Endpoint endpoint = binding.endpoint(path);
    ServletInferenceRequest inference = new ServletInferenceRequest(request, path, endpoint);
    GuardDecision decision = guard.check(inference);
    if (!decision.isAllowed()) {
      if (inference.hasUnreadBody() && !inference.discardUnreadBody() && inference.mayCloseConnection()) {
        // The denial is sent before the body was read (more than CappedBody reads and discards).
        // Containers then drop the connection; saying so stops a keep-alive client from sending
        // its next request into a closed socket. Not over HTTP/2, which has no such field.
        response.setHeader("Connection", "close");
      }
      refuse(request, response, ProblemRenderer.render(decision));
      return;
    }
    request.setAttribute(checked, new Allowed(inference, decision));
    request.setAttribute(DECISION_ATTRIBUTE, decision);
    Map<String, String> guardHeaders = decision.headers();
    guardHeaders.forEach(response::setHeader);
    if (!binding.outputPolicies) {
      // Unheld, the response streams as usual; small wrappers, only if there are headers to keep,
      // keep them: after a reset() by the servlet, over its own values, in a bare startAsync().
      if (guardHeaders.isEmpty()) {
        chain.doFilter(inference.requestForApplication(response), response);
        return;
      }
      GuardHeadersResponse passed = new GuardHeadersResponse(response, guardHeaders);
      HttpServletRequest forwarded = inference.requestForApplication(passed);
      // A bare startAsync() on the container's request would hold the container's response, past
      // the wrapper; a replaying request already binds its asynchronous context to the wrapper.
      chain.doFilter(forwarded == request ? new GuardHeadersRequest(request, passed) : forwarded, passed);
      return;
    }
    HttpServletRequest forwarded = inference.requestForApplication(response);

    hold(request, response, chain, forwarded, path, binding, endpoint, inference, decision);
  }

  /**
   * A later dispatch of a request this filter checked, to a guarded path or servlet: one it refused
   * is refused again (the servlet never runs without a decision); one it allowed is neither checked
   * nor charged again, but what the servlet answers goes through the output policies of its own
   * chain, unless it writes into a response this filter already holds for them.
   */
  private void laterDispatch(HttpServletRequest request, HttpServletResponse response, FilterChain chain,
      Binding binding, String path, Object earlier) throws IOException, ServletException {
    if (earlier instanceof ProblemResponse refusal) {
      writeProblem(request, response, refusal);
      return;
    }
    if (binding == Binding.INVALID || !(earlier instanceof Allowed allowed)) {
      writeProblem(request, response, ProblemRenderer.internalError());
      return;
    }
    if (!binding.outputPolicies) {
      if (!holdErrorPage(request, response, chain, path)) {
        chain.doFilter(request, response);
      }
      return;
    }
    Endpoint endpoint = binding.endpoint(path);
    ServletInferenceRequest inference = endpoint.equals(allowed.inference.endpoint())
        ? allowed.inference : allowed.inference.retarget(request, path, endpoint);
    hold(request, response, chain, request, path, binding, endpoint, inference, allowed.decision);
  }

  /**
   * Holds an error dispatch for the output policies of the servlet that sent the error, if that
   * servlet's response was held for them: the error page (not guarded, or guarded by a chain
   * without output policies) renders what the request left for it, which may be the model's output.
   *
   * @return whether the dispatch was held and answered
   */
  private boolean holdErrorPage(HttpServletRequest request, HttpServletResponse response, FilterChain chain,
      String path) throws IOException, ServletException {
    if (request.getDispatcherType() != DispatcherType.ERROR || !(request.getAttribute(errorPageHeld) instanceof Held held)) {
      return false;
    }
    hold(request, response, chain, request, path, held.binding(), held.endpoint(), held.inference(), held.decision());
    return true;
  }

  /**
   * {@code path} fit for one log line: the container decodes it, so a client can put line breaks
   * (NEL, U+2028) and terminal escapes in it; cut so that a long path cannot flood the log.
   */
  private static String logged(String path) {
    return LogText.oneLine(path, MAX_LOGGED_PATH);
  }

  /**
   * What a line about a servlet's fault is paced by ({@link #faults}): the servlet's name, the
   * route or servlet binding that guarded the request (compared by identity; null: none), the
   * line's format and the class name of what was thrown (empty: nothing). All come from the
   * deployment and the code, never from the request, so there are few; the binding keeps one
   * route's fault, which a client may repeat at will, from hiding another's on a servlet that
   * serves many routes (a framework's dispatcher).
   */
  private record FaultKey(String servlet, Binding binding, String line, String thrown) {}

  /**
   * Logs what the servlet of {@code request}, guarded by {@code binding} (null if none is known),
   * did wrong, with the stack trace of {@code thrown} unless it is null: at ERROR at most once a
   * minute per {@link FaultKey}, at DEBUG otherwise.
   */
  private void fault(HttpServletRequest request, Binding binding, Throwable thrown, String format, Object... args) {
    FaultKey key = new FaultKey(String.valueOf(servletName(request)), binding, format,
        thrown == null ? "" : thrown.getClass().getName());
    faults.log(Level.ERROR, key, guard.clock().millis(), thrown, format, args);
  }

  /** Marks the request refused, so that no later dispatch runs a guarded servlet, and sends the problem. */
  private void refuse(HttpServletRequest request, HttpServletResponse response, ProblemResponse problem)
      throws IOException {
    request.setAttribute(checked, problem);
    writeProblem(request, response, problem);
  }

  /**
   * Runs the rest of the chain on a held response and sends what the servlet wrote once the output
   * policies of {@code endpoint}'s chain have seen it; see the class documentation.
   */
  private void hold(HttpServletRequest request, HttpServletResponse response, FilterChain chain,
      HttpServletRequest forwarded, String path, Binding binding, Endpoint endpoint,
      ServletInferenceRequest inference, GuardDecision decision) throws IOException, ServletException {
    BufferingResponse buffered = new BufferingResponse(response, decision.headers(), maxOutputBytes);
    request.setAttribute(holding, Boolean.TRUE);
    try {
      // Once the servlet takes the body, the output policies get only what the request policies read.
      chain.doFilter(new BufferedAsyncRequest(forwarded, buffered, inference::sealBody), buffered);
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      if (!buffered.overflowed()) {
        // Not passed on: the container's error page shows an exception's message (Tomcat its stack
        // trace too), which the output policies never saw and which may quote the model's output
        // (as a parser's message quotes the input it could not read), like sendError's message.
        fault(request, binding, e, "ModelGuard: the servlet on {} failed; its output and the exception, which the output "
            + "policies of chain '{}' never saw, are withheld", logged(path), endpoint.chain());
        if (!buffered.passedThrough()) {
          withhold(request, response, buffered);
        }
        return;
      }
      // The servlet let the write that overflowed the buffer fail it: answered below.
    } finally {
      request.removeAttribute(holding);
    }
    // First, since nothing can replace it: an error page or redirect the container writes (the
    // servlet may send one after a write over the limit failed), not model output. An error page the
    // application registered is its output, though: that dispatch answers through these policies.
    if (buffered.passedThrough()) {
      if (request.getDispatcherType() != DispatcherType.INCLUDE) {
        request.setAttribute(errorPageHeld, new Held(binding, inference, endpoint, decision));
      }
      return;
    }
    if (completed(request, response)) {
      if (buffered.captured().length > 0) {
        // Tomcat completes the response when a forward returns: output the servlet's view wrote
        // into the held response can no longer be sent. Withheld; said, not lost in silence.
        fault(request, binding, null, "ModelGuard: the response on {} was committed by the container (a RequestDispatcher "
            + "forward from a servlet whose chain '{}' has output policies?) while its output was held "
            + "for them; that output is withheld", logged(path), endpoint.chain());
      }
      return;
    }
    if (request.isAsyncStarted()) {
      fault(request, binding, null, "ModelGuard: servlet started asynchronous processing on {}, whose chain '{}' has "
          + "output policies; its output is withheld", logged(path), endpoint.chain());
      withhold(request, response, buffered);
      return;
    }
    if (buffered.overflowed()) {
      fault(request, binding, null, "ModelGuard: the servlet on {} wrote more than {} bytes, the most the output "
          + "policies of chain '{}' may buffer; its output is withheld", logged(path), maxOutputBytes, endpoint.chain());
      withhold(request, response, buffered);
      return;
    }
    List<String> codingHeaders = contentEncodingNames(response);
    String encoding = contentCoding(response, codingHeaders);
    if (encoding != null) {
      fault(request, binding, null, "ModelGuard: the servlet on {} wrote its output with Content-Encoding '{}', which the "
          + "output policies of chain '{}' cannot read; its output is withheld. Compress outside "
          + "ModelGuardFilter.", logged(path), encoding, endpoint.chain());
      withhold(request, response, buffered);
      return;
    }
    // Declaring no coding (contentCoding found none), they describe nothing: identity is no coding
    // a response may carry (RFC 9110, section 12.5.3, keeps it for Accept-Encoding), and a
    // recipient may take " IDENTITY, " for one it must undo. Removed before the policies run, so
    // that an answer without a body (a HEAD the servlet answers itself) carries the same fields as
    // the checked one; a withheld answer is reset anyway. Servlet 6: a null value removes them.
    codingHeaders.forEach(name -> response.setHeader(name, null));
    byte[] captured = buffered.captured();
    if (captured.length == 0) {
      // No body is no output: nothing for the policies to check, rewrite or settle (a 204, say).
      if (!"HEAD".equals(request.getMethod())) {
        response.setContentLength(0);
      } else if (request.getDispatcherType() != DispatcherType.INCLUDE) {
        // A HEAD answered without the body (the servlet's own doHead, or HttpServlet's legacy one,
        // which counts it where the filter cannot see it): the length the GET's checked body would
        // have is unknown, and a 0 would be false. Committed without one, since Jetty would add a 0.
        response.flushBuffer();
      }
      return;
    }
    String contentType = response.getContentType();
    // The policies read text as UTF-8 (ModelOutput#bodyAsString, the codecs): text the servlet wrote
    // in another charset is given to them, and sent, in UTF-8, so that it neither passes them
    // unread nor leaves rewritten under the old label; as in the JAX-RS adapter.
    Charset bodyCharset = charsetOf(response);
    Charset declared;
    try {
      declared = TextBodies.declaredCharset(contentType);
    } catch (IllegalArgumentException e) {
      fault(request, binding, null, "ModelGuard: the servlet on {} answered {}, a charset the output policies of chain '{}' cannot "
          + "read; its output is withheld", logged(path), contentType, endpoint.chain());
      withhold(request, response, buffered);
      return;
    }
    boolean text = contentType != null && TextBodies.isText(contentType);
    if (contentType == null && buffered.writerCharset() != null) {
      // Characters the servlet wrote through its writer, in a charset no Content-Type names: read
      // as UTF-8 they would pass the policies unrecognised, and the client decode them anyway.
      declared = buffered.writerCharset();
      text = true;
    }
    if (declared != null && !declared.equals(StandardCharsets.UTF_8)) {
      try {
        // Bytes that are not text are not transcoded: withheld, as text that is not valid in its charset.
        captured = text ? TextBodies.toUtf8(captured, declared) : null;
      } catch (CharacterCodingException e) {
        captured = null;
      }
      if (captured == null) {
        fault(request, binding, null, "ModelGuard: the servlet on {} answered {}, which the output policies of chain '{}' cannot "
            + "read as UTF-8; its output is withheld. Answer in UTF-8.", logged(path), contentType, endpoint.chain());
        withhold(request, response, buffered);
        return;
      }
      if (captured.length > maxOutputBytes) {
        fault(request, binding, null, "ModelGuard: the servlet on {} wrote more than {} bytes in UTF-8, the most the output "
            + "policies of chain '{}' may buffer; its output is withheld", logged(path), maxOutputBytes, endpoint.chain());
        withhold(request, response, buffered);
        return;
      }
      response.setCharacterEncoding(StandardCharsets.UTF_8.name());
      contentType = response.getContentType();
      bodyCharset = StandardCharsets.UTF_8;
    }
    ModelOutput output;
    try {
      output = guard.onResponse(inference, decision, response.getStatus(), ModelOutput.of(captured, contentType));
    } catch (GuardFailureException e) {
      // As every other withheld answer (in an include, the page's committed response is not reset),
      // keeping the counted request's rate-limit fields.
      withhold(request, response, buffered);
      return;
    }
    String outputType = output.contentType().orElse(null);
    if (outputType != null && !sameMediaType(outputType, contentType)) {
      response.setContentType(outputType);
    }
    byte[] body = output.body();
    response.setContentLength(body.length);
    if (body.length > 0) {
      writeBody(response, body, bodyCharset);
    }
  }

  /**
   * Writes {@code body} to the output stream, or, where the response's writer is already taken
   * (a guarded servlet included by a page that writes through its writer), as text in {@code
   * charset} through the writer.
   */
  private static void writeBody(HttpServletResponse response, byte[] body, Charset charset) throws IOException {
    ServletOutputStream out;
    try {
      out = response.getOutputStream();
    } catch (IllegalStateException writerTaken) {
      PrintWriter writer = response.getWriter();
      writer.write(new String(body, charset));
      writer.flush();
      return;
    }
    out.write(body);
    out.flush();
  }

  /** The response's character encoding, if it names one Java knows; UTF-8 otherwise. */
  private static Charset charsetOf(HttpServletResponse response) {
    String name = response.getCharacterEncoding();
    try {
      return name == null ? StandardCharsets.UTF_8 : Charset.forName(name);
    } catch (IllegalArgumentException e) {
      return StandardCharsets.UTF_8;
    }
  }

  /**
   * Drops the servlet's output and every header it set, and answers {@code internal.error}; a
   * response committed meanwhile (from an asynchronous thread) is left as it is, since resetting it
   * would fail.
   */
  private void withhold(HttpServletRequest request, HttpServletResponse response, BufferingResponse buffered)
      throws IOException {
    buffered.discard();
    if (!response.isCommitted()) {
      response.reset();
      // The quota counted the request: its rate-limit fields stay on the answer that replaces it.
      buffered.restoreGuardHeaders();
    }
    writeProblem(request, response, ProblemRenderer.internalError());
  }

  /**
   * The names of the response's headers that read as {@code Content-Encoding} on the wire ({@link
   * HeaderNames}): the containers send {@code "Content-Encoding "} as {@code Content-Encoding :
   * gzip}, which a proxy or client may take for the coding. Empty (allocating nothing) for most
   * responses.
   */
  private static List<String> contentEncodingNames(HttpServletResponse response) {
    List<String> names = List.of();
    for (String name : response.getHeaderNames()) {
      if (HeaderNames.reads(name, "Content-Encoding")) {
        if (names.isEmpty()) {
          names = new ArrayList<>(1);
        }
        names.add(name);
      }
    }
    return names;
  }

  /**
   * The content coding the servlet declared for its body under the headers {@code names} ({@code
   * gzip}, say), or null if there is none but {@code identity} (in any letter case, amid spaces,
   * tabs and empty list members, as RFC 9110 reads a list): a coded body is bytes the output
   * policies cannot read or rewrite.
   */
  private static String contentCoding(HttpServletResponse response, List<String> names) {
    if (names.isEmpty()) {
      return null;
    }
    List<String> declared = new ArrayList<>();
    for (String name : names) {
      declared.addAll(response.getHeaders(name));
    }
    List<String> codings = ContentCodings.declared(declared);
    return codings.isEmpty() ? null : codings.get(0);
  }

  /**
   * Whether a template matches, ignoring empty segments: a servlet mapped by prefix also receives
   * {@code /v1/models/digits/predict/} and, on Jetty, a dispatch to {@code /v1//models/digits/predict}
   * (Tomcat merges the slashes; Jetty refuses them in a request line but not in a {@code
   * RequestDispatcher} or asynchronous dispatch path, nor in a request under a relaxed URI
   * compliance), and a rule must not be sidestepped by adding a slash.
   */
  private static boolean matches(PathTemplate template, String path) {
    if (template.matches(path)) {
      return true;
    }
    String trimmed = PathTemplate.withoutEmptySegments(path);
    return trimmed != path && template.matches(trimmed);
  }

  /**
   * The value of a template's variable in {@code path}, ignoring empty segments as {@link
   * #matches} does; null if the path does not match.
   */
  private static String variable(PathTemplate template, String path, String name) {
    String value = template.variable(path, name);
    if (value != null) {
      return value;
    }
    String trimmed = PathTemplate.withoutEmptySegments(path);
    // A template has no empty segment, so a path that matches as sent has none either and is its
    // own trimmed form: the second try never overrides a match of the path as sent.
    return trimmed == path ? null : template.variable(trimmed, name);
  }

  /** Whether two Content-Type values name the same media type, parameters aside. */
  private static boolean sameMediaType(String a, String b) {
    return b != null && TextBodies.mediaType(a).equalsIgnoreCase(TextBodies.mediaType(b));
  }

  /** Forgets the servlets resolved so far; the filter may be initialised again afterwards. */
  @Override
  public void destroy() {
    servlets.clear();
    servletContext = null;
  }

  /**
   * The path the container mapped the request by: servlet path plus path info; in an include, those
   * of the included servlet (the request's own methods still describe the including one).
   */
  private static String pathWithinContext(HttpServletRequest request) {
    boolean include = request.getDispatcherType() == DispatcherType.INCLUDE;
    String servletPath = include
        ? (String) request.getAttribute(RequestDispatcher.INCLUDE_SERVLET_PATH) : request.getServletPath();
    String pathInfo = include
        ? (String) request.getAttribute(RequestDispatcher.INCLUDE_PATH_INFO) : request.getPathInfo();
    String path = (servletPath == null ? "" : servletPath) + (pathInfo == null ? "" : pathInfo);
    return path.isEmpty() ? "/" : path;
  }

  /** The name of the servlet the container mapped the request to; in an include, the included one's. */
  private static String servletName(HttpServletRequest request) {
    // In an include, the request's mapping is the including servlet's; the included one is here.
    HttpServletMapping mapping = request.getDispatcherType() == DispatcherType.INCLUDE
        && request.getAttribute(RequestDispatcher.INCLUDE_MAPPING) instanceof HttpServletMapping included
        ? included : request.getHttpServletMapping();
    return mapping == null ? null : mapping.getServletName();
  }

  private Binding servletBinding(HttpServletRequest request) {
    String name = servletName(request);
    if (name == null) {
      return Binding.UNGUARDED;
    }
    Binding cached = servlets.get(name);
    if (cached != null) {
      return cached;
    }
    // A servlet registered after init (possible in embedded containers): resolve it now, and
    // fail closed if its annotation is invalid.
    ServletContext context = servletContext != null ? servletContext : request.getServletContext();
    return servlets.computeIfAbsent(name, n -> {
      ServletRegistration registration = context.getServletRegistration(n);
      if (registration == null) {
        return Binding.UNGUARDED;
      }
      try {
        return bind(n, registration.getClassName());
      } catch (IllegalArgumentException e) {
        log.error("ModelGuard: servlet '{}' ({}) has an invalid @ModelSecured; its requests are "
            + "denied: {}", n, registration.getClassName(), e.getMessage());
        return Binding.INVALID;
      }
    });
  }

  /**
   * The binding of a servlet class's annotation.
   *
   * @throws IllegalArgumentException if the annotation is invalid or names an unknown chain
   */
  private Binding bind(String servletName, String className) {
    if (className == null) {
      return Binding.UNGUARDED;
    }
    Class<?> type;
    try {
      type = Class.forName(className, false, classLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      log.warn("ModelGuard: cannot load class {} of servlet '{}' to look for @ModelSecured; its "
          + "requests are not guarded ({})", className, servletName, e.toString());
      return Binding.UNGUARDED;
    }
    return EndpointSpec.forClass(type).map(spec -> {
      EndpointSpec valid = guard.validate(spec);
      warnIfModelVariableUnbound("servlet '" + servletName + "' (" + className + ")", valid);
      return new Binding(valid, guard);
    }).orElse(Binding.UNGUARDED);
  }

  /**
   * Logs a WARN when {@code spec} takes its model from a path variable that no template binds: the
   * annotation gives no {@code path}, or a path that declares other variables but not this one (a
   * misnamed variable, most likely). Such an endpoint has no model, so model access, per-model
   * quotas and input specifications silently do not apply to it. A template without any variable
   * (a catalog on {@code /v1/models}) is the documented model-less case and is not warned about.
   */
  static void warnIfModelVariableUnbound(String where, EndpointSpec spec) {
    Optional<String> variable = spec.modelVariable();
    if (variable.isEmpty()) {
      return;
    }
    PathTemplate template = spec.pathTemplate().orElse(null);
    if (template == null) {
      log.warn("ModelGuard: {} takes the model from path variable {{}} but gives no path template to bind it "
          + "(@ModelSecured(path = ...)): its requests have no model, so model access, per-model quotas and input "
          + "specifications do not apply to them.", where, variable.get());
    } else if (!template.declares(variable.get()) && template.toString().indexOf('{') >= 0) {
      log.warn("ModelGuard: {} takes the model from path variable {{}}, which its path template {} does not "
          + "declare: its requests have no model, so model access, per-model quotas and input specifications do "
          + "not apply to them. Name the template's variable in the model if it names the model.", where,
          variable.get(), template);
    }
  }

  private ClassLoader classLoader() {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    if (loader == null && servletContext != null) {
      loader = servletContext.getClassLoader();
    }
    return loader != null ? loader : ModelGuardFilter.class.getClassLoader();
  }

  /**
   * Whether the response can take no more of this dispatch's output: it is committed, and this is
   * not an include, whose page may have committed it (flushed its head, say) and still writes on.
   */
  private static boolean completed(HttpServletRequest request, HttpServletResponse response) {
    return response.isCommitted() && request.getDispatcherType() != DispatcherType.INCLUDE;
  }

  /**
   * Writes a problem verbatim: status, headers, exact media type, explicit length, body. In an
   * include, the container ignores all but the body. On a response already committed (a page that
   * flushed its answer, then dispatched asynchronously to a guarded path that refuses the request),
   * nothing can be sent: said at ERROR, paced per servlet as the servlets' faults are, since the
   * client can repeat the request at will.
   */
  private void writeProblem(HttpServletRequest request, HttpServletResponse response, ProblemResponse problem)
      throws IOException {
    if (completed(request, response)) {
      fault(request, null, null, "ModelGuard: response already committed; cannot send problem {}", problem.status());
      return;
    }
    response.setStatus(problem.status());
    problem.headers().forEach(response::setHeader);
    // The output stream, never the writer: a writer would make the container append a charset.
    response.setContentType(ProblemResponse.CONTENT_TYPE);
    byte[] body = problem.body();
    response.setContentLength(body.length);
    writeBody(response, body, StandardCharsets.UTF_8);
  }

  /** The mark of a request this filter allowed: what later dispatches of it run under. */
  private record Allowed(ServletInferenceRequest inference, GuardDecision decision) {}

  /** The output policies a request's error page answers through: those of the servlet that sent the error. */
  private record Held(Binding binding, ServletInferenceRequest inference, Endpoint endpoint, GuardDecision decision) {}

  /**
   * What a servlet or path rule is guarded by, resolved once: the endpoint itself when the model
   * is fixed, otherwise the template whose variable names it in each request's path.
   */
  private static final class Binding {
    static final Binding UNGUARDED = new Binding();
    static final Binding INVALID = new Binding();

    final EndpointSpec spec;
    final boolean outputPolicies;
    /** The endpoint of every request, when the model is fixed (endpoints are immutable); else null. */
    private final Endpoint fixed;
    private final PathTemplate template;

    private Binding() {
      this.spec = null;
      this.outputPolicies = false;
      this.fixed = null;
      this.template = null;
    }

    Binding(EndpointSpec spec, ModelGuard guard) {
      this.spec = spec;
      this.outputPolicies = guard.chain(spec.chain()).hasOutputPolicies();
      this.fixed = spec.model().map(model -> Endpoint.of(model, spec.chain(), spec.cost())).orElse(null);
      this.template = spec.pathTemplate().orElse(null);
    }

    /**
     * The endpoint of a request for {@code path}: as {@code spec.resolve} with the variables the
     * template binds in the path. A model variable the template declares that the path does not
     * bind to a model id gives an unresolved endpoint (denied); one it does not declare, an
     * endpoint without a model.
     */
    Endpoint endpoint(String path) {
      if (fixed != null) {
        return fixed;
      }
      return spec.resolve(name -> template == null ? null : variable(template, path, name),
          name -> template != null && template.declares(name));
    }
  }

  private static final class Route {
    final PathTemplate template;
    final Binding binding;

    Route(PathTemplate template, Binding binding) {
      this.template = template;
      this.binding = binding;
    }
  }

  /**
   * Builds a {@link ModelGuardFilter} with path rules given in code. Each rule is validated when it
   * is added.
   *
   * <pre>{@code
   * Filter filter = ModelGuardFilter.builder(guard)
   *     .route("/v1/models/{model}/predict", EndpointSpec.of("{model}", "default", 1))
   *     .build();
   * }</pre>
   */
  public static final class Builder {
    private final ModelGuard guard;
    private final List<Route> routes = new ArrayList<>();
    private int maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES;

    private Builder(ModelGuard guard) {
      this.guard = guard;
    }

    /**
     * Guards the requests whose path within the context ({@code servletPath + pathInfo}) matches
     * {@code pathTemplate} with {@code spec}; the template's variables supply a {@code
     * "{variable}"} model. Rules are tried in the order added, before any annotation, and the first
     * match wins. Matching is exact per segment, except that empty segments in the request path
     * are ignored (so {@code /v1/models/digits/predict/} is guarded too, and so is {@code
     * /v1//models/digits/predict}, which Jetty dispatches as it is). Default: no rules.
     *
     * <p>A rule that an earlier one covers would never apply, so it is refused: after {@code
     * /v1/models/{model}/predict}, {@code /v1/models/digits/predict} (which it matches too) and a
     * second {@code /v1/models/{model}/predict} (or {@code /v1/models/{id}/predict}) are refused;
     * add the specific rule first. A variable matches any segment here, a model id or not: a path
     * whose segment is no model id is still guarded by the rule, and denied. A rule that only
     * overlaps an earlier one ({@code /v1/models/{model}/predict} after {@code
     * /v1/{x}/digits/predict}) is accepted, since the paths only it matches reach it.
     *
     * @param pathTemplate a template such as {@code /v1/models/{model}/predict}, relative to the
     *     context path, without a trailing slash or any {@code //} (see {@link
     *     PathTemplate#compile}): {@code /v1/predict/} is refused, not read as {@code /v1/predict},
     *     since as written it would guard only the path with the slash
     * @param spec the model, chain and cost; any path template it has is replaced by {@code
     *     pathTemplate}
     * @return this builder
     * @throws IllegalArgumentException naming the rule, if the template is invalid (it has an empty
     *     segment, say) or the spec's chain is unknown to the guard; naming it and the earlier rule,
     *     if that rule matches every path this one matches
     * @throws NullPointerException if an argument is null
     */
    public Builder route(String pathTemplate, EndpointSpec spec) {
      Objects.requireNonNull(pathTemplate, "pathTemplate");
      Objects.requireNonNull(spec, "spec");
      EndpointSpec withPath;
      Route route;
      try {
        withPath = guard.validate(spec.withPath(pathTemplate));
        route = new Route(withPath.pathTemplate().orElseThrow(), new Binding(withPath, guard));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("route " + pathTemplate + ": " + e.getMessage(), e);
      }
      refuseIfUnreachable(route.template);
      warnIfModelVariableUnbound("route " + pathTemplate, withPath);
      routes.add(route);
      return this;
    }

    /**
     * Refuses a rule an earlier one covers: the operator expects its chain, and the first rule's
     * chain silently guards its requests instead. Checking each earlier rule alone suffices (see
     * {@link PathTemplate#covers}), and the filter's dropping of empty segments in request paths
     * applies to every rule alike, so it makes no rule reachable that is not reachable without it.
     */
    private void refuseIfUnreachable(PathTemplate template) {
      for (Route earlier : routes) {
        if (!earlier.template.covers(template)) {
          continue;
        }
        if (template.covers(earlier.template)) {
          throw new IllegalArgumentException("route " + template + " would never apply: route "
              + earlier.template + ", added before it, matches the same paths; keep one of the two");
        }
        throw new IllegalArgumentException("route " + template + " would never apply: route "
            + earlier.template + ", added before it, matches every path it matches and rules are "
            + "tried in the order added; add the more specific route " + template + " first");
      }
    }

    /**
     * The most bytes of a servlet's output the filter holds for the output policies of a chain
     * that has them. A servlet that writes more gets an {@link IOException} from its write, and
     * the client the {@code internal.error} problem (500) instead of any of the output. Default:
     * {@value ModelGuardFilter#DEFAULT_MAX_OUTPUT_BYTES} bytes.
     *
     * @param maxOutputBytes at least 1
     * @return this builder
     * @throws IllegalArgumentException if {@code maxOutputBytes} is less than 1
     */
    public Builder maxOutputBytes(int maxOutputBytes) {
      if (maxOutputBytes < 1) {
        throw new IllegalArgumentException("maxOutputBytes must be at least 1, was " + maxOutputBytes);
      }
      this.maxOutputBytes = maxOutputBytes;
      return this;
    }

    /**
     * Builds the filter.
     *
     * @return a filter with the rules added so far
     */
    public ModelGuardFilter build() {
      return new ModelGuardFilter(guard, routes, maxOutputBytes);
    }
  }
}
