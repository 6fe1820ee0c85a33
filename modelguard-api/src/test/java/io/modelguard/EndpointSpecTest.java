package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
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

  @Test
  void classAnnotationIsFoundOnSuperclasses() {
    assertThat(EndpointSpec.forClass(Subclass.class)).map(EndpointSpec::chain).contains("class-chain");
    assertThat(EndpointSpec.forClass(Plain.class)).isEmpty();
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
}
