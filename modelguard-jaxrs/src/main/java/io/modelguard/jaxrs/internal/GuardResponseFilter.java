package io.modelguard.jaxrs.internal;

import io.modelguard.GuardDecision;
import io.modelguard.GuardFailureException;
import io.modelguard.InferenceRequest;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.internal.ContentCodings;
import io.modelguard.internal.HeaderNames;
import io.modelguard.internal.RepresentationHeaders;
import io.modelguard.internal.TextBodies;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.problem.ProblemResponse;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.ext.MessageBodyWriter;
import jakarta.ws.rs.ext.Providers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.annotation.Annotation;
import java.lang.reflect.Type;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Flow;

/**
 * Internal to {@code ModelGuardFeature}, which registers this class (never an instance, so that the
 * runtime injects {@link Providers}) on every guarded resource method. Applications do not register
 * it themselves.
 *
 * <p>The response side of a guarded request. The request filter leaves the engine, the request and
 * the decision in the request properties {@link #GUARD_PROPERTY}, {@link #REQUEST_PROPERTY} and
 * {@link #DECISION_PROPERTY}; without them (a denied request, whose problem response is final)
 * this filter does nothing. Otherwise it puts the decision's headers (rate limits, for instance)
 * over the resource's, names compared as a recipient reads them on the wire ({@link HeaderNames}),
 * and, if the chain has output policies and the response has an entity, runs them on it whatever
 * the status, passing the status to the engine.
 *
 * <p>Where the resource answered what the output policies cannot read, the line saying so is
 * logged through the {@link OutputFaultLog} the request filter leaves under {@link
 * OutputFaultLog#PROPERTY}: at ERROR at most once a minute per resource method, kind of line and
 * exception class, since a client whose input makes the resource misbehave can repeat it at will.
 *
 * <p>Output policies run here rather than in a {@code WriterInterceptor} because a fail-closed
 * output policy that fails must turn the response into a 500 problem, and only a response filter
 * can change the status portably. The entity is serialised with the runtime's own writer and
 * replaced with the policies' bytes and media type, so writer interceptors that run later
 * (compression) see the final output; any {@code Content-Length} the resource set is removed and the
 * runtime sets the length of what it writes (both Jersey and RESTEasy send one for bodies within
 * their output buffer, and chunk larger ones). Anything that goes wrong
 * on the way, or an entity larger than {@link #MAX_OUTPUT_PROPERTY} allows, fails closed: the output and every header describing it are dropped and {@link
 * ProblemRenderer#internalError()} is sent instead.
 */
public final class GuardResponseFilter implements ContainerResponseFilter {
  /** The request property holding the {@link ModelGuard} that checked the request. */
  public static final String GUARD_PROPERTY = "io.modelguard.jaxrs.internal.guard";

  /** The request property holding the {@link GuardDecision} of an allowed request. */
  public static final String DECISION_PROPERTY = "io.modelguard.GuardDecision";

  /** The request property holding the {@link InferenceRequest} of an allowed request. */
  public static final String REQUEST_PROPERTY = "io.modelguard.InferenceRequest";

  /**
   * The request property holding the most bytes of serialised entity the output policies may be
   * given (an {@link Integer}); a larger entity is withheld.
   */
  public static final String MAX_OUTPUT_PROPERTY = "io.modelguard.jaxrs.internal.maxOutputBytes";

  /** Jersey's streamed response entity, written after the response filters have run. */
  private static final String JERSEY_CHUNKED_OUTPUT = "org.glassfish.jersey.server.ChunkedOutput";
  private static final String REACTIVE_STREAMS_PUBLISHER = "org.reactivestreams.Publisher";
  private static final Annotation[] NO_ANNOTATIONS = new Annotation[0];
  /**
   * The codings the runtimes' compression applies after the response filters, lower-cased as
   * {@link ContentCodings#declared} gives them, and the token each matches in the header: Jersey's
   * {@code GZipEncoder} takes {@code gzip} and {@code x-gzip}, its {@code DeflateEncoder} {@code
   * deflate}; RESTEasy's {@code GZIPEncodingInterceptor} takes {@code gzip} only.
   */
  private static final Map<String, String> RUNTIME_CODINGS = Map.of("gzip", "gzip", "x-gzip", "gzip", "deflate", "deflate");

