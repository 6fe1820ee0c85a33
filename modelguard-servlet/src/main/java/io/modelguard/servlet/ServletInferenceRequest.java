package io.modelguard.servlet;

import io.modelguard.CappedBody;
import io.modelguard.Endpoint;
import io.modelguard.InferenceRequest;
import io.modelguard.input.RequestAttributes;
import io.modelguard.internal.HttpProtocols;
import io.modelguard.internal.SealedBody;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@link InferenceRequest} over an {@link HttpServletRequest}. Header look-ups go to the container,
 * which matches names case-insensitively. The body is read through {@link CappedBody} only if a
 * policy asks for it; {@link #requestForApplication} then hands the servlet a request that
 * replays it. {@link RequestAttributes} are the servlet request's attributes, so what a policy
 * stores (such as {@link io.modelguard.input.FetchedInputs}) reaches the servlet through {@code
 * getAttribute}. Once the application has taken the body ({@link #sealBody}), it is never read
 * again past what the policies read before: the rest went to the servlet. One request, one thread:
 * not thread-safe.
 */
final class ServletInferenceRequest implements InferenceRequest, RequestAttributes {
  private final HttpServletRequest request;
  private final String path;
  private final Endpoint endpoint;
  private final GuardedBody guarded;
  private final CappedBody body;

  ServletInferenceRequest(HttpServletRequest request, String path, Endpoint endpoint) {
    this(request, path, endpoint, new GuardedBody(request));
  }

  private ServletInferenceRequest(HttpServletRequest request, String path, Endpoint endpoint, GuardedBody guarded) {
    this.request = request;
    this.path = path;
    this.endpoint = endpoint;
    this.guarded = guarded;
    this.body = guarded.body;
  }

  /**
   * The same request as dispatched later to {@code path}, for {@code endpoint}: for the output
   * policies of a guarded servlet it reaches under the decision made for this one. It shares this
   * request's body (the bytes the policies read, never read again from a stream the servlet used).
   */
  ServletInferenceRequest retarget(HttpServletRequest dispatched, String path, Endpoint endpoint) {
    return new ServletInferenceRequest(dispatched, path, endpoint, guarded);
  }

  /**
   * Ends the policies' reading of the body stream, as the servlet takes it: from then on the
   * servlet reads it, and a policy of the response phase that asks for more of the body than
   * the request policies read gets an {@link IOException}. Read on, it would get whatever the
   * servlet left: the end of a body whose start the model answered (a decoy query a client appends
   * for the extraction detectors), or nothing at all.
   */
  void sealBody() {
    guarded.sealed = true;
  }

  @Override
  public String method() {
    return request.getMethod().toUpperCase(Locale.ROOT);
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public Optional<String> header(String name) {
    return Optional.ofNullable(request.getHeader(name));
  }

  @Override
  public List<String> headers(String name) {
    Enumeration<String> values = request.getHeaders(name);
    return values == null ? List.of() : Collections.unmodifiableList(Collections.list(values));
  }

  @Override
  public Optional<String> remoteAddress() {
    return Optional.ofNullable(request.getRemoteAddr());
  }

  @Override
  public Endpoint endpoint() {
    return endpoint;
  }

  @Override
  public byte[] body(int maxBytes) throws IOException {
    return body.read(maxBytes);
  }

  /** Stores {@code value} as the servlet request attribute {@code name}. */
  @Override
  public void setAttribute(String name, Object value) {
    request.setAttribute(name, value);
  }

  /** The servlet request attribute {@code name}, if set. */
  @Override
  public Optional<Object> attribute(String name) {
    return Optional.ofNullable(request.getAttribute(name));
  }

  /**
   * Whether the client sent (or is still sending) body bytes that nobody read: a denial answered
   * now leaves them on the connection, so the connection must not be reused. A body declares them
   * by a positive {@code Content-Length}, by chunking, or, over any protocol but HTTP/1.x (HTTP/2,
   * which frames a body of any length and has no chunking), by no {@code Content-Length}.
   */
  boolean hasUnreadBody() {
    long length = request.getContentLengthLong();
    return body.leavesUnreadBytes(length,
        HttpProtocols.unknownLength(length, request.getHeader("Transfer-Encoding") != null, request.getProtocol()));
  }

  /**
   * Whether a denial sent with body bytes unread may say {@code Connection: close}: only where the
   * request came over HTTP/1.x (or a protocol the container does not name); see {@link
   * HttpProtocols#isHttp1OrUnknown}.
   */
  boolean mayCloseConnection() {
    return HttpProtocols.isHttp1OrUnknown(request.getProtocol());
  }

  /**
   * Reads and discards the rest of a body before a denial, if it is at most {@link
   * CappedBody#MAX_DISCARDED_BYTES}; whether it was read to its end ({@link CappedBody#discardRest}).
   */
  boolean discardUnreadBody() {
    return body.discardRest(request.getContentLengthLong());
  }

  /**
   * The request to pass down the chain: the original one if no policy touched the body, otherwise
   * a wrapper whose body is the bytes already read followed by the rest of the original stream,
   * and whose {@code startAsync()} starts on that wrapper and {@code response}.
   */
  HttpServletRequest requestForApplication(ServletResponse response) {
    if (!body.consumed() || guarded.stream == null) {
      return request;
    }
    return new ReplayingRequest(request, response, body.bytesRead(), body.complete(), guarded.stream);
  }

  /**
   * The body as the policies read it: the container's stream, opened at most once, read through a
   * stream that fails once {@link #sealBody sealed}. Shared by the retargeted requests of one request.
   */
  private static final class GuardedBody {
    private final HttpServletRequest request;
    final CappedBody body;
    /** The container's stream, which the servlet continues from; null until a policy opened it. */
    ServletInputStream stream;
    boolean sealed;

    GuardedBody(HttpServletRequest request) {
      this.request = request;
      this.body = new CappedBody(this::open);
    }

    private InputStream open() throws IOException {
      refuseIfSealed();
      stream = request.getInputStream();
      return SealedBody.reading(stream, () -> sealed, "the application");
    }

    private void refuseIfSealed() throws IOException {
      SealedBody.refuseIfSealed(() -> sealed, "the application");
    }
  }
}
