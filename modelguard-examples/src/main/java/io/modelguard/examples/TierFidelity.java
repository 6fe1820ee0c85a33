package io.modelguard.examples;

import io.modelguard.ModelOutput;
import io.modelguard.OutputPhase;
import io.modelguard.OutputPolicy;
import io.modelguard.PolicyChain;
import io.modelguard.Principal;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.extraction.KeyedRandom;
import io.modelguard.extraction.NoiseSource;
import io.modelguard.extraction.Perturbation;
import io.modelguard.extraction.Prediction;
import io.modelguard.extraction.PredictionCodec;
import java.util.Optional;

/**
 * How much of an answer each tier sees: tier {@value #FREE_TIER} gets the label and the top {@value
 * #FREE_TOP_K} probabilities (the rest 0, not renormalised); every other tier all of them. One
 * {@link OutputPhase#PERTURB} policy for every model, registered after the extraction defence's, so
 * a flagged client's noise is applied first and the cut second. The label stays the argmax, so the
 * cut never changes it. The answer is rewritten even where the cut keeps every probability, so that,
 * as with more classes, the free tier gets only the label, the probabilities and the model name. A
 * successful answer of a free-tier client that the codec cannot read is
 * withheld ({@code internal.error}), not passed whole; an error body passes as it is.
 */
final class TierFidelity {
  /** The tier whose outputs are reduced to the top probabilities. */
  static final String FREE_TIER = "free";
  /** How many probabilities tier {@value #FREE_TIER} sees. */
  static final int FREE_TOP_K = 3;

  private TierFidelity() {}

  /** Adds the policy to {@code chain} (after any other PERTURB policy added before). */
  static void addTo(PolicyChain.Builder chain) {
    Perturbation topK = Perturbation.topK(FREE_TOP_K, false);
    OutputPolicy policy = context -> {
      boolean free = context.principal().flatMap(Principal::tier).filter(FREE_TIER::equals).isPresent();
      Optional<PredictionCodec> codec = context.endpoint().model().flatMap(ModelCatalog::codec);
      if (!free || codec.isEmpty()) {
        return context.output();
      }
      byte[] body = context.output().body();
      Optional<Prediction> prediction = codec.get().decode(body);
      if (prediction.isEmpty() && context.status() >= 200 && context.status() < 300) {
        // A successful answer the cut cannot read (another layout, a gateway's upstream, say) would
        // leave whole: the policy fails, and the engine withholds it (internal.error).
        throw new IllegalStateException("tier fidelity: the answer is not a prediction the codec reads, so the "
            + "free tier's cut cannot be applied; output withheld");
      }
      if (prediction.isEmpty()) {
        return context.output();
      }
      // Rewritten even when the cut keeps every probability (FREE_TOP_K classes or fewer): the
      // rewrite is what drops the members the codec does not keep (logits, per-class details).
      double[] cut = topK.apply(prediction.get().probabilities(), NO_NOISE);
      return ModelOutput.of(codec.get().encode(body, cut), context.output().contentType().orElse("application/json"));
    };
    chain.output(OutputPhase.PERTURB, "tier-fidelity", policy);
  }

  /** Top-k draws no noise; a source that would be read by mistake fails loudly. */
  private static final NoiseSource NO_NOISE = new NoiseSource() {
    @Override
    public KeyedRandom perQuery() {
      throw new IllegalStateException("the tier's top-k cut draws no noise");
    }

    @Override
    public KeyedRandom perClient() {
      throw new IllegalStateException("the tier's top-k cut draws no noise");
    }
  };
}