  @Context private Providers providers;

  /** Created by the JAX-RS runtime, which then injects {@link Providers}. */
  public GuardResponseFilter() {}

  /**
   * Adds the decision's headers and applies the output policies of an allowed request; never
   * throws: a failure of the output policies becomes a 500 problem response.
   */
  @Override
  public void filter(ContainerRequestContext requestContext, ContainerResponseContext response) {
    if (!(requestContext.getProperty(GUARD_PROPERTY) instanceof ModelGuard guard)
        || !(requestContext.getProperty(DECISION_PROPERTY) instanceof GuardDecision decision)
        || !(requestContext.getProperty(REQUEST_PROPERTY) instanceof InferenceRequest request)) {
      return;
    }
    boolean withheld = false;
    // Whatever the status: an error entity can carry a prediction too (partial scores in a 422).
    if (guard.chain(request.endpoint().chain()).hasOutputPolicies()) {
      // A reason phrase the resource chose is text the policies never see: the runtime puts it on
      // the status line, or (Jersey, for an error without an entity) hands it to the container as
      // sendError's message, which its error page shows. The status code alone keeps the standard one.
      response.setStatus(response.getStatus());
      if (!response.hasEntity()) {
        // No output for the policies, but a validator, digest or length the resource set may still
        // describe the model's own output (a HEAD answered by hand with a GET's ETag, say): as in
        // the servlet adapter, none of them leaves under output policies.
        response.getHeaders().keySet().removeIf(GuardResponseFilter::describesTheOutput);
        // Nor one naming no coding, and a runtime's coding is spelled as on an entity's answer: a
        // HEAD carries its GET's fields.
        normaliseContentCoding(response.getHeaders());
      } else {
        // A withheld answer's 500 problem still carries the decision's headers below: the request
        // was counted, and the client learns its limits from it, as from the servlet adapter.
        withheld = !applyOutputPolicies(guard, requestContext, request, decision, response);
      }
    }
    MultivaluedMap<String, Object> headers = response.getHeaders();
    if (!withheld) {
      if (!decision.headers().isEmpty()) {
        // The runtimes hand every name to the container as given: "RateLimit " would reach the
        // client as a second RateLimit beside the guard's, " X" as the end of the line before it.
        headers.keySet().removeIf(name -> HeaderNames.changesAnyOf(name, decision.headers().keySet()));
        decision.headers().forEach(headers::putSingle);
      }
      return;
    }
    // Under the problem's own, as ProblemRenderer adds a denial's and the servlet adapter writes
    // its problem over them: a policy's Cache-Control must not make the 500 cacheable, nor its
    // Content-Type or Content-Length misdescribe the problem (the runtime counts what it writes).
    decision.headers().forEach((name, value) -> {
      if (!HttpHeaders.CONTENT_LENGTH.equalsIgnoreCase(name) && !hasHeader(headers, name)) {
        headers.putSingle(name, value);
      }
    });
  }

  /**
   * Whether a header the resource set under {@code name} must not leave once output policies ran:
   * its {@code Content-Length}, which the runtime sets for what it writes; a header describing the
   * model's own output ({@link RepresentationHeaders}), which identifies it; and, since the runtimes
   * send names as given, any name that reads as one of those only on the wire ({@code "ETag "}, see
   * {@link HeaderNames}), one that reads as {@code Content-Type} only there (a second type beside the
   * one the policies chose), and one that continues the line before it (the policies' type, say).
   */
  private static boolean describesTheOutput(String name) {
    return HeaderNames.continuesThePreviousLine(name) || RepresentationHeaders.describesTheOutput(name);
  }

