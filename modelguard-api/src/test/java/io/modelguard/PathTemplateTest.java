package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PathTemplateTest {
  private final PathTemplate t = PathTemplate.compile("/v1/models/{model}/predict");

  @Test
  void bindsWholeSegmentVariables() {
    assertThat(t.match("/v1/models/digits/predict")).contains(Map.of("model", "digits"));
  }

  @Test
  void refusesPathsThatDoNotMatchExactly() {
    assertThat(t.match("/v1/models/digits/predict/")).isEmpty();
    assertThat(t.match("/v1/models//predict")).isEmpty();
    assertThat(t.match("/v1/models/a/b/predict")).isEmpty();
    assertThat(t.match("/v1/models/digits/predictx")).isEmpty();
    assertThat(t.match("v1/models/digits/predict")).isEmpty();
    assertThat(t.match(null)).isEmpty();
  }

  @Test
  void refusesMalformedTemplates() {
    assertThatThrownBy(() -> PathTemplate.compile("v1/x")).hasMessageContaining("start with '/'");
    assertThatThrownBy(() -> PathTemplate.compile("/v1/{}/x")).hasMessageContaining("empty variable");
    assertThatThrownBy(() -> PathTemplate.compile("/v1/m-{id}")).hasMessageContaining("whole segment");
  }
}
