package io.modelguard;

import io.modelguard.internal.StructuredFields;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One policy's items of the rate-limit fields of draft-ietf-httpapi-ratelimit-headers: a member of
 * {@code RateLimit-Policy} for each quota policy it enforces ({@code "burst";q=100;w=60}), and the
 * member of {@code RateLimit} for the one it reports ({@code "burst";r=50;t=30}), if any. A policy
 * returns them with {@link GuardDecision#withRateLimit(RateLimitItems)}; the engine merges the
 * items of every policy that decided a request into one list per field (see {@link ModelGuard}),
 * where plain headers of the same names would replace one another.
 *
 * <p>Build the policy members once ({@link #of(Map)}) and add each request's figures with {@link
 * #reporting}: rendering then costs one small string per request. Immutable and thread-safe.
 */
public final class RateLimitItems {
  private final String[] names;
  private final String[] members;
  private final String policyField;
  /** The index of the reported policy, or -1 if none is. */
  private final int reported;
  private final long remaining;
  private final long resetSeconds;
  private final String rateLimitField;
  /** The figures once the policy has released the request's hold; -1 if releasing changes nothing. */
  private final long releasedRemaining;
  private final long releasedResetSeconds;

  private RateLimitItems(String[] names, String[] members, String policyField, int reported, long remaining,
      long resetSeconds, String rateLimitField, long releasedRemaining, long releasedResetSeconds) {
    this.names = names;
    this.members = members;
    this.policyField = policyField;
    this.reported = reported;
    this.remaining = remaining;
    this.resetSeconds = resetSeconds;
    this.rateLimitField = rateLimitField;
    this.releasedRemaining = releasedRemaining;
    this.releasedResetSeconds = releasedResetSeconds;
  }

  /**
   * Items for the quota policies of {@code members}, in its iteration order: each key is a policy
   * name, each value its whole {@code RateLimit-Policy} member, which starts with the name as a
   * structured-field string, for example {@code "burst" -> "\"burst\";q=100;w=60"}. None is
   * reported in {@code RateLimit} until {@link #reporting} says which.
   *
   * @param members policy name to its {@code RateLimit-Policy} member, in the order to report them
   * @return new items reporting no policy in {@code RateLimit}
   * @throws IllegalArgumentException if there is no member, a name is empty or holds a character
   *     other than printable ASCII (or a {@code "} or {@code \}), or a member is not its quoted
   *     name followed by nothing or by parameters ({@code ;...}) in printable ASCII, every string
   *     closed and no {@code ,} outside one
   */
  public static RateLimitItems of(Map<String, String> members) {
    if (members.isEmpty()) {
      throw new IllegalArgumentException("RateLimitItems need at least one policy");
    }
    String[] names = new String[members.size()];
    String[] texts = new String[members.size()];
    int i = 0;
    for (Map.Entry<String, String> e : members.entrySet()) {
      String name = Objects.requireNonNull(e.getKey(), "policy name");
      String member = Objects.requireNonNull(e.getValue(), "policy member");
      if (name.isEmpty() || !name.chars().allMatch(c -> c >= 0x20 && c < 0x7F && c != '"' && c != '\\')) {
        throw new IllegalArgumentException("a rate-limit policy name must be printable ASCII without '\"' or '\\'");
      }
      if (!isMemberOf(name, member)) {
        throw new IllegalArgumentException("the RateLimit-Policy member of '" + name
            + "' must start with its quoted name, then parameters only, in printable ASCII");
      }
      names[i] = name;
      texts[i++] = member;
    }
    return new RateLimitItems(names, texts, String.join(", ", texts), -1, 0, 0, null, -1, -1);
  }

  /**
   * A copy that reports policy {@code name} in {@code RateLimit}: {@code remaining} units left,
   * resetting in {@code resetSeconds}.
   *
   * @param name the policy to report, one of the members' names
   * @param remaining the units left in its window, not negative
   * @param resetSeconds the seconds until it resets, not negative
   * @return a new copy; this one is unchanged
   * @throws IllegalArgumentException if {@code name} is not one of the policies, or a figure is
   *     negative
   */
  public RateLimitItems reporting(String name, long remaining, long resetSeconds) {
    int index = -1;
    for (int i = 0; i < names.length && index < 0; i++) {
      if (names[i].equals(name)) {
        index = i;
      }
    }
    if (index < 0) {
      throw new IllegalArgumentException("RateLimit can only report one of the policies of RateLimit-Policy");
    }
    checkFigures(remaining, resetSeconds);
    return new RateLimitItems(names, members, policyField, index, remaining, resetSeconds,
        member(names[index], remaining, resetSeconds), -1, -1);
  }

  /**
   * A copy saying what the reported policy's figures are once the policy has released the
   * request's hold ({@link Policy#release}), as a quota refunds a reservation: on a request a later
   * policy denies, the engine reports these instead if the policy's release returned normally.
   * Default: releasing changes nothing.
   *
   * @param remaining the units left once the hold is released, not negative
   * @param resetSeconds the seconds until the window resets then, not negative
   * @return a new copy; this one is unchanged
   * @throws IllegalStateException if no policy is {@linkplain #reporting reported}
   * @throws IllegalArgumentException if a figure is negative
   */
  public RateLimitItems ifReleased(long remaining, long resetSeconds) {
    if (reported < 0) {
      throw new IllegalStateException("ifReleased needs a reported policy (reporting(...))");
    }
    checkFigures(remaining, resetSeconds);
    return new RateLimitItems(names, members, policyField, reported, this.remaining, this.resetSeconds,
        rateLimitField, remaining, resetSeconds);
  }

  /** {@return the value of {@code RateLimit-Policy}: every member, in order} */
  public String policyField() {
    return policyField;
  }

  /** {@return the value of {@code RateLimit}: the reported policy's member, or null if none is reported} */
  public String rateLimitField() {
    return rateLimitField;
  }

  /** The units left of the reported policy (meaningful only if one is reported). */
  long remaining() {
    return remaining;
  }

  /** The seconds until the reported policy resets (meaningful only if one is reported). */
  long resetSeconds() {
    return resetSeconds;
  }

  /** These items as they stand once the policy has released the request's hold. */
  RateLimitItems released() {
    return releasedRemaining < 0 ? this
        : new RateLimitItems(names, members, policyField, reported, releasedRemaining, releasedResetSeconds,
            member(names[reported], releasedRemaining, releasedResetSeconds), -1, -1);
  }

  /**
   * The two fields of several policies' items, in the order the policies ran: {@code [0]} {@code
   * RateLimit-Policy}, {@code [1]} {@code RateLimit} (null if no policy reports one). Each name
   * appears once in each field. A name that more than one policy uses is reported by the most
   * restrictive of them: the denying policy ({@code deciding}, or null), else the one with the
   * fewest units left (the earlier on a tie), whose own {@code RateLimit-Policy} member then stands
   * for the name; if none reports the name, the first policy's member does.
   *
   * @param clash set to true if two policies used one name
   */
  static String[] merge(List<RateLimitItems> all, RateLimitItems deciding, boolean[] clash) {
    // name -> the items reporting it in RateLimit, in order of first report
    Map<String, RateLimitItems> reporters = new LinkedHashMap<>();
    for (RateLimitItems items : all) {
      if (items.reported >= 0) {
        String name = items.names[items.reported];
        RateLimitItems current = reporters.get(name);
        if (current == null) {
          reporters.put(name, items);
        } else {
          clash[0] = true;
          if (current != deciding && (items == deciding || items.remaining < current.remaining)) {
            reporters.put(name, items);
          }
        }
      }
    }
    // name -> its RateLimit-Policy member, in order of first appearance
    Map<String, String> policies = new LinkedHashMap<>();
    for (RateLimitItems items : all) {
      for (int i = 0; i < items.names.length; i++) {
        String name = items.names[i];
        String kept = policies.putIfAbsent(name, items.members[i]);
        if (kept != null && !kept.equals(items.members[i])) {
          clash[0] = true;
          if (reporters.get(name) == items) {
            policies.put(name, items.members[i]);
          }
        }
      }
    }
    List<String> limits = new ArrayList<>(reporters.size());
    for (RateLimitItems items : reporters.values()) {
      limits.add(items.rateLimitField);
    }
    return new String[] {
      String.join(", ", policies.values()), limits.isEmpty() ? null : String.join(", ", limits)
    };
  }

  /**
   * Whether {@code member} is one list member for {@code name}: the quoted name, then nothing or
   * parameters ({@code ;...}), printable ASCII only, with every string closed and no {@code ,}
   * outside one (which would add a member, naming a policy the merge does not know of).
   */
  private static boolean isMemberOf(String name, String member) {
    int after = name.length() + 2;
    if (!member.startsWith("\"" + name + "\"") || (member.length() > after && member.charAt(after) != ';')
        || !member.chars().allMatch(c -> c >= 0x20 && c < 0x7F)) {
      return false;
    }
    List<String> parts = StructuredFields.splitOutsideStrings(member, ',');
    return parts != null && parts.size() == 1;
  }

  private static String member(String name, long remaining, long resetSeconds) {
    return "\"" + name + "\";r=" + remaining + ";t=" + resetSeconds;
  }

  private static void checkFigures(long remaining, long resetSeconds) {
    if (remaining < 0 || resetSeconds < 0) {
      throw new IllegalArgumentException("remaining units and reset seconds must not be negative");
    }
  }

  @Override
  public String toString() {
    return "RateLimitItems[" + policyField + (rateLimitField == null ? "" : " | " + rateLimitField) + "]";
  }
}
