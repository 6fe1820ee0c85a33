package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class EndpointSpecTest {

  @ModelSecured(model = "digits", chain = "class-chain", cost = 2)
  static class Annotated {
    @ModelSecured(model = "{model}", chain = "method-chain", cost = 5)
    public void overridden() {}

    public void inherited() {}
  }

  static class Subclass extends Annotated {}

  static class Plain {
    public void m() {}
  }

  @Test
  void methodAnnotationOverridesTheClassOne() throws Exception {
    EndpointSpec spec = EndpointSpec.forMethod(Annotated.class.getMethod("overridden"), Annotated.class).orElseThrow();
    assertThat(spec.chain()).isEqualTo("method-chain");
    assertThat(spec.cost()).isEqualTo(5);
    assertThat(spec.modelVariable()).contains("model");

    EndpointSpec inherited = EndpointSpec.forMethod(Annotated.class.getMethod("inherited"), Annotated.class).orElseThrow();
    assertThat(inherited.chain()).isEqualTo("class-chain");
    assertThat(inherited.model()).contains("digits");
  }

  /** A composed annotation: looks like a guard, but @ModelSecured is read only where it is written. */
  @ModelSecured(model = "digits", chain = "strict")
  @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
  @interface DigitsSecured {}

  static class ComposedOnMethod {
    @DigitsSecured
    public void predict() {}
  }

  @DigitsSecured
  static class ComposedOnClass {
    public void predict() {}
  }

  static class ComposedOnSuperclass extends ComposedOnClass {}

  @Test
  void aComposedAnnotationIsRefusedRatherThanLeavingItsElementUnguarded() throws Exception {
    assertThatThrownBy(() -> EndpointSpec.forMethod(ComposedOnMethod.class.getMethod("predict"), ComposedOnMethod.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("DigitsSecured").hasMessageContaining("ComposedOnMethod.predict()")
        .hasMessageContaining("put @ModelSecured on");
    assertThatThrownBy(() -> EndpointSpec.forMethod(ComposedOnClass.class.getMethod("predict"), ComposedOnClass.class))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ComposedOnClass");
    assertThatThrownBy(() -> EndpointSpec.forClass(ComposedOnSuperclass.class))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ComposedOnClass");
    assertThat(EndpointSpec.forMethod(Annotated.class.getMethod("overridden"), Annotated.class))
        .as("an element with @ModelSecured itself").isPresent();
  }

  @Test
  void classAnnotationIsFoundOnSuperclasses() {
    assertThat(EndpointSpec.forClass(Subclass.class)).map(EndpointSpec::chain).contains("class-chain");
    assertThat(EndpointSpec.forClass(Plain.class)).isEmpty();
  }

  /** Annotates the method its implementations override. */
  interface GuardedMethodApi {
    @ModelSecured(model = "digits", chain = "interface-method")
    void predict();
  }

  /** Annotated as a whole. */
  @ModelSecured(model = "digits", chain = "interface-type")
  interface GuardedApi {
    void predict();
  }

  /** Extends an annotated interface. */
  interface ExtendedApi extends GuardedApi {}

  abstract static class GuardedBase implements GuardedMethodApi {
    @ModelSecured(model = "digits", chain = "superclass-method")
    public abstract void predict();

    @ModelSecured(model = "digits", chain = "static")
    public static void hidden() {}
  }

  /** Overrides, implements and hides annotated methods without annotations of its own. */
  @ModelSecured(model = "digits", chain = "subclass")
  static class OverridesWithoutAnnotations extends GuardedBase {
    @Override
    public void predict() {}

    public static void hidden() {}
  }

  static class ImplementsAnInterfaceMethod implements GuardedMethodApi {
    @Override
    public void predict() {}
  }

  static class ImplementsAnExtendedApi implements ExtendedApi {
    @Override
    public void predict() {}
  }

  @Test
  void methodAnnotationIsInheritedFromTheNearestOverriddenMethodSuperclassesBeforeInterfaces() throws Exception {
    Class<?> sub = OverridesWithoutAnnotations.class;
    assertThat(EndpointSpec.forMethod(sub.getMethod("predict"), sub)).map(EndpointSpec::chain)
        .contains("superclass-method");
    assertThat(EndpointSpec.forMethod(ImplementsAnInterfaceMethod.class.getMethod("predict"),
        ImplementsAnInterfaceMethod.class)).map(EndpointSpec::chain).contains("interface-method");
    // A static method hides rather than overrides: the class's annotation applies.
    assertThat(EndpointSpec.forMethod(sub.getMethod("hidden"), sub)).map(EndpointSpec::chain).contains("subclass");
  }

  @Test
  void classAnnotationIsFoundOnInterfacesAfterSuperclasses() throws Exception {
    assertThat(EndpointSpec.forClass(ImplementsAnExtendedApi.class)).map(EndpointSpec::chain).contains("interface-type");
    assertThat(EndpointSpec.forMethod(ImplementsAnExtendedApi.class.getMethod("predict"), ImplementsAnExtendedApi.class))
        .map(EndpointSpec::chain).contains("interface-type");
    assertThat(EndpointSpec.forClass(InheritsBothClassAnnotations.class)).map(EndpointSpec::chain).contains("class-chain");
  }

  /** Inherits a class annotation from its superclass and another from its interface. */
  static class InheritsBothClassAnnotations extends Annotated implements GuardedApi {
    @Override
    public void predict() {}
  }

  @Test
  void resolvesTheModelFromPathVariablesAndRefusesHostileIds() {
    EndpointSpec spec = EndpointSpec.of("{model}", "default", 1);

    assertThat(spec.resolve(Map.of("model", "iris")::get).model()).contains("iris");
    assertThat(spec.resolve(Map.<String, String>of()::get).model()).isEmpty();
    assertThat(spec.resolve(Map.of("model", "../admin")::get).model()).isEmpty();
    assertThat(spec.resolve(Map.of("model", "a\r\nSet-Cookie: x")::get).model()).isEmpty();
    assertThat(spec.resolve(Map.of("model", "x".repeat(65))::get).model()).isEmpty();
  }

  @Test
  void refusesInvalidSpecsNamingTheAttribute() {
    assertThatThrownBy(() -> EndpointSpec.of("bad model", "default", 1)).hasMessageContaining("@ModelSecured.model");
    assertThatThrownBy(() -> EndpointSpec.of("digits", " ", 1)).hasMessageContaining("@ModelSecured.chain");
    assertThatThrownBy(() -> EndpointSpec.of("digits", "default", 0)).hasMessageContaining("@ModelSecured.cost");
  }

  @Test
  void modelIdsAreExactlyTheDocumentedCharacterSet() {
    Pattern documented = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    List<String> ids = List.of("digits", "Iris-2.v1_x", "9", "x".repeat(64), "x".repeat(65), "", ".hidden",
        "-x", "_x", "a b", "a/b", "a\u0000", "caf\u00e9", "\u0661", "\uff21bc", "a:b", "a%2e", "A".repeat(63) + ".");
    for (String id : ids) {
      assertThat(Endpoint.isValidModelId(id)).as("'%s'", id).isEqualTo(documented.matcher(id).matches());
    }
    for (char c = 0; c < 0x3000; c++) {
      String id = "a" + c;
      assertThat(Endpoint.isValidModelId(id)).as("'a' + U+%04X", (int) c).isEqualTo(documented.matcher(id).matches());
    }
    assertThat(Endpoint.isValidModelId(null)).isFalse();
  }
}
