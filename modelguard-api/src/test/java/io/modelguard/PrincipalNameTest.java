package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * A principal's subject, tenant and tier are names people read: whichever authenticator builds
 * one, none may hold a code point that makes it display as another name or not at all.
 */
class PrincipalNameTest {
  private static final Map<String, Function<String, Principal.Builder>> FIELDS = Map.of(
      "subject", name -> Principal.builder(name),
      "tenant", name -> Principal.builder("alice").tenant(name),
      "tier", name -> Principal.builder("alice").tier(name));

  @Test
  void refusesASubjectTenantOrTierThatWouldMislead() {
    for (Map.Entry<String, String> e : MisleadingNames.MISLEADING.entrySet()) {
      for (Map.Entry<String, Function<String, Principal.Builder>> field : FIELDS.entrySet()) {
        Principal.Builder builder = field.getValue().apply(e.getValue());

        assertThatThrownBy(builder::build).as(field.getKey() + " with " + e.getKey())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("Principal." + field.getKey() + " must not contain control, format")
            .hasMessageNotContaining("acme").hasMessageNotContaining("emca");
      }
    }
    assertThatThrownBy(() -> Principal.builder("alice").tenant("acme\u202e").build())
        .hasMessage("Principal.tenant must not contain control, format (bidirectional, zero-width), line or "
            + "paragraph separator, lone surrogate or non-character code points (found U+202E)");
  }

  @Test
  void acceptsOrdinaryNamesOfAnyScriptAsTheyAre() {
    for (String name : MisleadingNames.ORDINARY) {
      Principal p = Principal.builder(name).tenant(name).tier(name).build();

      assertThat(p.subject()).isEqualTo(name);
      assertThat(p.tenant()).isEqualTo(name);
      assertThat(p.tier()).contains(name);
    }
  }

  @Test
  void isDisplaySafeTellsAnAuthenticatorWhatTheBuilderWouldRefuse() {
    for (Map.Entry<String, String> e : MisleadingNames.MISLEADING.entrySet()) {
      assertThat(Principal.isDisplaySafe(e.getValue())).as(e.getKey()).isFalse();
    }
    for (String name : MisleadingNames.ORDINARY) {
      assertThat(Principal.isDisplaySafe(name)).as(name).isTrue();
    }
    assertThat(Principal.isDisplaySafe("\uff4awt:acme")).as("fullwidth letters are displayable").isTrue();
    assertThat(Principal.isDisplaySafe("\ufffd")).as("the replacement character is not a non-character").isTrue();
    assertThat(Principal.isDisplaySafe("\ufdcf\ufdf0")).as("next to the non-characters").isTrue();
  }
}
