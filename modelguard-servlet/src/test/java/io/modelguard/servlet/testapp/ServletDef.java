package io.modelguard.servlet.testapp;

import jakarta.servlet.Servlet;
import java.util.List;

/**
 * A servlet to deploy: either a class the container instantiates or a ready instance, under a name,
 * with its URL patterns.
 */
public record ServletDef(String name, Class<? extends Servlet> type, Servlet instance, List<String> patterns) {

  /** The container instantiates {@code type}; the servlet is named after the class. */
  public static ServletDef of(Class<? extends Servlet> type, String... patterns) {
    return new ServletDef(type.getSimpleName(), type, null, List.of(patterns));
  }

  /** A ready instance under {@code name}. */
  public static ServletDef of(String name, Servlet instance, String... patterns) {
    return new ServletDef(name, null, instance, List.of(patterns));
  }
}
