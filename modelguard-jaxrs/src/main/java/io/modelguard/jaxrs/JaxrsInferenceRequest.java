package io.modelguard.jaxrs;

import io.modelguard.CappedBody;
import io.modelguard.Endpoint;
import io.modelguard.InferenceRequest;
import io.modelguard.input.RequestAttributes;
import io.modelguard.internal.HttpProtocols;
import io.modelguard.internal.SealedBody;
import io.modelguard.jaxrs.internal.ServletConnectionFacts;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.MultivaluedMap;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * {@link InferenceRequest} over a JAX-RS {@link ContainerRequestContext}. The body is read through
 * {@link CappedBody} and, once a policy has read any of it, {@link #replayBody} gives the
 * resource the same bytes followed by whatever was not read. Once the request policies have run,
 * the body is never read again past what they read, whether or not the resource took the rest
 * ({@link #replayBody}).
 * {@link RequestAttributes} are the context's request properties (which a servlet-hosted runtime
 * keeps in step with the servlet request's attributes), so what a policy stores there, such as
 * {@link io.modelguard.input.FetchedInputs}, reaches the resource. One request, one thread.
 */
final class JaxrsInferenceRequest implements InferenceRequest, RequestAttributes {
  private final ContainerRequestContext context;
  private final Endpoint endpoint;
  private final String path;
  private final Function<ContainerRequestContext, Optional<String>> remoteAddressLookup;
  private final CappedBody body;
  /** The runtime's entity stream, which the resource continues from; null until first needed. */
  private InputStream entity;
  /** Whether the resource may have taken the body, after which the policies read no more of it. */
  private boolean sealed;
  private Optional<String> remoteAddress;

  JaxrsInferenceRequest(
      ContainerRequestContext context,
      Endpoint endpoint,
      Function<ContainerRequestContext, Optional<String>> remoteAddressLookup) {
    this.context = context;
    this.endpoint = endpoint;
    this.path = relativePath(context.getUriInfo().getPath(false));
    this.remoteAddressLookup = remoteAddressLookup;
    this.body = new CappedBody(this::openForPolicies);
  }

  /**
   * The base-relative path with a leading slash (runtimes differ on whether it has one) and
   * without matrix parameters ({@code ;name=value} after a segment), which are not part of the
   * path, as the servlet adapter's path never holds a segment's parameters: a {@code
   * ;jsessionid=...} (a session credential) would otherwise reach every policy, event and audit
   * line. In the raw path an encoded semicolon is {@code %3B}, so every {@code ;} starts one.
   */
  static String relativePath(String path) {
    if (path == null || path.isEmpty()) {
      return "/";
    }
    String p = path.indexOf(';') < 0 ? path : withoutMatrixParameters(path);
    return !p.isEmpty() && p.charAt(0) == '/' ? p : "/" + p;
  }

  private static String withoutMatrixParameters(String path) {
    StringBuilder b = new StringBuilder(path.length());
    boolean inParameters = false;
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '/') {
        inParameters = false;
      } else if (c == ';') {
        inParameters = true;
      }
      if (!inParameters) {
        b.append(c);
      }
    }
    return b.toString();
  }

  @Override
  public String method() {
    return context.getMethod();
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public Optional<String> header(String name) {
    List<String> values = headers(name);
    return values.isEmpty() ? Optional.empty() : Optional.ofNullable(values.get(0));
  }

  @Override
  public List<String> headers(String name) {
    MultivaluedMap<String, String> headers = context.getHeaders();
    List<String> values = headers.get(name);
    if (values == null) {
      // Both runtimes key this map case-insensitively, but the API does not promise it.
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        if (e.getKey() != null && e.getKey().equalsIgnoreCase(name)) {
          values = e.getValue();
          break;
        }
      }
    }
    return values == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(values));
  }

  @Override
  public Optional<String> remoteAddress() {
    if (remoteAddress == null) {
      Optional<String> found = remoteAddressLookup.apply(context);
      remoteAddress = found == null ? Optional.empty() : found;
    }
    return remoteAddress;
  }

  @Override
  public Endpoint endpoint() {
    return endpoint;
  }

  @Override
  public byte[] body(int maxBytes) throws IOException {
    return body.read(maxBytes);
  }

  /** Stores {@code value} as the request property {@code name}. */
  @Override
  public void setAttribute(String name, Object value) {
    context.setProperty(name, value);
  }

  /** The request property {@code name}, if set. */
  @Override
  public Optional<Object> attribute(String name) {
    return Optional.ofNullable(context.getProperty(name));
  }

  /**
   * Whether the client sent (or is still sending) body bytes that nobody read: a denial answered
   * now leaves them on the connection, so the connection must not be reused. A body declares them
   * by a positive {@code Content-Length}, by chunking, or, over HTTP/2, by no {@code Content-Length}.
   */
  boolean hasUnreadBody() {
    // Where the protocol is unknown (no servlet request behind), a body without a length may have
    // bytes too: reading one that has none, to discard it, ends at once.
    return body.leavesUnreadBytes(context.getLength(),
        HttpProtocols.unknownLength(context.getLength(), chunked(), protocol()));
  }

  /**
   * Reads and discards the rest of a body before a denial, if it is at most {@link
   * CappedBody#MAX_DISCARDED_BYTES}; whether it was read to its end ({@link CappedBody#discardRest}).
   */
  boolean discardUnreadBody() {
    return body.discardRest(context.getLength());
  }

  /**
   * Hands the body to the resource: if a policy read any of it, those bytes and then the unread
   * rest. With {@code outputPolicies} (the chain has some, which may ask for the body after the
   * resource ran) and a body the policies did not read to its end, the body is sealed for the
   * policies now, before the resource runs: from then on one asking for more of it than the request
   * policies read gets an {@link IOException}. Whether the resource reads the body cannot be told:
   * besides the entity stream it may read the stream of an injected {@code HttpServletRequest},
   * which on a servlet-hosted runtime is the one behind it. Read on, the policies would get
   * whatever the resource left: the end of a body whose start the model answered (a decoy query a
   * client appends for the extraction detectors), or nothing at all. So that a request without a
   * body still shows the policies an empty one, a body that no policy read and that declares no
   * length and no {@code Transfer-Encoding} (none, in HTTP/1.1) is first read up to one byte, which
   * the resource then gets ahead of the rest through JAX-RS. A chunked body is not, nor one without
   * {@code Content-Length} that a servlet container received over another protocol than HTTP/1.x
   * (HTTP/2 frames a body of any length and never chunks): the byte would be gone from the servlet
   * request's stream, which the resource may read instead, so the output policies get none of such
   * a body the request policies did not read, even an empty one.
   */
  void replayBody(boolean outputPolicies) {
    // Where the protocol is unknown (no servlet request behind), the resource can read the body
    // only through JAX-RS, which gives it the byte back: read, whatever the protocol.
    if (outputPolicies && !body.consumed() && context.getLength() <= 0 && !chunked()
        && (context.getLength() == 0 || HttpProtocols.isHttp1OrUnknown(protocol()))) {
      try {
        body.read(0);
      } catch (IOException | RuntimeException e) {
        // A body of at least one byte (BodyTooLargeException), which the resource gets in full; or a
        // failed stream, which the resource meets too and any policy asking for the body is told of;
        // or a stream the runtime refuses to open (RESTEasy over a servlet container, once an earlier
        // filter took the servlet request's reader): the request is allowed, and a resource that
        // never reads the body must still get it, so this read, the guard's own, fails nothing.
      }
    }
    if (body.consumed() && body.complete()) {
      // The policies hold the whole body: they never need the stream again.
      context.setEntityStream(new ByteArrayInputStream(body.bytesRead()));
      return;
    }
    sealed = outputPolicies;
    if (body.consumed()) {
      context.setEntityStream(forResource());
    }
  }

  /**
   * Whether a denial sent with body bytes unread may say {@code Connection: close}: where the servlet
   * container received the request over HTTP/1.x, or where the protocol is unknown (no servlet
   * request behind), as before the protocol was known. HTTP/2 and later have no such field: RFC 9113
   * (section 8.2.2) makes a message carrying one malformed, and a container may send it as set
   * (Tomcat does), so a strict client resets the stream and never sees the denial.
   */
  boolean mayCloseConnection() {
    return HttpProtocols.isHttp1OrUnknown(protocol());
  }

  /** Whether the body declares chunked transfer coding, which HTTP/1.1 alone has. */
  private boolean chunked() {
    return context.getHeaderString("Transfer-Encoding") != null;
  }

  /**
   * The protocol of the servlet request behind this one ({@code HTTP/1.1}, {@code HTTP/2.0}), or
   * null if no servlet container hosts the runtime ({@link ServletConnectionFacts}).
   */
  private String protocol() {
    return context.getProperty(ServletConnectionFacts.PROTOCOL_PROPERTY) instanceof String p ? p : null;
  }

  /** What the policies read of the body, then the rest from the runtime's stream. */
  private InputStream forResource() {
    if (!body.consumed()) {
      return entity();
    }
    ByteArrayInputStream read = new ByteArrayInputStream(body.bytesRead());
    // The runtime's stream, not the policies' (which fails once sealed), is positioned after them.
    return body.complete() ? read : new SequenceInputStream(read, entity());
  }

  /** The runtime's entity stream, as the request filter found it (none: an empty one). */
  private InputStream entity() {
    if (entity == null) {
      InputStream in = context.getEntityStream();
      entity = in == null ? InputStream.nullInputStream() : in;
    }
    return entity;
  }

  /** The policies' view of the entity stream: it fails once the body is sealed ({@link #replayBody}). */
  private InputStream openForPolicies() throws IOException {
    refuseIfSealed();
    InputStream in = entity();
    // Jersey over a servlet container opens the servlet request's stream only when its entity
    // stream is first used: asking what is available (which consumes nothing) opens it now, so that
    // the container refusing it (an IllegalStateException once an earlier filter took the reader)
    // fails the opening, the server's fault (CappedBody keeps it unchecked: 500 internal.error),
    // and not the first read, a body the client sent unreadable (400 input.malformed).
    in.available();
    return SealedBody.reading(in, () -> sealed, "the resource");
  }

  private void refuseIfSealed() throws IOException {
    SealedBody.refuseIfSealed(() -> sealed, "the resource");
  }

  @Override
  public String toString() {
    return "JaxrsInferenceRequest[" + context.getMethod() + " " + path + ", " + endpoint + "]";
  }
}
