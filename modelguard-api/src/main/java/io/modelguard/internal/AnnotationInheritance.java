package io.modelguard.internal;

import java.lang.annotation.Annotation;
import java.lang.reflect.Array;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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

  /**
   * {@code type}, its superclasses and its interfaces, nearest first (see the class comment).
   *
   * @param type the class or interface to start from, or null (then the list is empty)
   * @return {@code type} and its supertypes but {@code Object}: classes first, nearest first, then
   *     interfaces, each once
   */
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
   * overrides or implements, neither private nor static: those of the same name whose parameter
   * types, with the type variables of the hierarchy bound as {@code type} binds them, are {@code
   * method}'s own. So {@code predict(T)} of {@code Api<T>} is implemented by {@code
   * predict(String)} in a class implementing {@code Api<String>} (whether in the class, a
   * superclass or a default method of a sub-interface), and not by an overload {@code
   * predict(String)} of a class implementing {@code Api<Integer>}. A supertype reached raw binds
   * nothing (its variables stand for their erasure), and a package-private method is overridden
   * only from its own package. After those, unless {@code method} has JAX-RS annotations of its own
   * (then runtimes inherit none), come the methods a runtime may take its JAX-RS annotations from
   * ({@link #looselyMatches}); being last, their annotations count only where nothing nearer has
   * one. {@code method} may be declared by {@code type} or by one of its supertypes.
   *
   * @param method the resource method
   * @param type the class the method is invoked on
   * @return {@code method} first, then the methods whose annotations it may inherit, nearest first
   */
  public static List<Method> overrideChain(Method method, Class<?> type) {
    List<Method> chain = new ArrayList<>();
    chain.add(method);
    List<Method> loose = new ArrayList<>();
    boolean inheritsJaxrs = !hasJaxrsAnnotations(method);
    // The method a runtime takes JAX-RS annotations from, searched as Jersey does: type by type,
    // nearest first, in each an exact override before a loose match.
    Method source = null;
    Map<TypeVariable<?>, Type> bindings = typeBindings(type);
    Class<?>[] parameters = resolved(method, bindings);
    for (Class<?> c : typeHierarchy(type)) {
      Method looseSource = null;
      for (Method declared : c.getDeclaredMethods()) {
        if (declared.equals(method) || declared.isBridge() || declared.isSynthetic()
            || !declared.getName().equals(method.getName())
            || (declared.getModifiers() & Modifier.PRIVATE) != 0
            || !inheritable(declared, method)) {
          continue;
        }
        boolean isStatic = (declared.getModifiers() & Modifier.STATIC) != 0;
        if (!isStatic && Arrays.equals(resolved(declared, bindings), parameters)) {
          chain.add(declared);
          if (inheritsJaxrs && source == null && hasJaxrsAnnotations(declared)) {
            source = declared;
          }
        } else if (inheritsJaxrs && (!isStatic || c.isInterface()) && looselyMatches(declared, parameters, bindings)) {
          loose.add(declared);
          if (looseSource == null && hasJaxrsAnnotations(declared)) {
            looseSource = declared;
          }
        }
      }
      if (inheritsJaxrs && source == null && looseSource != null) {
        source = looseSource;
      }
    }
    if (source == null) {
      // No JAX-RS annotation anywhere along (or the method has its own): every loose match, last.
      if (inheritsJaxrs) {
        chain.addAll(loose);
      }
    } else if (!chain.contains(source)) {
      // The runtime serves the method with a loose match's annotations: that one, last.
      chain.add(source);
    }
    return chain;
  }

  /**
   * Whether {@code method} carries a JAX-RS annotation of its own, on itself or a parameter: then
   * the runtimes inherit none from supertypes, and serve it for no other method.
   */
  private static boolean hasJaxrsAnnotations(Method method) {
    for (Annotation a : method.getAnnotations()) {
      if (isJaxrs(a)) {
        return true;
      }
    }
    for (Annotation[] parameter : method.getParameterAnnotations()) {
      for (Annotation a : parameter) {
        if (isJaxrs(a)) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean isJaxrs(Annotation a) {
    String name = a.annotationType().getName();
    return name.startsWith("jakarta.ws.rs.") || name.startsWith("javax.ws.rs.");
  }

  /**
   * Whether {@code declared} can be overridden by {@code method} at all: a package-private method
   * only from its own package.
   */
  private static boolean inheritable(Method declared, Method method) {
    boolean packagePrivate = (declared.getModifiers() & (Modifier.PUBLIC | Modifier.PROTECTED | Modifier.PRIVATE)) == 0;
    return !packagePrivate
        || declared.getDeclaringClass().getPackageName().equals(method.getDeclaringClass().getPackageName());
  }

  /**
   * Whether {@code declared} matches parameters as Jersey matches a resource method's
   * implementation to the method it takes JAX-RS annotations from: each parameter the same class, a
   * subclass of {@code declared}'s, or, in {@code declared}, a type variable, whatever it is bound
   * to. Jersey serves {@code predict(Number)} for an annotated {@code predict(T)} of {@code
   * Api<Integer>}, {@code score(Integer)} for an annotated {@code score(Number)}, and a class's
   * {@code predict()} for an annotated static {@code predict()} of its interface; the chain must
   * then carry that method's annotations too.
   */
  private static boolean looselyMatches(Method declared, Class<?>[] parameters, Map<TypeVariable<?>, Type> bindings) {
    Type[] generic = declared.getGenericParameterTypes();
    if (generic.length != parameters.length) {
      return false;
    }
    for (int i = 0; i < generic.length; i++) {
      if (!(generic[i] instanceof TypeVariable)
          && !resolve(generic[i], bindings, 0).isAssignableFrom(parameters[i])) {
        return false;
      }
    }
    return true;
  }

  /**
   * How {@code type} binds the type variables of its supertypes, directly or through others. A
   * supertype reached raw binds nothing, nor does anything above it: its variables stand for their
   * erasure, as for the compiler.
   */
  private static Map<TypeVariable<?>, Type> typeBindings(Class<?> type) {
    Map<TypeVariable<?>, Type> bindings = new HashMap<>();
    Deque<Class<?>> pending = new ArrayDeque<>(List.of(type));
    Set<Class<?>> seen = new HashSet<>();
    Set<Class<?>> raw = new HashSet<>();
    while (!pending.isEmpty()) {
      Class<?> c = pending.poll();
      if (!seen.add(c)) {
        continue;
      }
      boolean erased = raw.contains(c);
      List<Type> supertypes = new ArrayList<>(List.of(c.getGenericInterfaces()));
      if (c.getGenericSuperclass() != null) {
        supertypes.add(c.getGenericSuperclass());
      }
      for (Type supertype : supertypes) {
        if (supertype instanceof ParameterizedType p && p.getRawType() instanceof Class<?> s) {
          if (erased) {
            raw.add(s);
          } else {
            TypeVariable<?>[] variables = s.getTypeParameters();
            Type[] arguments = p.getActualTypeArguments();
            for (int i = 0; i < variables.length && i < arguments.length; i++) {
              bindings.putIfAbsent(variables[i], arguments[i]);
            }
          }
          pending.add(s);
        } else if (supertype instanceof Class<?> s) {
          if (erased || s.getTypeParameters().length > 0) {
            raw.add(s);
          }
          pending.add(s);
        }
      }
    }
    return bindings;
  }

  /** The classes of {@code method}'s parameters, its type variables bound by {@code bindings}. */
  private static Class<?>[] resolved(Method method, Map<TypeVariable<?>, Type> bindings) {
    Type[] generic = method.getGenericParameterTypes();
    Class<?>[] erased = method.getParameterTypes();
    if (generic.length != erased.length) {
      return erased;
    }
    Class<?>[] classes = new Class<?>[generic.length];
    for (int i = 0; i < generic.length; i++) {
      classes[i] = resolve(generic[i], bindings, 0);
    }
    return classes;
  }

  /**
   * The class {@code t} stands for: a type variable by its binding, else by its first bound (its
   * erasure, as for a raw supertype or a method's own type variable).
   */
  private static Class<?> resolve(Type t, Map<TypeVariable<?>, Type> bindings, int depth) {
    if (depth > 64) {
      return Object.class;
    }
    if (t instanceof Class<?> c) {
      return c;
    }
    if (t instanceof ParameterizedType p) {
      return resolve(p.getRawType(), bindings, depth + 1);
    }
    if (t instanceof GenericArrayType a) {
      return Array.newInstance(resolve(a.getGenericComponentType(), bindings, depth + 1), 0).getClass();
    }
    if (t instanceof WildcardType w) {
      return resolve(w.getUpperBounds()[0], bindings, depth + 1);
    }
    if (t instanceof TypeVariable<?> v) {
      Type bound = bindings.get(v);
      return resolve(bound != null ? bound : v.getBounds()[0], bindings, depth + 1);
    }
    return Object.class;
  }
}
