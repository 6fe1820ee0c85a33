package io.modelguard.jaxrs;

import io.modelguard.internal.AnnotationInheritance;
import io.modelguard.jaxrs.internal.GuardResponseFilter;
import jakarta.ws.rs.BeanParam;
import jakarta.ws.rs.core.Context;
import java.lang.annotation.Annotation;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Finds where a resource method, or the resource it runs on, receives the servlet response: what
 * the resource writes there leaves without passing the response filter, so no output policy sees
 * it. The Servlet API is recognised by name ({@code jakarta.servlet.ServletResponse}, which {@code
 * HttpServletResponse} and its wrappers are), so that the adapter runs without it.
 *
 * <p>Looked at: each parameter of the method (and of the methods it overrides, whose annotations
 * the runtime may use) whose type is, or has as a type argument ({@code Provider<...>}), a servlet
 * response; and, in the resource class and its superclasses and in every {@code @BeanParam} class
 * reached from the method or those classes, fields and methods annotated {@code @Context} or
 * {@code jakarta.inject.Inject} that take one, and constructor parameters of one. The request
 * ({@code HttpServletRequest}) is not a servlet response and is not looked for.
 */
final class ServletResponseInjection {
  private static final String SERVLET_RESPONSE = "jakarta.servlet.ServletResponse";
  private static final String INJECT = "jakarta.inject.Inject";

  private ServletResponseInjection() {}

  /**
   * Where {@code method}, run on an instance of {@code resourceClass}, receives the servlet
   * response, described for a message ({@code "its parameter jakarta.servlet.http.HttpServletResponse
   * response"}, {@code "field Base.response"}); empty if nowhere.
   */
  static Optional<String> find(Method method, Class<?> resourceClass) {
    Set<Class<?>> seen = new HashSet<>();
    for (Method m : AnnotationInheritance.overrideChain(method, resourceClass)) {
      for (Parameter parameter : m.getParameters()) {
        // Any parameter, annotated or not: one of these types can only be injected, never an entity.
        Optional<String> found = inMember(parameter, parameter.getParameterizedType(), parameter.getType(), seen,
            "its parameter " + describe(parameter), true);
        if (found.isPresent()) {
          return found;
        }
      }
    }
    return inClass(resourceClass, seen);
  }

  /** Where an instance of {@code type}, as the runtime creates and injects it, receives the servlet response. */
  private static Optional<String> inClass(Class<?> type, Set<Class<?>> seen) {
    if (!seen.add(type)) {
      return Optional.empty();
    }
    for (Constructor<?> constructor : type.getDeclaredConstructors()) {
      for (Parameter parameter : constructor.getParameters()) {
        Optional<String> found = inMember(parameter, parameter.getParameterizedType(), parameter.getType(), seen,
            "constructor parameter " + describe(parameter) + " of " + type.getSimpleName(), true);
        if (found.isPresent()) {
          return found;
        }
      }
    }
    for (Class<?> c = type; c != null && c != Object.class && !c.isInterface(); c = c.getSuperclass()) {
      for (Field field : c.getDeclaredFields()) {
        Optional<String> found = inMember(field, field.getGenericType(), field.getType(), seen,
            "field " + c.getSimpleName() + "." + field.getName(), false);
        if (found.isPresent()) {
          return found;
        }
      }
      for (Method injectable : c.getDeclaredMethods()) {
        String description = "method " + c.getSimpleName() + "." + injectable.getName() + "()";
        if (injected(injectable)) {
          for (Type parameter : injectable.getGenericParameterTypes()) {
            if (mentionsServletResponse(parameter)) {
              return Optional.of(description);
            }
          }
        }
        if (injectable.getParameterCount() == 1 && injectable.isAnnotationPresent(BeanParam.class)) {
          Optional<String> found = inClass(injectable.getParameterTypes()[0], seen);
          if (found.isPresent()) {
            return Optional.of(description + " (@BeanParam, " + found.get() + ")");
          }
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Where a field or constructor parameter receives the servlet response: itself, if injected (a
   * constructor parameter always is, {@code always}) and of such a type, or its {@code @BeanParam}
   * class.
   */
  private static Optional<String> inMember(
      AnnotatedElement member, Type genericType, Class<?> type, Set<Class<?>> seen, String description,
      boolean always) {
    if ((always || injected(member)) && mentionsServletResponse(genericType)) {
      return Optional.of(description);
    }
    if (member.isAnnotationPresent(BeanParam.class)) {
      return inClass(type, seen).map(found -> description + " (@BeanParam, " + found + ")");
    }
    return Optional.empty();
  }

  /** A parameter's type, and its name where the class file keeps it. */
  private static String describe(Parameter parameter) {
    String type = parameter.getParameterizedType().getTypeName();
    return parameter.isNamePresent() ? type + " " + parameter.getName() : type;
  }

  /** Whether the runtime injects into {@code member}: annotated {@code @Context} or {@code @Inject}. */
  private static boolean injected(AnnotatedElement member) {
    if (member.isAnnotationPresent(Context.class)) {
      return true;
    }
    for (Annotation annotation : member.getAnnotations()) {
      if (annotation.annotationType().getName().equals(INJECT)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code type} is a servlet response, or an array of or a type with one as an argument. */
  private static boolean mentionsServletResponse(Type type) {
    if (type instanceof Class<?> c) {
      return c.isArray() ? mentionsServletResponse(c.getComponentType()) : GuardResponseFilter.isA(c, SERVLET_RESPONSE);
    }
    if (type instanceof ParameterizedType p) {
      if (mentionsServletResponse(p.getRawType())) {
        return true;
      }
      for (Type argument : p.getActualTypeArguments()) {
        if (mentionsServletResponse(argument)) {
          return true;
        }
      }
      return false;
    }
    if (type instanceof WildcardType w) {
      for (Type bound : w.getUpperBounds()) {
        if (mentionsServletResponse(bound)) {
          return true;
        }
      }
      return false;
    }
    if (type instanceof GenericArrayType a) {
      return mentionsServletResponse(a.getGenericComponentType());
    }
    return false; // a type variable: nothing a runtime injects
  }
}
