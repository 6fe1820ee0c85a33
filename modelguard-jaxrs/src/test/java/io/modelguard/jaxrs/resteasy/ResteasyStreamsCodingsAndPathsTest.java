package io.modelguard.jaxrs.resteasy;

import io.modelguard.ModelSecured;
import io.modelguard.jaxrs.JaxrsRuntime;
import io.modelguard.jaxrs.StreamsCodingsAndPathsTest;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.jboss.resteasy.annotations.Stream;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;

class ResteasyStreamsCodingsAndPathsTest extends StreamsCodingsAndPathsTest {
  @Override
  protected JaxrsRuntime runtime() {
    return new ResteasyRuntime();
  }

  @Test
  void aReactiveStreamsPublisherOrAStreamedMethodUnderOutputPoliciesFailsDeployment() {
    // RESTEasy wrote each element to the client as it came, past the response filter.
    assertDeploymentRefused(StreamedEvents.class, "Publisher", "StreamedEvents.events()", "'label-only'");
    assertDeploymentRefused(StreamedStrings.class, "@Stream", "StreamedStrings.general()", "'label-only'");
  }

  /** Server-sent events from a Reactive Streams Publisher, no sink parameter. */
  @Path("/streamed-events")
  public static class StreamedEvents {
    /** Never deployed. */
    @GET
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @ModelSecured(model = "digits", chain = "label-only")
    public Publisher<String> events() {
      return subscriber -> subscriber.onComplete();
    }
  }

  /** RESTEasy's general streaming of a method's result. */
  @Path("/streamed")
  public static class StreamedStrings {
    /** Never deployed. */
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Stream
    @ModelSecured(model = "digits", chain = "label-only")
    public String general() {
      return PREDICTION;
    }
  }
}
