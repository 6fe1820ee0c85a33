package io.modelguard.jaxrs;

import io.modelguard.EndpointSpec;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.ModelGuard;
import io.modelguard.ModelSecured;
import io.modelguard.internal.AnnotationInheritance;
import io.modelguard.jaxrs.internal.GuardResponseFilter;
import io.modelguard.jaxrs.internal.OutputFaultLog;
import io.modelguard.jaxrs.internal.ServletConnectionFacts;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.DynamicFeature;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.FeatureContext;
import jakarta.ws.rs.sse.SseEventSink;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.util.Objects;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Jakarta REST (JAX-RS 3.1 and later) adapter: guards every resource method annotated, or
 * whose class is annotated, with {@link ModelSecured}. The application builds it in code around
 * its own {@link ModelGuard} and registers the instance, for example from {@code
 * Application.getSingletons()} or {@code ResourceConfig.register(...)}:
 *
 * <pre>{@code
 * ModelGuard guard = ModelGuard.builder()...build();
 * resourceConfig.register(new ModelGuardFeature(guard));
 * }</pre>
 *
 * <p>At deployment, for each resource method it resolves the annotation once (the method's
 * overrides the class's, and both are inherited from superclasses and interfaces, see {@link
 * ModelSecured} and {@link EndpointSpec#forMethod}), checks that the named chain exists and
 * registers, for that method only:
 *
 * <ul>
 *   <li>a request filter at {@link Priorities#AUTHENTICATION} that runs {@link ModelGuard#check}
 *       and either aborts with the problem response of the denial, or lets the request through
 *       with the decision stored under {@link #DECISION_PROPERTY} and the request under {@link
 *       #REQUEST_PROPERTY};
 *   <li>a response filter at {@link Priorities#AUTHENTICATION} (so it runs after the application's
 *       response filters) that puts the decision's headers (rate limits, for instance) over the
 *       resource's and, only if the chain has output policies, runs them on the response's entity,
 *       whatever its status (see below). Jersey and RESTEasy send a name as given, so a header of
 *       the resource whose name reads as one of the decision's only on the wire ({@code "RateLimit
 *       "}, which a proxy reads as {@code RateLimit}), or starts with whitespace (which continues the
 *       line before it), is removed too.
 *       It is registered as a class, because runtimes inject {@code @Context} fields only into
 *       providers they instantiate themselves.
 * </ul>
 *
 * <p><b>Sub-resource locators.</b> The annotation does not reach through a locator: what the runtime
 * calls is the located resource's method, and only its own or its class's {@code @ModelSecured}
 * guards it. So that this cannot go unnoticed, a locator that the annotation is on or over (through
 * its class, either inherited) is refused, in three ways:
 *
 * <ul>
 *   <li>it fails deployment when the runtime configures a resource method of its class, if that is
 *       a root resource class (annotated {@code @Path});
 *   <li>in a class without {@code @Path}, which the runtime configures only when a locator first
 *       returns it, after deployment, it is logged at ERROR and every request to the class's
 *       resource methods is answered with the {@code internal.error} problem (500);
 *   <li>a class with such a locator but no resource method of its own is never configured at all.
 *       So every resource method, with or without {@code @ModelSecured} of its own, answers the
 *       {@code internal.error} problem (and logs at ERROR, once per method) when a request reached
 *       it through such a locator, that is, when one of {@link
 *       jakarta.ws.rs.core.UriInfo#getMatchedResources()} after the first is an instance of a class
 *       with one: the located method's own annotation (another chain, model or cost) would
 *       otherwise silently stand in for the locator's. A request no locator took part in costs
 *       that check one look at the list's size.
 * </ul>
 *
 * <p><b>{@code @Path} on an interface or a superclass.</b> RESTEasy configures such a resource for
 * the supertype and its method, never showing the class that implements them: an {@code
 * @ModelSecured} on that class or its method cannot be bound at deployment. The same filter then
 * answers the {@code internal.error} problem (logged at ERROR once per method) when the class
 * serving a request carries an annotation deployment did not see, and so does the filter of a
 * guarded method when the serving class's annotation differs from the one deployment bound (a
 * stricter one on the class behind a lenient interface) or cannot be read: put {@code
 * @ModelSecured} on the type or method that carries {@code @Path}, or {@code @Path} on the class.
 * Jersey shows the class and guards such methods normally.
 *
 * <p><b>Where the runtimes disagree.</b> A method without JAX-RS annotations of its own is served
 * with those of a supertype method, which Jersey finds type by type (classes before interfaces, in
 * each an exact override before a method whose parameters merely fit) and RESTEasy by exact
 * override only. Where the two would pick different supertype methods (a superclass's guarded
 * {@code predict(T)} and an interface's unguarded {@code predict(BigDecimal)} for one {@code
 * predict(BigDecimal)}), the guard follows Jersey's choice: on RESTEasy such a method may then be
 * denied by a chain it was not meant to have, never let through one it was meant to have.
 *
 * <p><b>Output the response filter cannot see.</b> Events sent through an {@link SseEventSink},
 * the chunks of a Jersey {@code ChunkedOutput} (or its {@code EventOutput}), the elements of a
 * returned {@code Publisher} ({@link java.util.concurrent.Flow.Publisher} or Reactive Streams',
 * which RESTEasy streams) and anything RESTEasy streams for {@code @Stream} leave after the
 * response filter has run, so output policies cannot see them: such a resource method fails deployment if its chain has output policies (the
 * runtimes' classes are recognised by name; the adapter does not depend on them). Under a chain
 * without them, its requests are checked like any other. Such an entity wrapped in a {@code
 * Response} is not seen at deployment; under output policies, its response is withheld at run time
 * (the {@code internal.error} problem, logged at ERROR). Nor can the filters see what a resource
 * writes to the servlet response, so under a chain with output policies a resource method that
 * receives it fails deployment too: one with a parameter of type {@code HttpServletResponse} or
 * {@code ServletResponse} (or with one as a type argument, {@code Provider<HttpServletResponse>}),
 * or whose class or a superclass takes one in a field, a method or a constructor annotated for
 * injection ({@code @Context} or {@code @Inject}), or through a {@code @BeanParam} (the Servlet API
 * is recognised by name, and need not be present). Answer through JAX-RS instead. Where deployment
 * cannot see the class (RESTEasy, {@code @Path} on an interface), its requests are answered with the
 * {@code internal.error} problem (logged at ERROR once per method). An injected {@code
 * HttpServletRequest} stays allowed (what the resource reads of its body, the output policies never
 * see: see request bodies below). What the adapter cannot see at all, a servlet response reached
 * at run time by other means ({@code HttpServletRequest.startAsync()}, a runtime's own context
 * lookup), is the application's to avoid. The policies read the entity as UTF-8: under output
 * policies, an entity in another charset (one the client asked for in {@code Accept}, or the
 * resource's) is transcoded to UTF-8 and sent so labelled.
 *
 * <p><b>Request bodies.</b> A body a policy read is replayed to the resource in full through
 * JAX-RS (an entity parameter, {@code @FormParam}, the request context's stream), not through an
 * injected {@code HttpServletRequest}, whose stream the policy consumed: read the body through
 * JAX-RS. The output policies see the body only as far as the request policies read it: under a
 * chain with output policies it is sealed for them once the request is allowed, before the resource
 * runs, whether or not the resource then reads it. The rest goes to the resource, which may answer
 * its start and leave the end (a decoy query appended for the extraction detectors) unread, and the
 * filters cannot see every way it reads: besides the entity stream, the stream of an injected
 * {@code HttpServletRequest} (a parameter, a field, a setter, a constructor, a {@code @BeanParam}),
 * which on a servlet-hosted runtime is the one behind the entity stream. An output policy that asks
 * for more (an extraction defence's {@code observePolicy} in a chain where no request policy reads
 * the body, say) gets an {@link java.io.IOException}, and the answer fails closed, even from a
 * resource that never reads the body; read the body in the request phase ({@link
 * io.modelguard.input.ModelInputPolicy}). A request without a body shows them an empty one: a body
 * that declares neither a length ({@code Content-Length} absent or 0) nor a {@code
 * Transfer-Encoding} and that no request policy read is read up to one byte before the resource
 * runs, to tell, and the resource still gets every byte through JAX-RS. A chunked body is not read
 * (that byte would be missing from the servlet request's stream), so they get none of it, even an
 * empty one; nor is a body without {@code Content-Length} that a servlet container received over
 * HTTP/2 (or any protocol but HTTP/1.x), which frames a body of any length and has no chunking to
 * declare, so there they get none of a request without a body either. A denied request's body of
 * at most 1 MiB (chunked, or over HTTP/2 without {@code Content-Length}, up to that much) is read
 * to its end and discarded before the denial, so a client still sending gets the denial and keeps
 * its connection; a larger one is not read, and the denial says {@code Connection: close} ({@link
 * io.modelguard.CappedBody#discardRest}), except where a servlet container received the request
 * over HTTP/2 (or any protocol but HTTP/1.x), which has no such field.
 * A guarded request with a {@code Content-Encoding} (a compressed body) is refused with
 * {@code 415 input.unsupported_media_type}: the policies would read the compressed bytes while a
 * decoding reader interceptor hands the resource others. A path that names the model variable twice
 * with different values is refused with {@code 400 input.malformed} (the runtimes do not agree on
 * which value the resource gets). A class reached through a sub-resource locator is configured
 * when a request first reaches it; an annotation there the guard refuses (an unknown chain, output
 * it cannot see) is logged and its requests answered with {@code internal.error}.
 *
 * <p>A denied request never reaches the resource: the response is the problem from {@link
 * io.modelguard.problem.ProblemRenderer}, with its status and headers and {@code Content-Type:
 * application/problem+json}. It carries no {@code Content-Length} of the adapter's: response
 * filters run on it too, so the runtime's compression may code it, and the runtime sets the length
 * of what it writes.
 *
 * <p><b>Request properties.</b> The {@link InferenceRequest} policies see implements {@link
 * io.modelguard.input.RequestAttributes} over the {@link ContainerRequestContext}'s properties, so
 * what a policy stores there reaches the resource. {@link io.modelguard.input.ModelInputPolicy}
 * stores the images it fetched and checked under {@link
 * io.modelguard.input.FetchedInputs#ATTRIBUTE}; the resource uses those bytes instead of fetching
 * the URL again. A servlet-hosted runtime keeps the properties in the servlet request's
 * attributes:
 *
 * <pre>{@code
 * public Prediction predict(@Context HttpServletRequest request) {
 *   FetchedInputs fetched = (FetchedInputs) request.getAttribute(FetchedInputs.ATTRIBUTE);
 *   byte[] image = fetched.image("imageUrl").orElseThrow().bytes();
 *   ...
 * }
 * }</pre>
 *
 * <p><b>Output policies.</b> They need the response bytes and may have to replace a successful
 * response with a 500 problem when a fail-closed policy fails. A {@code WriterInterceptor} sees the
 * bytes but cannot change the status (and an exception thrown from one is handled differently by
 * each runtime), so the adapter runs them in the response filter instead: it serialises the entity
 * with the runtime's own {@code MessageBodyWriter}, runs {@link ModelGuard#onResponse}, and
 * replaces the entity with the resulting bytes and media type. Any {@code Content-Length} the
 * resource set is dropped, so the runtime counts the bytes it finally writes, and so are the
 * headers describing the resource's own output ({@code ETag}, {@code Last-Modified}, {@code
 * Content-MD5}, {@code Digest}, {@code Repr-Digest}, {@code Content-Digest}, {@code
 * Content-Range}, {@code Accept-Ranges}), since a validator or digest of it identifies the exact
 * scores, each also under a name that reads as it only on the wire ({@code "ETag "}), with any name
 * that reads as {@code Content-Type} only there or starts with whitespace (and, before the resource
 * runs, the request's conditional and range headers are removed, so that it cannot answer a 304 or
 * 206 computed on its own output); and the
 * application's writer interceptors (compression, for instance) apply to those final bytes. An
 * entity the resource coded itself cannot be read by the policies and is withheld like a failure:
 * a {@code Content-Encoding} (under any name that reads as it on the wire) of {@code gzip} or {@code
 * deflate} over bytes already in it (a gzip
 * stream; a zlib or a whole raw deflate stream; the runtime's own compression declares the coding
 * before this filter but compresses after it), or
 * any other coding, which no runtime applies after the filters. Codings are read as RFC 9110 has
 * them (case-insensitive tokens, a list with optional whitespace and empty members); a {@code
 * Content-Encoding} that names none but {@code identity} is no coding, and is removed from the
 * checked answer (and from a response without an entity, such as a {@code HEAD}), since {@code
 * identity} is not a coding a response carries; one that names a single coding the runtimes'
 * compression applies ({@code gzip}, {@code x-gzip} or {@code deflate}, however spelled) over
 * bytes not yet in it becomes {@code Content-Encoding: gzip} (or {@code deflate}), the one spelling
 * Jersey's encoders and RESTEasy's gzip interceptor match, so that they compress the checked
 * answer rather than send it plain under that label (a response without an entity gets the same
 * spelling, as a {@code HEAD} carries its {@code GET}'s fields). If anything fails, or the entity
 * is larger than {@link Builder#maxOutputBytes}, the output and every
 * header describing it are dropped and the response becomes
 * the {@code internal.error} problem (500). It still carries the decision's headers (the request
 * was counted, so its {@code RateLimit} fields stay), except where the problem has a header of
 * that name ({@code Cache-Control}, {@code Content-Type}) and {@code Content-Length}, as in the
 * servlet adapter. What was withheld and why (a stream, a coded or non-UTF-8 entity, a failed
 * writer with its stack trace, an entity over the limit) is logged by {@code
 * io.modelguard.jaxrs.internal.GuardResponseFilter} at ERROR at most once a minute (by the
 * engine's clock) per resource method, kind of line and exception class, each line saying how
 * many like it went to DEBUG since: a client whose input makes a resource misbehave can repeat it
 * as fast as the server answers.
 *
 * <p>Output policies run on every response with an entity that reaches the response filters of
 * an allowed request, whatever its status, since an error body can carry a prediction too: a
 * resource's {@code Response} (a 422 with partial scores, a 500 with raw probabilities in a debug
 * body), the response of a {@code WebApplicationException}, and that of an {@code ExceptionMapper}
 * (Jersey and RESTEasy pass both through the response filters), as well as a 2xx. {@link
 * io.modelguard.ResponseContext#status()} tells them the status, which they cannot change; the
 * built-in policies pass a body they cannot read (a problem document, say) unchanged. They do not
 * run on the guard's own problem responses, on a response without an entity, or on an exception
 * no mapper handles, which the runtime or the container answers (RESTEasy's built-in answer to
 * one is a 500 whose body is the exception's message, which the built-in policies cannot read and
 * pass: a message that quotes the model's output would reach the client; register an {@code
 * ExceptionMapper<Throwable>} of your own under output policies). The servlet adapter follows the
 * same rule. A response without an entity under output policies still loses any {@code
 * Content-Length} and header describing the resource's own output that the resource set (a
 * {@code HEAD} answered by hand with the validators of what a {@code GET} would return, say), as in
 * the servlet adapter; and under output policies a reason phrase the resource chose ({@code
 * Response.status(422, reason)}) gives way to the status code's own, since the runtime puts it on
 * the status line or hands it to the container's error page, unseen by the policies, as the servlet
 * adapter drops the message of {@code sendError}. Guarded resources with
 * output policies should give their entity a media type, with {@code @Produces} or on the {@code
 * Response}, so it is known when they run.
 *
 * <p><b>What the runtime answers before the guard.</b> The filters are bound to resource methods,
 * so they run only once the runtime has matched one. Its own refusals come first and are not the
 * guard's: no matching path or method (404, 405), an {@code Accept} that no {@code @Produces}
 * matches (406), a {@code Content-Type} that no {@code @Consumes} matches (415), and the {@code
 * OPTIONS} answers it generates. None of them reaches the resource, but none is authenticated,
 * charged to a quota, or audited either, and the response is the runtime's, not a problem
 * document. Where that matters (an unauthenticated client can tell a 406 from a 401), declare no
 * {@code @Produces} on guarded methods and set the media type on the {@code Response}; the
 * examples' JAX-RS variant does.
 *
 * <p><b>Paths and addresses.</b> {@link InferenceRequest#path()} is the raw (still
 * percent-encoded) request path relative to the JAX-RS application's base URI, with a leading
 * slash and without matrix parameters (a {@code ;jsessionid=...} never reaches policies or the
 * audit), for example {@code /v1/models/digits/predict}; an application mapped at the root of its
 * servlet context sees the same path as the servlet adapter. The client address comes from {@link
 * Builder#remoteAddress}; by default it is the servlet container's {@code getRemoteAddr()} when
 * the Servlet API is on the class path, and empty otherwise.
 *
 * <p>Immutable and thread-safe; one instance may serve any number of resource methods.
 */
public final class ModelGuardFeature implements DynamicFeature {
  /**
   * The request property holding the {@link GuardDecision} of an allowed request, so resources can
   * read the authenticated principal. Absent on unguarded and denied requests.
   */
  public static final String DECISION_PROPERTY = GuardResponseFilter.DECISION_PROPERTY;

  /** The request property holding the {@link InferenceRequest} the decision was made for. */
  public static final String REQUEST_PROPERTY = GuardResponseFilter.REQUEST_PROPERTY;

  /**
   * The most bytes of serialised entity the adapter holds for a chain's output policies unless
   * {@link Builder#maxOutputBytes} says otherwise: 8 MiB, as the servlet adapter.
   */
  public static final int DEFAULT_MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

  private static final boolean SERVLET_API_PRESENT = isPresent("jakarta.servlet.http.HttpServletRequest");

  private static final Function<ContainerRequestContext, Optional<String>> NO_ADDRESS =
      request -> Optional.empty();

  private static final Function<ContainerRequestContext, Optional<String>> SERVLET_ADDRESS =
      request -> request.getProperty(ServletConnectionFacts.ADDRESS_PROPERTY) instanceof String address
          ? Optional.of(address)
          : Optional.empty();

  private static final Logger log = LoggerFactory.getLogger(ModelGuardFeature.class);
  /** RESTEasy's annotation for streaming a Publisher's elements as they come. */
  private static final String RESTEASY_STREAM = "org.jboss.resteasy.annotations.Stream";

  private final ModelGuard guard;
  private final Function<ContainerRequestContext, Optional<String>> remoteAddress;
  private final int maxOutputBytes;
  /** What guarded methods' responses did that the output policies cannot read: logged paced, see the class comment. */
  private final OutputFaultLog outputFaults = new OutputFaultLog();
  /** For a class, a sub-resource locator {@code @ModelSecured} is on or over; found once per class. */
  private final ClassValue<Optional<Method>> guardedLocators = new ClassValue<>() {
    @Override
    protected Optional<Method> computeValue(Class<?> type) {
      return findGuardedLocator(type);
    }
  };

  /**
   * A feature guarding {@code @ModelSecured} resources with {@code guard}, with the default client
   * address resolution (see {@link Builder#remoteAddress}).
   *
   * @param guard the engine whose chains guard the annotated resources
   * @throws NullPointerException if {@code guard} is null
   */
  public ModelGuardFeature(ModelGuard guard) {
    this(builder(guard));
  }

  private ModelGuardFeature(Builder builder) {
    this.guard = builder.guard;
    this.remoteAddress = builder.remoteAddress;
    this.maxOutputBytes = builder.maxOutputBytes;
  }

  /**
   * Starts a builder for a feature around {@code guard}.
   *
   * @param guard the engine whose chains guard the annotated resources
   * @return a new builder with the defaults
   * @throws NullPointerException if {@code guard} is null
   */
  public static Builder builder(ModelGuard guard) {
    return new Builder(guard);
  }

  /**
   * Logs a WARN when the annotation takes its model from a path variable that the method's @Path
   * (class and method, as deployed) does not declare while it declares others: most likely a
   * misnamed variable ({@code {id}} in the path, the default {@code {model}} in the annotation),
   * which leaves the endpoint without a model, so model access, per-model quotas and input
   * specifications silently do not apply. A path declaring no variable at all (a catalog on {@code
   * /v1/models}) is the documented model-less case and is not warned about; nor is a located
   * class, whose locators' variables deployment cannot see.
   */
  private static void warnIfModelVariableUndeclared(EndpointSpec spec, Method method, Class<?> resourceClass) {
    Optional<String> variable = spec.modelVariable();
    if (variable.isEmpty()) {
      return;
    }
    Path classPath = null;
    for (Class<?> c : AnnotationInheritance.typeHierarchy(resourceClass)) {
      classPath = c.getAnnotation(Path.class);
      if (classPath != null) {
        break;
      }
    }
    if (classPath == null) {
      return;
    }
    String template = classPath.value();
    for (Method m : AnnotationInheritance.overrideChain(method, resourceClass)) {
      Path methodPath = m.getAnnotation(Path.class);
      if (methodPath != null) {
        template = template + "/" + methodPath.value();
        break;
      }
    }
    java.util.Set<String> declared = templateVariables(template);
    if (!declared.isEmpty() && !declared.contains(variable.get())) {
      log.warn("ModelGuard: @ModelSecured on {}.{}() takes the model from path variable {{}}, which its @Path "
          + "\"{}\" does not declare (it declares {}): its requests have no model, so model access, per-model "
          + "quotas and input specifications do not apply to them. Name the path's variable in "
          + "@ModelSecured(model = \"{...}\") if it names the model.", resourceClass.getName(), method.getName(),
          variable.get(), template, declared);
    }
  }

  /** The variable names of a JAX-RS path template ({@code {name}} or {@code {name: regex}}). */
  static java.util.Set<String> templateVariables(String template) {
    java.util.Set<String> names = new java.util.LinkedHashSet<>();
    int i = 0;
    while ((i = template.indexOf('{', i)) >= 0) {
      int depth = 1;
      int j = i + 1;
      int colon = -1;
      while (j < template.length() && depth > 0) {
        char c = template.charAt(j);
        if (c == '{') {
          depth++;
        } else if (c == '}') {
          depth--;
        } else if (c == ':' && depth == 1 && colon < 0) {
          colon = j;
        }
        j++;
      }
      if (depth > 0) {
        break; // unbalanced: the runtime refuses the template anyway
      }
      names.add(template.substring(i + 1, colon >= 0 ? colon : j - 1).strip());
      i = j;
    }
    return names;
  }

  /**
   * Resolves {@code @ModelSecured} for one resource method and registers the request and response
   * filters for it. For a method that neither it nor its class is annotated with (inherited
   * included), registers only the check that no guarded sub-resource locator led to it (see the
   * class comment).
   *
   * @throws IllegalArgumentException if the annotation is invalid or names a chain the guard does
   *     not have, if it is on or over (through the class) a sub-resource locator of the method's
   *     root resource class, or if, under a chain with output policies, which would never see
   *     that output, the method sends server-sent events ({@link SseEventSink}), returns a Jersey
   *     {@code ChunkedOutput} or a {@code Publisher}, carries RESTEasy's {@code @Stream}, or
   *     receives the servlet response (see the class comment): the runtime then refuses to deploy
   *     the application, so a typo or an annotation that would guard nothing fails start-up rather
   *     than requests. A guarded locator
   *     of a class that is not a root resource, configured after deployment, is logged and its
   *     class's requests refused instead.
   */
  @Override
  public void configure(ResourceInfo resourceInfo, FeatureContext context) {
    Method method = resourceInfo.getResourceMethod();
    Class<?> resourceClass = resourceInfo.getResourceClass();
    if (method == null || resourceClass == null) {
      return;
    }
    Optional<Method> locator = guardedLocators.get(resourceClass);
    if (locator.isPresent()) {
      String refusal = guardedLocatorMessage(resourceClass, locator.get());
      if (resourceClass.isAnnotationPresent(Path.class)) {
        throw new IllegalArgumentException(refusal);
      }
      // Not a root resource: the runtime configures it when a locator first returns it, after
      // deployment. Throwing now would only fail this request with the runtime's own error page.
      log.error("ModelGuard: {} Every request to {}.{}() is refused (500) until the annotation moves.",
          refusal, resourceClass.getName(), method.getName());
      context.register(new RefusedResourceFilter(resourceClass.getName() + "." + method.getName() + "()"),
          Priorities.AUTHENTICATION);
      return;
    }
    Optional<EndpointSpec> found;
    EndpointSpec spec;
    try {
      found = EndpointSpec.forMethod(method, resourceClass);
      if (found.isEmpty()) {
        context.register(new UnguardedMethodFilter(method, resourceClass, guardedLocators), Priorities.AUTHENTICATION);
        return;
      }
      spec = guard.validate(found.get());
      warnIfModelVariableUndeclared(spec, method, resourceClass);
      if (guard.chain(spec.chain()).hasOutputPolicies()) {
        refuseLateOutput(method, resourceClass, spec.chain());
      }
    } catch (IllegalArgumentException e) {
      if (resourceClass.isAnnotationPresent(Path.class)) {
        throw e;
      }
      // A located class, configured when a request first reaches it: thrown now, the message
      // (chain names, class names) would be the runtime's error page for that request.
      log.error("ModelGuard: {} Every request to {}.{}() is refused (500) until this is mended.",
          e.getMessage(), resourceClass.getName(), method.getName());
      context.register(new RefusedResourceFilter(resourceClass.getName() + "." + method.getName() + "()"),
          Priorities.AUTHENTICATION);
      return;
    }
    if (SERVLET_API_PRESENT) {
      // Registered as a class so that the runtime injects the servlet request into it; the only
      // class that names a Servlet type, loaded only here. Registered whatever the address function:
      // the protocol it copies tells whether a body that declares no length may still have bytes.
      context.register(ServletConnectionFacts.class, Priorities.AUTHENTICATION - 1);
    }
    Function<ContainerRequestContext, Optional<String>> address = remoteAddress;
    if (address == null) {
      address = SERVLET_API_PRESENT ? SERVLET_ADDRESS : NO_ADDRESS;
    }
    boolean outputPolicies = guard.chain(spec.chain()).hasOutputPolicies();
    context.register(new GuardRequestFilter(guard, spec,
        new ServingClassCheck(method, resourceClass, found, outputPolicies),
        new GuardedLocatorCheck(method, guardedLocators), address, maxOutputBytes,
        outputFaults.of(signature(resourceClass, method))), Priorities.AUTHENTICATION);
    // A class, not an instance: runtimes inject @Context fields only into providers they create.
    context.register(GuardResponseFilter.class, Priorities.AUTHENTICATION);
  }

  /**
   * {@code method} of {@code resourceClass} as {@code "com.example.Models.predict(java.lang.String)"}:
   * with its parameter types, so that overloads of one name, each a resource method of its own, are
   * told apart.
   */
  private static String signature(Class<?> resourceClass, Method method) {
    StringJoiner parameters = new StringJoiner(",", "(", ")");
    for (Class<?> type : method.getParameterTypes()) {
      parameters.add(type.getTypeName());
    }
    return resourceClass.getName() + "." + method.getName() + parameters;
  }

  /**
   * A sub-resource locator of {@code resourceClass} that {@code @ModelSecured} is on or over
   * (through the class), each inherited as {@link EndpointSpec#forMethod} resolves it. Runtimes give
   * filters bound to a locator to nothing: the resources it returns would run unguarded, however
   * the annotation reads.
   */
  private static Optional<Method> findGuardedLocator(Class<?> resourceClass) {
    for (Method candidate : resourceClass.getMethods()) {
      if (!candidate.isBridge() && isLocator(candidate, resourceClass)
          && EndpointSpec.forMethod(candidate, resourceClass).isPresent()) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** Why deployment refuses {@code locator}, naming it. */
  private static String guardedLocatorMessage(Class<?> resourceClass, Method locator) {
    return "@ModelSecured does not reach through sub-resource locator " + resourceClass.getSimpleName() + "."
        + locator.getName() + "() (" + resourceClass.getName() + "): the resources it returns would be "
        + "unguarded. Put @ModelSecured on the located class or its resource methods, and not on or over the "
        + "locator.";
  }

  /**
   * Whether the runtime treats {@code method} as a sub-resource locator: {@code @Path} without a
   * request method designator such as {@code @POST}, on the method itself or, as JAX-RS inherits
   * them, on the nearest method it overrides or implements that carries either.
   */
  private static boolean isLocator(Method method, Class<?> resourceClass) {
    for (Method m : AnnotationInheritance.overrideChain(method, resourceClass)) {
      boolean path = m.isAnnotationPresent(Path.class);
      boolean httpMethod = hasHttpMethod(m);
      if (path || httpMethod) {
        return path && !httpMethod;
      }
    }
    return false;
  }

  /**
   * Fails on a resource method whose output leaves after the response filter has run, under a
   * chain with output policies, which would then never see it (a prediction would reach the client
   * without its noise or rounding): one that sends server-sent events through an {@link
   * SseEventSink}, returns Jersey's {@code ChunkedOutput} (its {@code EventOutput} is one) or a
   * {@code Publisher}, or carries RESTEasy's {@code @Stream}; or that receives the servlet response
   * (see {@link ServletResponseInjection}), whatever it writes there. Runtime and Servlet API classes
   * are recognised by name so that the adapter depends on neither.
   *
   * @throws IllegalArgumentException naming the method and the chain
   */
  private static void refuseLateOutput(Method method, Class<?> resourceClass, String chain) {
    String late = null;
    for (Class<?> parameter : method.getParameterTypes()) {
      if (SseEventSink.class.isAssignableFrom(parameter)) {
        late = "the server-sent events of ";
      }
    }
    if (GuardResponseFilter.isJerseyChunkedOutput(method.getReturnType())) {
      late = "the chunks of the Jersey ChunkedOutput returned by ";
    }
    if (late == null && GuardResponseFilter.isPublisher(method.getReturnType())) {
      late = "the elements of the Publisher returned by ";
    }
    for (Annotation annotation : method.getAnnotations()) {
      if (late == null && annotation.annotationType().getName().equals(RESTEASY_STREAM)) {
        late = "the elements RESTEasy streams (@Stream) from ";
      }
    }

    if (late != null) {
      throw new IllegalArgumentException("@ModelSecured chain '" + chain + "' has output policies, which "
          + "cannot see " + late + resourceClass.getSimpleName() + "." + method.getName()
          + "() (" + resourceClass.getName() + "): they would reach the client unchanged. Return the "
          + "prediction as the response entity, or guard the method with a chain without output policies.");
    }
    Optional<String> servletResponse = ServletResponseInjection.find(method, resourceClass);
    if (servletResponse.isPresent()) {
      throw new IllegalArgumentException("@ModelSecured chain '" + chain + "' has output policies, which "
          + "cannot see what " + resourceClass.getSimpleName() + "." + method.getName() + "() ("
          + resourceClass.getName() + ") writes to the servlet response it receives through "
          + servletResponse.get() + ": it would reach the client unchanged. Answer through JAX-RS (return "
          + "the prediction as the response entity) without receiving the servlet response, or guard the "
          + "method with a chain without output policies.");
    }
  }

  /** Whether {@code method} carries a request method designator such as {@code @POST}. */
  private static boolean hasHttpMethod(Method method) {
    for (Annotation annotation : method.getAnnotations()) {
      if (annotation.annotationType().isAnnotationPresent(HttpMethod.class)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isPresent(String className) {
    try {
      Class.forName(className, false, ModelGuardFeature.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** Builds a {@link ModelGuardFeature}. Not thread-safe; the feature it builds is. */
  public static final class Builder {
    private final ModelGuard guard;
    private Function<ContainerRequestContext, Optional<String>> remoteAddress;
    private int maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES;

    private Builder(ModelGuard guard) {
      this.guard = Objects.requireNonNull(guard, "guard");
    }

    /**
     * How to find the client's network address for {@link InferenceRequest#remoteAddress()}, for
     * example from a trusted proxy header. Called at most once per request, and only if a policy
     * asks; it must not return null. Default: when {@code jakarta.servlet.http.HttpServletRequest}
     * is on the class path, the servlet request's {@code getRemoteAddr()} (injected with
     * {@code @Context}), else empty. Setting a function here turns that default off, which also
     * suits runtimes that have the Servlet API on the class path but do not run in a servlet
     * container; the servlet request, where there is one, is still asked for its protocol (see
     * request bodies in the class comment).
     *
     * @param remoteAddress maps a request to the client's address, or empty if unknown; must not
     *     return null
     * @return this builder
     * @throws NullPointerException if {@code remoteAddress} is null
     */
    public Builder remoteAddress(Function<ContainerRequestContext, Optional<String>> remoteAddress) {
      this.remoteAddress = Objects.requireNonNull(remoteAddress, "remoteAddress");
      return this;
    }

    /**
     * The most bytes of a response's serialised entity the adapter holds for the output policies
     * of a chain that has them. A larger entity is not sent: the client gets the {@code
     * internal.error} problem (500) instead. Default: {@value ModelGuardFeature#DEFAULT_MAX_OUTPUT_BYTES}
     * bytes.
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
     * Builds the feature. Never fails: chains are checked when the runtime deploys resources.
     *
     * @return a new feature with this builder's settings
     */
    public ModelGuardFeature build() {
      return new ModelGuardFeature(this);
    }
  }
}