  /** Whether {@code headers} hold one named {@code name} in any letter case. */
  private static boolean hasHeader(MultivaluedMap<String, Object> headers, String name) {
    for (String existing : headers.keySet()) {
      if (existing.equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Applies the output policies; on a failure withholds the output behind a 500 problem. Returns
   * false if it did.
   */
  private boolean applyOutputPolicies(
      ModelGuard guard, ContainerRequestContext requestContext, InferenceRequest request, GuardDecision decision,
      ContainerResponseContext response) {
    try {
      if (isJerseyChunkedOutput(response.getEntityClass()) || isPublisher(response.getEntityClass())) {
        fault(requestContext, guard, null, "ModelGuard: the resource of {} answered with a stream ({}, {}) whose parts leave after "
            + "the output policies have run; output withheld. Return the prediction as the response "
            + "entity, or guard the method with a chain without output policies.", request.endpoint(),
            response.getEntityClass().getName(), response.getMediaType());
        withhold(response);
        return false;
      }
      MediaType mediaType = response.getMediaType();
      byte[] entity = serialize(response, mediaType, maxOutputBytes(requestContext));
      String coding = precoded(response.getHeaders(), entity);
      if (coding != null) {
        fault(requestContext, guard, null, "ModelGuard: the resource of {} answered with Content-Encoding '{}' over bytes already "
            + "in that coding, which the output policies cannot read; output withheld. Let the runtime "
            + "compress (its writer interceptors run after the output policies).", request.endpoint(), coding);
        withhold(response);
        return false;
      }
      // The policies read text as UTF-8: text in another charset (one the client asked for in
      // Accept, or the resource's own) is given to them, and sent, in UTF-8, so that it neither
      // passes them unread nor leaves rewritten under the wrong label.
      String charset = mediaType == null ? null : mediaType.getParameters().get(MediaType.CHARSET_PARAMETER);
      if (charset != null && !Charset.forName(charset).equals(StandardCharsets.UTF_8)) {
        if (!TextBodies.isText(mediaType.getType(), mediaType.getSubtype())) {
          // Bytes the policies would read as UTF-8 though they are not; not text, so not transcoded.
          fault(requestContext, guard, null, "ModelGuard: the resource of {} answered {} in a charset other than UTF-8, which the "
              + "output policies cannot read; output withheld. Answer in UTF-8.", request.endpoint(), mediaType);
          withhold(response);
          return false;
        }
        entity = TextBodies.toUtf8(entity, Charset.forName(charset)); // CharacterCodingException: withheld
        if (entity.length > maxOutputBytes(requestContext)) {
          throw new IOException("the entity in UTF-8 is larger than the output policies may be given");
        }
        mediaType = mediaType.withCharset("UTF-8");
      }
      ModelOutput output = guard.onResponse(
          request, decision, response.getStatus(), ModelOutput.of(entity, mediaType == null ? null : mediaType.toString()));
      byte[] body = output.body();
      MediaType outputType = output.contentType().map(MediaType::valueOf).orElse(mediaType);
      Annotation[] annotations = response.getEntityAnnotations();
      response.setEntity(body, annotations == null ? NO_ANNOTATIONS : annotations, outputType);
      // A length the resource set describes the old entity. Not setting the new one here lets the
      // runtime count what it finally writes, which stays right behind a compressing interceptor.
      // Nor may a validator or digest of the model's own output leave, which would identify it.
      response.getHeaders().keySet().removeIf(GuardResponseFilter::describesTheOutput);
      normaliseContentCoding(response.getHeaders());
      return true;
    } catch (GuardFailureException e) {
      // The engine has logged the policy's exception.
    } catch (IOException | RuntimeException e) {
      fault(requestContext, guard, e, "ModelGuard: could not apply the output policies of {}; output withheld",
          request.endpoint());
    }
    withhold(response);
    return false;
  }

  /**
   * Logs what the resource of the request did that the output policies cannot read, with the stack
   * trace of {@code thrown} unless it is null: through the {@link OutputFaultLog} of its method, so
   * at ERROR at most once a minute per method, line and exception class, and at DEBUG otherwise.
   */
  private static void fault(ContainerRequestContext requestContext, ModelGuard guard, Throwable thrown,
      String format, Object... args) {
    if (requestContext.getProperty(OutputFaultLog.PROPERTY) instanceof OutputFaultLog.Resource faults) {
      faults.log(guard, thrown, format, args);
    } else {
      OutputFaultLog.unpaced(thrown, format, args);
    }
  }

  /**
   * The content coding the entity is already in, or null. The runtime's own compression (Jersey's
   * {@code EncodingFilter}, RESTEasy's gzip interceptor) may have declared {@code gzip} or {@code
   * deflate} already, but compresses only after this filter, so a declared gzip or deflate counts
   * only if the bytes are in it (the gzip magic number; a zlib stream or a whole raw deflate
   * stream); any other coding is one no runtime applies later, so the resource coded the bytes
   * itself ({@link ContentCodings#isCoded}). Every name that reads as {@code Content-Encoding} on the
   * wire ({@link HeaderNames}) counts.
   */
  private static String precoded(MultivaluedMap<String, Object> headers, byte[] entity) {
    // Under every name that reads as Content-Encoding on the wire: "Content-Encoding " reaches the
    // client as "Content-Encoding : gzip", which a proxy or client may take for the coding.
    List<Object> values = new ArrayList<>();
    for (Map.Entry<String, List<Object>> header : headers.entrySet()) {
      if (header.getValue() != null && HeaderNames.reads(header.getKey(), HttpHeaders.CONTENT_ENCODING)) {
        values.addAll(header.getValue());
      }
    }
    for (String coding : ContentCodings.declared(values)) {
      if (ContentCodings.isCoded(coding, entity)) {
        return coding;
      }
    }
    return null;
  }

  /**
   * Rewrites the {@code Content-Encoding} headers (under every name that reads as it on the wire) of
   * an entity the policies passed, which {@link #precoded} found in no coding, or of a response
   * without one, to what the runtime's compression matches exactly. If, together, they declare no
   * coding ({@code identity} in any letter case, with spaces or tabs around it, or empty list
   * members: {@link ContentCodings#declared}), they are removed: {@code identity} is no content
   * coding a response may carry (RFC 9110, section 12.5.3, reserves it for {@code Accept-Encoding}),
   * and a recipient may take {@code " IDENTITY, "} for a coding it must undo, and refuse the body. If
   * they declare one coding a runtime applies after this filter ({@code gzip}, {@code x-gzip},
   * {@code deflate}), they become one {@code Content-Encoding} with its token ({@code gzip} for
   * {@code x-gzip}): Jersey's encoders and RESTEasy's gzip interceptor match the header as set
   * ({@code " GZIP "} or {@code "Content-Encoding "} is no match), so the bytes would leave plain
   * under a label that says compressed. A response without an entity is rewritten alike, since a
   * {@code HEAD} carries the fields of its {@code GET}. Anything else stays as the resource set it.
   */
  private static void normaliseContentCoding(MultivaluedMap<String, Object> headers) {
    List<String> names = null;
    List<Object> values = null;
    for (Map.Entry<String, List<Object>> header : headers.entrySet()) {
      if (HeaderNames.reads(header.getKey(), HttpHeaders.CONTENT_ENCODING)) {
        if (names == null) {
          names = new ArrayList<>(1);
          values = new ArrayList<>(1);
        }
        names.add(header.getKey());
        if (header.getValue() != null) {
          values.addAll(header.getValue());
        }
      }
    }
    if (names == null) {
      return;
    }
    List<String> declared = ContentCodings.declared(values);
    String token = declared.size() == 1 ? RUNTIME_CODINGS.get(declared.get(0)) : null;
    if (declared.isEmpty() || token != null) {
      names.forEach(headers::remove);
      if (token != null) {
        headers.putSingle(HttpHeaders.CONTENT_ENCODING, token);
      }
    }
  }

  /** Replaces the response with the {@code internal.error} problem. */
  private static void withhold(ContainerResponseContext response) {
    ProblemResponse problem = ProblemRenderer.internalError();
    MultivaluedMap<String, Object> headers = response.getHeaders();
    // Nothing describing the withheld output (its length, encoding, validators...) may remain.
    headers.clear();
    response.setStatus(problem.status());
    problem.headers().forEach(headers::putSingle);
    response.setEntity(problem.body(), NO_ANNOTATIONS, MediaType.valueOf(ProblemResponse.CONTENT_TYPE));
    headers.putSingle(HttpHeaders.CONTENT_TYPE, ProblemResponse.CONTENT_TYPE);
    // No Content-Length, as on the request filter's problems: the runtime counts what it writes.
  }

  /**
   * Whether {@code type} is Jersey's {@code ChunkedOutput} (its {@code EventOutput} is one), whose
   * chunks the runtime writes after the response filters have run. Recognised by name, so that the
   * adapter does not depend on Jersey.
   *
   * @param type the entity's class, or null (then false)
   * @return true if {@code type} is, extends or implements {@code
   *     org.glassfish.jersey.server.ChunkedOutput}
   */
  public static boolean isJerseyChunkedOutput(Class<?> type) {
    return isA(type, JERSEY_CHUNKED_OUTPUT);
  }

  /**
   * Whether {@code type} is a {@link Flow.Publisher} or a Reactive Streams {@code Publisher} (by
   * name, so the adapter needs no such library), whose elements a runtime may stream after the
   * response filters have run (RESTEasy does).
   *
   * @param type the entity's class, or null (then false)
   * @return true if {@code type} is, extends or implements either {@code Publisher} interface
   */
  public static boolean isPublisher(Class<?> type) {
    return type != null && (Flow.Publisher.class.isAssignableFrom(type) || isA(type, REACTIVE_STREAMS_PUBLISHER));
  }

  /**
   * Whether {@code type} (null: no) is, extends or implements the class or interface named {@code
   * name}: how the adapter recognises a runtime's or an API's types without depending on them.
   *
   * @param type the class to check, or null
   * @param name the fully qualified binary name to look for, as {@link Class#getName()} gives it
   * @return true if {@code type} or one of its superclasses or interfaces, at any depth, has that
   *     name
   */
  public static boolean isA(Class<?> type, String name) {
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      if (c.getName().equals(name)) {
        return true;
      }
      for (Class<?> i : c.getInterfaces()) {
        if (isA(i, name)) {
          return true;
        }
      }
    }
    return false;
  }

  /** The request's bound on the serialised entity; fails closed (0 bytes) if it is missing. */
  private static int maxOutputBytes(ContainerRequestContext requestContext) {
    return requestContext.getProperty(MAX_OUTPUT_PROPERTY) instanceof Integer max ? max : 0;
  }

  private byte[] serialize(ContainerResponseContext response, MediaType mediaType, int maxBytes) throws IOException {
    if (providers == null) {
      throw new IllegalStateException("the runtime did not inject Providers into " + getClass().getName());
    }
    BoundedOutputStream out = new BoundedOutputStream(maxBytes);
    write(response.getEntity(), response.getEntityClass(), response.getEntityType(),
        response.getEntityAnnotations(), mediaType == null ? MediaType.WILDCARD_TYPE : mediaType,
        response.getHeaders(), out);
    return out.toByteArray();
  }

  private <T> void write(
      Object entity, Class<T> type, Type genericType, Annotation[] annotations, MediaType mediaType,
      MultivaluedMap<String, Object> headers, OutputStream out) throws IOException {
    Annotation[] a = annotations == null ? NO_ANNOTATIONS : annotations;
    MessageBodyWriter<T> writer = providers.getMessageBodyWriter(type, genericType, a, mediaType);
    if (writer == null) {
      throw new IOException("no MessageBodyWriter for " + type.getName() + " as " + mediaType);
    }
    writer.writeTo(type.cast(entity), type, genericType, a, mediaType, headers, out);
  }

  /** Holds at most {@code max} bytes; a write past them fails, and the entity is withheld. */
  private static final class BoundedOutputStream extends ByteArrayOutputStream {
    private final int max;

    BoundedOutputStream(int max) {
      this.max = max;
    }

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      if (len > max - count) {
        // Unchecked, since ByteArrayOutputStream's writes declare no IOException; caught with every
        // other failure of serialisation in applyOutputPolicies.
        throw new UncheckedIOException(new IOException(
            "the entity exceeds the " + max + " bytes the output policies may be given"));
      }
      super.write(b, off, len);
    }
  }
}
