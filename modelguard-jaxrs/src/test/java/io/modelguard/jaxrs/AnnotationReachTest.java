package io.modelguard.jaxrs;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.ModelSecured;
import io.modelguard.Phase;
import io.modelguard.ReasonCode;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import io.modelguard.test.AdapterConformanceSuite.Deployment;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.ext.MessageBodyReader;
import jakarta.ws.rs.ext.Provider;
import java.io.IOException;
import java.io.InputStream;
import java.lang.annotation.Annotation;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Where {@code @ModelSecured} reaches, on a real runtime over HTTP: an annotation inherited from a
 * superclass or an interface guards the method the runtime calls, and an annotation over a
 * sub-resource locator, which no runtime binds a filter to, never lets a request through
 * unguarded, even where deployment cannot see it. Each runtime's test extends this class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class AnnotationReachTest {
  /** What every resource here answers; a request that gets it reached the resource. */
  static final String REACHED = "reached";

  /** Counts the calls of every resource here. */
  private final AtomicInteger calls = new AtomicInteger();
  private Deployment deployment;

  /** The runtime under test. */
  protected abstract JaxrsRuntime runtime();

  @BeforeAll
  void start() throws Exception {
    deployment = runtime().deploy(TestApplication.builder(new ModelGuardFeature(guard()))
        .instances(new OverridesASuperclassMethod(calls), new ImplementsAnInterfaceMethod(calls),
            new ImplementsAGenericInterfaceMethod(calls), new OverridesAGenericSuperclassMethod(calls),
            new ImplementsThroughADefaultMethod(calls), new ObjectEntityReader(),
            new RawThroughAGenericBase(calls), new LooseOverload(calls),
            new AnnotatedImplementation(calls), new WiderParameter(calls), new ClassDenied(calls),
            new StaticInterfaceMethod(calls), new StricterMethod(calls), new StricterClass(calls),
            new InvalidLocatorOnly(calls), new RepeatsProduces(calls), new OverloadsInAnInterface(calls),
            new GenericWithAHelper(calls), new SuperclassLooseFirst(calls),
            new ImplementsAnAnnotatedInterface(calls), new LocatorOnly(calls), new GuardedLocatorOnly(calls),
            new LocatesAGuardedLocator(calls), new UnguardedLocator(calls),
            new LocatorOnlyOverAGuardedClass(calls), new GuardedLocatorOnlyOverAGuardedClass(calls))
        .build());
  }

  /** The default chain allows everything, "deny" denies every request. */
  private static ModelGuard guard() {
    return ModelGuard.builder()
        .auditLog(false)
        .models("digits")
        .chain(ModelGuard.DEFAULT_CHAIN, chain -> {})
        .chain("deny", chain -> chain.policy(Phase.VALIDATE, "deny",
            ctx -> GuardDecision.deny(ReasonCode.INPUT_INVALID)))
        .build();
  }

  @AfterAll
  void stop() throws Exception {
    if (deployment != null) {
      deployment.close();
    }
  }

  // --- inherited annotations ---------------------------------------------------------------

  @Test
  void annotationOnAnOverriddenSuperclassMethodGuardsTheOverride() throws Exception {
    assertDeniedByTheDenyChain("/superclass-method/predict");
  }

  @Test
  void annotationOnAnInterfaceMethodGuardsItsImplementation() throws Exception {
    assertDeniedByTheDenyChain("/interface-method/predict");
  }

  @Test
  void annotationOnAGenericInterfaceMethodGuardsItsImplementationForAType() throws Exception {
    // The implementation's method takes a String where the interface's takes a type variable
    // (erased to Object): the two differ in parameter types, joined only by a bridge method.
    assertDeniedByTheDenyChain("/generic-interface-method/predict");
  }

  @Test
  void annotationOnAGenericInterfaceMethodGuardsADefaultMethodImplementingItForAType() throws Exception {
    // javac puts that bridge in the sub-interface, not in the resource class.
    if (servesDefaultMethods()) {
      assertDeniedByTheDenyChain("/generic-default-method/predict");
    } else {
      int before = calls.get();
      assertThat(post("/generic-default-method/predict").statusCode()).isEqualTo(404);
      assertThat(calls.get()).isEqualTo(before);
    }
  }

  @Test
  void annotationOnAGenericMethodGuardsItsOverrideThroughARawSupertype() throws Exception {
    // Through a raw supertype the override is predict(Object), though the supertype binds T.
    assertDeniedByTheDenyChain("/raw-supertype/predict");
  }

  @Test
  void aMethodTheRuntimeServesForAnAnnotatedGenericMethodIsGuardedByIt() throws Exception {
    // Jersey takes the bare type variable of predict(T) for any class and serves the unannotated
    // predict(Number) of an Api<Integer>; RESTEasy serves nothing there.
    int before = calls.get();
    HttpResponse<String> r = postText("/loose/predict");
    assertThat(r.statusCode()).isEqualTo(servesLooseMatches()
        ? ProblemRenderer.render(GuardDecision.deny(ReasonCode.INPUT_INVALID)).status()
        : 404);
    assertThat(calls.get()).isEqualTo(before);
  }

  @Test
  void anAnnotationOnTheClassImplementingAPathInterfaceIsNeverSkipped() throws Exception {
    // RESTEasy configures the interface's method, never showing the class: refused, not unguarded.
    assertProblem("/path-on-interface/predict", servesHiddenClassesGuarded()
        ? ProblemRenderer.render(GuardDecision.deny(ReasonCode.INPUT_INVALID))
        : ProblemRenderer.internalError());
  }

  @Test
  void aMethodServedForAnAnnotatedMethodWithAWiderParameterIsGuardedByIt() throws Exception {
    int before = calls.get();
    assertThat(postText("/assignable/score").statusCode()).isEqualTo(servesLooseMatches()
        ? ProblemRenderer.render(GuardDecision.deny(ReasonCode.INPUT_INVALID)).status()
        : 404);
    assertThat(calls.get()).isEqualTo(before);
  }

  @Test
  void aMethodWithJaxrsAnnotationsOfItsOwnKeepsItsClassAnnotationOverALooseMatch() throws Exception {
    // No runtime inherits anything for it, so the generic method's looser chain must not apply.
    assertDeniedByTheDenyChain("/class-deny/admin?n=5");
  }

  @Test
  void aMethodServedWithAStaticInterfaceMethodsAnnotationsIsGuardedByIt() throws Exception {
    assertDeniedByTheDenyChain("/static-interface/predict");
  }

  @Test
  void aStricterAnnotationOnTheClassBehindAnAnnotatedPathInterfaceIsNeverWeakened() throws Exception {
    // RESTEasy binds the interface's lenient annotation, never seeing the class's: refused there.
    ProblemResponse expected = servesHiddenClassesGuarded()
        ? ProblemRenderer.render(GuardDecision.deny(ReasonCode.INPUT_INVALID))
        : ProblemRenderer.internalError();
    assertProblem("/weaker/predict", expected);
    assertProblem("/weaker-class/predict", expected);
  }

  @Test
  void aGenericPathInterfaceWhoseImplementationRepeatsAJaxrsAnnotationIsGuardedNotRefused() throws Exception {
    // RESTEasy configures predict(T) erased, whose lookup on the class found the bridge: refused.
    // Jersey inherits nothing into a method with a JAX-RS annotation of its own: nothing served.
    if (inheritsIntoAnnotatedImplementations()) {
      assertDeniedByTheDenyChain("/generic-path-interface/predict");
    } else {
      int before = calls.get();
      assertThat(post("/generic-path-interface/predict").statusCode()).isEqualTo(404);
      assertThat(calls.get()).isEqualTo(before);
    }
  }

  /**
   * Whether the runtime serves a {@code @Path} interface's method through an implementation that
   * carries a JAX-RS annotation of its own.
   */
  protected boolean inheritsIntoAnnotatedImplementations() {
    return false;
  }

  @Test
  void anUnguardedOverloadOfAGuardedGenericMethodStaysUnguardedAndTheGuardedOneGuarded() throws Exception {
    // predict(String) takes its JAX-RS annotations (GET) from the interface's own predict(String);
    // the generic predict(T) beside it used to lend it its guard: a 422, or on RESTEasy a 500.
    int before = calls.get();
    HttpResponse<String> r = JettyHost.client().send(HttpRequest.newBuilder(
            URI.create(deployment.baseUri() + "/overloads-in-interface/two?q=x"))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(REACHED);
    assertThat(calls.get()).isEqualTo(before + 1);
    assertDeniedByTheDenyChain("/overloads-in-interface/one");
  }

  @Test
  void aLooseMatchInASuperclassBeatsAnExactOneInAnInterfaceAsOnJersey() throws Exception {
    // Jersey searches type by type: GenericGuardedPredict.predict(T) in the superclass lends its
    // annotations to predict(BigDecimal) before the interface's exact, unguarded one.
    int before = calls.get();
    HttpResponse<String> r = postText("/superclass-loose/predict");
    assertThat(calls.get()).isEqualTo(before);
    if (servesLooseMatches()) {
      assertThat(r.statusCode()).isEqualTo(ProblemRenderer.render(GuardDecision.deny(ReasonCode.INPUT_INVALID)).status());
    } else {
      assertThat(r.statusCode()).isNotEqualTo(200);
    }
  }

  @Test
  void aPublicHelperBesideAGenericImplementationDoesNotMakeItsRequestsRefused() throws Exception {
    // On RESTEasy every predict(X) the bridge might call counted, the helper's lookup found no
    // guard and the request was refused (500).
    assertDeniedByTheDenyChain("/generic-with-helper/predict");
  }

  @Test
  void anInvalidAnnotationOverALocatorRefusesTheLocatedRequestWithTheProblem() throws Exception {
    // Its lookup threw out of the filter: the runtime's own error page, or the exception's text.
    assertFailsClosed("/invalid-locator/located");
  }

  /** Deploys {@code resource} alone and POSTs an empty JSON object to {@code path} on it. */
  protected HttpResponse<String> postToDeployed(Object resource, String path) throws Exception {
    try (Deployment alone = runtime().deploy(TestApplication.builder(new ModelGuardFeature(guard())).instances(resource).build())) {
      return post(alone.baseUri(), path, MediaType.APPLICATION_JSON, "{}");
    }
  }

  /** Whether the runtime shows the class implementing a {@code @Path} interface (else refused). */
  protected boolean servesHiddenClassesGuarded() {
    return true;
  }

  private HttpResponse<String> postText(String path) throws IOException, InterruptedException {
    return post(deployment.baseUri(), path, MediaType.TEXT_PLAIN, "5");
  }

  /**
   * Whether the runtime serves a method whose parameter merely fits a supertype method's bare type
   * variable for that method.
   */
  protected boolean servesLooseMatches() {
    return true;
  }

  /** Whether the runtime serves a resource method implemented by an interface's default method. */
  protected boolean servesDefaultMethods() {
    return true;
  }

  @Test
  void annotationOnAGenericSuperclassMethodGuardsItsOverrideForAType() throws Exception {
    assertDeniedByTheDenyChain("/generic-superclass-method/predict");
  }

  @Test
  void annotationOnAnInterfaceGuardsTheMethodsOfItsImplementations() throws Exception {
    assertDeniedByTheDenyChain("/annotated-interface/predict");
  }

  // --- annotations over sub-resource locators ----------------------------------------------

  @Test
  void classAnnotationOverALocatorOnlyClassFailsClosed() throws Exception {
    // The class has no resource method for the runtime to configure: deployment cannot refuse it.
    assertFailsClosed("/locator-only/located");
  }

  @Test
  void methodAnnotationOnTheLocatorOfALocatorOnlyClassFailsClosed() throws Exception {
    assertFailsClosed("/guarded-locator-only/located");
  }

  @Test
  void locatedClassWithAGuardedLocatorFailsClosedWithoutExceptionText() throws Exception {
    // GuardedLocatorInside is configured only when a request first reaches it, after deployment.
    assertFailsClosed("/locates-a-guarded-locator/inside");
    assertFailsClosed("/locates-a-guarded-locator/inside/located");
  }

  @Test
  void aLocatorOnlyClassAnnotationIsNotSkippedForALocatedClassGuardedMoreLeniently() throws Exception {
    // The located class carries an annotation of its own (the default chain, which allows
    // everything): the class annotation over the locator ("deny") used to be skipped silently,
    // though on a class with a resource method of its own it fails deployment.
    assertFailsClosed("/locator-only-over-guarded/located");
  }

  @Test
  void aLocatorOnlyMethodAnnotationIsNotSkippedForALocatedClassGuardedMoreLeniently() throws Exception {
    assertFailsClosed("/guarded-locator-only-over-guarded/located");
  }

  @Test
  void unguardedLocatorsStillReachTheirResources() throws Exception {
    int before = calls.get();
    HttpResponse<String> r = post("/unguarded-locator/located");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(REACHED);
    assertThat(calls.get()).isEqualTo(before + 1);
  }

  private void assertDeniedByTheDenyChain(String path) throws Exception {
    assertProblem(path, ProblemRenderer.render(GuardDecision.deny(ReasonCode.INPUT_INVALID)));
  }

  private void assertFailsClosed(String path) throws Exception {
    assertProblem(path, ProblemRenderer.internalError());
  }

  /** POSTs to {@code path} and asserts the exact problem, and that no resource was called. */
  private void assertProblem(String path, ProblemResponse expected) throws Exception {
    int before = calls.get();
    HttpResponse<String> r = post(path);
    assertThat(r.statusCode()).as(path).isEqualTo(expected.status());
    assertThat(r.headers().allValues("Content-Type")).as(path).containsExactly(ProblemResponse.CONTENT_TYPE);
    assertThat(r.body()).as(path).isEqualTo(expected.bodyAsString());
    assertThat(calls.get()).as("resource calls for %s", path).isEqualTo(before);
  }

  private HttpResponse<String> post(String path) throws IOException, InterruptedException {
    return post(deployment.baseUri(), path, MediaType.APPLICATION_JSON, "{}");
  }

  private HttpResponse<String> post(URI base, String path, String contentType, String body)
      throws IOException, InterruptedException {
    return JettyHost.client().send(HttpRequest.newBuilder(URI.create(base + path))
        .header("Content-Type", contentType)
        .timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  // --- resources ---------------------------------------------------------------------------

  /** Counts its calls in the test's counter. */
  abstract static class Counted {
    private final AtomicInteger calls;

    Counted(AtomicInteger calls) {
      this.calls = calls;
    }

    /** Counts the call and answers {@link #REACHED}. */
    final String reached() {
      calls.incrementAndGet();
      return REACHED;
    }

    AtomicInteger calls() {
      return calls;
    }
  }

  /** Declares the guarded resource method that {@link OverridesASuperclassMethod} overrides. */
  public abstract static class GuardedBase extends Counted {
    GuardedBase(AtomicInteger calls) {
      super(calls);
    }

    /** Guarded by the "deny" chain; overridden. */
    @POST
    @Path("predict")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "deny")
    public String predict() {
      return reached();
    }
  }

  /** Overrides a guarded method without repeating any annotation. */
  @Path("/superclass-method")
  public static class OverridesASuperclassMethod extends GuardedBase {
    OverridesASuperclassMethod(AtomicInteger calls) {
      super(calls);
    }

    @Override
    public String predict() {
      return reached();
    }
  }

  /** Declares a guarded resource method. */
  public interface GuardedMethodApi {
    /** Guarded by the "deny" chain. */
    @POST
    @Path("predict")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "deny")
    String predict();
  }

  /** Implements {@link GuardedMethodApi} without repeating any annotation. */
  @Path("/interface-method")
  public static class ImplementsAnInterfaceMethod extends Counted implements GuardedMethodApi {
    ImplementsAnInterfaceMethod(AtomicInteger calls) {
      super(calls);
    }

    @Override
    public String predict() {
      return reached();
    }
  }

  /** Declares a guarded resource method whose parameter is a type variable. */
  public interface GenericMethodApi<T> {
    /** Guarded by the "deny" chain. */
    @POST
    @Path("predict")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "deny")
    String predict(T input);
  }

  /** Implements {@link GenericMethodApi} for strings, without repeating any annotation. */
  @Path("/generic-interface-method")
  public static class ImplementsAGenericInterfaceMethod extends Counted implements GenericMethodApi<String> {
    ImplementsAGenericInterfaceMethod(AtomicInteger calls) {
      super(calls);
    }

    @Override
    public String predict(String input) {
      return reached();
    }
  }

  /**
   * Reads any entity declared as {@code Object} as its text, as a JSON provider would read it into
   * a tree: the runtime takes a default method's entity type from the generic declaration (T,
   * erased), and without a reader for it answers 415 before any filter runs.
   */
  @Provider
  @Consumes(MediaType.WILDCARD)
  public static class ObjectEntityReader implements MessageBodyReader<Object> {
    @Override
    public boolean isReadable(Class<?> type, Type genericType, Annotation[] annotations, MediaType mediaType) {
      return type == Object.class;
    }

    @Override
    public Object readFrom(Class<Object> type, Type genericType, Annotation[] annotations, MediaType mediaType,
        MultivaluedMap<String, String> headers, InputStream entity) throws IOException {
      return new String(entity.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Binds {@link GenericMethodApi}'s variable, and is itself generic. */
  public abstract static class StringBase<X> extends Counted implements GenericMethodApi<String> {
    StringBase(AtomicInteger calls) {
      super(calls);
    }
  }

  /** Extends {@link StringBase} raw, so its override is predict(Object). */
  @Path("/raw-supertype")
  @SuppressWarnings("rawtypes")
  public static class RawThroughAGenericBase extends StringBase {
    RawThroughAGenericBase(AtomicInteger calls) {
      super(calls);
    }

    @Override
    public String predict(Object input) {
      return reached();
    }
  }

  /** Implements {@link GenericMethodApi} for integers, beside an unannotated predict(Number). */
  @Path("/loose")
  public static class LooseOverload extends Counted implements GenericMethodApi<Integer> {
    LooseOverload(AtomicInteger calls) {
      super(calls);
    }

    /** Served at /loose/typed, guarded by its own annotations. */
    @Override
    @POST
    @Path("typed")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "deny")
    public String predict(Integer input) {
      return reached();
    }

    /** No annotation of its own: Jersey serves it at /loose/predict for GenericMethodApi.predict(T). */
    public String predict(Number input) {
      return reached();
    }
  }

  /** Carries {@code @Path} for its implementations, and no {@code @ModelSecured}. */
  @Path("/path-on-interface")
  public interface PathOnInterfaceApi {
    /** Served for the implementation. */
    @POST
    @Path("predict")
    @Produces(MediaType.TEXT_PLAIN)
    String predict();
  }

  /** Guarded by its class annotation, with its @Path on the interface only. */
  @ModelSecured(model = "digits", chain = "deny")
  public static class AnnotatedImplementation extends Counted implements PathOnInterfaceApi {
    AnnotatedImplementation(AtomicInteger calls) {
      super(calls);
    }

    @Override
    public String predict() {
      return reached();
    }
  }

  /** Declares a guarded method with a wide parameter. */
  public interface ScoringApi {
    /** Guarded by the "deny" chain. */
    @POST
    @Path("score")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "deny")
    String score(Number input);
  }

  /** Moves score(Number) and has an unannotated score(Integer), which Jersey serves at /score. */
  @Path("/assignable")
  public static class WiderParameter extends Counted implements ScoringApi {
    WiderParameter(AtomicInteger calls) {
      super(calls);
    }

    @Override
    @POST
    @Path("score-v2")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "deny")
    public String score(Number input) {
      return reached();
    }

    /** No annotation of its own. */
    public String score(Integer input) {
      return reached();
    }
  }

  /** A generic method under the lenient default chain. */
  public interface GenericLenientApi<T> {
    /** Allowed by the default chain. */
    @POST
    @Path("generic")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = ModelGuard.DEFAULT_CHAIN)
    String predict(T input);
  }

  /** Denied as a whole; its admin method has JAX-RS annotations of its own. */
  @Path("/class-deny")
  @ModelSecured(model = "digits", chain = "deny")
  public static class ClassDenied extends Counted implements GenericLenientApi<Object> {
    ClassDenied(AtomicInteger calls) {
      super(calls);
    }

    @Override
    public String predict(Object input) {
      return reached();
    }

    /** Under the class's chain: no runtime inherits anything for it. */
    @POST
    @Path("admin")
    @Produces(MediaType.TEXT_PLAIN)
    public String predict(@QueryParam("n") Integer n) {
      return reached();
    }
  }

  /** Carries the JAX-RS annotations of its implementations' predict() on a static method. */
  public interface StaticAnnotatedApi {
    /** The runtimes serve the class's predict() with these annotations. */
    @POST
    @Path("predict")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "deny")
    static String predict() {
      return "static";
    }
  }

  /** Its predict() has no annotation of its own. */
  @Path("/static-interface")
  public static class StaticInterfaceMethod extends Counted implements StaticAnnotatedApi {
    StaticInterfaceMethod(AtomicInteger calls) {
      super(calls);
    }

    public String predict() {
      return reached();
    }
  }

  /** Implements {@link GenericMethodApi} for strings in a default method. */
  public interface TypedDefaultMethodApi extends GenericMethodApi<String> {
    /** What the default method answers. */
    String answer();

    @Override
    default String predict(String input) {
      return answer();
    }
  }

  /** Takes its resource method from {@link TypedDefaultMethodApi}'s default method. */
  @Path("/generic-default-method")
  public static class ImplementsThroughADefaultMethod extends Counted implements TypedDefaultMethodApi {
    ImplementsThroughADefaultMethod(AtomicInteger calls) {
      super(calls);
    }

    @Override
    public String answer() {
      return reached();
    }
  }

  /** Declares a guarded resource method whose parameter is a bounded type variable. */
  public abstract static class GenericGuardedBase<T extends CharSequence> extends Counted {
    GenericGuardedBase(AtomicInteger calls) {
      super(calls);
    }

    /** Guarded by the "deny" chain; overridden. */
    @POST
    @Path("predict")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "deny")
    public abstract String predict(T input);
  }

  /** Overrides {@link GenericGuardedBase#predict} for strings, without repeating any annotation. */
  @Path("/generic-superclass-method")
  public static class OverridesAGenericSuperclassMethod extends GenericGuardedBase<String> {
    OverridesAGenericSuperclassMethod(AtomicInteger calls) {
      super(calls);
    }

    @Override
    public String predict(String input) {
      return reached();
    }
  }

  /** Guarded as a whole by the "deny" chain. */
  @ModelSecured(model = "digits", chain = "deny")
  public interface GuardedApi {
    /** Guarded by the interface's annotation. */
    @POST
    @Path("predict")
    @Produces(MediaType.TEXT_PLAIN)
    String predict();
  }

  /** Implements {@link GuardedApi} without repeating any annotation. */
  @Path("/annotated-interface")
  public static class ImplementsAnAnnotatedInterface extends Counted implements GuardedApi {
    ImplementsAnAnnotatedInterface(AtomicInteger calls) {
      super(calls);
    }

    @Override
    public String predict() {
      return reached();
    }
  }

  /** Only a locator, under a class annotation: no resource method the runtime configures. */
  @Path("/locator-only")
  @ModelSecured(model = "digits", chain = "deny")
  public static class LocatorOnly extends Counted {
    LocatorOnly(AtomicInteger calls) {
      super(calls);
    }

    /** Locates an unguarded resource. */
    @Path("located")
    public Unguarded locator() {
      return new Unguarded(calls());
    }
  }

  /** Only a locator, itself annotated. */
  @Path("/guarded-locator-only")
  public static class GuardedLocatorOnly extends Counted {
    GuardedLocatorOnly(AtomicInteger calls) {
      super(calls);
    }

    /** Locates an unguarded resource. */
    @Path("located")
    @ModelSecured(model = "digits", chain = "deny")
    public Unguarded locator() {
      return new Unguarded(calls());
    }
  }

  /** Only a locator, under a strict class annotation, locating a class with a lenient annotation. */
  @Path("/locator-only-over-guarded")
  @ModelSecured(model = "digits", chain = "deny")
  public static class LocatorOnlyOverAGuardedClass extends Counted {
    LocatorOnlyOverAGuardedClass(AtomicInteger calls) {
      super(calls);
    }

    /** Locates a resource guarded by its own, lenient annotation. */
    @Path("located")
    public LenientlyGuarded locator() {
      return new LenientlyGuarded(calls());
    }
  }

  /** Only a locator, itself strictly annotated, locating a class with a lenient annotation. */
  @Path("/guarded-locator-only-over-guarded")
  public static class GuardedLocatorOnlyOverAGuardedClass extends Counted {
    GuardedLocatorOnlyOverAGuardedClass(AtomicInteger calls) {
      super(calls);
    }

    /** Locates a resource guarded by its own, lenient annotation. */
    @Path("located")
    @ModelSecured(model = "digits", chain = "deny")
    public LenientlyGuarded locator() {
      return new LenientlyGuarded(calls());
    }
  }

  /** A located resource guarded by the default chain, which allows everything. */
  @ModelSecured(model = "digits")
  public static class LenientlyGuarded extends Counted {
    LenientlyGuarded(AtomicInteger calls) {
      super(calls);
    }

    /** Answers {@link #REACHED}. */
    @POST
    @Produces(MediaType.TEXT_PLAIN)
    public String predict() {
      return reached();
    }
  }

  /** Locates {@link GuardedLocatorInside}, which the runtime configures only at run time. */
  @Path("/locates-a-guarded-locator")
  public static class LocatesAGuardedLocator extends Counted {
    LocatesAGuardedLocator(AtomicInteger calls) {
      super(calls);
    }

    /** Unguarded itself. */
    @Path("inside")
    public GuardedLocatorInside locator() {
      return new GuardedLocatorInside(calls());
    }
  }

  /** A located class with a resource method and a locator, both under its class annotation. */
  @ModelSecured(model = "digits", chain = "deny")
  public static class GuardedLocatorInside extends Counted {
    GuardedLocatorInside(AtomicInteger calls) {
      super(calls);
    }

    /** Would be guarded, but its class also has a guarded locator. */
    @POST
    @Produces(MediaType.TEXT_PLAIN)
    public String predict() {
      return reached();
    }

    /** Locates an unguarded resource. */
    @Path("located")
    public Unguarded locator() {
      return new Unguarded(calls());
    }
  }

  /** An unguarded locator. */
  @Path("/unguarded-locator")
  public static class UnguardedLocator extends Counted {
    UnguardedLocator(AtomicInteger calls) {
      super(calls);
    }

    /** Locates an unguarded resource. */
    @Path("located")
    public Unguarded locator() {
      return new Unguarded(calls());
    }
  }

  /** Carries {@code @Path} and a lenient annotation for its implementations. */
  @Path("/weaker")
  @ModelSecured(model = "digits")
  public interface LenientPathApi {
    /** Served for the implementation. */
    @POST
    @Path("predict")
    @Produces(MediaType.TEXT_PLAIN)
    String predict();
  }

  /** Denies on its method, behind {@link LenientPathApi}. */
  public static class StricterMethod extends Counted implements LenientPathApi {
    StricterMethod(AtomicInteger calls) {
      super(calls);
    }

    @Override
    @ModelSecured(model = "digits", chain = "deny")
    public String predict() {
      return reached();
    }
  }

  /** As {@link LenientPathApi}, at another path. */
  @Path("/weaker-class")
  @ModelSecured(model = "digits")
  public interface LenientPathApiToo {
    /** Served for the implementation. */
    @POST
    @Path("predict")
    @Produces(MediaType.TEXT_PLAIN)
    String predict();
  }

  /** Denies as a whole, behind {@link LenientPathApiToo}. */
  @ModelSecured(model = "digits", chain = "deny")
  public static class StricterClass extends Counted implements LenientPathApiToo {
    StricterClass(AtomicInteger calls) {
      super(calls);
    }

    @Override
    public String predict() {
      return reached();
    }
  }

  /** A generic {@code @Path} interface guarding its method. */
  @Path("/generic-path-interface")
  public interface GenericPathApi<T> {
    /** Guarded by the "deny" chain. */
    @POST
    @Path("predict")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "deny")
    String predict(T input);
  }

  /** Implements {@link GenericPathApi} for strings, repeating a JAX-RS annotation. */
  public static class RepeatsProduces extends Counted implements GenericPathApi<String> {
    RepeatsProduces(AtomicInteger calls) {
      super(calls);
    }

    @Override
    @Produces(MediaType.TEXT_PLAIN)
    public String predict(String input) {
      return reached();
    }
  }

  /** A guarded generic method and an unguarded overload, both declared with their JAX-RS annotations. */
  @Path("/overloads-in-interface")
  public interface OverloadsApi<T> {
    /** Guarded by the "deny" chain. */
    @POST
    @Path("one")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "deny")
    String predict(T input);

    /** Not guarded. */
    @GET
    @Path("two")
    @Produces(MediaType.TEXT_PLAIN)
    String predict(@QueryParam("q") String q);
  }

  /** Implements {@link OverloadsApi} for integers. */
  public static class OverloadsInAnInterface extends Counted implements OverloadsApi<Integer> {
    OverloadsInAnInterface(AtomicInteger calls) {
      super(calls);
    }

    @Override
    public String predict(Integer input) {
      return reached();
    }

    @Override
    public String predict(String q) {
      return reached();
    }
  }

  /** Declares a guarded method whose parameter is a type variable. */
  public abstract static class GenericGuardedPredict<T> extends Counted {
    GenericGuardedPredict(AtomicInteger calls) {
      super(calls);
    }

    /** Guarded by the "deny" chain. */
    @POST
    @Path("predict")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "deny")
    public abstract String predict(T input);
  }

  /** Declares an unguarded predict(BigDecimal). */
  public interface NumberGet {
    /** Not guarded. */
    @GET
    @Path("other")
    @Produces(MediaType.TEXT_PLAIN)
    String predict(@QueryParam("n") BigDecimal n);
  }

  /** Its predict(BigDecimal) matches the superclass's predict(T) loosely, the interface's exactly. */
  @Path("/superclass-loose")
  public static class SuperclassLooseFirst extends GenericGuardedPredict<Integer> implements NumberGet {
    SuperclassLooseFirst(AtomicInteger calls) {
      super(calls);
    }

    @Override
    @POST
    @Path("typed")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "deny")
    public String predict(Integer input) {
      return reached();
    }

    @Override
    public String predict(BigDecimal n) {
      return reached();
    }
  }

  /** A generic {@code @Path} interface guarding its method. */
  @Path("/generic-with-helper")
  public interface HelperApi<T> {
    /** Guarded by the "deny" chain. */
    @POST
    @Path("predict")
    @Produces(MediaType.TEXT_PLAIN)
    @ModelSecured(model = "digits", chain = "deny")
    String predict(T input);
  }

  /** Implements {@link HelperApi} for strings, beside a public helper of the same name. */
  public static class GenericWithAHelper extends Counted implements HelperApi<String> {
    GenericWithAHelper(AtomicInteger calls) {
      super(calls);
    }

    @Override
    public String predict(String input) {
      return reached();
    }

    /** Not a resource method; a JAX-RS annotation of its own all the same. */
    public String predict(@DefaultValue("x") Integer n) {
      return reached();
    }
  }

  /** Only a locator, under an invalid annotation (cost 0). */
  @Path("/invalid-locator")
  public static class InvalidLocatorOnly extends Counted {
    InvalidLocatorOnly(AtomicInteger calls) {
      super(calls);
    }

    /** Locates an unguarded resource. */
    @Path("located")
    @ModelSecured(model = "digits", chain = "deny", cost = 0)
    public Unguarded locator() {
      return new Unguarded(calls());
    }
  }

  /** A located resource without any annotation of its own. */
  public static class Unguarded extends Counted {
    Unguarded(AtomicInteger calls) {
      super(calls);
    }

    /** Answers {@link #REACHED}. */
    @POST
    @Produces(MediaType.TEXT_PLAIN)
    public String predict() {
      return reached();
    }
  }
}
