package io.modelguard.authn.jwt;

import io.modelguard.internal.LogText;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verification keys from an identity provider's JWKS URL ({@code jwks_uri}), fetched with {@link
 * HttpClient}, cached, refreshed and rate-limited. Thread-safe; one instance per URL, shared by
 * every authenticator that trusts that issuer.
 *
 * <h2>When it fetches</h2>
 *
 * <ul>
 *   <li><b>At {@link Builder#build()}</b>, in the background. If the IdP is unreachable the
 *       application still starts; tokens are refused (401) until a fetch succeeds. With {@link
 *       Builder#failFast(boolean) failFast(true)} {@code build()} waits for the first fetch and
 *       throws if it fails.
 *   <li><b>Refresh-ahead</b>: a request that finds the key set within {@link
 *       Builder#refreshAhead(Duration) refreshAhead} of its expiry starts a background refresh and is
 *       served from the current keys at once.
 *   <li><b>Expiry</b>: a request that finds the key set expired starts a refresh and waits for it
 *       at most {@link Builder#refreshWait(Duration) refreshWait}; if the refresh is slow or fails
 *       the expired keys are used (stale-while-revalidate).
 *   <li><b>Unknown {@code kid}</b>: starts a refresh and waits for it at most {@code refreshWait}.
 * </ul>
 *
 * <p><b>Rate limit and single flight.</b> At most one fetch is in flight at any time; callers that
 * need a refresh while one is running wait for that one (at most {@code refreshWait}) instead of
 * starting another. Apart from the first, a fetch starts at most once per {@link
 * Builder#minRefreshInterval(Duration) minRefreshInterval} (default 30 s), whatever triggers it:
 * a flood of tokens with random {@code kid}s costs the IdP one request per interval, and a token
 * whose {@code kid} is unknown within that interval is refused without waiting.
 *
 * <p><b>Lifetime.</b> The key set lives for the response's {@code Cache-Control: max-age},
 * clamped to [{@link Builder#minTtl(Duration) minTtl}, {@link Builder#maxTtl(Duration) maxTtl}];
 * {@code no-cache}/{@code no-store} count as 0 (so {@code minTtl}); without a max-age, {@link
 * Builder#defaultTtl(Duration) defaultTtl}.
 *
 * <p><b>Failures keep the old keys (stale-on-error).</b> A connection failure, a timeout, a status
 * other than 200, a body over {@link Builder#maxBytes(int) maxBytes}, a body that is not a JWK
 * Set, a set with more than {@link Builder#maxKeys(int) maxKeys} members (the whole set is
 * refused, never truncated: which keys to drop cannot be guessed) or a set with no usable key are
 * logged as a WARN and the keys already held stay in use until a fetch succeeds, but not for ever:
 * once the set has been expired for {@link Builder#maxStale(Duration) maxStale} (default 24 h)
 * its keys are dropped with a WARN, cached verifications with them ({@link #generation()}
 * changes), and every bearer token is refused until a fetch succeeds. Otherwise whoever can keep
 * this server from reaching the IdP (or the IdP down for good) would keep a key the IdP has
 * since withdrawn, perhaps because it leaked, vouching for tokens indefinitely. Individual unusable members (private or secret keys, {@code use} other than {@code
 * sig}, unsupported types, RSA below 2048 or above 8192 bits or with a public exponent that is even,
 * below 3, or 2^256 or more) are skipped with a WARN.
 *
 * <p><b>Transport.</b> {@code https} only, except to a loopback address (or with {@link
 * Builder#allowPlainHttp()}); redirects are not followed; connect and read timeouts are separate
 * (defaults 2 s and 3 s); the whole fetch is also bounded by their sum, and a body still arriving
 * then is abandoned with its connection closed. The body of a status other than 200 is never read.
 *
 * <p>A successful fetch that withdraws or replaces a key increments {@link #generation()}, which
 * makes {@link JwtAuthenticator} drop every cached verification.
 */
public final class JwksKeySource implements JwtKeySource {
  /** Default for {@link Builder#minRefreshInterval(Duration)}: 30 seconds. */
  public static final Duration DEFAULT_MIN_REFRESH_INTERVAL = Duration.ofSeconds(30);
  /** Default for {@link Builder#defaultTtl(Duration)}: 10 minutes. */
  public static final Duration DEFAULT_TTL = Duration.ofMinutes(10);
  /** Default for {@link Builder#minTtl(Duration)}: 1 minute. */
  public static final Duration DEFAULT_MIN_TTL = Duration.ofMinutes(1);
  /** Default for {@link Builder#maxTtl(Duration)}: 24 hours. */
  public static final Duration DEFAULT_MAX_TTL = Duration.ofHours(24);
  /** Default for {@link Builder#refreshAhead(Duration)}: 1 minute. */
  public static final Duration DEFAULT_REFRESH_AHEAD = Duration.ofMinutes(1);
  /** Default for {@link Builder#maxStale(Duration)}: 24 hours. */
  public static final Duration DEFAULT_MAX_STALE = Duration.ofHours(24);
  /** Default for {@link Builder#refreshWait(Duration)}: 1 second. */
  public static final Duration DEFAULT_REFRESH_WAIT = Duration.ofSeconds(1);
  /** Default for {@link Builder#connectTimeout(Duration)}: 2 seconds. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
  /** Default for {@link Builder#readTimeout(Duration)}: 3 seconds. */
  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(3);
  /** Default for {@link Builder#maxKeys(int)}: 100 keys. */
  public static final int DEFAULT_MAX_KEYS = 100;
  /**
   * The longest duration any setter of the {@link Builder} accepts: 3,650 days. Longer ones are the
   * same as this in practice, and far longer ones (such as {@code ChronoUnit.FOREVER}) cannot be
   * added to an instant.
   */
  public static final Duration MAX_DURATION = Duration.ofDays(3650);
  /** Default for {@link Builder#maxBytes(int)}: 256 KiB. */
  public static final int DEFAULT_MAX_BYTES = 256 * 1024;

  private static final Logger log = LoggerFactory.getLogger(JwksKeySource.class);
  /** Marks a fetch given up before its body reader existed; never subscribed. */
  private static final CappedBodySubscriber ABANDONED = new CappedBodySubscriber(0, -1);

  private final URI uri;
  private final HttpClient http;
  private final Clock clock;
  private final Duration minRefreshInterval;
  private final Duration defaultTtl;
  private final Duration minTtl;
  private final Duration maxTtl;
  private final Duration refreshAhead;
  private final Duration refreshWait;
  private final Duration maxStale;
  private final Duration readTimeout;
  private final Duration fetchDeadline;
  private final int maxKeys;
  private final int maxBytes;

  private final Object lock = new Object();
  // Guarded by lock.
  private CompletableFuture<Void> inFlight;
  private Instant lastFetchStart;
  private CompletableFuture<Void> lastFetch = CompletableFuture.completedFuture(null);

  private volatile KeySet keys;
  private volatile long generation;

  private JwksKeySource(Builder b) {
    this.uri = b.uri;
    this.clock = b.clock;
    this.minRefreshInterval = b.minRefreshInterval;
    this.defaultTtl = b.defaultTtl;
    this.minTtl = b.minTtl;
    this.maxTtl = b.maxTtl;
    this.refreshAhead = b.refreshAhead;
    this.refreshWait = b.refreshWait;
    this.maxStale = b.maxStale;
    this.readTimeout = b.readTimeout;
    this.fetchDeadline = b.connectTimeout.plus(b.readTimeout);
    this.maxKeys = b.maxKeys;
    this.maxBytes = b.maxBytes;
    HttpClient.Builder hb = HttpClient.newBuilder()
        .connectTimeout(b.connectTimeout)
        .followRedirects(HttpClient.Redirect.NEVER)
        .version(HttpClient.Version.HTTP_1_1);
    if (b.executor != null) {
      hb.executor(b.executor);
    }
    this.http = hb.build();
  }

  /**
   * Starts a builder for the JWKS at {@code jwksUrl} (the IdP's {@code jwks_uri}).
   *
   * @param jwksUrl an absolute {@code https} URL ({@code http} only to a loopback address, or with
   *     {@link Builder#allowPlainHttp()}); checked by {@link Builder#build()}
   * @return a new builder with the defaults
   */
  public static Builder builder(URI jwksUrl) {
    return new Builder(jwksUrl);
  }

  /** {@return the JWKS URL} */
  public URI uri() {
    return uri;
  }

  /**
   * {@inheritDoc}
   *
   * <p>With a {@code kid}: the key with that {@code kid} that suits the algorithm, refreshing the
   * set (rate-limited, see the class comment) when none does. Without one: the only key in the set
   * that suits the algorithm, without refreshing. Never returns an HMAC secret. May wait up to
   * {@code refreshWait} for a fetch; never throws.
   */
  @Override
  public Optional<Key> find(String algorithm, String keyId) {
    SignatureAlgorithm alg = SignatureAlgorithm.named(algorithm);
    if (alg == null || alg.isHmac()) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    // The fetch this thread's generation() just waited for, if it is still running: the caller has
    // had its refreshWait for it already.
    CompletableFuture<Void> waited = awaitedByGeneration.get();
    if (waited != null) {
      awaitedByGeneration.remove();
    }
    KeySet set = keys;
    if (set == null || !now.isBefore(set.expiresAt)) {
      CompletableFuture<Void> fetch = startFetch(now);
      if (fetch != waited) {
        await(fetch);
      }
      set = heldUnlessTooStale(now);
      if (set == null) {
        return Optional.empty();
      }
    } else if (!now.isBefore(set.refreshAt)) {
      startFetch(now); // refresh-ahead: do not wait
    }
    if (keyId == null) {
      return StaticKeySource.onlySuitable(set.entries, alg);
    }
    Optional<Key> key = StaticKeySource.byKeyId(set.entries, alg, keyId);
    if (key.isPresent()) {
      return key;
    }
    CompletableFuture<Void> refresh = startFetch(now);
    if (refresh == null || refresh == waited) {
      return key;
    }
    await(refresh);
    set = keys; // null if another request dropped the set meanwhile, too long stale (maxStale)
    return set == null ? Optional.empty() : StaticKeySource.byKeyId(set.entries, alg, keyId);
  }

  /**
   * Incremented by every successful fetch that withdraws or replaces a key.
   *
   * <p>The authenticator asks this on every token, also on one it answers from its verified-token
   * cache without calling {@link #find}; so the key set's lifetime is enforced here too: a set
   * within {@code refreshAhead} of its expiry starts a background refresh, and an expired one
   * starts a refresh and waits for it (at most {@code refreshWait}, rate-limited as in {@link
   * #find}). Otherwise a client re-presenting one cached token would keep the set from ever being
   * refreshed, and a key the IdP withdrew would go on vouching for that token until its {@code exp}.
   */
  @Override
  public long generation() {
    return generation(false);
  }

  /**
   * As {@link #generation()}, for the authenticator about to verify one token: a still-running fetch
   * waited for here is remembered on this thread, so that the {@link #find} for the same token does
   * not wait on it again, until {@link #forgetAwaitedFetch()} at the end of that token.
   */
  long generationBeforeFind() {
    return generation(true);
  }

  /** Forgets the fetch {@link #generationBeforeFind()} remembered on this thread: its token is done. */
  void forgetAwaitedFetch() {
    awaitedByGeneration.remove();
  }

  private long generation(boolean remember) {
    awaitedByGeneration.remove();
    KeySet set = keys;
    if (set != null) {
      Instant now = clock.instant();
      if (!now.isBefore(set.expiresAt)) {
        CompletableFuture<Void> fetch = startFetch(now);
        await(fetch);
        if (remember && fetch != null && !fetch.isDone()) {
          // find(), which the authenticator calls next for the same token, does not wait again.
          awaitedByGeneration.set(fetch);
        }
        heldUnlessTooStale(now); // a drop changes the generation, which drops the cached verifications
      } else if (!now.isBefore(set.refreshAt)) {
        startFetch(now); // refresh-ahead: do not wait
      }
    }
    return generation;
  }

  /**
   * The key set held, or null if there is none or it has been expired for {@code maxStale} (every
   * fetch since has failed or been rate-limited): then it is dropped, its keys stop vouching for
   * tokens, cached verifications included (the generation changes). The set is read and judged
   * under the lock a fetch installs a new set under: a set read before it, then replaced by a fetch
   * while this request waited for the lock, would be judged in place of the new one, and the
   * request refused although fresh keys were held.
   */
  private KeySet heldUnlessTooStale(Instant now) {
    KeySet dropped;
    synchronized (lock) {
      KeySet set = keys;
      if (set == null || now.isBefore(set.staleUntil(maxStale))) {
        return set;
      }
      keys = null;
      generation++;
      dropped = set;
    }
    log.warn("JWKS {}: no fetch has succeeded for {} after the key set expired (maxStale); its {} key(s) are "
        + "dropped and every bearer token is refused until a fetch succeeds", uri, maxStale, dropped.entries.size());
    return null;
  }

  /**
   * The still-running fetch this thread waited for in its latest {@link #generationBeforeFind()},
   * which the authenticator calls just before {@link #find} for the same token: one refreshWait per
   * token. Set only while the authenticator verifies that token (a token it answers from its cache
   * never reaches find()), so no later lookup on the same pooled thread skips its own wait.
   */
  private final ThreadLocal<CompletableFuture<Void>> awaitedByGeneration = new ThreadLocal<>();

  /** {@return whether a key set has been fetched successfully at least once} */
  public boolean hasKeys() {
    return keys != null;
  }

  /** {@return the {@code kid}s currently held (keys without a {@code kid} are not listed), sorted} */
  public Set<String> keyIds() {
    KeySet set = keys;
    Set<String> ids = new TreeSet<>();
    if (set != null) {
      for (KeyMaterial.Entry e : set.entries) {
        if (e.keyId() != null) {
          ids.add(e.keyId());
        }
      }
    }
    return ids;
  }

  /** The most recently started fetch (completed if none ever ran). For tests to wait on. */
  CompletableFuture<Void> lastFetch() {
    synchronized (lock) {
      return lastFetch;
    }
  }

  /**
   * Starts a fetch unless one is running (then returns that one) or the last one started less than
   * {@code minRefreshInterval} ago (then returns null).
   */
  private CompletableFuture<Void> startFetch(Instant now) {
    CompletableFuture<Void> mine;
    synchronized (lock) {
      if (inFlight != null) {
        return inFlight;
      }
      if (lastFetchStart != null && now.isBefore(lastFetchStart.plus(minRefreshInterval))) {
        return null;
      }
      lastFetchStart = now;
      mine = new CompletableFuture<>();
      inFlight = mine;
      lastFetch = mine;
    }
    fetch(now).whenComplete((ignored, e) -> {
      synchronized (lock) {
        if (inFlight == mine) {
          inFlight = null;
        }
      }
      mine.complete(null);
    });
    return mine;
  }

  private void await(CompletableFuture<Void> fetch) {
    if (fetch == null) {
      return;
    }
    try {
      fetch.get(refreshWait.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // A slow or failed fetch: carry on with the keys we hold. The fetch logs its own failure.
    }
  }

  /** One fetch; never completes exceptionally (failures are logged and leave the keys as they are). */
  private CompletableFuture<Void> fetch(Instant startedAt) {
    HttpRequest request = HttpRequest.newBuilder(uri)
        .timeout(readTimeout)
        .header("Accept", "application/jwk-set+json, application/json")
        .GET()
        .build();
    // The request timeout covers only the wait for the headers. A body that stalls after them is
    // cut off at the fetch deadline by cancelling its subscription, which closes the connection;
    // merely failing the future would leave it open (and one more per refresh) while the stall lasts.
    AtomicReference<CappedBodySubscriber> body = new AtomicReference<>();
    CompletableFuture<HttpResponse<byte[]>> response;
    try {
      response = http.sendAsync(request, info -> {
        if (info.statusCode() != 200) {
          return new NoBodySubscriber();
        }
        CappedBodySubscriber b =
            new CappedBodySubscriber(maxBytes, info.headers().firstValueAsLong("Content-Length").orElse(-1));
        // Headers that arrive after the fetch was given up get no reader at all.
        return body.compareAndSet(null, b) ? b : new NoBodySubscriber();
      });
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    return response
        .orTimeout(fetchDeadline.toMillis(), TimeUnit.MILLISECONDS)
        .handle((r, error) -> {
          try {
            if (error != null) {
              CappedBodySubscriber b = body.getAndSet(ABANDONED);
              if (b != null) {
                b.abandon();
              }
              failed(describe(error));
            } else if (r.statusCode() != 200) {
              failed("HTTP status " + r.statusCode());
            } else {
              accept(r, startedAt);
            }
          } catch (RuntimeException e) {
            failed(describe(e));
          }
          return null;
        });
  }

  private void accept(HttpResponse<byte[]> response, Instant startedAt) {
    List<String> members;
    try {
      members = KeyMaterial.jwkSetMembers(new String(response.body(), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      failed("the body is not a JWK Set (" + e.getMessage() + ")");
      return;
    }
    if (members.size() > maxKeys) {
      failed("the set has " + members.size() + " keys, more than maxKeys=" + maxKeys + "; refused whole");
      return;
    }
    List<KeyMaterial.Entry> entries = new ArrayList<>();
    for (int i = 0; i < members.size(); i++) {
      try {
        entries.add(KeyMaterial.parseJwk(members.get(i)));
      } catch (IllegalArgumentException e) {
        log.warn("JWKS {}: keys[{}] skipped: {}", uri, i, LogText.oneLine(String.valueOf(e.getMessage()), 256));
      }
    }
    if (entries.isEmpty()) {
      failed("the set has no usable signature key");
      return;
    }
    Duration ttl = ttl(response.headers().firstValue("Cache-Control").orElse(null));
    Instant refreshAt = startedAt.plus(ttl).minus(min(refreshAhead, ttl.dividedBy(2)));
    KeySet next = new KeySet(entries, refreshAt, startedAt.plus(ttl));
    KeySet previous;
    // Under the lock: a request thread may drop a set too long stale (heldUnlessTooStale) meanwhile.
    synchronized (lock) {
      previous = keys;
      keys = next;
      // A key was withdrawn or replaced: cached verifications must not outlive it. The new set is
      // published first: a request that reads the new generation (before its key lookup) must find
      // only new keys, or it could verify with the withdrawn key and cache that under the new
      // generation.
      if (previous != null && !next.fingerprints.containsAll(previous.fingerprints)) {
        generation++;
      }
    }
    if (previous == null || !next.fingerprints.equals(previous.fingerprints)) {
      log.info("JWKS {}: {} key(s) {}, valid for {}", uri, entries.size(), loggedKeyIds(), ttl);
    }
  }

  /** The key ids as the identity provider wrote them, made fit for one log line. */
  private String loggedKeyIds() {
    return LogText.oneLine(keyIds().toString(), 1024);
  }

  private void failed(String why) {
    KeySet held = keys;
    if (held == null) {
      log.warn("JWKS {}: fetch failed ({}); no keys yet, so every bearer token is refused until a fetch "
          + "succeeds (next attempt allowed after {})", uri, LogText.oneLine(why, 512), minRefreshInterval);
    } else {
      log.warn("JWKS {}: fetch failed ({}); still serving the {} cached key(s) {}", uri, LogText.oneLine(why, 512),
          held.entries.size(), loggedKeyIds());
    }
  }

  private Duration ttl(String cacheControl) {
    if (cacheControl == null) {
      return defaultTtl;
    }
    Duration ttl = null;
    for (String directive : cacheControl.split(",")) {
      String d = directive.trim().toLowerCase(Locale.ROOT);
      if (d.equals("no-cache") || d.equals("no-store")) {
        return minTtl;
      }
      if (d.startsWith("max-age=")) {
        try {
          ttl = Duration.ofSeconds(Long.parseLong(d.substring(8).replace("\"", "").trim()));
        } catch (NumberFormatException | ArithmeticException e) {
          // an unreadable max-age counts as none
        }
      }
    }
    if (ttl == null) {
      return defaultTtl;
    }
    return ttl.compareTo(minTtl) < 0 ? minTtl : ttl.compareTo(maxTtl) > 0 ? maxTtl : ttl;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static String describe(Throwable e) {
    Throwable t = e;
    while ((t instanceof java.util.concurrent.CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof TimeoutException || t instanceof java.net.http.HttpTimeoutException) {
      return "timed out";
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  /** An immutable snapshot of fetched keys. */
  private static final class KeySet {
    final List<KeyMaterial.Entry> entries;
    final Instant refreshAt;
    final Instant expiresAt;
    final Set<String> fingerprints;

    KeySet(List<KeyMaterial.Entry> entries, Instant refreshAt, Instant expiresAt) {
      this.entries = List.copyOf(entries);
      this.refreshAt = refreshAt;
      this.expiresAt = expiresAt;
      Set<String> f = new HashSet<>();
      for (KeyMaterial.Entry e : entries) {
        f.add(e.keyId() + "|" + e.algorithm() + "|" + Base64.getEncoder().encodeToString(e.key().getEncoded()));
      }
      this.fingerprints = Set.copyOf(f);
    }

    /** The instant from which this set, expired and not replaced, is no longer used. */
    Instant staleUntil(Duration maxStale) {
      return expiresAt.plus(maxStale);
    }
  }

  /**
   * Takes none of an error response's body: cancels at once, which closes the connection, so a
   * large or endless error page is never read. The response completes with a null body.
   */
  private static final class NoBodySubscriber implements HttpResponse.BodySubscriber<byte[]> {
    @Override
    public CompletionStage<byte[]> getBody() {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      s.cancel();
    }

    @Override
    public void onNext(List<ByteBuffer> items) {}

    @Override
    public void onError(Throwable e) {}

    @Override
    public void onComplete() {}
  }

  /** Collects a response body, failing as soon as it exceeds {@code max} bytes or is {@link #abandon() abandoned}. */
  private static final class CappedBodySubscriber implements HttpResponse.BodySubscriber<byte[]> {
    private final CompletableFuture<byte[]> body = new CompletableFuture<>();
    private final List<ByteBuffer> buffers = new ArrayList<>();
    private final int max;
    private final long declared;
    private long size;
    private volatile Flow.Subscription subscription;

    CappedBodySubscriber(int max, long declared) {
      this.max = max;
      this.declared = declared;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return body;
    }

    /** Stops reading (the fetch deadline passed): cancels the subscription, closing the connection. */
    void abandon() {
      body.completeExceptionally(new IOException("body not complete at the fetch deadline"));
      Flow.Subscription s = subscription;
      if (s != null) {
        s.cancel();
      }
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (body.isDone()) { // abandoned before the body started
        s.cancel();
        return;
      }
      if (declared > max) {
        s.cancel();
        body.completeExceptionally(new IOException("Content-Length " + declared + " exceeds maxBytes=" + max));
        return;
      }
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (body.isDone()) {
        return;
      }
      for (ByteBuffer b : items) {
        size += b.remaining();
        buffers.add(b);
      }
      if (size > max) {
        subscription.cancel();
        buffers.clear();
        body.completeExceptionally(new IOException("body exceeds maxBytes=" + max));
      }
    }

    @Override
    public void onError(Throwable e) {
      body.completeExceptionally(e);
    }

    @Override
    public void onComplete() {
      if (body.isDone()) {
        return;
      }
      byte[] out = new byte[(int) size];
      int at = 0;
      for (ByteBuffer b : buffers) {
        int n = b.remaining();
        b.get(out, at, n);
        at += n;
      }
      body.complete(out);
    }
  }

  /**
   * Builds a {@link JwksKeySource}. Every setter checks its argument at once and throws {@link
   * IllegalArgumentException} naming the field (a duration must also be at most {@link
   * #MAX_DURATION}); {@link #build()} checks the combination.
   */
  public static final class Builder {
    private final URI uri;
    private Clock clock = Clock.systemUTC();
    private Duration minRefreshInterval = DEFAULT_MIN_REFRESH_INTERVAL;
    private Duration defaultTtl = DEFAULT_TTL;
    private Duration minTtl = DEFAULT_MIN_TTL;
    private Duration maxTtl = DEFAULT_MAX_TTL;
    private Duration refreshAhead = DEFAULT_REFRESH_AHEAD;
    private Duration refreshWait = DEFAULT_REFRESH_WAIT;
    private Duration maxStale = DEFAULT_MAX_STALE;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration readTimeout = DEFAULT_READ_TIMEOUT;
    private int maxKeys = DEFAULT_MAX_KEYS;
    private int maxBytes = DEFAULT_MAX_BYTES;
    private boolean failFast;
    private boolean allowPlainHttp;
    private Executor executor;

    private Builder(URI uri) {
      this.uri = Objects.requireNonNull(uri, "JwksKeySource.uri");
    }

    /**
     * The clock for key-set lifetimes and the refresh rate limit. Default: {@link
     * Clock#systemUTC()}. Tests pass a fake clock to move through intervals without sleeping.
     *
     * @param clock the clock; not null
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "JwksKeySource.clock");
      return this;
    }

    /**
     * The least time between the starts of two fetches (the first excepted), whatever triggers
     * them. Default: {@link #DEFAULT_MIN_REFRESH_INTERVAL 30 s}; at least 1 s.
     *
     * @param interval the least interval, at least 1 s
     * @return this builder
     */
    public Builder minRefreshInterval(Duration interval) {
      this.minRefreshInterval = atLeast(interval, Duration.ofSeconds(1), "minRefreshInterval");
      return this;
    }

    /**
     * The key set's lifetime when the response has no {@code max-age}. Default: 10 min.
     *
     * @param ttl the lifetime, at least 1 s
     * @return this builder
     */
    public Builder defaultTtl(Duration ttl) {
      this.defaultTtl = atLeast(ttl, Duration.ofSeconds(1), "defaultTtl");
      return this;
    }

    /**
     * The shortest lifetime a response's {@code max-age} may give the key set. Default: 1 min.
     *
     * @param ttl the lower bound, at least 1 s
     * @return this builder
     */
    public Builder minTtl(Duration ttl) {
      this.minTtl = atLeast(ttl, Duration.ofSeconds(1), "minTtl");
      return this;
    }

    /**
     * The longest lifetime a response's {@code max-age} may give the key set. Default: 24 h.
     *
     * @param ttl the upper bound, at least 1 s
     * @return this builder
     */
    public Builder maxTtl(Duration ttl) {
      this.maxTtl = atLeast(ttl, Duration.ofSeconds(1), "maxTtl");
      return this;
    }

    /**
     * How long before the key set expires a request starts a background refresh (capped at half
     * the set's lifetime). Default: 1 min; zero disables refresh-ahead.
     *
     * @param ahead the lead time, zero or more
     * @return this builder
     */
    public Builder refreshAhead(Duration ahead) {
      this.refreshAhead = atLeast(ahead, Duration.ZERO, "refreshAhead");
      return this;
    }

    /**
     * How long a request that needs a fetch (unknown {@code kid}, expired or no keys) waits for
     * it before carrying on with the keys held. Default: 1 s; zero means never wait.
     *
     * @param wait the longest wait, zero or more
     * @return this builder
     */
    public Builder refreshWait(Duration wait) {
      this.refreshWait = atLeast(wait, Duration.ZERO, "refreshWait");
      return this;
    }

    /**
     * How long after its expiry a key set stays in use while every fetch fails (stale-on-error).
     * Past that its keys are dropped and every bearer token is refused until a fetch succeeds: a
     * key the IdP withdrew cannot go on vouching for tokens just because the IdP cannot be reached.
     * Default: {@link #DEFAULT_MAX_STALE 24 h}; zero drops the keys as soon as a refresh after
     * expiry fails (or is not allowed yet by {@code minRefreshInterval}).
     *
     * @param maxStale the grace period after expiry, zero or more
     * @return this builder
     */
    public Builder maxStale(Duration maxStale) {
      this.maxStale = atLeast(maxStale, Duration.ZERO, "maxStale");
      return this;
    }

    /**
     * The TCP (and TLS) connect timeout. Default: 2 s.
     *
     * @param timeout the connect timeout, at least 1 ms
     * @return this builder
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = atLeast(timeout, Duration.ofMillis(1), "connectTimeout");
      return this;
    }

    /**
     * How long to wait for the response once connected. Default: 3 s.
     *
     * @param timeout the read timeout, at least 1 ms
     * @return this builder
     */
    public Builder readTimeout(Duration timeout) {
      this.readTimeout = atLeast(timeout, Duration.ofMillis(1), "readTimeout");
      return this;
    }

    /**
     * The most keys a JWK Set may hold; a larger set is refused whole (and the old keys kept),
     * never truncated. Default: 100; 1 to 10,000.
     *
     * @param max the key limit, 1 to 10,000
     * @return this builder
     */
    public Builder maxKeys(int max) {
      if (max < 1 || max > 10_000) {
        throw new IllegalArgumentException("JwksKeySource.maxKeys must be 1..10000, was " + max);
      }
      this.maxKeys = max;
      return this;
    }

    /**
     * The largest JWKS response body accepted, in bytes. Default: 256 KiB; 1 KiB to 16 MiB.
     *
     * @param max the size limit in bytes, 1,024 to 16,777,216
     * @return this builder
     */
    public Builder maxBytes(int max) {
      if (max < 1024 || max > 16 * 1024 * 1024) {
        throw new IllegalArgumentException("JwksKeySource.maxBytes must be 1024..16777216, was " + max);
      }
      this.maxBytes = max;
      return this;
    }

    /**
     * Whether {@link #build()} fetches the keys synchronously and throws if that fails. Default:
     * false (start without the IdP; tokens are refused until keys arrive).
     *
     * @param failFast true to fetch during {@link #build()} and fail if the fetch does
     * @return this builder
     */
    public Builder failFast(boolean failFast) {
      this.failFast = failFast;
      return this;
    }

    /**
     * Allows an {@code http} URL to a non-loopback host. Default: refused, since a key set fetched
     * in clear text can be replaced by anyone on the path. Only for networks you trust.
     *
     * @return this builder
     */
    public Builder allowPlainHttp() {
      this.allowPlainHttp = true;
      return this;
    }

    /**
     * The executor the HTTP client runs its work on. Default: the JDK client's own pool.
     *
     * @param executor the executor; not null
     * @return this builder
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "JwksKeySource.executor");
      return this;
    }

    /**
     * Builds the source and starts the first fetch (in the background unless {@link
     * #failFast(boolean)}).
     *
     * @return the source, fetching its keys
     * @throws IllegalStateException if the URL or the TTL bounds are invalid, or if fail-fast and
     *     the first fetch fails
     */
    public JwksKeySource build() {
      List<String> problems = new ArrayList<>();
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!uri.isAbsolute() || uri.getHost() == null || !(scheme.equals("https") || scheme.equals("http"))) {
        problems.add("uri: must be an absolute https URL, was '" + uri + "'");
      } else if (scheme.equals("http") && !allowPlainHttp && !isLoopback(uri.getHost())) {
        problems.add("uri: plain http is allowed only to a loopback address (or with allowPlainHttp()), was '"
            + uri + "'");
      }
      if (minTtl.compareTo(maxTtl) > 0) {
        problems.add("minTtl: " + minTtl + " is longer than maxTtl " + maxTtl);
      }
      if (!problems.isEmpty()) {
        throw new IllegalStateException("Invalid JwksKeySource configuration:\n - " + String.join("\n - ", problems));
      }
      JwksKeySource source = new JwksKeySource(this);
      CompletableFuture<Void> first = source.startFetch(clock.instant());
      if (failFast) {
        try {
          first.get(connectTimeout.plus(readTimeout).plusSeconds(1).toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
          // reported below
        }
        if (!source.hasKeys()) {
          throw new IllegalStateException("JwksKeySource: failFast is on and the first fetch of " + uri
              + " failed (see the WARN above)");
        }
      }
      return source;
    }

    private static boolean isLoopback(String host) {
      String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
      if (h.equalsIgnoreCase("localhost")) {
        return true;
      }
      if (!h.matches("[0-9.]+|[0-9a-fA-F:]+")) {
        return false; // a name other than localhost: never resolve it here
      }
      try {
        return InetAddress.getByName(h).isLoopbackAddress();
      } catch (UnknownHostException e) {
        return false;
      }
    }

    private static Duration atLeast(Duration value, Duration min, String field) {
      if (value == null || value.compareTo(min) < 0) {
        throw new IllegalArgumentException("JwksKeySource." + field + " must be at least " + min + ", was " + value);
      }
      if (value.compareTo(MAX_DURATION) > 0) {
        // Added to an instant or turned into nanoseconds later, a far longer one would overflow
        // there: on a request thread, or in a fetch that then never installs its keys.
        throw new IllegalArgumentException("JwksKeySource." + field + " must be at most " + MAX_DURATION.toDays()
            + " days, was " + value);
      }
      return value;
    }
  }
}
