package io.modelguard.authn.jwt;

import io.modelguard.CredentialKind;
import io.modelguard.Principal;
import io.modelguard.authz.ModelAccessPolicy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns verified claims into a {@link Principal}. See {@link JwtAuthenticator} for the rules; a
 * claim of the wrong type refuses the token ({@link Refusal#CLAIMS}) rather than being guessed at.
 */
final class ClaimsMapper {
  private static final String MODEL_SCOPE_PREFIX = "model:";
  private static final String MODEL_SCOPE_SUFFIX = ":invoke";

  /**
   * The longest subject, tenant or tier a token may name, as for an API key's tenant: the keys that
   * count and remember a client (quota, extraction defence) and its audit lines stay short. (A
   * quota key no longer needs it: it digests a longer tenant.)
   */
  static final int MAX_IDENTITY_LENGTH = 256;

  /** Ends the namespace in {@code jwt:<namespace>/<tenant>}; no namespace may contain it. */
  static final char NAMESPACE_END = '/';

  /** The registered claim naming the issuer, which qualifies a tenant derived from the subject. */
  private static final String ISSUER_CLAIM = "iss";

  private final String subjectClaim;
  private final String tenantClaim;
  private final String tierClaim;
  private final String defaultTier;
  private final String modelsClaim;
  private final List<String> scopeClaims;
  private final List<String> copiedClaims;
  /** {@code jwt:<namespace>/}, the beginning of every tenant; null without a tenant namespace. */
  private final String namespacePrefix;

  ClaimsMapper(String subjectClaim, String tenantClaim, String tierClaim, String defaultTier,
      String modelsClaim, List<String> scopeClaims, List<String> copiedClaims, String tenantNamespace) {
    this.subjectClaim = subjectClaim;
    this.tenantClaim = tenantClaim;
    this.tierClaim = tierClaim;
    this.defaultTier = defaultTier;
    this.modelsClaim = modelsClaim;
    this.scopeClaims = List.copyOf(scopeClaims);
    this.copiedClaims = List.copyOf(copiedClaims);
    this.namespacePrefix = tenantNamespace == null ? null
        : JwtAuthenticator.SUBJECT_TENANT_PREFIX + tenantNamespace + NAMESPACE_END;
  }

  /**
   * The principal the claims describe.
   *
   * @param nulls the claims the token sets to JSON {@code null} (which jjwt leaves out of {@code
   *     claims}): a mapped one is of the wrong type, not absent
   * @throws Refusal.RefusedToken ({@link Refusal#CLAIMS}) if the subject is missing or a mapped
   *     claim has the wrong type; ({@link Refusal#MISLEADING_NAME}) if the subject, tenant, tier or
   *     an {@code iss} naming the tenant is not {@linkplain Principal#isDisplaySafe(String)
   *     display-safe}; ({@link Refusal#RESERVED_TENANT}) if the tenant claim begins with {@link
   *     JwtAuthenticator#SUBJECT_TENANT_PREFIX} in any ASCII case or compatibility form; ({@link
   *     Refusal#TENANT_TOO_LONG}, {@link Refusal#NAMESPACED_TENANT_TOO_LONG}) if the tenant would be
   *     longer than {@link #MAX_IDENTITY_LENGTH}
   */
  Principal map(Map<String, ?> claims, Set<String> nulls) {
    if (nulls.contains(subjectClaim) || nulls.contains(tenantClaim) || nulls.contains(tierClaim)
        || nulls.contains(modelsClaim) || scopeClaims.stream().anyMatch(nulls::contains)) {
      // "models": null read as no models claim widened the principal to its whole tier.
      throw Refusal.CLAIMS.exception();
    }
    String subject = text(claims.get(subjectClaim), true);
    Principal.Builder p = Principal.builder(subject).credentialKind(CredentialKind.BEARER_TOKEN);
    String tenant = text(claims.get(tenantClaim), false);
    if (tenant != null && JwtAuthenticator.isReservedTenant(tenant)) {
      // Reserved for tenants derived from iss and sub: an issuer that may write any tenant claim
      // must not name another issuer's subject's tenant and share its quota and extraction history
      // (nor, in another case, a name that readers of logs and meters take for one).
      throw Refusal.RESERVED_TENANT.exception();
    }
    p.tenant(inNamespace(tenant != null ? tenant : subjectTenant(claims, nulls, subject)));
    String tier = text(claims.get(tierClaim), false);
    p.tier(tier != null ? tier : defaultTier);

    Set<String> scopes = new LinkedHashSet<>();
    for (String name : scopeClaims) {
      scopes.addAll(words(claims.get(name)));
    }
    p.scopes(scopes);

    // Claims narrow the tier, never widen it: each source that is present restricts the models,
    // and when both are present only the models both name remain.
    Set<String> allowed = null;
    if (claims.containsKey(modelsClaim)) {
      allowed = new LinkedHashSet<>(words(claims.get(modelsClaim)));
    }
    Set<String> scoped = modelScopes(scopes);
    if (!scoped.isEmpty()) {
      if (allowed == null) {
        allowed = scoped;
      } else {
        allowed.retainAll(scoped);
      }
    }
    if (allowed != null) {
      p.allowedModels(allowed);
    }

    for (String name : copiedClaims) {
      Object value = claims.get(name);
      if (value != null) {
        p.claim(name, freeze(value));
      }
    }
    return p.build();
  }

  /**
   * The tenant of a token without a tenant claim: {@code jwt:<iss>#<sub>}, the issuer with {@code %}
   * and {@code #} percent-encoded (so the first {@code #} ends it, and two issuer-subject pairs
   * never make one name), or {@code jwt:#<sub>} for a token without {@code iss} (jjwt drops a blank
   * one). The bare subject would be the tenant of an API key, or another issuer's subject, that
   * happens to have the same name, sharing its quota and extraction history; API keys are not
   * issued for tenants with the prefix ({@link io.modelguard.authn.ApiKeyRecord}).
   *
   * <p>At most {@link #MAX_IDENTITY_LENGTH} characters, as a tenant claim and an API key's tenant:
   * {@code iss} and {@code sub} may each have 256, which with the encoding made names of up to
   * 1,029. A longer name is refused rather than cut or digested, which would make it unreadable or
   * no longer one name per issuer-subject pair.
   *
   * @throws Refusal.RefusedToken ({@link Refusal#CLAIMS}) if {@code iss} is JSON null, not a
   *     string or longer than {@link #MAX_IDENTITY_LENGTH}; ({@link Refusal#MISLEADING_NAME}) if it
   *     is not display-safe, which the tenant named after it would not be either; ({@link
   *     Refusal#TENANT_TOO_LONG}) if the name would be longer than {@link #MAX_IDENTITY_LENGTH}
   */
  private static String subjectTenant(Map<String, ?> claims, Set<String> nulls, String subject) {
    if (nulls.contains(ISSUER_CLAIM)) {
      throw Refusal.CLAIMS.exception();
    }
    String issuer = text(claims.get(ISSUER_CLAIM), false);
    int length = JwtAuthenticator.SUBJECT_TENANT_PREFIX.length() + 1 + subject.length()
        + (issuer == null ? 0 : encodedLength(issuer));
    if (length > MAX_IDENTITY_LENGTH) {
      throw Refusal.TENANT_TOO_LONG.exception();
    }
    StringBuilder tenant = new StringBuilder(length).append(JwtAuthenticator.SUBJECT_TENANT_PREFIX);
    if (issuer != null) {
      appendEncoded(tenant, issuer);
    }
    return tenant.append('#').append(subject).toString();
  }

  /**
   * The tenant in this authenticator's namespace: {@code jwt:<namespace>/} and the tenant with
   * {@code %} and {@code #} percent-encoded; the tenant itself without a namespace. Such a name is
   * never another authenticator's, nor an API key's:
   *
   * <ul>
   *   <li>API keys and tenant claims cannot begin {@code jwt:} ({@link
   *       JwtAuthenticator#isReservedTenant});
   *   <li>a tenant derived without a namespace, {@code jwt:<iss>#<sub>}, always has a {@code #},
   *       which the encoding leaves out of every namespaced name (an issuer {@code ns/acme} with
   *       subject {@code x} is {@code jwt:ns/acme#x}; the claim {@code acme#x} in namespace {@code
   *       ns} is {@code jwt:ns/acme%23x});
   *   <li>no namespace has a {@code /}, so the first one ends it: two namespaces never make one
   *       name;
   *   <li>within the namespace, a derived tenant is {@code jwt:<namespace>/jwt:...} and a claimed
   *       one never (its claim cannot begin {@code jwt:}), and the encoding keeps distinct tenants
   *       distinct.
   * </ul>
   *
   * <p>The whole name, namespace and encoding included, has at most {@link #MAX_IDENTITY_LENGTH}
   * characters, as every tenant; its length is counted before the name is built.
   *
   * @throws Refusal.RefusedToken ({@link Refusal#NAMESPACED_TENANT_TOO_LONG}) if it would be longer
   */
  private String inNamespace(String tenant) {
    if (namespacePrefix == null) {
      return tenant;
    }
    int length = namespacePrefix.length() + encodedLength(tenant);
    if (length > MAX_IDENTITY_LENGTH) {
      throw Refusal.NAMESPACED_TENANT_TOO_LONG.exception();
    }
    StringBuilder name = new StringBuilder(length).append(namespacePrefix);
    appendEncoded(name, tenant);
    return name.toString();
  }

  /** The length of {@code text} as {@link #appendEncoded} writes it, counted without building it. */
  private static int encodedLength(String text) {
    int length = text.length();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '%' || c == '#') {
        length += 2;
      }
    }
    return length;
  }

  /** Appends {@code text} with {@code %} and {@code #} percent-encoded (as {@code %25}, {@code %23}). */
  private static void appendEncoded(StringBuilder to, String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '%') {
        to.append("%25");
      } else if (c == '#') {
        to.append("%23");
      } else {
        to.append(c);
      }
    }
  }

  /** The model ids named by {@code model:<id>:invoke} scopes (the same form {@link ModelAccessPolicy#scopeFor} makes). */
  private static Set<String> modelScopes(Set<String> scopes) {
    Set<String> models = new LinkedHashSet<>();
    for (String s : scopes) {
      if (s.startsWith(MODEL_SCOPE_PREFIX) && s.endsWith(MODEL_SCOPE_SUFFIX)
          && s.length() > MODEL_SCOPE_PREFIX.length() + MODEL_SCOPE_SUFFIX.length()) {
        models.add(s.substring(MODEL_SCOPE_PREFIX.length(), s.length() - MODEL_SCOPE_SUFFIX.length()));
      }
    }
    return models;
  }

  /**
   * A name claim ({@code sub}, the tenant, the tier, {@code iss}): a non-blank string of at most
   * {@link #MAX_IDENTITY_LENGTH} characters, refused ({@link Refusal#MISLEADING_NAME}) if it is not
   * {@linkplain Principal#isDisplaySafe(String) display-safe}, so that the principal's own check
   * never throws out of the authenticator.
   */
  private static String text(Object value, boolean required) {
    if (value == null) {
      if (required) {
        throw Refusal.CLAIMS.exception();
      }
      return null;
    }
    if (!(value instanceof String) || ((String) value).isBlank()
        || ((String) value).length() > MAX_IDENTITY_LENGTH) {
      throw Refusal.CLAIMS.exception();
    }
    if (!Principal.isDisplaySafe((String) value)) {
      throw Refusal.MISLEADING_NAME.exception();
    }
    return (String) value;
  }

  /** A space-separated string or an array of strings, as a list of words; absent means none. */
  private static List<String> words(Object value) {
    if (value == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    if (value instanceof String) {
      for (String w : ((String) value).split(" ")) {
        if (!w.isEmpty()) {
          out.add(w);
        }
      }
      return out;
    }
    if (value instanceof Collection) {
      for (Object o : (Collection<?>) value) {
        if (!(o instanceof String)) {
          throw Refusal.CLAIMS.exception();
        }
        out.add((String) o);
      }
      return out;
    }
    throw Refusal.CLAIMS.exception();
  }

  /**
   * A deeply immutable copy of a JSON value (maps, lists, strings, numbers, booleans; nulls
   * dropped), so a principal shared through the verified-token cache can never be changed.
   */
  static Object freeze(Object value) {
    if (value instanceof Map) {
      Map<String, Object> copy = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
        if (e.getKey() != null && e.getValue() != null) {
          copy.put(e.getKey().toString(), freeze(e.getValue()));
        }
      }
      return Collections.unmodifiableMap(copy);
    }
    if (value instanceof Collection) {
      List<Object> copy = new ArrayList<>();
      for (Object o : (Collection<?>) value) {
        if (o != null) {
          copy.add(freeze(o));
        }
      }
      return Collections.unmodifiableList(copy);
    }
    if (value instanceof Date) {
      return ((Date) value).toInstant();
    }
    return value; // String, Number, Boolean: immutable already
  }
}
