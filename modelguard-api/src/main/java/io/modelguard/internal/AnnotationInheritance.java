package io.modelguard.internal;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
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
   * overrides or implements, neither private nor static: those declared with the same name and
   * parameter types, and those declared with parameters of a type variable that {@code method}
   * implements for a type ({@code predict(T)} of {@code Api<T>}, implemented as {@code
   * predict(String)}), recognised by the bridge method the compiler left in {@code type} or a
   * superclass. {@code method} may be declared by {@code type} or by one of its supertypes.
   *
   * <p>The generic case errs on the side of inclusion: an overload of {@code method}'s name whose
   * parameters also fit the bridged method's is taken for an implementation too (it then takes
   * the supertype's annotations unless it has its own, nearer, ones), so an annotation is never
   * lost, at worst applied to one method more.
   */
  public static List<Method> overrideChain(Method method, Class<?> type) {
    List<Method> chain = new ArrayList<>();
    chain.add(method);
    for (Class<?> c : typeHierarchy(type)) {
      for (Method declared : c.getDeclaredMethods()) {
        if (!declared.equals(method) && !declared.isBridge() && !declared.isSynthetic()
            && declared.getName().equals(method.getName())
            && (declared.getModifiers() & (Modifier.PRIVATE | Modifier.STATIC)) == 0
            && (Arrays.equals(declared.getParameterTypes(), method.getParameterTypes())
                || implementsThroughABridge(method, declared, type))) {
          chain.add(declared);
        }
      }
    }
    return chain;
  }

  /**
   * Whether {@code method} implements {@code declared}, a supertype's method with a type variable
   * among its parameters: every parameter of {@code method} fits the erased one of {@code
   * declared}, and {@code type} or one of its superclasses has the bridge method with {@code
   * declared}'s erased parameters that the compiler writes for such an implementation.
   */
  private static boolean implementsThroughABridge(Method method, Method declared, Class<?> type) {
    Class<?>[] mine = method.getParameterTypes();
    Class<?>[] erased = declared.getParameterTypes();
    if (mine.length != erased.length) {
      return false;
    }
    for (int i = 0; i < mine.length; i++) {
      if (!erased[i].isAssignableFrom(mine[i])) {
        return false;
      }
    }
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      try {
        if (c.getDeclaredMethod(declared.getName(), erased).isBridge()) {
          return true;
        }
      } catch (NoSuchMethodException e) {
        // not in this class
      }
    }
    return false;
  }
}
