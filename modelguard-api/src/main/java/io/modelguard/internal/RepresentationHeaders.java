package io.modelguard.internal;

import java.util.Locale;
import java.util.Set;

/**
 * The response headers that describe the body the application wrote: validators, digests and
 * ranges. When output policies run, none of them reaches the client, since the policies may
 * rewrite the body and a validator or digest of the model's own output identifies it (its exact
 * scores could be confirmed offline, or with a conditional request). Internal: not part of the
 * public API.
 */
public final class RepresentationHeaders {
  /** Lower-case names. */
  public static final Set<String> NAMES = Set.of("etag", "last-modified", "content-md5", "digest", "repr-digest",
      "content-digest", "content-range", "accept-ranges");

  /**
   * The request headers that make the application answer against its own output (conditional
   * requests and ranges), lower-case: the adapters hide them from the application when output
   * policies run, since a 304 or 206 computed on the model's output would confirm or reveal it.
   */
  public static final Set<String> CONDITIONAL = Set.of("if-none-match", "if-match", "if-modified-since",
      "if-unmodified-since", "if-range", "range");

  private RepresentationHeaders() {}

  /**
   * {@return whether {@code name} (any case) is one of {@link #CONDITIONAL}}
   *
   * @param name the header name, or null (then false)
   */
  public static boolean isConditional(String name) {
    return name != null && CONDITIONAL.contains(name.toLowerCase(Locale.ROOT));
  }

  /**
   * {@return whether {@code name} (any case) is one of {@link #NAMES}}
   *
   * @param name the header name, or null (then false)
   */
  public static boolean describesTheBody(String name) {
    return name != null && NAMES.contains(name.toLowerCase(Locale.ROOT));
  }

  /**
   * Whether a header the application sets under {@code name} describes its own output, read as a
   * recipient reads the name on the wire ({@link HeaderNames}): its {@code Content-Length}, which
   * the adapter sets for what the output policies let through; one of {@link #NAMES}, also under a
   * name that reads so only on the wire ({@code "ETag "}); or a {@code Content-Type} under a name
   * that reads so only there, which would go out as a second type beside the one the policies read.
   * Under output policies, none of them leaves.
   *
   * @param name the header name as the application sets it, or null
   * @return true if the adapter must not let the header through under output policies
   */
  public static boolean describesTheOutput(String name) {
    String bare = HeaderNames.bare(name); // name itself unless something was cut
    return "Content-Length".equalsIgnoreCase(bare) || describesTheBody(bare)
        || (bare != name && "Content-Type".equalsIgnoreCase(bare));
  }
}
