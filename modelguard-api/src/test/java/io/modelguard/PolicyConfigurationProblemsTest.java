package io.modelguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelguard.extraction.ExtractionDefence;
import io.modelguard.extraction.NoiseKeys;
import io.modelguard.extraction.Perturbation;
import io.modelguard.extraction.PredictionCodec;
import io.modelguard.extraction.QueryEncoder;
import io.modelguard.input.FieldSpec;
import io.modelguard.input.ModelInputPolicy;
import io.modelguard.input.ModelSpec;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Policies are built apart from the engine, so the models and tiers they name are checked against
 * the engine's at {@code build()}: a name that would make a policy silently never apply fails
 * start-up, in the engine's one list of configuration problems.
 */
class PolicyConfigurationProblemsTest {
  private static final QueryEncoder PIXELS = QueryEncoder.jsonNumbers("/pixels");
  private static final int MAX_BODY = 64 * 1024;

  private static ExtractionDefence defenceWithTier(String tier) {
    return ExtractionDefence.builder(NoiseKeys.withSecret(new byte[32]), 10)
        .tierPerturbation(tier, Perturbation.classLabel())
        .build();
  }

  private static ModelGuard.Builder engine() {
    return ModelGuard.builder().auditLog(false)
        .models("digits", "iris")
        .tier(Tier.builder("free").models("digits").build());
  }

  private static Policy allowAll() {
    return context -> GuardDecision.allow();
  }

  @Test
  void refusesARequestPolicyScopedToAnUnregisteredModel() {
    ModelGuard.Builder builder = engine()
        .chain("default", c -> c.policy(Phase.VALIDATE, "digits-only", allowAll().forModels("digts")));

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("chains: chain 'default', policy 'digits-only': forModels names unknown model "
            + "'digts'; register it with models(...)");
  }

  @Test
  void refusesAnOutputPolicyScopedToAnUnregisteredModel() {
    ModelGuard.Builder builder = engine()
        .chain("default", c -> c.output(OutputPhase.OBSERVE, "watch", ((OutputPolicy) ResponseContext::output)
            .forModels("digits", "resnet")));

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("chains: chain 'default', policy 'watch': forModels names unknown model 'resnet'")
        .hasMessageNotContaining("'digits';");
  }

  @Test
  void refusesATierPerturbationForAnUnregisteredTier() {
    ExtractionDefence defence = defenceWithTier("premium");
    ModelGuard.Builder builder = engine()
        .chain("default", c -> c.output(OutputPhase.PERTURB, "extraction-perturb",
            defence.perturbPolicy(PIXELS, PredictionCodec.standard(), MAX_BODY)));

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("chains: chain 'default', policy 'extraction-perturb': ExtractionDefence "
            + "tierPerturbation names unknown tier 'premium'; register it with tier(...)");
  }

  @Test
  void reportsTheWrappedPolicysProblemsThroughForModels() {
    ExtractionDefence defence = defenceWithTier("premium");
    ModelGuard.Builder builder = engine()
        .chain("default", c -> c.output(OutputPhase.PERTURB, "extraction-perturb",
            defence.perturbPolicy(PIXELS, PredictionCodec.standard(), MAX_BODY).forModels("digits")));

    assertThatThrownBy(builder::build)
        .hasMessageContaining("policy 'extraction-perturb': ExtractionDefence tierPerturbation names unknown tier "
            + "'premium'");
  }

  @Test
  void refusesATierPerturbationWhosePerturbPolicyIsInNoChain() {
    // The defence observes and flags, but nothing rewrites the answers: the free tier's reduced
    // fidelity silently never applied.
    ExtractionDefence defence = defenceWithTier("free");
    ModelGuard.Builder builder = engine()
        .chain("default", c -> c
            .policy(Phase.DETECT, "extraction-detect", defence.requestPolicy())
            .output(OutputPhase.OBSERVE, "extraction-observe",
                defence.observePolicy(PIXELS, PredictionCodec.standard(), MAX_BODY).forModels("digits")));

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("chains: chain 'default', policy 'extraction-observe': ExtractionDefence "
            + "tierPerturbation for tier(s) [free] is never applied: its perturbPolicy(...) was never created; add "
            + "it to the chain's PERTURB phase or remove the tierPerturbation")
        .hasMessageNotContaining("extraction-detect");
  }

