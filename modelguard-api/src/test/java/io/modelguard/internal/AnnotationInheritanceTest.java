package io.modelguard.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.EndpointSpec;
import io.modelguard.ModelSecured;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Which supertype methods a method overrides, with generics: an annotation on {@code predict(T)}
 * reaches every typed implementation, and only those.
 */
class AnnotationInheritanceTest {
  /** Declares a guarded method whose parameter is a type variable. */
  public interface Api<T> {
    @ModelSecured(model = "m", chain = "strict")
    String predict(T input);
  }

  /** Implements {@link Api} for strings in the class. */
  public static class Direct implements Api<String> {
    @Override
    public String predict(String input) {
      return input;
    }
  }

  /** Implements {@link Api} for strings through a default method of a typed sub-interface. */
  public interface DefaultStringApi extends Api<String> {
    @Override
    default String predict(String input) {
      return input;
    }
  }

  /** Takes its implementation from the default method. */
  public static class ViaDefault implements DefaultStringApi {}

  /** Has a predict(String) of its own, unrelated to {@link Api}. */
  public static class PlainBase {
    public String predict(String input) {
      return input;
    }
  }

  /** Implements {@link Api} for strings with a method inherited from an unrelated superclass. */
  public static class Inherited extends PlainBase implements Api<String> {}

  /** Passes its type variable on: {@code Mid<U>} is an {@code Api<U>}. */
  public abstract static class Mid<U> implements Api<U> {
    @Override
    public String predict(U input) {
      return String.valueOf(input);
    }
  }

  /** Binds {@link Mid}'s variable two levels down. */
  public static class Leaf extends Mid<String> {}

  /** A generic method and an overload of the same name, each guarded by its own chain. */
  public interface Overloads<T> {
    @ModelSecured(model = "m", chain = "lenient")
    String predict(T input);

    @ModelSecured(model = "m", chain = "strict")
    String predict(String input);
  }

  /** Implements the generic one for integers: its predict(String) is the overload's. */
  public static class OverloadsForIntegers implements Overloads<Integer> {
    @Override
    public String predict(Integer input) {
      return "typed";
    }

    @Override
    public String predict(String input) {
      return input;
    }
  }

  /** Binds Api's variable to String, and is itself generic. */
  public abstract static class StringBase<X> implements Api<String> {}

  /**
   * Extends {@link StringBase} raw: the compiler then sees Api raw too, and predict(Object) is
   * the override (no bridge).
   */
  @SuppressWarnings("rawtypes")
  public static class RawThrough extends StringBase {
    @Override
    public String predict(Object input) {
      return "raw";
    }
  }

  /** Implements {@link Api} for integers, and has an unannotated predict(Number) beside it. */
  public static class LooseOverload implements Api<Integer> {
    @Override
    public String predict(Integer input) {
      return "typed";
    }

    public String predict(Number input) {
      return "loose";
    }
  }

  /** Declares a stricter predict() than the package-private one of its other supertype. */
  public interface StrictApi {
    @ModelSecured(model = "m", chain = "strict")
    String predict();
  }

  /** Cannot override the package-private predict() of a superclass in another package. */
  public static class AcrossPackages extends io.modelguard.internal.elsewhere.PackagePrivateBase implements StrictApi {
    @Override
    public String predict() {
      return "here";
    }
  }

  /** Declares a guarded method with a wide parameter. */
  public interface ScoringApi {
    @ModelSecured(model = "m", chain = "strict")
    String predict(Number input);
  }

  /** Jersey serves its unannotated predict(Integer) with ScoringApi.predict(Number)'s annotations. */
  public static class NarrowerParameter implements ScoringApi {
    @Override
    public String predict(Number input) {
      return "number";
    }

    public String predict(Integer input) {
      return "integer";
    }
  }

  /** Carries annotations for its implementations' predict() on a static method. */
  public interface StaticAnnotated {
    @ModelSecured(model = "m", chain = "strict")
    static String predict() {
      return "static";
    }
  }

  /** The runtimes serve its predict() with the static method's annotations. */
  public static class BesideAStaticMethod implements StaticAnnotated {
    public String predict() {
      return "here";
    }
  }

  private static Optional<String> chain(Class<?> type, Class<?> declaring, Class<?> parameter) throws Exception {
    Class<?>[] parameters = parameter == null ? new Class<?>[0] : new Class<?>[] {parameter};
    return EndpointSpec.forMethod(declaring.getMethod("predict", parameters), type).map(EndpointSpec::chain);
  }

  @Test
  void anAnnotatedGenericMethodReachesEveryTypedImplementation() throws Exception {
    assertThat(chain(Direct.class, Direct.class, String.class)).contains("strict");
    // javac puts the bridge of a default method in the interface, not in the class.
    assertThat(chain(ViaDefault.class, DefaultStringApi.class, String.class)).contains("strict");
    assertThat(chain(Inherited.class, PlainBase.class, String.class)).contains("strict");
    // The runtime may name Mid.predict(Object) (U erased); Leaf binds U to String, as Api's T.
    assertThat(chain(Leaf.class, Mid.class, Object.class)).contains("strict");
  }

  @Test
  void anOverloadTakesItsOwnAnnotationNotTheGenericMethodsOfAnotherType() throws Exception {
    // Only predict(Integer) implements predict(T) here; predict(String) is the overload, whose
    // stricter chain must not give way to the generic method's, whatever the declaration order.
    assertThat(chain(OverloadsForIntegers.class, OverloadsForIntegers.class, String.class)).contains("strict");
    assertThat(chain(OverloadsForIntegers.class, OverloadsForIntegers.class, Integer.class)).contains("lenient");
  }

  @Test
  void aRawSupertypeBindsNothingSoItsMethodsAreOverriddenAtTheirErasure() throws Exception {
    assertThat(chain(RawThrough.class, RawThrough.class, Object.class)).contains("strict");
  }

  @Test
  void aMethodJerseyWouldServeForAGenericOneCarriesItsAnnotationWhenNothingNearerDoes() throws Exception {
    // Jersey takes a bare type variable for any class: it serves predict(Number) for predict(T).
    assertThat(chain(LooseOverload.class, LooseOverload.class, Number.class)).contains("strict");
    // An exact override's annotation comes first (OverloadsForIntegers: predict(String) stays strict).
    assertThat(chain(OverloadsForIntegers.class, OverloadsForIntegers.class, String.class)).contains("strict");
  }

  @Test
  void aPackagePrivateMethodOfAnotherPackageIsNotOverridden() throws Exception {
    assertThat(chain(AcrossPackages.class, AcrossPackages.class, null)).contains("strict");
  }

  @Test
  void methodsARuntimeServesWithAnotherMethodsAnnotationsCarryItsGuardToo() throws Exception {
    assertThat(chain(NarrowerParameter.class, NarrowerParameter.class, Integer.class)).contains("strict");
    assertThat(chain(BesideAStaticMethod.class, BesideAStaticMethod.class, null)).contains("strict");
  }
}
