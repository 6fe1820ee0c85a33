package io.modelguard.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which filter mappings cover a servlet's mapping or a route, by the Servlet specification's rules. */
class FilterCoverageTest {
  private static FilterCoverage mappedTo(String... patterns) {
    return new FilterCoverage(List.of(patterns), List.of("named"));
  }

  @Test
  void everythingIsCoveredByTheWholeContext() {
    FilterCoverage all = mappedTo("/*");

    assertThat(List.of("/", "", "/predict", "/v1/*", "*.json")).allMatch(all::coversMapping);
    assertThat(all.coversTemplate("/{model}/predict")).isTrue();
  }

  @Test
  void aPrefixCoversWhatLiesBelowItOnly() {
    FilterCoverage v1 = mappedTo("/v1/*");

    assertThat(List.of("/v1", "/v1/predict", "/v1/models/*", "/v1/*")).allMatch(v1::coversMapping);
    assertThat(List.of("/v10/*", "/v2/predict", "/", "", "*.json", "/*")).noneMatch(v1::coversMapping);
    assertThat(v1.coversTemplate("/v1/models/{model}/predict")).isTrue();
    assertThat(v1.coversTemplate("/v1/fixed/predict")).isTrue();
    assertThat(v1.coversTemplate("/{version}/models")).isFalse();
    assertThat(v1.coversTemplate("/v10/{model}")).isFalse();
  }

  @Test
  void exactAndExtensionPatternsCoverOnlyThemselves() {
    FilterCoverage exact = mappedTo("/v1/models/digits/predict", "*.json");

    assertThat(exact.coversMapping("/v1/models/digits/predict")).isTrue();
    assertThat(exact.coversMapping("*.json")).isTrue();
    assertThat(exact.coversMapping("/v1/models/*")).isFalse();
    assertThat(exact.coversTemplate("/v1/models/digits/predict")).isTrue();
    assertThat(exact.coversTemplate("/v1/models/{model}/predict")).isFalse();
  }

  @Test
  void aServletNameMappingCoversThatServlet() {
    assertThat(mappedTo().coversServlet("named")).isTrue();
    assertThat(mappedTo().coversServlet("other")).isFalse();
  }
}
