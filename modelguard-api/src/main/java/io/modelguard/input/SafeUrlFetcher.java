package io.modelguard.input;

import io.modelguard.internal.LogText;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches a URL that came from a client (an image URL in a model input) without letting the client
 * choose where the server connects. Immutable and thread-safe; build one per configuration and
 * share it.
 *
 * <p>For every URL, and again for every redirect hop:
 *
 * <ol>
 *   <li>Parse once with one strict parser; refuse what it cannot parse: only {@code http} and
 *       {@code https}, no userinfo, no control characters, backslashes or percent-encoded hosts.
 *   <li>Normalise the host (IDNA, lower case, one trailing dot) <em>before</em> deciding whether it
 *       is an IP literal; refuse every IPv4 form but the canonical dotted quad (octal, hex, integer,
 *       short and mixed forms are ambiguous between parsers).
 *   <li>Refuse names on the deny list ({@code localhost}, {@code *.localhost}, {@code metadata},
 *       {@code metadata.google.internal}, {@code instance-data}, plus {@link
 *       Builder#denyNames}) and, if an allow-list is set, names not on it.
 *   <li>Resolve the name once and check <em>every</em> answer against the {@link
 *       AddressClassifier} deny set; refuse if any is not public (or not an {@linkplain
 *       Builder#allowInternalEndpoint explicitly allowed endpoint}); refuse ports not allowed.
 *   <li>Connect to an address that was checked, never to the name (DNS rebinding cannot swap it)
 *       and never through a JVM-wide proxy, with TLS verified against the URL's host name.
 *   <li>Follow redirects by hand, at most {@link Builder#maxRedirects} (default 5), each hop
 *       through steps 1–5. A hop may switch between http and https; any other scheme is refused
 *       by step 1. A redirect's body is never read.
 *   <li>Cap connect time, total time and response bytes; accept only content whose magic bytes
 *       match the accepted formats; never pass on the upstream's error body or messages.
 * </ol>
 *
 * <p>A refusal ({@link UrlRefusal}, mapped to {@code input.url_blocked}) is decided before any
 * connection is attempted; a failure of an allowed URL ({@link FetchFailure}) maps to {@code
 * input.fetch_failed}. Neither ever throws: results are values. A host <em>name</em> refused for
 * what it resolved to (step 4, also on a redirect hop) is reported to the client exactly as a
 * name that does not resolve ({@code input.fetch_failed}, {@link FetchFailure#UNRESOLVABLE}'s
 * text), so that a client cannot learn which internal names a split-horizon resolver knows; the
 * result's {@code refusal()} keeps the true reason ({@link UrlCheck#decision()}), its decision
 * carries the {@linkplain io.modelguard.GuardDecision#operatorNote() operator note} {@link
 * UrlRefusal#operatorNote()} (such as {@code ssrf_refused:DENIED_ADDRESS}), which the audit line
 * and the decision event carry next to the {@code input.fetch_failed} and the client never sees,
 * and an INFO line of this class's logger beginning {@code SafeUrlFetcher: SSRF refusal:} tells the
 * operator the host, the caller (tenant or client address, see {@link HostResolver#resolve(String,
 * Duration, String)}) and the range its answer fell in. Nor is either answered sooner than the
 * other: both wait until {@link Builder#minUnresolvableTime} after the lookup began.
 * A refused IP literal, which the client wrote itself, stays {@code input.url_blocked}.
 *
 * <pre>{@code
 * SafeUrlFetcher fetcher = SafeUrlFetcher.builder()
 *     .maxBytes(2 << 20)
 *     .allowHosts("images.example.com", "*.cdn.example.net") // optional: the safest mode
 *     .build();
 * FetchResult r = fetcher.fetch(url);
 * }</pre>
 */
public final class SafeUrlFetcher {
  /** Names denied by default; {@code *.} entries match any sub-domain. */
  public static final List<String> DEFAULT_DENIED_NAMES =
      List.of("localhost", "*.localhost", "metadata", "metadata.google.internal", "instance-data");

  private static final Logger log = LoggerFactory.getLogger(SafeUrlFetcher.class);
  private static final long DEFAULT_MIN_UNRESOLVABLE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /** Waits {@code nanos}; the seam tests use to pass a fake ticker's time instead of waiting. */
  @FunctionalInterface
  interface Pause {
    void pause(long nanos) throws InterruptedException;
  }

  /** Opens a TCP connection; the seam tests use to observe where the fetcher connects. */
  @FunctionalInterface
  interface Connector {
    Socket connect(InetSocketAddress address, int timeoutMillis) throws IOException;
  }

  /**
   * A direct TCP connection. {@code new Socket()} would ask the default {@link java.net.ProxySelector}
   * (and so {@code socksProxyHost} or the system's proxy settings) and might connect to a SOCKS
   * proxy instead of the address we checked; {@link Proxy#NO_PROXY} never does.
   */
  private static final Connector PLAIN = (address, timeout) -> {
    Socket s = new Socket(Proxy.NO_PROXY);
    try {
      s.connect(address, timeout);
      s.setTcpNoDelay(true);
      return s;
    } catch (IOException e) {
      s.close();
      throw e;
    }
  };

  /**
   * Closes the socket of a fetch whose total time is up. Per-read timeouts cannot enforce the
   * deadline on their own: the TLS layer makes many reads for one handshake message or record, and
   * a peer dripping one byte at a time satisfies every one of them, so closing the socket is the
   * only way to stop a read that is already under way. One daemon thread, shared by every fetcher.
   */
  private static final ScheduledThreadPoolExecutor WATCHDOG = watchdog();

  private final HostResolver resolver;
  private final AddressClassifier classifier;
  private final Set<Integer> allowedPorts;
  private final List<NamePattern> deniedNames;
  private final List<NamePattern> allowedHosts;
  private final List<Endpoint> internalEndpoints;
  private final long connectTimeoutNanos;
  private final long totalTimeoutNanos;
  private final int maxBytes;
  private final int maxRedirects;
  private final Set<ImageFormat> acceptedFormats;
  private final String accept;
  private final SSLContext sslContext;
  private final Connector connector;
  /** {@link System#nanoTime} outside tests: every deadline of this fetcher is in its time. */
  private final LongSupplier ticker;
  /** {@link TimeUnit#sleep} outside tests. */
  private final Pause pause;
  private final long minUnresolvableNanos;

  private SafeUrlFetcher(Builder b) {
    this.resolver = b.resolver != null ? b.resolver : HostResolver.system(b.connectTimeout);
    this.classifier = b.extraDeniedRanges.isEmpty()
        ? AddressClassifier.defaults() : AddressClassifier.defaultsPlus(b.extraDeniedRanges);
    this.allowedPorts = Set.copyOf(b.allowedPorts);
    this.deniedNames = List.copyOf(b.deniedNames);
    this.allowedHosts = b.allowedHosts == null ? null : List.copyOf(b.allowedHosts);
    this.internalEndpoints = List.copyOf(b.internalEndpoints);
    this.connectTimeoutNanos = b.connectTimeout.toNanos();
    this.totalTimeoutNanos = b.totalTimeout.toNanos();
    this.maxBytes = b.maxBytes;
    this.maxRedirects = b.maxRedirects;
    this.acceptedFormats = b.acceptedFormats == null ? null : Set.copyOf(b.acceptedFormats);
    this.accept = acceptedFormats == null ? "*/*"
        : acceptedFormats.stream().map(ImageFormat::mediaType).sorted().collect(Collectors.joining(", "));
    this.sslContext = b.sslContext;
    this.connector = b.connector;
    this.ticker = b.ticker;
    this.pause = b.pause;
    this.minUnresolvableNanos = b.minUnresolvableTime != null ? b.minUnresolvableTime.toNanos()
        : Math.min(DEFAULT_MIN_UNRESOLVABLE_NANOS, connectTimeoutNanos);
  }

  /**
   * Starts a builder. Defaults: ports 80 and 443; the default deny set and name deny list; no host
   * allow-list; connect timeout 2 s, total timeout 5 s; 5 MiB byte cap; 5 redirects; PNG, JPEG and
   * GIF content only; the JVM's resolver (bounded by the connect timeout) and default TLS trust; a
   * name told to the client as unresolvable answered no sooner than 100 ms after its lookup began.
   *
   * @return a new builder with those defaults
   */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return a fetcher with every default} */
  public static SafeUrlFetcher ofDefaults() {
    return builder().build();
  }

  /**
   * Parses, normalises, resolves and classifies {@code url} without connecting anywhere. The
   * resolver is asked at most once. Never throws.
   *
   * @param url the URL as the client sent it, or null (refused as malformed)
   * @return the outcome: the normalised host and checked addresses, or why the URL is refused or
   *     failed
   */
  public UrlCheck check(String url) {
    return check(url, null, null);
  }

  private UrlCheck check(String url, Long deadline, String caller) {
    ParsedUrl parsed;
    try {
      parsed = ParsedUrl.parse(url);
    } catch (ParsedUrl.Refused e) {
      log.debug("SafeUrlFetcher: refused an unparseable URL: {} ({})", e.reason, LogText.message(e, 256));
      return UrlCheck.refused(e.reason, null);
    }
    return check(parsed, deadline, caller);
  }

  /**
   * Checks {@code url}; a fetch passes its {@code deadline} (nanoTime) to bound the lookup, else
   * null, and the {@code caller} it is made for (see {@link #fetch(String, int, long, String)}).
   */
  private UrlCheck check(ParsedUrl url, Long deadline, String caller) {
    List<InetAddress> addresses;
    // When a name told to the client as unresolvable is answered at the soonest (see minUnresolvableTime).
    long answerNotBefore = 0;
    if (url.literal != null) {
      addresses = List.of(toInetAddress(url.literal));
    } else {
      if (matchesAny(deniedNames, url.host)) {
        return refuse(UrlRefusal.DENIED_NAME, url, "name on the deny list");
      }
      if (allowedHosts != null && !matchesAny(allowedHosts, url.host)) {
        return refuse(UrlRefusal.HOST_NOT_ALLOWED, url, "host not on the allow-list");
      }
      if (!portMayBeAllowed(url.port)) {
        // Checked before resolving, so a refused URL does not even cause a DNS query.
        return refuse(UrlRefusal.PORT_NOT_ALLOWED, url, "port " + url.port);
      }
      answerNotBefore = ticker.getAsLong() + minUnresolvableNanos;
      if (deadline != null && deadline - answerNotBefore < 0) {
        answerNotBefore = deadline;
      }
      try {
        if (deadline == null) {
          addresses = resolver.resolve(url.host);
        } else {
          long left = deadline - ticker.getAsLong();
          addresses = left <= 0 ? null : resolve(url.host, Duration.ofNanos(left), caller);
        }
        // The addresses checked below are the ones connected to: a copy, not a list the resolver
        // may still change; and a null among them is the resolver's failure, not an exception here.
        addresses = addresses == null ? null : copyOrNull(addresses);
      } catch (UnknownHostException e) {
        addresses = null;
      } catch (RuntimeException e) {
        log.warn("SafeUrlFetcher: resolver failed", LogText.throwable(e));
        addresses = null;
      }
      if (addresses == null || addresses.isEmpty()) {
        log.debug("SafeUrlFetcher: {} has no address", url.host);
        waitUntil(answerNotBefore);
        return UrlCheck.failed(FetchFailure.UNRESOLVABLE, url);
      }
    }
    if (allowedHosts != null && url.literal != null && !matchesAny(allowedHosts, url.host)) {
      return refuse(UrlRefusal.HOST_NOT_ALLOWED, url, "literal not on the allow-list");
    }
    for (InetAddress address : addresses) {
      byte[] raw = normalise(address.getAddress());
      if (isInternalEndpoint(raw, url.port)) {
        continue;
      }
      Optional<String> denied = classifier.deniedBy(raw);
      if (denied.isPresent()) {
        return refuseByAddress(
            UrlRefusal.DENIED_ADDRESS, url, "an answer is in " + denied.get(), caller, answerNotBefore);
      }
      if (!allowedPorts.contains(url.port)) {
        return refuseByAddress(UrlRefusal.PORT_NOT_ALLOWED, url, "port " + url.port + " for a non-exempt address",
            caller, answerNotBefore);
      }
    }
    return UrlCheck.allowed(url, addresses);
  }

  /**
   * Refuses {@code url} for one of the addresses it names or resolved to. For a name the client is
   * told it does not resolve: split-horizon DNS answers internal names, and a refusal telling
   * "resolves to an internal address" apart from "no such name" would let a client enumerate them.
   * The operator is told the truth at INFO, once per refusal, with the host and caller, and the
   * decision's operator note tells the audit line: the client's {@code input.fetch_failed} alone
   * would pass an SSRF attempt off as a flaky upstream.
   */
  private UrlCheck refuseByAddress(
      UrlRefusal reason, ParsedUrl url, String note, String caller, long answerNotBefore) {
    if (url.literal != null) {
      return refuse(reason, url, note);
    }
    if (log.isInfoEnabled()) {
      log.info("SafeUrlFetcher: SSRF refusal: host {} refused for caller {}: {} ({}); the client is told, "
          + "as for a name that does not resolve, input.fetch_failed", url.host,
          caller == null ? "-" : LogText.oneLine(caller, 200), reason, note);
    }
    waitUntil(answerNotBefore); // after logging, so that the time the line takes is inside the wait
    return UrlCheck.refusedByAnswers(reason, url);
  }

  /**
   * Waits until {@code time} (in {@link #ticker}'s time) if it is still to come: an interrupt ends
   * the wait early, keeping the thread's interrupt status.
   */
  private void waitUntil(long time) {
    long left = time - ticker.getAsLong();
    if (left > 0) {
      try {
        pause.pause(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** An immutable copy of {@code addresses}, or null if one of them is null. */
  private static List<InetAddress> copyOrNull(List<InetAddress> addresses) {
    InetAddress[] copy = addresses.toArray(new InetAddress[0]);
    for (InetAddress a : copy) {
      if (a == null) {
        log.warn("SafeUrlFetcher: the resolver answered with a null address");
        return null;
      }
    }
    return List.of(copy);
  }

  /** Asks on behalf of {@code caller} if there is one, so that the resolver can keep its share. */
  private List<InetAddress> resolve(String host, Duration timeLeft, String caller) throws UnknownHostException {
    return caller != null ? resolver.resolve(host, timeLeft, caller) : resolver.resolve(host, timeLeft);
  }

  private UrlCheck refuse(UrlRefusal reason, ParsedUrl url, String note) {
    log.debug("SafeUrlFetcher: refused {}: {} ({})", url.host, reason, note);
    return UrlCheck.refused(reason, url);
  }

  /**
   * Fetches {@code url}: checks it, connects to a checked address, follows redirects (each one
   * checked again), and returns the body if it is a 200 response within the caps whose magic bytes
   * match an accepted format. Never throws; blocks for at most the total timeout (plus the
   * resolver's own time if a custom resolver ignores the time left it is given).
   *
   * @param url the URL as the client sent it, or null (refused as malformed)
   * @return the body and its format, or why the URL was refused or the fetch failed
   */
  public FetchResult fetch(String url) {
    return fetch(url, maxBytes);
  }

  /**
   * Fetches {@code url} like {@link #fetch(String)}, but reads at most {@code min(maxBytes, this
   * fetcher's byte cap)} bytes of the body: a caller whose own limit is lower (such as a field's
   * {@link ImageSpec#maxBytes()}) stops the download there instead of buffering up to the fetcher's
   * cap only to refuse it afterwards. A body over the cap fails with {@link FetchFailure#TOO_LARGE}
   * as soon as it passes it (or at once if its declared length does); a larger {@code maxBytes}
   * than the fetcher's cap changes nothing. Never throws for any URL.
   *
   * @param url the URL as the client sent it, or null (refused as malformed)
   * @param maxBytes the caller's own limit on the body, in bytes, at least 1
   * @return the body and its format, or why the URL was refused or the fetch failed
   * @throws IllegalArgumentException if {@code maxBytes} is less than 1
   */
  public FetchResult fetch(String url, int maxBytes) {
    return fetch(url, maxBytes, ticker.getAsLong() + totalTimeoutNanos);
  }

  /**
   * Fetches {@code url} like {@link #fetch(String, int)}, but gives up by {@code budgetDeadline}
   * (in this fetcher's {@link #nanoTime()}) if that comes before the fetch's own total timeout: the
   * fetches of one request share one deadline ({@link ModelInputPolicy.Builder#fetchTimeoutPerRequest}).
   * A deadline already past fails with {@link FetchFailure#TIMEOUT} without a lookup or connection.
   */
  FetchResult fetch(String url, int maxBytes, long budgetDeadline) {
    return fetch(url, maxBytes, budgetDeadline, null);
  }

  /**
   * Fetches {@code url} like {@link #fetch(String, int, long)}, on behalf of {@code caller}: an
   * opaque key of whom the request is for ({@code t:<tenant>}, or {@code a:<address>} for a client
   * without a principal), under which the {@linkplain HostResolver#system system resolver} keeps
   * one caller's lookups from holding more than its share of the lookup slots; null for none.
   */
  FetchResult fetch(String url, int maxBytes, long budgetDeadline, String caller) {
    if (maxBytes < 1) {
      throw new IllegalArgumentException("SafeUrlFetcher.fetch: maxBytes must be at least 1, was " + maxBytes);
    }
    int cap = Math.min(maxBytes, this.maxBytes);
    long now = ticker.getAsLong();
    long deadline = budgetDeadline - (now + totalTimeoutNanos) < 0 ? budgetDeadline : now + totalTimeoutNanos;
    if (deadline - now <= 0) {
      log.debug("SafeUrlFetcher: no time left in the budget of this fetch");
      return FetchResult.failed(FetchFailure.TIMEOUT, 0);
    }
    UrlCheck check = check(url, deadline, caller);
    int hops = 0;
    while (true) {
      if (check.refusal().isPresent()) {
        return FetchResult.refused(check, hops);
      }
      if (check.failure().isPresent()) {
        return FetchResult.failed(check.failure().get(), hops);
      }
      HttpExchange.Response response;
      try {
        response = exchange(check, deadline, cap);
      } catch (HttpExchange.Failed e) {
        log.debug("SafeUrlFetcher: fetching from {} failed: {} ({})", check.url.host, e.kind, LogText.message(e, 256));
        return FetchResult.failed(e.kind, hops);
      }
      if (response.location == null) {
        return accept(response.body, hops);
      }
      if (hops == maxRedirects) {
        return FetchResult.failed(FetchFailure.TOO_MANY_REDIRECTS, hops);
      }
      hops++;
      try {
        check = check(check.url.resolve(response.location), deadline, caller);
      } catch (ParsedUrl.Refused e) {
        log.debug("SafeUrlFetcher: refused a redirect: {} ({})", e.reason, LogText.message(e, 256));
        return FetchResult.refused(e.reason, hops);
      }
    }
  }

  /** The formats fetched content must be in; empty if any content is accepted. */
  Optional<Set<ImageFormat>> acceptedFormats() {
    return Optional.ofNullable(acceptedFormats);
  }

  private FetchResult accept(byte[] body, int hops) {
    if (acceptedFormats == null) {
      return FetchResult.fetched(body, ImageFormat.sniff(body).orElse(null), hops);
    }
    Optional<ImageFormat> format = ImageFormat.sniff(body);
    if (format.isEmpty() || !acceptedFormats.contains(format.get())) {
      return FetchResult.failed(FetchFailure.CONTENT_REJECTED, hops);
    }
    return FetchResult.fetched(body, format.get(), hops);
  }

  private HttpExchange.Response exchange(UrlCheck check, long deadline, int maxBytes) throws HttpExchange.Failed {
    ParsedUrl url = check.url;
    Socket plain = connect(check.addresses(), url.port, deadline);
    ScheduledFuture<?> watchdog =
        WATCHDOG.schedule(() -> closeQuietly(plain), deadline - ticker.getAsLong(), TimeUnit.NANOSECONDS);
    Socket socket = plain;
    try {
      if (url.https()) {
        socket = startTls(socket, url, deadline);
      }
      return HttpExchange.get(socket, url, accept, deadline, ticker, maxBytes);
    } catch (SocketTimeoutException e) {
      throw new HttpExchange.Failed(FetchFailure.TIMEOUT, "timed out");
    } catch (IOException e) {
      if (deadline - ticker.getAsLong() <= 0) {
        // The watchdog closed the socket under a read (or the last read ended at the deadline).
        throw new HttpExchange.Failed(FetchFailure.TIMEOUT, "deadline: " + e.getClass().getSimpleName());
      }
      if (e instanceof SSLException) {
        throw new HttpExchange.Failed(FetchFailure.TLS_FAILED, "TLS: " + e.getClass().getSimpleName());
      }
      throw new HttpExchange.Failed(FetchFailure.BAD_RESPONSE, "I/O: " + e.getClass().getSimpleName());
    } finally {
      // The TCP socket first: closing a TLS 1.3 socket whose peer has not closed makes the JDK
      // "deplete" its input (wait up to the read timeout for a byte, then skip while bytes keep
      // coming), so a server that keeps the connection open would hold us until the deadline or
      // past it. We never reuse a connection and have read all we need: no close_notify is owed.
      // The watchdog stays armed until everything is closed.
      closeQuietly(plain);
      closeQuietly(socket);
      watchdog.cancel(false);
    }
  }

  /** The time (nanoseconds, any origin) that deadlines given to this fetcher are measured in. */
  long nanoTime() {
    return ticker.getAsLong();
  }

  /** The time budget of one fetch ({@link Builder#totalTimeout}), in nanoseconds. */
  long totalTimeoutNanos() {
    return totalTimeoutNanos;
  }

  /** The byte cap of one fetch ({@link Builder#maxBytes}). */
  int maxBytes() {
    return maxBytes;
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      log.trace("SafeUrlFetcher: close failed", LogText.throwable(e));
    }
  }

  private static ScheduledThreadPoolExecutor watchdog() {
    ScheduledThreadPoolExecutor w = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "modelguard-fetch-watchdog");
      t.setDaemon(true);
      return t;
    });
    w.setRemoveOnCancelPolicy(true); // a fetch that ends in time leaves no task behind
    return w;
  }

  private Socket connect(List<InetAddress> addresses, int port, long deadline) throws HttpExchange.Failed {
    for (InetAddress address : addresses) {
      long remaining = deadline - ticker.getAsLong();
      if (remaining <= 0) {
        throw new HttpExchange.Failed(FetchFailure.TIMEOUT, "deadline before connecting");
      }
      int timeout = (int) Math.max(1, Math.min(connectTimeoutNanos, remaining) / 1_000_000);
      try {
        // An InetSocketAddress built from an InetAddress is never resolved again: this is the pin.
        return connector.connect(new InetSocketAddress(address, port), timeout);
      } catch (IOException e) {
        log.debug("SafeUrlFetcher: connecting to a checked address failed: {}", e.getClass().getSimpleName());
      }
    }
    throw new HttpExchange.Failed(
        deadline - ticker.getAsLong() <= 0 ? FetchFailure.TIMEOUT : FetchFailure.CONNECT_FAILED, "no address connected");
  }

  private Socket startTls(Socket plain, ParsedUrl url, long deadline) throws IOException, HttpExchange.Failed {
    SSLContext ctx = sslContext;
    if (ctx == null) {
      try {
        ctx = SSLContext.getDefault();
      } catch (NoSuchAlgorithmException e) {
        throw new HttpExchange.Failed(FetchFailure.TLS_FAILED, "no default TLS context");
      }
    }
    SSLSocket tls = (SSLSocket) ctx.getSocketFactory().createSocket(plain, url.host, url.port, true);
    SSLParameters params = tls.getSSLParameters();
    params.setEndpointIdentificationAlgorithm("HTTPS"); // certificate must match the URL's host
    if (url.literal == null) {
      params.setServerNames(List.of(new SNIHostName(url.host)));
    }
    tls.setSSLParameters(params);
    long remaining = deadline - ticker.getAsLong();
    if (remaining <= 0) {
      throw new HttpExchange.Failed(FetchFailure.TIMEOUT, "deadline before the handshake");
    }
    tls.setSoTimeout((int) Math.max(1, remaining / 1_000_000));
    tls.startHandshake();
    return tls;
  }

  private boolean portMayBeAllowed(int port) {
    if (allowedPorts.contains(port)) {
      return true;
    }
    for (Endpoint e : internalEndpoints) {
      if (e.port == port) {
        return true;
      }
    }
    return false;
  }

  private boolean isInternalEndpoint(byte[] address, int port) {
    for (Endpoint e : internalEndpoints) {
      if (e.port == port && Arrays.equals(e.address, address)) {
        return true;
      }
    }
    return false;
  }

  /** IPv4-mapped IPv6 addresses compare as the IPv4 address they carry. */
  private static byte[] normalise(byte[] a) {
    if (a.length == 16) {
      boolean mapped = a[10] == (byte) 0xff && a[11] == (byte) 0xff;
      for (int i = 0; i < 10 && mapped; i++) {
        mapped = a[i] == 0;
      }
      if (mapped) {
        return Arrays.copyOfRange(a, 12, 16);
      }
    }
    return a;
  }

  private static InetAddress toInetAddress(byte[] literal) {
    try {
      return InetAddress.getByAddress(literal); // no lookup: the bytes are the address
    } catch (UnknownHostException e) {
      throw new IllegalStateException("a 4- or 16-byte literal is always valid", e);
    }
  }

  private static boolean matchesAny(List<NamePattern> patterns, String host) {
    for (NamePattern p : patterns) {
      if (p.matches(host)) {
        return true;
      }
    }
    return false;
  }

  /** An exact host or a {@code *.suffix} pattern matching any sub-domain (not the suffix itself). */
  private static final class NamePattern {
    private final String exact;
    private final String suffix;

    NamePattern(String pattern, String field) {
      String p = pattern.trim().toLowerCase(Locale.ROOT);
      boolean wildcard = p.startsWith("*.");
      String name = wildcard ? p.substring(2) : p;
      if (!wildcard && field.equals("denyNames")
          && (name.indexOf(':') >= 0 || IpLiterals.parseCanonicalIpv4(name) != null)) {
        // Only names are matched against this list: an address here would deny nothing.
        throw new IllegalArgumentException("SafeUrlFetcher.denyNames: '" + pattern
            + "' is an IP address, which this list of names never matches: use denyRanges");
      }
      if (!wildcard && name.indexOf(':') >= 0 && field.equals("allowHosts")) {
        // An IPv6 literal (brackets optional), kept in the form ParsedUrl gives a literal host. Only
        // the allow-list matches literals; the name deny list never sees one (use denyRanges).
        String bare = name.startsWith("[") && name.endsWith("]") ? name.substring(1, name.length() - 1) : name;
        byte[] v6 = IpLiterals.parseIpv6(bare);
        if (v6 == null) {
          throw new IllegalArgumentException("SafeUrlFetcher." + field + ": '" + pattern
              + "' is not a host name, IP literal or *.suffix pattern");
        }
        this.exact = IpLiterals.format(v6);
        this.suffix = null;
        return;
      }
      try {
        name = ParsedUrl.normaliseHost(name);
      } catch (ParsedUrl.Refused e) {
        throw new IllegalArgumentException("SafeUrlFetcher." + field + ": '" + pattern
            + "' is not a host name or *.suffix pattern");
      }
      this.exact = wildcard ? null : name;
      this.suffix = wildcard ? "." + name : null;
    }

    boolean matches(String host) {
      return exact != null ? exact.equals(host) : host.endsWith(suffix);
    }
  }

  private static final class Endpoint {
    final byte[] address;
    final int port;

    Endpoint(byte[] address, int port) {
      this.address = address;
      this.port = port;
    }
  }

  /**
   * Builds a {@link SafeUrlFetcher}. Each setter validates at once and throws {@link
   * IllegalArgumentException} naming the field.
   */
  public static final class Builder {
    private HostResolver resolver;
    private final List<String> extraDeniedRanges = new ArrayList<>();
    private final Set<Integer> allowedPorts = new LinkedHashSet<>(List.of(80, 443));
    private final List<NamePattern> deniedNames = new ArrayList<>();
    private List<NamePattern> allowedHosts;
    private final List<Endpoint> internalEndpoints = new ArrayList<>();
    private Duration connectTimeout = Duration.ofSeconds(2);
    private Duration totalTimeout = Duration.ofSeconds(5);
    private int maxBytes = 5 << 20;
    private int maxRedirects = 5;
    private Set<ImageFormat> acceptedFormats = EnumSet.of(ImageFormat.PNG, ImageFormat.JPEG, ImageFormat.GIF);
    private SSLContext sslContext;
    private Connector connector = PLAIN;
    private LongSupplier ticker = System::nanoTime;
    private Pause pause = TimeUnit.NANOSECONDS::sleep;
    /** Null for the default: 100 ms, or the connect timeout if shorter. */
    private Duration minUnresolvableTime;

    private Builder() {
      for (String n : DEFAULT_DENIED_NAMES) {
        deniedNames.add(new NamePattern(n, "deniedNames"));
      }
    }

    /**
     * The resolver. Default: {@link HostResolver#system(Duration)} bounded by the connect timeout
     * (it honours {@code -Djdk.net.hosts.file}), which also keeps one tenant's lookups from holding
     * more than half of its slots. A resolver given here is told on whose behalf a {@link
     * ModelInputPolicy}'s lookups are made ({@link HostResolver#resolve(String, Duration, String)})
     * and keeps a share per caller only if it implements that method (one wrapping {@link
     * HostResolver#system} must pass the caller on). Tests inject fakes here.
     *
     * @param resolver the resolver; not null
     * @return this builder
     */
    public Builder resolver(HostResolver resolver) {
      this.resolver = Objects.requireNonNull(resolver, "resolver");
      return this;
    }

    /**
     * Adds CIDR blocks to the default deny set (which cannot be shrunk). An IPv4-mapped IPv6 block
     * ({@code ::ffff:a.b.c.d/n}, n of 96 or more) is refused: mapped addresses are judged as the
     * IPv4 addresses they carry, so such a block would never match; give the IPv4 block instead.
     *
     * @param cidrs blocks in strict CIDR notation, IPv4 or IPv6 (not IPv4-mapped); none null
     * @return this builder
     * @throws IllegalArgumentException if an entry is not a strict CIDR block, or an IPv4-mapped
     *     one
     */
    public Builder denyRanges(String... cidrs) {
      for (String c : cidrs) {
        AddressClassifier.Range range = AddressClassifier.Range.of(Objects.requireNonNull(c, "denyRanges entry"), "check");
        if (range.isIpv4Mapped()) {
          throw new IllegalArgumentException("SafeUrlFetcher.denyRanges: '" + c + "' is an IPv4-mapped block, which "
              + "never matches (mapped addresses are judged as IPv4): give the IPv4 block instead");
        }
        extraDeniedRanges.add(c);
      }
      return this;
    }

    /**
     * The ports URLs may use, replacing the default {@code 80, 443}.
     *
     * @param ports the ports, at least one, each 1 to 65535
     * @return this builder
     */
    public Builder allowPorts(int... ports) {
      if (ports.length == 0) {
        throw new IllegalArgumentException("SafeUrlFetcher.allowPorts: at least one port is required");
      }
      allowedPorts.clear();
      for (int p : ports) {
        if (p < 1 || p > 65535) {
          throw new IllegalArgumentException("SafeUrlFetcher.allowPorts: " + p + " is not a port");
        }
        allowedPorts.add(p);
      }
      return this;
    }

    /**
     * Adds host names ({@code name} or {@code *.suffix}) to the default name deny list. An IP
     * address is refused here: a URL naming an address is checked against the deny set of
     * addresses, which {@link #denyRanges} extends.
     *
     * @param patterns host names or {@code *.suffix} patterns, none null or an IP address
     * @return this builder
     */
    public Builder denyNames(String... patterns) {
      for (String p : patterns) {
        deniedNames.add(new NamePattern(Objects.requireNonNull(p, "denyNames entry"), "denyNames"));
      }
      return this;
    }

    /**
     * Restricts fetching to these hosts ({@code name} or {@code *.suffix}; IP literals as written in
     * canonical form): the safest mode. Their addresses are still checked against the deny set.
     * Default: no allow-list (any public host).
     *
     * @param patterns host names, {@code *.suffix} patterns or canonical IP literals; none null.
     *     Added to those given before
     * @return this builder
     */
    public Builder allowHosts(String... patterns) {
      if (allowedHosts == null) {
        allowedHosts = new ArrayList<>();
      }
      for (String p : patterns) {
        allowedHosts.add(new NamePattern(Objects.requireNonNull(p, "allowHosts entry"), "allowHosts"));
      }
      return this;
    }

    /**
     * Exempts exactly one address and port from the deny set and the port list, for an internal
     * image store, a test server or a demo on loopback. Only this address with this port is
     * exempt: the same address on another port, or a name resolving to another internal address,
     * is still refused. <strong>Never pass client-controlled values.</strong> Default: none.
     *
     * @param ipLiteral a canonical IPv4 dotted quad or an IPv6 literal (no name: names resolve)
     * @param port the exempt port, 1 to 65535
     * @return this builder
     */
    public Builder allowInternalEndpoint(String ipLiteral, int port) {
      Objects.requireNonNull(ipLiteral, "ipLiteral");
      byte[] a = ipLiteral.indexOf(':') >= 0 ? IpLiterals.parseIpv6(ipLiteral) : IpLiterals.parseCanonicalIpv4(ipLiteral);
      if (a == null) {
        throw new IllegalArgumentException(
            "SafeUrlFetcher.allowInternalEndpoint: '" + ipLiteral + "' is not a canonical IP literal");
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("SafeUrlFetcher.allowInternalEndpoint: " + port + " is not a port");
      }
      internalEndpoints.add(new Endpoint(normalise(a), port));
      return this;
    }

    /**
     * Connect timeout per address. Default 2 s.
     *
     * @param timeout the timeout, positive
     * @return this builder
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive(timeout, "connectTimeout");
      return this;
    }

    /**
     * Time budget of one {@link #fetch} call, redirects and TLS included. Default 5 s.
     *
     * @param timeout the budget, positive and not shorter than the connect timeout (checked by
     *     {@link #build()})
     * @return this builder
     */
    public Builder totalTimeout(Duration timeout) {
      this.totalTimeout = positive(timeout, "totalTimeout");
      return this;
    }

    /**
     * Largest response body accepted, in bytes. Default 5 MiB.
     *
     * @param maxBytes the limit in bytes, 1 to 2^30
     * @return this builder
     */
    public Builder maxBytes(int maxBytes) {
      if (maxBytes < 1 || maxBytes > (1 << 30)) {
        throw new IllegalArgumentException("SafeUrlFetcher.maxBytes must be in 1..2^30, was " + maxBytes);
      }
      this.maxBytes = maxBytes;
      return this;
    }

    /**
     * Most redirects followed. Default 5; 0 follows none.
     *
     * @param maxRedirects the limit, 0 to 10
     * @return this builder
     */
    public Builder maxRedirects(int maxRedirects) {
      if (maxRedirects < 0 || maxRedirects > 10) {
        throw new IllegalArgumentException("SafeUrlFetcher.maxRedirects must be in 0..10, was " + maxRedirects);
      }
      this.maxRedirects = maxRedirects;
      return this;
    }

    /**
     * The image formats whose magic bytes the content must start with. Default PNG, JPEG, GIF.
     *
     * @param formats the formats, at least one
     * @return this builder
     */
    public Builder acceptedFormats(ImageFormat... formats) {
      if (formats.length == 0) {
        throw new IllegalArgumentException("SafeUrlFetcher.acceptedFormats: at least one format is required");
      }
      this.acceptedFormats = EnumSet.copyOf(Arrays.asList(formats));
      return this;
    }

    /**
     * Accepts any content (no magic-byte check): only for callers that sniff themselves.
     *
     * @return this builder
     */
    public Builder acceptAnyContent() {
      this.acceptedFormats = null;
      return this;
    }

    /**
     * The TLS context (trust store). Default {@link SSLContext#getDefault()}.
     *
     * @param context the TLS context; not null
     * @return this builder
     */
    public Builder sslContext(SSLContext context) {
      this.sslContext = Objects.requireNonNull(context, "sslContext");
      return this;
    }

    /** Tests only: observe or replace the TCP connect. */
    Builder connector(Connector connector) {
      this.connector = Objects.requireNonNull(connector, "connector");
      return this;
    }

    /**
     * The least time after its lookup began that a host name the client is told does not resolve
     * is answered in: a name with no address, and a name refused for what it resolved to (which is
     * answered as one with no address, see {@link UrlCheck#decision()}). Without it the time of the
     * answer would tell them apart: the JVM caches the answers of the internal names the server
     * itself uses, so such a name is refused in microseconds, while a name that does not exist
     * costs a query to a DNS server. Split-horizon and cluster DNS servers answer their own zones,
     * names that exist or not, in a few milliseconds, well within the default; a lookup that takes
     * longer is answered when it ends (its time says only that a far DNS server was asked). Never
     * past a fetch's deadline; allowed names and refusals made before any lookup are not delayed.
     * Default 100 ms (or the connect timeout, if that is shorter); {@link Duration#ZERO} turns it
     * off.
     *
     * @param time the least time, zero (off) or more; not null
     * @return this builder
     * @throws IllegalArgumentException if {@code time} is negative; {@link #build()} also refuses
     *     one longer than the connect timeout, which bounds the default resolver's lookups
     */
    public Builder minUnresolvableTime(Duration time) {
      Objects.requireNonNull(time, "minUnresolvableTime");
      if (time.isNegative()) {
        throw new IllegalArgumentException("SafeUrlFetcher.minUnresolvableTime must not be negative, was " + time);
      }
      this.minUnresolvableTime = time;
      return this;
    }

    /** Tests only: waits for the given nanoseconds instead of {@link TimeUnit#sleep}. */
    Builder pause(Pause pause) {
      this.pause = Objects.requireNonNull(pause, "pause");
      return this;
    }

    /** Tests only: the time deadlines are measured in, instead of {@link System#nanoTime}. */
    Builder ticker(LongSupplier ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    private static Duration positive(Duration d, String field) {
      Objects.requireNonNull(d, field);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("SafeUrlFetcher." + field + " must be positive, was " + d);
      }
      return d;
    }

    /**
     * Builds the fetcher.
     *
     * @return the fetcher, immutable and safe to share between threads
     * @throws IllegalArgumentException if the total timeout is shorter than the connect timeout, or
     *     the least unresolvable time longer than it
     */
    public SafeUrlFetcher build() {
      if (totalTimeout.compareTo(connectTimeout) < 0) {
        throw new IllegalArgumentException("SafeUrlFetcher.totalTimeout (" + totalTimeout
            + ") must not be shorter than connectTimeout (" + connectTimeout + ")");
      }
      if (minUnresolvableTime != null && minUnresolvableTime.compareTo(connectTimeout) > 0) {
        throw new IllegalArgumentException("SafeUrlFetcher.minUnresolvableTime (" + minUnresolvableTime
            + ") must not be longer than connectTimeout (" + connectTimeout + ")");
      }
      return new SafeUrlFetcher(this);
    }
  }
}
