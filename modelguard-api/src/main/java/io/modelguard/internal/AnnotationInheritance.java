package io.modelguard.internal;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where annotations are inherited from, as JAX-RS users expect them to be: Java itself inherits no
 * method annotation and no class annotation from an interface, but JAX-RS runtimes call the
 * concrete override of a method declared (and annotated) in a superclass or an interface. Internal:
 * not part of the public API.
 *
 * <p>The order is the same everywhere, nearest first: the type itself, its superclasses up to (and
 * without) {@code Object}, then its interfaces breadth first (those the type implements, those its
 * superclasses implement, then the interfaces they extend), each once.
 */
public final class AnnotationInheritance {
  private AnnotationInheritance() {}

  /** {@code type}, its superclasses and its interfaces, nearest first (see the class comment). */
  public static List<Class<?>> typeHierarchy(Class<?> type) {
    List<Class<?>> classes = new ArrayList<>();
    Deque<Class<?>> interfaces = new ArrayDeque<>();
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      if (c.isInterface()) {
        interfaces.add(c);
      } else {
        classes.add(c);
        interfaces.addAll(List.of(c.getInterfaces()));
      }
    }
    Set<Class<?>> all = new LinkedHashSet<>(classes);
    while (!interfaces.isEmpty()) {
      Class<?> next = interfaces.poll();
      if (all.add(next)) {
        interfaces.addAll(List.of(next.getInterfaces()));
      }
    }
    return List.copyOf(all);
  }

  /**
   * {@code method}, then the methods of {@code type}'s hierarchy ({@link #typeHierarchy}) that it
   * overrides or implements: those declared with the same name and parameter types, neither private
   * nor static. {@code method} may be declared by {@code type} or by one of its supertypes.
   */
  public static List<Method> overrideChain(Method method, Class<?> type) {
    List<Method> chain = new ArrayList<>();
    chain.add(method);
    for (Class<?> c : typeHierarchy(type)) {
      Method declared;
      try {
        declared = c.getDeclaredMethod(method.getName(), method.getParameterTypes());
      } catch (NoSuchMethodException e) {
        continue;
      }
      if (!declared.equals(method) && !declared.isBridge()
          && (declared.getModifiers() & (Modifier.PRIVATE | Modifier.STATIC)) == 0) {
        chain.add(declared);
      }
    }
    return chain;
  }
}
