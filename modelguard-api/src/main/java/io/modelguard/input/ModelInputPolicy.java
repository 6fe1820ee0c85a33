package io.modelguard.input;

import io.modelguard.BodyTooLargeException;
import io.modelguard.GuardContext;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.ModelGuard;
import io.modelguard.Policy;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.internal.LogText;
import io.modelguard.quota.QuotaKey;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ready {@link io.modelguard.Phase#VALIDATE} policy: picks the endpoint's {@link ModelSpec} and
 * applies, in this order, each step stopping at its first refusal:
 *
 * <ol>
 *   <li>body cap: a declared {@code Content-Length} above {@link ModelSpec#maxBodyBytes()} is
 *       refused without reading; otherwise the body is read through {@link
 *       InferenceRequest#body(int)}, which never buffers more than the cap plus one byte → {@code
 *       input.too_large} (413);
 *   <li>media type: the {@code Content-Type} must be one the model accepts (JSON only in UTF-8);
 *       an image body's magic bytes must match the declared type; a JSON body must not use
 *       Triton's binary data extension ({@code Inference-Header-Content-Length}) → {@code
 *       input.unsupported_media_type} (415);
 *   <li>JSON limits, in one streaming pass with the spec check: unparseable, not UTF-8, or
 *       starting with a byte-order mark → {@code input.malformed} (400, generic detail but for the
 *       byte-order mark); a limit or spec violation → {@code input.invalid} (422, naming the field
 *       and the rule, never the value), as is a field name holding a control character (U+0000 to
 *       U+001F), anywhere in the document, and a KServe v2 request whose tensor parameters, request
 *       parameters or outputs refer to shared memory or binary data ({@code shared_memory_*},
 *       {@code binary_data*}), which the guard cannot check;
 *   <li>image URL fields: fetched through the {@link SafeUrlFetcher}, one after another, reading
 *       at most the field's {@link ImageSpec#maxBytes()} (or the fetcher's cap, if lower) → {@code
 *       input.url_blocked} (422, nothing connected) or {@code input.fetch_failed} (502; also for a
 *       body over the cap, as soon as it passes it, and for a host name refused for resolving to an
 *       internal address, told exactly as a name that does not resolve, its decision's {@linkplain
 *       GuardDecision#operatorNote() operator note} telling the audit listeners: see {@link
 *       UrlCheck#decision()}); the fetched image is checked against the
 *       field's {@link ImageSpec} from its header → {@code input.invalid}; the bytes are handed to
 *       the application as {@link FetchedInputs}. The fetches of one request share one time budget
 *       ({@link Builder#fetchTimeoutPerRequest}) and one byte budget ({@link
 *       Builder#fetchBytesPerRequest}), both by default what one fetch may take: a request naming
 *       several URLs holds its thread and memory no longer than a request naming one. The field
 *       whose fetch finds a budget used up gets {@code input.fetch_failed} (502). The host lookups
 *       are made on behalf of the request's tenant (its principal's; without a principal, its client
 *       address): with the default resolver, one tenant's lookups hold at most half of the
 *       resolver's slots, and any four tenants together leave at least one, so tenants naming
 *       domains whose DNS never answers cannot stall every other tenant's fetches ({@link
 *       HostResolver#system}); a resolver of your own is told the caller too ({@link
 *       HostResolver#resolve(String, Duration, String)}).
 * </ol>
 *
 * <p>A request for a model that has no spec here is refused with {@code input.invalid} (fail
 * closed). Thread-safe.
 *
 * <pre>{@code
 * ModelGuard.builder()
 *     .models("digits", "image-classifier")
 *     .chain("default", chain -> chain
 *         .policy(Phase.AUTHENTICATE, "api-key", apiKeys)
 *         .policy(Phase.AUTHORIZE, "model-access", new ModelAccessPolicy())
 *         .policy(Phase.VALIDATE, "input", ModelInputPolicy.builder()
 *             .model(digitsSpec)
 *             .model(imageClassifierSpec)
 *             .fetcher(SafeUrlFetcher.builder().allowHosts("images.example.com").build())
 *             .build()))
 *     .build();
 * }</pre>
 */
public final class ModelInputPolicy implements Policy {
  private static final Logger log = LoggerFactory.getLogger(ModelInputPolicy.class);
  /** The header of Triton's binary data extension: how many bytes of the body are JSON. */
  private static final String BINARY_JSON_LENGTH = "Inference-Header-Content-Length";
  /** Longer than any fetch may run (a fetcher's total timeout is far shorter in practice). */
  private static final Duration MAX_FETCH_TIMEOUT = Duration.ofDays(1);

  private final Map<String, ModelSpec> specs;
  /** Registered models met without a specification, warned about once each (bounded by the engine's models). */
  private final java.util.Set<String> unspecified = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final SafeUrlFetcher fetcher;
  private final BiConsumer<InferenceRequest, FetchedInputs> onFetched;
  /** The time all fetches of one request share, in nanoseconds. */
  private final long fetchNanosPerRequest;
  /** The bytes all fetches of one request share. */
  private final long fetchBytesPerRequest;

  private ModelInputPolicy(Builder b) {
    this.specs = Map.copyOf(b.specs);
    boolean needsFetcher = b.specs.values().stream().anyMatch(ModelSpec::fetchesUrls);
    this.fetcher = b.fetcher != null ? b.fetcher : needsFetcher ? SafeUrlFetcher.ofDefaults() : null;
    this.onFetched = b.onFetched;
    this.fetchNanosPerRequest = b.fetchTimeoutPerRequest != null ? b.fetchTimeoutPerRequest.toNanos()
        : fetcher != null ? fetcher.totalTimeoutNanos() : 0;
    this.fetchBytesPerRequest = b.fetchBytesPerRequest > 0 ? b.fetchBytesPerRequest
        : fetcher != null ? fetcher.maxBytes() : 0;
  }

  /**
   * Refuses an image URL field whose {@link ImageSpec} accepts a format the fetcher does not (WebP,
   * with the default fetcher's PNG, JPEG and GIF): each such image would be refused as a failed
   * fetch ({@code 502}) with nothing to tell the operator why.
   */
  private void checkFetchableFormats() {
    Optional<Set<ImageFormat>> fetchable = fetcher == null ? Optional.empty() : fetcher.acceptedFormats();
    if (fetchable.isEmpty()) {
      return;
    }
    for (Map.Entry<String, ModelSpec> entry : specs.entrySet()) {
      ModelSpec spec = entry.getValue();
      for (int i = 0; i < spec.fieldSpecs.length; i++) {
        FieldSpec f = spec.fieldSpecs[i];
        if (f.kind != FieldSpec.Kind.IMAGE_URL || fetchable.get().containsAll(f.image.formats())) {
          continue;
        }
        Set<ImageFormat> missing = EnumSet.copyOf(f.image.formats());
        missing.removeAll(fetchable.get());
        throw new IllegalStateException("ModelInputPolicy: model '" + entry.getKey() + "', field '"
            + spec.fieldNames[i] + "': its ImageSpec accepts " + missing + ", which the fetcher does not accept "
            + "(its acceptedFormats are " + EnumSet.copyOf(fetchable.get()) + "), so every such image "
            + "would be refused as a failed fetch; add them with SafeUrlFetcher.builder().acceptedFormats(...) "
            + "or drop them from the ImageSpec");
      }
    }
  }

  /**
   * {@return a policy for these models, with a default {@link SafeUrlFetcher} if any of them fetches URLs}
   *
   * @param specs one spec per model, at least one, no model twice
   */
  public static ModelInputPolicy of(ModelSpec... specs) {
    Builder b = builder();
    for (ModelSpec s : specs) {
      b.model(s);
    }
    return b.build();
  }

  /**
   * Starts a builder.
   *
   * @return a new builder with no model
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * {@return the spec of {@code model}, if this policy has one}
   *
   * @param model the model id
   */
  public Optional<ModelSpec> spec(String model) {
    return Optional.ofNullable(specs.get(model));
  }

  @Override
  public GuardDecision evaluate(GuardContext context) {
    String model = context.endpoint().model().orElse(null);
    if (model != null && !specs.containsKey(model) && context.isRegisteredModel(model) && unspecified.add(model)) {
      // A configuration mistake (a ModelSpec named otherwise than the engine's model, or none),
      // answered to the client as its own: said once per model, for the operator.
      log.warn("ModelInputPolicy: model '{}' is registered with the engine but has no input specification in "
          + "this policy, so each of its requests is refused with 422 input.invalid. Add a ModelSpec for it, or "
          + "scope this policy to the models it specifies with forModels(...).", model);
    }
    return check(context.request(), context.principal());
  }

  /**
   * True: skipped when it throws, this policy would pass to the model an input it exists to refuse
   * (too large, malformed, out of spec, naming a URL it has not checked), so it fails closed in
   * whatever phase it is registered.
   */
  @Override
  public boolean mustFailClosed() {
    return true;
  }

  /**
   * A {@link ModelSpec} for a model the engine does not register (if it registers models): its
   * requests never come, while the model meant is refused for want of a spec.
   */
  @Override
  public List<String> configurationProblems(ModelGuard.Configuration configuration) {
    List<String> problems = new ArrayList<>();
    for (String model : configuration.unknownModels(specs.keySet())) {
      problems.add("ModelSpec names unknown model '" + model + "'; register it with models(...) or correct the name");
    }
    return problems;
  }

  /**
   * Checks one request outside an engine (the engine calls it through {@link #evaluate}). Never
   * throws for bad input: every refusal is a decision. Without the engine there is no principal, so
   * the request's host lookups count against its client address's share of the resolver's slots
   * (see {@link HostResolver#system}).
   *
   * @param request the request, with its endpoint and body
   * @return allow (the request's model has no spec, or its input passes), or the refusal
   */
  public GuardDecision check(InferenceRequest request) {
    return check(request, Optional.empty());
  }

  /**
   * On whose behalf a request's URLs are fetched, for the resolver's share per caller: its
   * principal's tenant ({@code t:<tenant>}, so a tenant's many keys or subjects share one share),
   * else its client address as a quota key keys it ({@code a:<address>}, an IPv6 address reduced
   * to its /64, or to the IPv4 address of the host it stands for: NAT64, 6to4, Teredo; see {@link
   * QuotaKey#forAddress}).
   */
  static String callerOf(InferenceRequest request, Optional<Principal> principal) {
    return principal.isPresent() ? "t:" + principal.get().tenant()
        : QuotaKey.forAddress(request.remoteAddress().orElse(null)).partition();
  }

  private GuardDecision check(InferenceRequest request, Optional<Principal> principal) {
    ModelSpec spec = request.endpoint().model().map(specs::get).orElse(null);
    if (spec == null) {
      return GuardDecision.deny(ReasonCode.INPUT_INVALID, "This model has no input specification.");
    }
    OptionalLong declared = request.contentLength();
    if (declared.isPresent() && declared.getAsLong() > spec.maxBodyBytes()) {
      return tooLarge(spec);
    }
    String mediaType = mediaType(request.contentType().orElse(null), spec);
    if (mediaType == null) {
      return GuardDecision.deny(ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE,
          "This model accepts " + String.join(", ", spec.mediaTypes()) + ".");
    }
    if (spec.inputKind() != ModelSpec.InputKind.IMAGE && request.header(BINARY_JSON_LENGTH).isPresent()) {
      // Triton's binary data extension: the server reads only that many bytes as JSON and the rest
      // as tensor data, while the guard would check the whole body as one JSON document.
      return GuardDecision.deny(ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE,
          "This model accepts JSON only, without the binary data extension (" + BINARY_JSON_LENGTH + ").");
    }
    byte[] body;
    try {
      body = request.body(spec.maxBodyBytes());
    } catch (BodyTooLargeException e) {
      return tooLarge(spec);
    } catch (IOException e) {
      log.debug("ModelInputPolicy: reading the body failed", LogText.throwable(e));
      return GuardDecision.deny(ReasonCode.INPUT_MALFORMED, "The request body could not be read.");
    }
    if (spec.inputKind() == ModelSpec.InputKind.IMAGE) {
      return image(spec, mediaType, body);
    }
    List<InputValidator.UrlField> urls;
    try {
      urls = InputValidator.validate(spec, body);
    } catch (InputValidator.Violation v) {
      return v.detail == null ? GuardDecision.deny(v.code) : GuardDecision.deny(v.code, v.detail);
    }
    return urls.isEmpty() ? GuardDecision.allow() : fetch(request, urls, callerOf(request, principal));
  }

  private static GuardDecision tooLarge(ModelSpec spec) {
    return GuardDecision.deny(ReasonCode.INPUT_TOO_LARGE,
        "The request body is larger than this model accepts (" + spec.maxBodyBytes() + " bytes).");
  }

  /** The accepted media type the header names, or null. JSON must be UTF-8 if a charset is given. */
  static String mediaType(String header, ModelSpec spec) {
    if (header == null) {
      return null;
    }
    int semi = header.indexOf(';');
    String type = (semi < 0 ? header : header.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    if (type.equals("image/jpg")) {
      type = "image/jpeg";
    }
    if (!spec.mediaTypes().contains(type)) {
      return null;
    }
    if (semi >= 0 && type.equals("application/json")) {
      for (String param : header.substring(semi + 1).split(";")) {
        String[] kv = param.split("=", 2);
        if (kv.length == 2 && kv[0].trim().equalsIgnoreCase("charset")) {
          String cs = kv[1].trim().replace("\"", "");
          if (!cs.equalsIgnoreCase("utf-8") && !cs.equalsIgnoreCase("utf8")) {
            return null;
          }
        }
      }
    }
    return type;
  }

  private static GuardDecision image(ModelSpec spec, String mediaType, byte[] body) {
    Optional<ImageFormat> sniffed = ImageFormat.sniff(body);
    if (sniffed.isEmpty() || !sniffed.get().mediaType().equals(mediaType)) {
      return GuardDecision.deny(ReasonCode.INPUT_UNSUPPORTED_MEDIA_TYPE,
          "The body's content is not the declared " + mediaType + " image.");
    }
    String violation = spec.imageBody().violation(body);
    return violation == null ? GuardDecision.allow()
        : GuardDecision.deny(ReasonCode.INPUT_INVALID, "The image " + violation + ".");
  }

  private GuardDecision fetch(InferenceRequest request, List<InputValidator.UrlField> urls, String caller) {
    Map<String, FetchedInputs.FetchedImage> images = new LinkedHashMap<>();
    // One deadline and one byte allowance for every URL of the request: with a budget per fetch, a
    // request naming n slow URLs would hold its thread n times as long as one naming a single URL.
    long deadline = fetcher.nanoTime() + fetchNanosPerRequest;
    long bytesLeft = fetchBytesPerRequest;
    for (InputValidator.UrlField u : urls) {
      // The field's cap, not only the fetcher's: a 64 KiB image field must not download 5 MiB.
      int ownCap = Math.min(u.image().maxBytes(), fetcher.maxBytes());
      if (bytesLeft < 1) {
        return overRequestBytes(u);
      }
      int cap = (int) Math.min(ownCap, bytesLeft);
      FetchResult r = fetcher.fetch(u.url(), cap, deadline, caller);
      if (!r.isFetched()) {
        if (cap < ownCap && r.failure().filter(f -> f == FetchFailure.TOO_LARGE).isPresent()) {
          return overRequestBytes(u);
        }
        GuardDecision d = r.decision();
        GuardDecision denial =
            GuardDecision.deny(d.reason().orElseThrow(), "Field '" + u.field() + "': " + d.detail().orElse(""));
        // The note tells the operator what the client's answer conceals (an SSRF refusal); keep it.
        return d.operatorNote().map(denial::withOperatorNote).orElse(denial);
      }
      byte[] bytes = r.bodyUnsafe();
      bytesLeft -= bytes.length;
      String violation = u.image().violation(bytes);
      if (violation != null) {
        return GuardDecision.deny(ReasonCode.INPUT_INVALID, "Field '" + u.field() + "': the fetched image " + violation + ".");
      }
      images.put(u.field(), new FetchedInputs.FetchedImage(ImageHeader.read(bytes).orElseThrow(), bytes));
    }
    FetchedInputs inputs = new FetchedInputs(images);
    if (request instanceof RequestAttributes) {
      ((RequestAttributes) request).setAttribute(FetchedInputs.ATTRIBUTE, inputs);
    }
    if (onFetched != null) {
      onFetched.accept(request, inputs);
    }
    return GuardDecision.allow();
  }

  private GuardDecision overRequestBytes(InputValidator.UrlField u) {
    return GuardDecision.deny(ReasonCode.INPUT_FETCH_FAILED, "Field '" + u.field()
        + "': the images of this request are together larger than " + fetchBytesPerRequest + " bytes.");
  }

  /** Builds a {@link ModelInputPolicy}. */
  public static final class Builder {
    private final Map<String, ModelSpec> specs = new LinkedHashMap<>();
    private SafeUrlFetcher fetcher;
    private BiConsumer<InferenceRequest, FetchedInputs> onFetched;
    private Duration fetchTimeoutPerRequest;
    private long fetchBytesPerRequest;

    private Builder() {}

    /**
     * Adds a model's spec.
     *
     * @param spec the spec; not null
     * @return this builder
     * @throws IllegalArgumentException if a spec for the same model id was already added
     */
    public Builder model(ModelSpec spec) {
      Objects.requireNonNull(spec, "spec");
      if (specs.putIfAbsent(spec.id(), spec) != null) {
        throw new IllegalArgumentException("ModelInputPolicy: model '" + spec.id() + "' is added twice");
      }
      return this;
    }

    /**
     * The fetcher for image URL fields. Default {@link SafeUrlFetcher#ofDefaults()}, created only if a spec needs it.
     *
     * @param fetcher the fetcher; not null
     * @return this builder
     */
    public Builder fetcher(SafeUrlFetcher fetcher) {
      this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
      return this;
    }

    /**
     * The time all image URL fetches of one request share, lookups, redirects and TLS included:
     * each fetch gets what is left of it (and never more than the fetcher's own {@link
     * SafeUrlFetcher.Builder#totalTimeout}); a fetch that finds it used up fails with {@code
     * input.fetch_failed} (502, "Fetching the URL timed out."). Default: the fetcher's total
     * timeout (5 s for a default fetcher), so a request holds its thread for fetching no longer
     * than one fetch could, however many URL fields its model has.
     *
     * @param timeout the shared budget, positive; not null
     * @return this builder
     * @throws IllegalArgumentException if {@code timeout} is zero or negative
     */
    public Builder fetchTimeoutPerRequest(Duration timeout) {
      Objects.requireNonNull(timeout, "fetchTimeoutPerRequest");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("ModelInputPolicy.fetchTimeoutPerRequest must be positive, was " + timeout);
      }
      // Longer than any fetch could run changes nothing, and keeps the deadline arithmetic in range.
      this.fetchTimeoutPerRequest = timeout.compareTo(MAX_FETCH_TIMEOUT) > 0 ? MAX_FETCH_TIMEOUT : timeout;
      return this;
    }

    /**
     * The bytes all image URL fetches of one request may read together: each fetch reads at most
     * what is left of it (and never more than its field's {@link ImageSpec#maxBytes()} or the
     * fetcher's cap); a body that passes what is left fails with {@code input.fetch_failed} (502,
     * naming the field and this budget). Default: the fetcher's byte cap ({@link
     * SafeUrlFetcher.Builder#maxBytes}, 5 MiB for a default fetcher), so a request buffers no more
     * fetched bytes than one fetch could; raise it for a model with several large image fields.
     *
     * @param bytes the shared budget in bytes, at least 1
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes} is less than 1
     */
    public Builder fetchBytesPerRequest(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("ModelInputPolicy.fetchBytesPerRequest must be at least 1, was " + bytes);
      }
      this.fetchBytesPerRequest = bytes;
      return this;
    }

    /**
     * Called with the fetched inputs of every allowed request that had image URLs, on the request
     * thread, before the request continues. Default: none (requests implementing {@link
     * RequestAttributes} get them as an attribute either way).
     *
     * @param listener receives the request and its fetched inputs; not null
     * @return this builder
     */
    public Builder onFetched(BiConsumer<InferenceRequest, FetchedInputs> listener) {
      this.onFetched = Objects.requireNonNull(listener, "onFetched");
      return this;
    }

    /**
     * Builds the policy.
     *
     * @return the policy, immutable
     * @throws IllegalStateException if no model was added, or if an image URL field's {@link
     *     ImageSpec} accepts a format the fetcher does not (WebP with the default fetcher), whose
     *     images would all be refused as failed fetches
     */
    public ModelInputPolicy build() {
      if (specs.isEmpty()) {
        throw new IllegalStateException("ModelInputPolicy: add at least one ModelSpec with model(...)");
      }
      ModelInputPolicy policy = new ModelInputPolicy(this);
      policy.checkFetchableFormats();
      return policy;
    }
  }
}
