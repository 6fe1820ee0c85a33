package io.modelguard.extraction;

import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.OutputPhase;
import io.modelguard.Phase;
import io.modelguard.Principal;
import io.modelguard.Tier;

/** Engines the extraction review tests drive: one chain with a defence's steps, one principal. */
final class ExtractionChains {
  private ExtractionChains() {}

  /**
   * An engine for the model {@code digits}, tiers {@code free}, {@code gold} and {@code noisy}
   * granting it, and one chain: every request authenticated as {@code mallory} of {@code tier}, then
   * {@code defence}'s DETECT, OBSERVE and PERTURB steps reading the query's numbers at {@code /x}
   * with the standard codec, up to {@code cap} bytes.
   */
  static ModelGuard guard(ExtractionDefence defence, String tier, int cap) {
    QueryEncoder x = QueryEncoder.jsonNumbers("/x");
    return ModelGuard.builder().auditLog(false).models("digits")
        .tier(Tier.builder("free").models("digits").build())
        .tier(Tier.builder("gold").models("digits").build())
        .tier(Tier.builder("noisy").models("digits").build())
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "token", ctx -> GuardDecision.authenticated(
                Principal.builder("mallory").tier(tier).build()))
            .policy(Phase.DETECT, "extraction-detect", defence.requestPolicy())
            .output(OutputPhase.OBSERVE, "extraction-observe", defence.observePolicy(x, PredictionCodec.standard(), cap))
            .output(OutputPhase.PERTURB, "extraction-perturb", defence.perturbPolicy(x, PredictionCodec.standard(), cap)))
        .build();
  }
}
