/**
 * Input validation for model endpoints: body caps, media types, JSON limits, model input specs,
 * and SSRF-safe fetching of image URLs.
 *
 * <h2>Configuring a model</h2>
 *
 * <pre>{@code
 * ModelSpec digits = ModelSpec.builder("digits")
 *     .maxBodyBytes(16 * 1024)
 *     .field("pixels", FieldSpec.numbers(64).range(0, 16))
 *     .build();
 * ModelSpec imageClassifier = ModelSpec.builder("image-classifier")
 *     .maxBodyBytes(4096)
 *     .field("imageUrl", FieldSpec.imageUrl(ImageSpec.builder().maxWidth(2048).maxHeight(2048).build()))
 *     .build();
 * SafeUrlFetcher fetcher = SafeUrlFetcher.builder()
 *     .allowHosts("images.example.com")             // optional, the safest mode
 *     .build();
 * ModelInputPolicy input = ModelInputPolicy.builder()
 *     .model(digits).model(imageClassifier).fetcher(fetcher).build();
 * // in the engine builder:
 * .chain("default", c -> c ... .policy(Phase.VALIDATE, "input", input))
 * }</pre>
 *
 * <h2>Using what was fetched</h2>
 *
 * <p>For an {@linkplain FieldSpec#imageUrl image URL field} the policy fetches the image during
 * {@link io.modelguard.Phase#VALIDATE}, checks it, and hands the checked bytes to the application
 * as {@link io.modelguard.input.FetchedInputs}; the application must use those bytes and never fetch
 * the URL itself (a second fetch may reach a different address or get different content). Adapters
 * whose {@link io.modelguard.InferenceRequest} implements {@link
 * io.modelguard.input.RequestAttributes} (servlet: request attributes; JAX-RS: request-context
 * properties) receive them under {@link io.modelguard.input.FetchedInputs#ATTRIBUTE}:
 *
 * <pre>{@code
 * FetchedInputs fetched = (FetchedInputs) servletRequest.getAttribute(FetchedInputs.ATTRIBUTE);
 * byte[] png = fetched.image("imageUrl").orElseThrow().bytes();
 * BufferedImage image = imageSpec.decode(png);  // decodes only after the header checks pass
 * }</pre>
 *
 * <p>Without such an adapter, {@link io.modelguard.input.ModelInputPolicy.Builder#onFetched}
 * receives them instead.
 *
 * <h2>Refusals</h2>
 *
 * <p>413 {@code input.too_large}, 415 {@code input.unsupported_media_type}, 400 {@code
 * input.malformed} (generic detail), 422 {@code input.invalid} (names the field and the rule, never
 * the value), 422 {@code input.url_blocked} (no connection was attempted), 502 {@code
 * input.fetch_failed} (no upstream text is passed on; also a host name refused for resolving to an
 * internal address, answered exactly as a name that does not resolve, so that clients cannot list
 * internal names: {@link io.modelguard.input.UrlCheck#decision()}).
 */
package io.modelguard.input;
