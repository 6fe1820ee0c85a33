package io.modelguard.jaxrs;

import io.modelguard.CappedBody;
import io.modelguard.Endpoint;
import io.modelguard.InferenceRequest;
import io.modelguard.input.RequestAttributes;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.MultivaluedMap;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.SequenceInputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * {@link InferenceRequest} over a JAX-RS {@link ContainerRequestContext}. The body is read through
 * {@link CappedBody} and, once a policy has read any of it, {@link #replayBody()} gives the
 * resource the same bytes followed by whatever was not read. {@link RequestAttributes} are the
 * context's request properties (which a servlet-hosted runtime keeps in step with the servlet
 * request's attributes), so what a policy stores there, such as {@link
 * io.modelguard.input.FetchedInputs}, reaches the resource. One request, one thread.
 */
final class JaxrsInferenceRequest implements InferenceRequest, RequestAttributes {
  private final ContainerRequestContext context;
  private final Endpoint endpoint;
  private final String path;
  private final Function<ContainerRequestContext, Optional<String>> remoteAddressLookup;
  private final CappedBody body;
  private Optional<String> remoteAddress;

  JaxrsInferenceRequest(
      ContainerRequestContext context,
      Endpoint endpoint,
      Function<ContainerRequestContext, Optional<String>> remoteAddressLookup) {
    this.context = context;
    this.endpoint = endpoint;
    this.path = relativePath(context.getUriInfo().getPath(false));
    this.remoteAddressLookup = remoteAddressLookup;
    this.body = new CappedBody(context::getEntityStream);
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
   * now leaves them on the connection, so the connection must not be reused.
   */
  boolean hasUnreadBody() {
    return body.leavesUnreadBytes(context.getLength(), context.getHeaderString("Transfer-Encoding") != null);
  }

  /**
   * Reads and discards the rest of a body before a denial, if it is at most {@link
   * CappedBody#MAX_DISCARDED_BYTES}; whether it was read to its end ({@link CappedBody#discardRest}).
   */
  boolean discardUnreadBody() {
    return body.discardRest(context.getLength());
  }

  /** If a policy read any of the body, hands the resource those bytes and then the unread rest. */
  void replayBody() {
    if (!body.consumed()) {
      return;
    }
    ByteArrayInputStream read = new ByteArrayInputStream(body.bytesRead());
    context.setEntityStream(body.complete() ? read : new SequenceInputStream(read, body.remainder()));
  }

  @Override
  public String toString() {
    return "JaxrsInferenceRequest[" + context.getMethod() + " " + path + ", " + endpoint + "]";
  }
}
