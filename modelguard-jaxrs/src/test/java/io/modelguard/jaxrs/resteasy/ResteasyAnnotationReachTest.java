package io.modelguard.jaxrs.resteasy;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.ModelSecured;
import io.modelguard.jaxrs.AnnotationReachTest;
import io.modelguard.jaxrs.JaxrsRuntime;
import io.modelguard.problem.ProblemRenderer;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Where {@code @ModelSecured} reaches, on RESTEasy. */
class ResteasyAnnotationReachTest extends AnnotationReachTest {
  @Override
  protected JaxrsRuntime runtime() {
    return new ResteasyRuntime();
  }

  /** RESTEasy configures the interface's method and never shows the class: the filter refuses. */
  @Override
  protected boolean servesHiddenClassesGuarded() {
    return false;
  }

  /** RESTEasy serves the interface's method through an implementation annotated @Produces. */
  @Override
  protected boolean inheritsIntoAnnotatedImplementations() {
    return true;
  }

  /** RESTEasy answers 404: it serves no method that merely fits a bare type variable. */
  @Override
  protected boolean servesLooseMatches() {
    return false;
  }

  /** RESTEasy answers 404: it does not take a default method for a resource method. */
  @Override
  protected boolean servesDefaultMethods() {
    return false;
  }

  @Test
  void anInvalidAnnotationOnTheClassBehindAPathInterfaceRefusesItsRequests() throws Exception {
    // RESTEasy never shows the class at deployment; its invalid annotation used to read as none.
    AtomicInteger reached = new AtomicInteger();
    HttpResponse<String> r = postToDeployed(new InvalidBehindAnInterface(reached), "/invalid-hidden/predict");
    assertThat(r.statusCode()).isEqualTo(ProblemRenderer.internalError().status());
    assertThat(r.body()).isEqualTo(ProblemRenderer.internalError().bodyAsString());
    assertThat(reached).hasValue(0);
  }

  /** Carries {@code @Path} for its implementations. */
  @Path("/invalid-hidden")
  public interface HiddenApi {
    /** Served for the implementation. */
    @POST
    @Path("predict")
    @Produces(MediaType.TEXT_PLAIN)
    String predict();
  }

  /** An invalid annotation (cost 0) on its method, which Jersey would refuse at deployment. */
  public static class InvalidBehindAnInterface implements HiddenApi {
    private final AtomicInteger calls;

    InvalidBehindAnInterface(AtomicInteger calls) {
      this.calls = calls;
    }

    @Override
    @ModelSecured(model = "digits", chain = "deny", cost = 0)
    public String predict() {
      calls.incrementAndGet();
      return "reached";
    }
  }
}
