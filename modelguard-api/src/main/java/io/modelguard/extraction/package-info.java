/**
 * Model-extraction defence: detectors that watch each client's stream of (query, prediction) pairs,
 * one risk state per client with graduated responses, and output perturbations.
 *
 * <ul>
 *   <li>{@link io.modelguard.extraction.QueryEncoder} turns a request into features; {@link
 *       io.modelguard.extraction.PredictionCodec} finds and rewrites the probabilities in a JSON
 *       response.
 *   <li>{@link io.modelguard.extraction.ExtractionDetector} is the detector SPI, implemented by
 *       {@link io.modelguard.extraction.PradaDetector} (with {@link
 *       io.modelguard.extraction.ShapiroWilk}), {@link io.modelguard.extraction.KnnDetector},
 *       {@link io.modelguard.extraction.HashingDetector} and {@link
 *       io.modelguard.extraction.CoverageMonitor}.
 *   <li>{@link io.modelguard.extraction.ExtractionDefence} folds the detectors into a per-client
 *       {@link io.modelguard.extraction.RiskLevel} and exposes a DETECT-phase policy and OBSERVE /
 *       PERTURB output policies; given a {@link io.modelguard.extraction.RiskExchange}, the
 *       levels it raises hold on the other instances' defences too ({@link
 *       io.modelguard.extraction.RiskRaise} is what is shared).
 *   <li>{@link io.modelguard.extraction.Perturbation} implements ART's output defences and
 *       misinformation; all randomness is keyed by {@link io.modelguard.extraction.NoiseKeys}, so
 *       repeating a query never yields fresh noise to average away, and (half keyed by the input's
 *       neighbourhood) slight variations of it can average away only half of it.
 * </ul>
 *
 * <p>What no detector can do: attackers who query with natural data or uniform random points look
 * like customers; only quotas and the fidelity of a tier's outputs (label only, top-k) bound them.
 */
package io.modelguard.extraction;
