package io.modelguard;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A path template such as {@code /v1/models/{model}/predict}: literal segments and whole-segment
 * variables. Matching is exact per segment (no wildcards, no regular expressions), so a variable
 * never spans a {@code /}. No segment is empty: {@code /} is the only template that ends with a
 * slash. Immutable and thread-safe.
 */
public final class PathTemplate {
  /** What {@link #scan} returns for a match that binds no value to the variable asked for. */
  private static final String NO_VARIABLE = new String("");

  private final String template;
  private final String[] segments;
  private final boolean[] variable;

  private PathTemplate(String template) {
    this.template = template;
    String[] parts = split(template);
    if (!template.equals("/")) {
      for (String p : parts) {
        if (p.isEmpty()) {
          // Exact matching would make "/v1/predict/" guard only the path with the slash, leaving
          // "/v1/predict" open; refuse it rather than guess.
          throw new IllegalArgumentException("Path template has an empty segment (a trailing '/' "
              + "or '//'): " + template);
        }
      }
    }
    this.segments = new String[parts.length];
    this.variable = new boolean[parts.length];
    for (int i = 0; i < parts.length; i++) {
      String p = parts[i];
      boolean isVar = p.startsWith("{") && p.endsWith("}");
      if (isVar && p.length() < 3) {
        throw new IllegalArgumentException("Path template has an empty variable: " + template);
      }
      if (!isVar && (p.contains("{") || p.contains("}"))) {
        throw new IllegalArgumentException(
            "Path template variables must fill a whole segment: " + template);
      }
      variable[i] = isVar;
      segments[i] = isVar ? p.substring(1, p.length() - 1) : p;
    }
  }

  /**
   * Compiles a template.
   *
   * @param template segments separated by {@code /}, each a literal or a whole {@code {variable}};
   *     it must start with {@code /} and, unless it is {@code /} itself, have no empty segment: no
   *     trailing {@code /} and no {@code //}
   * @return the compiled template
   * @throws IllegalArgumentException naming the template, if it breaks one of those rules or has
   *     an empty or partial-segment variable
   * @throws NullPointerException if {@code template} is null
   */
  public static PathTemplate compile(String template) {
    Objects.requireNonNull(template, "template");
    if (!template.startsWith("/")) {
      throw new IllegalArgumentException("Path template must start with '/': " + template);
    }
    return new PathTemplate(template);
  }

  /**
   * {@return whether the template has a variable {@code name} (a segment {@code {name}})}
   *
   * @param name the variable name, without braces
   */
  public boolean declares(String name) {
    for (int i = 0; i < segments.length; i++) {
      if (variable[i] && segments[i].equals(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether this template matches every path {@code other} matches, so that {@code other}, tried
   * after it, would never be reached: both have as many segments, and each of this template's
   * segments is a variable (and {@code other}'s is not the empty segment of {@code /}, which no
   * variable matches) or the same literal, compared exactly. A template covers itself and any
   * template that differs from it only in variable names. Templates that merely overlap, such as
   * {@code /{a}/b} and {@code /a/{b}}, do not cover each other: each matches a path the other does
   * not. Nor can several templates together cover one that none covers alone: a variable segment
   * matches infinitely many values, and a finite number of literals never exhausts them.
   *
   * @param other the template that would be tried after this one
   * @return true if every path {@code other} matches, this template matches too
   * @throws NullPointerException if {@code other} is null
   */
  public boolean covers(PathTemplate other) {
    Objects.requireNonNull(other, "other");
    if (segments.length != other.segments.length) {
      return false;
    }
    for (int i = 0; i < segments.length; i++) {
      boolean matchesAllOfOthers = variable[i]
          ? other.variable[i] || !other.segments[i].isEmpty()
          : !other.variable[i] && segments[i].equals(other.segments[i]);
      if (!matchesAllOfOthers) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@return the variables bound by {@code path}, or empty if it does not match}
   *
   * @param path the request path, relative to the context path
   */
  public Optional<Map<String, String>> match(String path) {
    Map<String, String> vars = new HashMap<>(4);
    return scan(path, null, vars) == null ? Optional.empty() : Optional.of(vars);
  }

  /**
   * Whether {@code path} matches, as {@code match(path).isPresent()} but without building the
   * variables: adapters call it on every request.
   *
   * @param path the request path, relative to the context path
   * @return true if every segment matches
   */
  public boolean matches(String path) {
    return scan(path, null, null) != null;
  }

  /**
   * The value {@code path} binds to the variable {@code name}, or null if {@code path} does not
   * match or the template has no variable {@code name}. As {@code match(path).map(v ->
   * v.get(name))}, but builds no map: adapters call it on every request.
   *
   * @param path the request path, relative to the context path
   * @param name the variable name, without braces; not null
   * @return the variable's value, or null
   */
  public String variable(String path, String name) {
    String value = scan(path, Objects.requireNonNull(name, "name"), null);
    return value == NO_VARIABLE ? null : value;
  }

  /**
   * {@code path} without empty segments: runs of {@code /} merged into one and trailing slashes
   * dropped ({@code "/"} stays); {@code path} itself (the same instance) if it has none. The
   * servlet filter matches templates against this form when the path as sent does not match
   * (Jetty dispatches {@code //} as sent, and a trailing slash reaches a servlet mapped by prefix),
   * so a servlet reading a variable of a path its filter guarded reads it the same way, for the
   * model the guard admitted: {@code variable(path, name)}, else {@code
   * variable(withoutEmptySegments(path), name)}.
   *
   * @param path the path to normalise; not null
   * @return the path without empty segments
   */
  public static String withoutEmptySegments(String path) {
    if (path.indexOf("//") < 0 && (path.length() < 2 || !path.endsWith("/"))) {
      return path;
    }
    StringBuilder out = new StringBuilder(path.length());
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c != '/' || out.length() == 0 || out.charAt(out.length() - 1) != '/') {
        out.append(c);
      }
    }
    if (out.length() > 1 && out.charAt(out.length() - 1) == '/') {
      out.setLength(out.length() - 1);
    }
    return out.toString();
  }

  /**
   * Walks {@code path} segment by segment against the template: null if it does not match,
   * otherwise the (last) value of variable {@code name}, or {@link #NO_VARIABLE}. Puts every
   * variable's value into {@code vars} if it is not null (its contents are then meaningless on a
   * mismatch).
   */
  private String scan(String path, String name, Map<String, String> vars) {
    if (path == null || !path.startsWith("/")) {
      return null;
    }
    String value = NO_VARIABLE;
    int segment = 0;
    int start = 1;
    for (int i = 1; i <= path.length(); i++) {
      if (i < path.length() && path.charAt(i) != '/') {
        continue;
      }
      if (segment == segments.length) {
        return null; // more segments than the template
      }
      int length = i - start;
      String expected = segments[segment];
      if (variable[segment]) {
        if (length == 0) {
          return null;
        }
        if (vars != null) {
          vars.put(expected, path.substring(start, i));
        }
        if (expected.equals(name)) {
          value = path.substring(start, i);
        }
      } else if (expected.length() != length || !path.regionMatches(start, expected, 0, length)) {
        return null;
      }
      segment++;
      start = i + 1;
    }
    return segment == segments.length ? value : null;
  }

  /** The template text. */
  @Override
  public String toString() {
    return template;
  }

  private static String[] split(String path) {
    List<String> out = new ArrayList<>();
    int start = 1;
    for (int i = 1; i <= path.length(); i++) {
      if (i == path.length() || path.charAt(i) == '/') {
        out.add(path.substring(start, i));
        start = i + 1;
      }
    }
    return out.toArray(new String[0]);
  }
}