  @Test
  void buildsADefenceWiredWithItsPerturbPolicyOrWithoutTierPerturbation() {
    ExtractionDefence tiered = defenceWithTier("free");
    ExtractionDefence untiered = ExtractionDefence.builder(NoiseKeys.withSecret(new byte[32]), 10).build();
    ModelGuard guard = engine()
        .chain("default", c -> c
            .output(OutputPhase.OBSERVE, "observe", tiered.observePolicy(PIXELS, PredictionCodec.standard(), MAX_BODY))
            .output(OutputPhase.PERTURB, "perturb", tiered.perturbPolicy(PIXELS, PredictionCodec.standard(), MAX_BODY)))
        .chain("observed", c -> c
            .output(OutputPhase.OBSERVE, "observe", untiered.observePolicy(PIXELS, PredictionCodec.standard(), MAX_BODY)))
        .build();

    assertThat(guard.hasChain("observed")).isTrue();
  }

  @Test
  void refusesAModelSpecForAnUnregisteredModel() {
    ModelInputPolicy input = ModelInputPolicy.of(
        ModelSpec.builder("digit").field("pixels", FieldSpec.numbers(64)).build());
    ModelGuard.Builder builder = engine().chain("default", c -> c.policy(Phase.VALIDATE, "input", input));

    assertThatThrownBy(builder::build)
        .hasMessageContaining("chains: chain 'default', policy 'input': ModelSpec names unknown model 'digit'");
  }

  @Test
  void listsEveryProblemOfEveryChainInOneException() {
    ExtractionDefence defence = defenceWithTier("premium");
    ModelGuard.Builder builder = engine()
        .chain("default", c -> c.policy(Phase.VALIDATE, "scoped", allowAll().forModels("resnet")))
        .chain("extraction", c -> c.output(OutputPhase.PERTURB, "perturb",
            defence.perturbPolicy(PIXELS, PredictionCodec.standard(), MAX_BODY)));

    assertThatThrownBy(builder::build)
        .hasMessageStartingWith("Invalid ModelGuard configuration:\n - ")
        .hasMessageContaining("chain 'default', policy 'scoped': forModels names unknown model 'resnet'")
        .hasMessageContaining("chain 'extraction', policy 'perturb': ExtractionDefence tierPerturbation names "
            + "unknown tier 'premium'");
  }

  @Test
  void buildsWhenEveryNameIsRegistered() {
    ExtractionDefence defence = defenceWithTier("free");
    ModelGuard guard = engine()
        .chain("default", c -> c
            .policy(Phase.VALIDATE, "input", ModelInputPolicy.of(
                ModelSpec.builder("digits").field("pixels", FieldSpec.numbers(64)).build()).forModels("digits"))
            .output(OutputPhase.PERTURB, "extraction-perturb",
                defence.perturbPolicy(PIXELS, PredictionCodec.standard(), MAX_BODY).forModels("digits", "iris")))
        .build();

    assertThat(guard.hasChain("default")).isTrue();
  }

  @Test
  void doesNotCheckNamesTheEngineDoesNotDeclare() {
    // Without registered tiers a principal's tier comes from its credential alone, and without
    // registered models an endpoint's model from its annotation: there is nothing to check against.
    ExtractionDefence defence = defenceWithTier("premium");
    ModelGuard guard = ModelGuard.builder().auditLog(false)
        .chain("default", c -> c
            .policy(Phase.VALIDATE, "scoped", allowAll().forModels("digits"))
            .output(OutputPhase.PERTURB, "extraction-perturb",
                defence.perturbPolicy(PIXELS, PredictionCodec.standard(), MAX_BODY)))
        .build();

    assertThat(guard.hasChain("default")).isTrue();
  }

  @Test
  void configurationNamesOnlyWhatItCanCheck() {
    ModelGuard.Configuration declared = new ModelGuard.Configuration(
        Set.of("digits"), Set.of("free"));
    ModelGuard.Configuration bare = new ModelGuard.Configuration(Set.of(), Set.of());

    assertThat(declared.unknownModels(List.of("iris", "digits", "alpha"))).containsExactly("alpha", "iris");
    assertThat(declared.unknownTiers(List.of("free", "premium"))).containsExactly("premium");
    assertThat(bare.unknownModels(List.of("iris"))).isEmpty();
    assertThat(bare.unknownTiers(List.of("premium"))).isEmpty();
  }
}
