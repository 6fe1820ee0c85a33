package io.modelguard.servlet;

import java.util.Collection;
import java.util.List;

/**
 * Whether the URL patterns and servlet names a {@link ModelGuardFilter} is mapped to cover the paths
 * of a guarded servlet or route, so that {@link ModelGuardFilter#init} can fail start-up on a filter
 * mapped more narrowly than what it guards ({@code /v1/models/digits/*} in front of a servlet on
 * {@code /v1/models/*}): the requests outside the filter's mapping would reach the servlet unchecked.
 * Conservative: a mapping is covered only where the Servlet specification's matching rules make
 * every request to it pass the filter ({@code /*}, a prefix pattern over it, the same exact or
 * extension pattern, or the servlet's name).
 */
final class FilterCoverage {
  private final List<String> urlPatterns;
  private final Collection<String> servletNames;

  FilterCoverage(Collection<String> urlPatterns, Collection<String> servletNames) {
    this.urlPatterns = List.copyOf(urlPatterns);
    this.servletNames = servletNames;
  }

  /** {@return whether the filter is mapped to the servlet called {@code name} by its name} */
  boolean coversServlet(String name) {
    return servletNames.contains(name);
  }

  /**
   * {@return whether every request that a servlet mapping {@code pattern} matches also matches one
   * of the filter's URL patterns}
   *
   * @param pattern a servlet URL pattern: exact ({@code /predict}, {@code ""} for the context root),
   *     prefix ({@code /v1/*}), extension ({@code *.json}) or default ({@code /})
   */
  boolean coversMapping(String pattern) {
    for (String own : urlPatterns) {
      if (own.equals("/*") || own.equals(pattern)) {
        return true;
      }
      if (own.endsWith("/*") && !pattern.startsWith("*.") && !pattern.equals("/")) {
        String path = pattern.endsWith("/*") ? pattern.substring(0, pattern.length() - 2) : pattern;
        if (under(path, own.substring(0, own.length() - 2))) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * {@return whether every path a route template matches passes the filter}: its literal segments
   * before the first variable must lie under one of the filter's prefix patterns, or, for a
   * template without variables, be matched by one of its patterns.
   *
   * @param template a route's path template, such as {@code /v1/models/{model}/predict}
   */
  boolean coversTemplate(String template) {
    int variable = template.indexOf('{');
    if (variable < 0) {
      return coversMapping(template);
    }
    String literal = template.substring(0, template.lastIndexOf('/', variable));
    for (String own : urlPatterns) {
      if (own.endsWith("/*") && under(literal, own.substring(0, own.length() - 2))) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code path} is {@code base} or a path below it ({@code base} empty: below the root). */
  private static boolean under(String path, String base) {
    return path.equals(base) || path.startsWith(base + "/");
  }
}
