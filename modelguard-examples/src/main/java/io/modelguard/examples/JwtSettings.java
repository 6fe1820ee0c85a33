package io.modelguard.examples;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Which bearer tokens the demo trusts: an external identity provider (its JWKS URL or its public
 * key as a PEM file, its issuer and the audience its tokens must name, and the claims that carry
 * tier and tenant) and whether the built-in demo issuer runs. Given on the command line ({@code
 * --jwt-issuer}, ...) or in the configuration file's {@code jwt} object ({@code "issuer"}, ...);
 * a flag overrides the same field of the file ({@link #over}).
 *
 * <p>Every value remembers where it came from ({@code --jwks-url} or {@code config FILE:
 * jwt.jwksUrl}), so that {@link #validate} names the flag or field at fault. Immutable.
 */
public final class JwtSettings {
  private static final Pattern CLAIM = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");
  private static final int MAX_TEXT = 256;
  private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
  private static final Pattern LOOPBACK_V4 = Pattern.compile("127(\\." + OCTET + "){3}");

  /** A setting, its command-line flag and its field in the configuration file's {@code jwt} object. */
  public enum Field {
    /** The issuer ({@code iss}) external tokens must carry. */
    ISSUER("--jwt-issuer", "issuer"),
    /** An audience ({@code aud}) external tokens must name. */
    AUDIENCE("--jwt-audience", "audience"),
    /** The external IdP's JWKS URL ({@code https}, or {@code http} to a loopback address). */
    JWKS_URL("--jwks-url", "jwksUrl"),
    /** A PEM file holding the external IdP's public key (RSA, EC or Ed25519). */
    PUBLIC_KEY_FILE("--jwt-public-key", "publicKeyFile"),
    /** The claim holding the tier name in external tokens (default {@code tier}). */
    TIER_CLAIM("--jwt-tier-claim", "tierClaim"),
    /** The claim holding the tenant in external tokens (default {@code tenant}, else {@code jwt:<iss>#<sub>}). */
    TENANT_CLAIM("--jwt-tenant-claim", "tenantClaim"),
    /** The tier of external tokens without a tier claim (default: none, such tokens get no model). */
    DEFAULT_TIER("--jwt-default-tier", "defaultTier"),
    /** Whether the demo issuer runs ({@code --demo-issuer} / {@code --no-demo-issuer}). */
    DEMO_ISSUER("--demo-issuer", "demoIssuer");

    private final String flag;
    private final String jsonName;

    Field(String flag, String jsonName) {
      this.flag = flag;
      this.jsonName = jsonName;
    }

    /** The command-line flag. */
    public String flag() {
      return flag;
    }

    /** The field name inside the configuration file's {@code jwt} object. */
    public String jsonName() {
      return jsonName;
    }
  }

  private static final JwtSettings NONE = new JwtSettings(new EnumMap<>(Field.class), new EnumMap<>(Field.class));

  private final Map<Field, Object> values;
  private final Map<Field, String> sources;

  private JwtSettings(Map<Field, Object> values, Map<Field, String> sources) {
    this.values = values;
    this.sources = sources;
  }

  /** No settings: demo issuer on (the default), no external IdP. */
  public static JwtSettings none() {
    return NONE;
  }

  /**
   * A copy with {@code field} set from {@code text}, as given at {@code source} (a flag, or {@code
   * config FILE: jwt.name}). For {@link Field#DEMO_ISSUER} use {@link #withDemoIssuer}.
   *
   * @throws IllegalArgumentException if the text is not valid for the field (the message names
   *     neither the field nor the source; the caller prefixes them)
   */
  public JwtSettings with(Field field, String text, String source) {
    Objects.requireNonNull(source, "source");
    Object value;
    switch (field) {
      case JWKS_URL:
        value = jwksUrl(text);
        break;
      case PUBLIC_KEY_FILE:
        value = path(text);
        break;
      case TIER_CLAIM:
      case TENANT_CLAIM:
        value = claimName(text);
        break;
      case DEMO_ISSUER:
        throw new IllegalArgumentException("use withDemoIssuer");
      default:
        value = text(text);
        break;
    }
    return copyWith(field, value, source);
  }

  /** A copy that turns the demo issuer on or off explicitly, as given at {@code source}. */
  public JwtSettings withDemoIssuer(boolean on, String source) {
    return copyWith(Field.DEMO_ISSUER, on, Objects.requireNonNull(source, "source"));
  }

  private JwtSettings copyWith(Field field, Object value, String source) {
    Map<Field, Object> v = new EnumMap<>(Field.class);
    v.putAll(values);
    v.put(field, value);
    Map<Field, String> s = new EnumMap<>(Field.class);
    s.putAll(sources);
    s.put(field, source);
    return new JwtSettings(v, s);
  }

  /** These settings, with every field this leaves unset taken from {@code lower} (flags over the file). */
  public JwtSettings over(JwtSettings lower) {
    Map<Field, Object> v = new EnumMap<>(Field.class);
    Map<Field, String> s = new EnumMap<>(Field.class);
    v.putAll(lower.values);
    s.putAll(lower.sources);
    v.putAll(values);
    s.putAll(sources);
    return new JwtSettings(v, s);
  }

  /**
   * Checks the combination: at most one of a JWKS URL and a public key file; an external IdP needs
   * its issuer and audience; the other external settings need an external IdP; the default tier
   * must exist.
   *
   * @throws StartupException one line naming the flag or field at fault
   */
  public void validate(Collection<String> tiers) throws StartupException {
    if (isSet(Field.JWKS_URL) && isSet(Field.PUBLIC_KEY_FILE)) {
      throw new StartupException(sources.get(Field.PUBLIC_KEY_FILE) + ": give either a JWKS URL or a public key file, "
          + "not both (a JWKS URL comes from " + sources.get(Field.JWKS_URL) + ")");
    }
    if (externalIdp()) {
      String keys = keySource();
      for (Field required : new Field[] {Field.ISSUER, Field.AUDIENCE}) {
        if (!isSet(required)) {
          throw new StartupException(keys + ": an external IdP needs its " + required.jsonName() + " too: give "
              + required.flag() + " (or jwt." + required.jsonName() + " in the configuration file); without it, "
              + (required == Field.ISSUER ? "tokens of any issuer using these keys" : "tokens meant for other services")
              + " would be accepted");
        }
      }
    } else {
      for (Field f : new Field[] {Field.ISSUER, Field.AUDIENCE, Field.TIER_CLAIM, Field.TENANT_CLAIM,
          Field.DEFAULT_TIER}) {
        if (isSet(f)) {
          throw new StartupException(sources.get(f) + ": applies to an external IdP's tokens; give its keys with "
              + Field.JWKS_URL.flag() + " or " + Field.PUBLIC_KEY_FILE.flag() + " (jwt." + Field.JWKS_URL.jsonName()
              + " or jwt." + Field.PUBLIC_KEY_FILE.jsonName() + " in the configuration file)");
        }
      }
    }
    Optional<String> defaultTier = defaultTier();
    if (defaultTier.isPresent() && !tiers.contains(defaultTier.get())) {
      throw new StartupException(sources.get(Field.DEFAULT_TIER) + ": unknown tier '" + printable(defaultTier.get())
          + "' (known: " + String.join(", ", new TreeSet<>(tiers)) + ")");
    }
  }

  /** Whether an external IdP is configured (a JWKS URL or a public key file). */
  public boolean externalIdp() {
    return isSet(Field.JWKS_URL) || isSet(Field.PUBLIC_KEY_FILE);
  }

  /**
   * Whether the demo issuer runs: as set explicitly, else exactly when no external IdP is
   * configured.
   */
  public boolean demoIssuer() {
    Object explicit = values.get(Field.DEMO_ISSUER);
    return explicit != null ? (Boolean) explicit : !externalIdp();
  }

  /** Where the external IdP's keys come from, for messages: the flag or field that set them. */
  String keySource() {
    return sources.getOrDefault(Field.JWKS_URL, sources.get(Field.PUBLIC_KEY_FILE));
  }

  /** Where {@code field} was set ({@code --jwks-url}, {@code config FILE: jwt.jwksUrl}), if it was. */
  public Optional<String> source(Field field) {
    return Optional.ofNullable(sources.get(field));
  }

  private boolean isSet(Field field) {
    return values.containsKey(field);
  }

  /** The external issuer. */
  public Optional<String> issuer() {
    return Optional.ofNullable((String) values.get(Field.ISSUER));
  }

  /** The audience external tokens must name. */
  public Optional<String> audience() {
    return Optional.ofNullable((String) values.get(Field.AUDIENCE));
  }

  /** The external IdP's JWKS URL. */
  public Optional<URI> jwksUrl() {
    return Optional.ofNullable((URI) values.get(Field.JWKS_URL));
  }

  /** The PEM file with the external IdP's public key. */
  public Optional<Path> publicKeyFile() {
    return Optional.ofNullable((Path) values.get(Field.PUBLIC_KEY_FILE));
  }

  /** The tier claim of external tokens, if not the default {@code tier}. */
  public Optional<String> tierClaim() {
    return Optional.ofNullable((String) values.get(Field.TIER_CLAIM));
  }

  /** The tenant claim of external tokens, if not the default {@code tenant}. */
  public Optional<String> tenantClaim() {
    return Optional.ofNullable((String) values.get(Field.TENANT_CLAIM));
  }

  /** The tier of external tokens without a tier claim. */
  public Optional<String> defaultTier() {
    return Optional.ofNullable((String) values.get(Field.DEFAULT_TIER));
  }

  private static URI jwksUrl(String text) {
    String t = text(text);
    URI uri;
    try {
      uri = new URI(t);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("not a valid URL");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!uri.isAbsolute() || uri.getHost() == null || !(scheme.equals("https") || scheme.equals("http"))) {
      throw new IllegalArgumentException("must be an absolute https URL, such as https://idp.example/jwks");
    }
    if (uri.getRawUserInfo() != null) {
      throw new IllegalArgumentException("must not contain user information");
    }
    if (scheme.equals("http") && !isLoopbackLiteral(uri.getHost())) {
      throw new IllegalArgumentException("plain http is allowed only to a loopback address such as 127.0.0.1 "
          + "(keys fetched in clear text can be replaced by anyone on the path); use https");
    }
    return uri;
  }

  /** 127.x.y.z, [::1] or localhost: the addresses the library's JWKS client lets use plain http. */
  static boolean isLoopbackLiteral(String host) {
    String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    return h.equalsIgnoreCase("localhost") || h.equals("::1") || LOOPBACK_V4.matcher(h).matches();
  }

  private static Path path(String text) {
    try {
      return Path.of(text(text));
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException("not a valid file name");
    }
  }

  private static String claimName(String text) {
    String t = text(text);
    if (!CLAIM.matcher(t).matches()) {
      throw new IllegalArgumentException("'" + printable(t) + "' is not a claim name (1-64 of A-Z a-z 0-9 _ . : -)");
    }
    return t;
  }

  private static String text(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("must not be blank");
    }
    if (text.length() > MAX_TEXT || text.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException("at most " + MAX_TEXT + " characters, no control characters");
    }
    return text;
  }

  private static String printable(String s) {
    return DemoText.printable(s, 64);
  }

  /** Lists what is set and where; holds no secret. */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("JwtSettings[");
    values.forEach((f, v) -> b.append(f.jsonName()).append('=').append(v).append(" (").append(sources.get(f))
        .append("), "));
    return b.append("demoIssuer=").append(demoIssuer()).append(']').toString();
  }
}
