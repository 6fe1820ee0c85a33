package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Optional;
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

  @Test
  void refusesTemplatesWithAnEmptySegment() {
    for (String template : List.of("/v1/models/{model}/predict/", "/v1//predict", "//", "/v1/x//")) {
      assertThatThrownBy(() -> PathTemplate.compile(template))
          .as(template)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("empty segment")
          .hasMessageContaining(template);
    }
  }

  @Test
  void rootTemplateMatchesOnlyTheRoot() {
    PathTemplate root = PathTemplate.compile("/");
    assertThat(root.matches("/")).isTrue();
    assertThat(root.matches("//")).isFalse();
    assertThat(root.matches("/v1")).isFalse();
  }

  @Test
  void variableAndMatchesAgreeWithMatch() {
    List<PathTemplate> templates = List.of(t, PathTemplate.compile("/"), PathTemplate.compile("/a/{x}/{x}"),
        PathTemplate.compile("/v1/models/{model}"), PathTemplate.compile("/{model}"));
    List<String> paths = List.of("/v1/models/digits/predict", "/v1/models/digits/predict/", "/v1/models//predict",
        "/v1/models/a/b/predict", "/v1/models/digits/predictx", "/v1/models/digits/predic", "/v1/models/digits",
        "v1/models/digits/predict", "/", "//", "", "/a/b/c", "/a//c", "/a/b/", "/digits", "/digits/", "/v1");
    for (PathTemplate template : templates) {
      for (String path : paths) {
        Optional<Map<String, String>> expected = template.match(path);
        assertThat(template.matches(path)).as("%s matches %s", template, path).isEqualTo(expected.isPresent());
        for (String name : List.of("model", "x", "nope")) {
          assertThat(template.variable(path, name)).as("%s binds %s in %s", template, name, path)
              .isEqualTo(expected.map(vars -> vars.get(name)).orElse(null));
        }
      }
    }
    assertThat(t.matches(null)).isFalse();
    assertThat(t.variable(null, "model")).isNull();
  }

  @Test
  void variableTakesTheLastOfARepeatedVariable() {
    assertThat(PathTemplate.compile("/a/{x}/{x}").variable("/a/b/c", "x")).isEqualTo("c");
  }

  @Test
  void aTemplateSaysWhichVariablesItDeclares() {
    PathTemplate template = PathTemplate.compile("/v1/models/{model}/predict");
    assertThat(template.declares("model")).isTrue();
    assertThat(template.declares("predict")).isFalse();
    assertThat(template.declares("models")).isFalse();
    assertThat(PathTemplate.compile("/v1/models").declares("model")).isFalse();
  }

  @Test
  void withoutEmptySegmentsMergesSlashesAndDropsTrailingOnesReturningAPathWithoutAnyAsItIs() {
    String plain = "/v1/models/digits/predict";
    assertThat(PathTemplate.withoutEmptySegments(plain)).isSameAs(plain);
    assertThat(PathTemplate.withoutEmptySegments("/")).isEqualTo("/");
    assertThat(PathTemplate.withoutEmptySegments("/v1/models/digits/predict/")).isEqualTo(plain);
    assertThat(PathTemplate.withoutEmptySegments("//v1///models/digits/predict//")).isEqualTo(plain);
    assertThat(PathTemplate.withoutEmptySegments("//")).isEqualTo("/");
    PathTemplate t = PathTemplate.compile("/v1/models/{model}/predict");
    assertThat(t.variable("/v1/models/digits/predict/", "model")).as("as sent: no match").isNull();
    assertThat(t.variable(PathTemplate.withoutEmptySegments("/v1/models/digits/predict/"), "model")).isEqualTo("digits");
  }

  @Test
  void coversWhatItMatchesEveryPathOf() {
    PathTemplate any = PathTemplate.compile("/v1/models/{model}/predict");
    assertThat(any.covers(PathTemplate.compile("/v1/models/digits/predict"))).isTrue();
    assertThat(any.covers(PathTemplate.compile("/v1/models/{id}/predict"))).as("another name").isTrue();
    assertThat(any.covers(any)).isTrue();
    assertThat(PathTemplate.compile("/v1/models/digits/predict").covers(any)).isFalse();
    assertThat(any.covers(PathTemplate.compile("/v1/{x}/digits/predict"))).as("overlap only").isFalse();
    assertThat(PathTemplate.compile("/v1/{x}/digits/predict").covers(any)).as("overlap only").isFalse();
    assertThat(any.covers(PathTemplate.compile("/v1/models/{model}"))).as("shorter").isFalse();
    assertThat(PathTemplate.compile("/v1/models/{model}").covers(any)).as("longer").isFalse();
    assertThat(PathTemplate.compile("/V1/models/{model}/predict").covers(any)).as("case").isFalse();
    assertThat(PathTemplate.compile("/{x}").covers(PathTemplate.compile("/"))).as("root: no segment to bind").isFalse();
    assertThat(PathTemplate.compile("/").covers(PathTemplate.compile("/"))).isTrue();
    assertThatThrownBy(() -> any.covers(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void coversAgreesWithMatches() {
    // Wherever covers says no, one of these paths is matched by the second template only.
    List<PathTemplate> templates = List.of(PathTemplate.compile("/"), PathTemplate.compile("/{x}"),
        PathTemplate.compile("/a"), PathTemplate.compile("/a/{b}"), PathTemplate.compile("/{a}/b"),
        PathTemplate.compile("/a/b"), PathTemplate.compile("/{a}/{b}"), PathTemplate.compile("/{a}/{a}"));
    List<String> paths = List.of("/", "/a", "/z", "/a/b", "/a/z", "/z/b", "/z/z");
    for (PathTemplate first : templates) {
      for (PathTemplate second : templates) {
        boolean everyPath = paths.stream().allMatch(p -> !second.matches(p) || first.matches(p));
        assertThat(first.covers(second)).as(first + " covers " + second).isEqualTo(everyPath);
      }
    }
  }
}
