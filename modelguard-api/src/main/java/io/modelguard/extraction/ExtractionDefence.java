package io.modelguard.extraction;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.modelguard.CappedBody;
import io.modelguard.GuardDecision;
import io.modelguard.InferenceRequest;
import io.modelguard.ModelGuard;
import io.modelguard.ModelOutput;
import io.modelguard.OutputPolicy;
import io.modelguard.OutputWithheldException;
import io.modelguard.Policy;
import io.modelguard.Principal;
import io.modelguard.ReasonCode;
import io.modelguard.ResponseContext;
import io.modelguard.event.ExtractionDetectionEvent;
import io.modelguard.input.RequestAttributes;
import io.modelguard.internal.KeyText;
import io.modelguard.internal.LogPace;
import io.modelguard.internal.LogText;
import io.modelguard.quota.QuotaKey;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The extraction defence of one model: detectors folded into one risk state per client, and the
 * graduated response it drives — observe → stronger perturbation → keyed misinformation →
 * throttle → block. A detector flag adds its weight to the client's score; the score decays
 * exponentially with {@link Builder#halfLife}; the level is the highest whose threshold the score
 * reaches. Exact repeats of a client's recent queries are recognised first and never reach the
 * detectors (retries are not attacks), and all noise is keyed, so a repeat gets the same answer.
 * Gaussian noise is half keyed by the input's neighbourhood and half by its exact bits ({@link
 * Builder#noiseRadius}): a client sending many slight variations of one input (a pixel nudged, a
 * feature's last digits changed) can average away only the exact half (the neighbourhood half
 * takes at most 16 draws over all the variations within a ball of that radius), and two inputs of
 * one neighbourhood still differ by noise.
 *
 * <p>Keys: the noise is keyed by the client and the input, not by the model, so two defences built
 * from one {@link NoiseKeys} add the same noise to a client's same input, and the difference of
 * two related models' answers (v1 and v2 of one model) is their exact difference. Build each
 * model's defence from keys {@link NoiseKeys#derive derived} under its own name; a second defence
 * built on keys that were not derived logs a warning ({@link Builder#build}).
 *
 * <p>Wiring into a chain (DETECT before the model, OBSERVE and PERTURB after it):
 *
 * <pre>{@code
 * NoiseKeys keys = NoiseKeys.withSecret(secret);
 * ExtractionDefence defence = ExtractionDefence.builder(keys.derive("digits"), 10) // one per model
 *     .clock(clock)
 *     .detector(PradaDetector.builder(10).build(), 2)
 *     .detector(CoverageMonitor.of(1_000, 0.2), 1.25, RiskLevel.PERTURB) // never past PERTURB
 *     .tierPerturbation("free", Perturbation.classLabel())
 *     .build();
 * QueryEncoder encoder = QueryEncoder.jsonNumbers("/pixels");
 * PredictionCodec codec = PredictionCodec.standard().keeping("/model"); // rewrites drop all else
 * chain.policy(Phase.DETECT, "extraction-detect", defence.requestPolicy())
 *      .output(OutputPhase.OBSERVE, "extraction-observe", defence.observePolicy(encoder, codec, 64 * 1024))
 *      .output(OutputPhase.PERTURB, "extraction-perturb", defence.perturbPolicy(encoder, codec, 64 * 1024));
 * }</pre>
 *
 * <p>Memory: client states are weighed by their upper bound and kept under {@link
 * Builder#maxTotalBytes} in total (Caffeine W-TinyLFU eviction; idle ones expire after {@link
 * Builder#idleExpiry}); each is bounded by its detectors' bounds plus the duplicate window, its
 * key and its cache entry; see {@link #retainedBytes(String)}. Per-query cost is bounded too:
 * inputs above 64 features are reduced by a keyed random projection ({@link Builder#projection}),
 * and every detector's work is bounded whatever the client's history length. Thread-safe; each
 * client's state is updated under its own lock.
 *
 * <p>Refused queries: the detectors compare a client's inputs with each other, so a client's input
 * length (after the projection) is fixed by its first observed query. A query of another length, a
 * query with a feature that is not a number within float range (the detectors store floats and sum
 * squared distances, which such a feature would overflow), and a new client whose state for its
 * input length, with its key, would not fit in {@link Builder#maxTotalBytes} (with the projection
 * off, or with a key near the limit's size), are <em>refused</em>: they reach no detector, are not
 * counted or remembered as seen, and change no state ({@link Assessment#refused}). The {@link #observePolicy} then withholds the answer, as for
 * an input it cannot read: otherwise such queries would hide a stream from the detectors. A model
 * taking inputs of several lengths needs an encoder that gives one length.
 *
 * <p>Clients: the policies key a request by its principal's tenant and subject ({@code
 * p:<tenant>:<subject>}), or by its tenant alone with {@link Builder#clientScope} {@link
 * ClientScope#TENANT} (for tenants that mint keys or subjects themselves, whose extraction spread
 * over many keys is otherwise never seen as one), and an unauthenticated request by its address.
 *
 * <p>Events: wired into a chain, each query on which a detector fires is published to the engine's
 * {@link io.modelguard.event.GuardListener}s as an {@link ExtractionDetectionEvent} (client,
 * subject, tenant, model, previous and new level, detectors, score), so audit logs and metrics
 * see detections like every other decision. {@link Builder#listener} remains for in-process use
 * without an engine, and is the one hook that also learns of levels raised here by other
 * instances' raises ({@link ExtractionEvent.Source#EXCHANGE}).
 *
 * <p>Instances: by default each defence judges only the queries its JVM sees. Given a {@link
 * RiskExchange} ({@link Builder#exchange}), a level a query raises here is raised on every other
 * instance's defence of the same label, and theirs here; the detectors' histories stay apart. A
 * defence that is replaced (a configuration reloaded) is {@link #close closed}, so that it leaves
 * its exchange.
 */
public final class ExtractionDefence implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ExtractionDefence.class);
  /**
   * How an unauthenticated request's client key starts ({@link QuotaKey#forAddress}), in either
   * {@link ClientScope}: a received raise of such a key is taken whatever its publisher's scope.
   */
  static final String ADDRESS_KEY_PREFIX = "a:";
  /** The request attribute under which a request's encoded features are remembered (internal). */
  static final String FEATURES_ATTRIBUTE = "io.modelguard.extraction.features";
  /**
   * The longest input whose projection layout is kept as a table (at most about 1 MiB retained);
   * longer ones are projected streaming, to the same values, so no client's input size decides
   * what is built or kept.
   */
  static final int MAX_PROJECTION_TABLE_INPUTS = 1 << 16;
  /**
   * An upper bound of what the client cache spends on one entry besides its key and the client's
   * state: Caffeine's node (key, value, access time, two access-order links, three ints), the
   * ConcurrentHashMap node under it (hash, key, value, next), the entry's share of that map's
   * table (under 8/3 slots: the table doubles when three quarters full) and of Caffeine's
   * frequency sketch (at most two longs: its table is the entry count rounded up to a power of
   * two). Charged as objects of twice and once four references, which covers the 96 and 64 bytes
   * the two nodes take at 32-byte alignment without compressed references; DetectorMemoryBoundTest
   * measures the cache's entries against it.
   */
  static final long CACHE_ENTRY_BYTES = HeapBytes.object(8L * HeapBytes.REFERENCE)
      + HeapBytes.object(4L * HeapBytes.REFERENCE) + 3L * HeapBytes.REFERENCE + 2 * 8;

  private final NoiseKeys keys;
  private final int classes;
  private final Clock clock;
  private final List<ExtractionDetector> detectors;
  private final double[] weights;
  /**
   * Per detector, the score its flags never raise the client's past (just below the threshold of
   * the first level above its ceiling); +∞ for a detector without a ceiling.
   */
  private final double[] caps;
  /** {@link RiskLevel#values()}, once: each query reads the level several times. */
  private static final RiskLevel[] LEVELS = RiskLevel.values();
  /** The score at which each level starts, by ordinal; NaN where a level has none. */
  private final double[] levelThresholds;
  private final EnumMap<RiskLevel, Perturbation> levelPerturbations;
  private final Map<String, Perturbation> tierPerturbations;
  /**
   * Whether {@link #perturbPolicy} has been called: without it the tier perturbations reach no
   * answer a chain returns ({@link #observePolicy}'s configuration problems).
   */
  private volatile boolean perturbPolicyCreated;
  private final double halfLifeNanos;
  private final Duration throttleInterval;
  private final int duplicateWindow;
  private final int projectTo;
  /** The width of the noise grid's cells, twice {@link Builder#noiseRadius} (0: exact inputs). */
  private final double noiseCell;
  private final long maxTotalBytes;
  private final long projectionSeed;
  private volatile SparseProjection projection;
  private final ExtractionListener listener;
  private final ClientScope clientScope;
  private final Cache<String, ClientRisk> clients;
  /** The most KiB of client states {@link #clients} keeps: {@link Builder#maxTotalBytes} less the residuals' share. */
  private final long clientBudgetKiB;
  /**
   * The scores of flagged clients whose state was evicted for room, so that a flood of other
   * identities lifts no client's level; weighed in bytes, within {@link Builder#maxTotalBytes}.
   */
  private final Cache<String, Residual> residuals;
  /** The label raises are shared under ({@link Builder#exchange}); null without an exchange. */
  private final String exchangeLabel;
  /** The highest score a received raise gives a client: twice the highest threshold. */
  private final double maxReceivedScore;
  /** Paces the exchange's log lines (a failing exchange, hostile raises); null without an exchange. */
  private final LogPace<String> exchangeLog;
  /**
   * This defence's membership of its exchange: joined by {@link Builder#build}; null without one,
   * and once {@link #close closed}.
   */
  private final AtomicReference<RiskExchange.Member> exchangeMember = new AtomicReference<>();
  /** Received raises dropped for another client scope ({@link #raisesOfAnotherScope}). */
  private final AtomicLong raisesOfAnotherScope = new AtomicLong();

  private ExtractionDefence(Builder b) {
    this.keys = b.keys;
    this.classes = b.classes;
    this.clock = b.clock;
    // A hashing detector's index slots are keyed under the secret, so no client can crowd them.
    long slotK0 = keys.purposeSeed("hashing-index/0");
    long slotK1 = keys.purposeSeed("hashing-index/1");
    this.detectors = b.detectors.stream()
        .map(d -> d instanceof HashingDetector h ? h.keyed(slotK0, slotK1) : d)
        .toList();
    this.weights = b.weights.stream().mapToDouble(Double::doubleValue).toArray();
    this.levelThresholds = new double[LEVELS.length];
    for (RiskLevel l : LEVELS) {
      Double t = b.thresholds.get(l);
      levelThresholds[l.ordinal()] = t == null ? Double.NaN : t; // NaN: no threshold, never reached
    }
    this.caps = new double[b.ceilings.size()];
    for (int i = 0; i < caps.length; i++) {
      RiskLevel ceiling = b.ceilings.get(i);
      double cap = Double.POSITIVE_INFINITY;
      if (ceiling != null) {
        for (RiskLevel l : LEVELS) {
          double t = levelThresholds[l.ordinal()];
          if (l.compareTo(ceiling) > 0 && t < cap) { // false for NaN: a level without a threshold
            cap = Math.nextDown(t);
          }
        }
      }
      caps[i] = cap;
    }
    this.levelPerturbations = new EnumMap<>(b.levelPerturbations);
    this.tierPerturbations = Map.copyOf(b.tierPerturbations);
    this.halfLifeNanos = b.halfLife.toNanos();
    this.throttleInterval = b.throttleInterval;
    this.duplicateWindow = b.duplicateWindow;
    this.projectTo = b.projectTo;
    this.noiseCell = 2 * b.noiseRadius;
    this.maxTotalBytes = b.maxTotalBytes;
    this.projectionSeed = keys.purposeSeed("projection");
    this.listener = b.listener;
    this.clientScope = b.clientScope;
    // A sixteenth of the limit (less where the rest would not hold one client) keeps residuals: at
    // under 300 bytes each for keys of a few dozen characters, some 115,000 under the default limit.
    long oneClient = weightKiB(detectors, duplicateWindow, b.projectTo > 0 ? b.projectTo : 1, entryBytes("")) * 1024;
    long residualBytes = Math.max(0, Math.min(b.maxTotalBytes / 16, b.maxTotalBytes / 1024 * 1024 - oneClient));
    this.clientBudgetKiB = (b.maxTotalBytes - residualBytes) / 1024;
    this.residuals = Caffeine.newBuilder()
        .maximumWeight(residualBytes)
        .weigher((String client, Residual r) -> (int) Math.min(Integer.MAX_VALUE, entryBytes(client) + RESIDUAL_BYTES))
        .expireAfterWrite(b.idleExpiry)
        .executor(Runnable::run)
        .build();
    this.clients = Caffeine.newBuilder()
        .maximumWeight(clientBudgetKiB)
        .weigher((String client, ClientRisk risk) -> risk.weightKiB)
        .evictionListener((String client, ClientRisk risk, RemovalCause cause) -> {
          if (client != null && risk != null) {
            dropped(client, risk, cause == RemovalCause.SIZE);
          }
        })
        .expireAfterAccess(b.idleExpiry)
        .executor(Runnable::run) // evict on the caller's thread (one thread at a time: see maxTotalBytes)
        .build();
    this.exchangeLabel = b.exchangeLabel;
    double highest = 0;
    for (double t : levelThresholds) {
      if (t > highest) { // false for NaN: no threshold
        highest = t;
      }
    }
    this.maxReceivedScore = 2 * highest;
    this.exchangeLog = b.exchange == null ? null : new LogPace<>(log, "per cause");
  }

  /**
   * Starts a defence for a model with {@code classes} outputs; {@code keys} derive the keyed noise
   * (the model's own, {@link NoiseKeys#derive derived} under its name: another defence on the same
   * keys adds the same noise).
   * With no detector added, {@link Builder#build} installs the default set (see {@link
   * Builder#detector}).
   *
   * @param keys the keys of the model's noise; not null
   * @param classes the number of the model's output classes
   * @return a new builder with the defaults
   */
  public static Builder builder(NoiseKeys keys, int classes) {
    return new Builder(keys, classes);
  }

  /**
   * What {@link #observe} concluded about one query.
   *
   * @param level the client's level after the query
   * @param duplicate whether the query repeats one of the client's recent queries (not fed to the
   *     detectors)
   * @param flaggedBy the detectors that flagged the query
   * @param score the client's risk score after the query
   * @param refused whether the query was refused: another input length than the client's first, a
   *     feature outside float range, or a client too large for the memory limit (see the class
   *     documentation); no state changed
   */
  public record Assessment(RiskLevel level, boolean duplicate, List<String> flaggedBy, double score, boolean refused) {}

  /**
   * The request-side decision for {@code client}: deny {@code extraction.blocked} at {@link
   * RiskLevel#BLOCK}, deny {@code quota.exceeded} with a retry-after while throttled (so a throttled
   * client learns nothing it would not learn from a quota), allow otherwise.
   *
   * @param client the client's key
   * @return the decision for the client's next request
   */
  public GuardDecision admit(String client) {
    ClientRisk risk = clients.getIfPresent(client);
    if (risk == null) {
      // A throttled client without its state is admitted once, as a client newly throttled is.
      return residualLevel(client) == RiskLevel.BLOCK ? GuardDecision.deny(ReasonCode.EXTRACTION_BLOCKED) : GuardDecision.allow();
    }
    synchronized (risk) {
      RiskLevel level = risk.level(now());
      if (level == RiskLevel.BLOCK) {
        return GuardDecision.deny(ReasonCode.EXTRACTION_BLOCKED);
      }
      if (level == RiskLevel.THROTTLE) {
        long nowNanos = now();
        long wait = risk.lastAdmitted + throttleInterval.toNanos() - nowNanos;
        if (risk.lastAdmitted != Long.MIN_VALUE && wait > 0) {
          return GuardDecision.deny(ReasonCode.QUOTA_EXCEEDED).withRetryAfter(Duration.ofNanos(wait));
        }
        risk.lastAdmitted = nowNanos;
      }
      return GuardDecision.allow();
    }
  }

  /**
   * Feeds one (features, true prediction) pair of {@code client} to the detectors. Inputs with more
   * features than {@link Builder#projection} are first reduced by the keyed random projection. A
   * query the detectors cannot compare with the client's others is refused without changing any
   * state ({@link Assessment#refused}; see the class documentation); this method does not throw
   * for it.
   *
   * @param client the client's key
   * @param features the query's input features
   * @param prediction the model's true answer to it
   * @return what the detectors concluded, or a refusal
   */
  public Assessment observe(String client, double[] features, Prediction prediction) {
    return assess(client, features, prediction).assessment();
  }

  /**
   * What one observation did: the assessment, the level before it, the client's query count, and
   * why it was refused (null if it was not).
   */
  private record Observation(Assessment assessment, Instant at, RiskLevel previous, long query, String refusal) {}

  private Observation assess(String client, double[] features, Prediction prediction) {
    double[] reduced = reduce(features);
    Instant at = clock.instant();
    long now = nanos(at);
    if (!FeatureRange.storable(reduced)) {
      return refused(clients.getIfPresent(client), at, "the input has a feature that is not a number within float "
          + "range (at most " + Float.MAX_VALUE + " in magnitude), which the detectors cannot measure");
    }
    // Checked once, when the client's state is created: its length is fixed from then on.
    ClientRisk risk = clients.get(client, c -> newClient(c, reduced.length));
    if (risk == null) {
      return refused(null, at, "a client's state for inputs of " + reduced.length + " features, with its key of "
          + client.length() + " characters, can retain up to "
          + (clientBound(detectors, duplicateWindow, reduced.length) + entryBytes(client))
          + " bytes, more than the client states' share (" + clientBudgetKiB * 1024 + " bytes) of extraction.maxTotalBytes ("
          + maxTotalBytes + "), so it could not be kept; raise the "
          + "limit, turn the projection on or shorten the client's key");
    }
    long repeatKey = keys.repeatKey(reduced, features.length);
    List<ExtractionEvent> events = List.of();
    Observation observation;
    double carried;
    synchronized (risk) {
      RiskLevel before = risk.level(now);
      if (reduced.length != risk.dimensions) {
        return refused(risk, at, "the input has " + reduced.length + " features (after the projection) where this "
            + "client's first had " + risk.dimensions + "; the detectors compare inputs of one length, so a model "
            + "taking several lengths needs an encoder that gives one");
      }
      if (risk.seen(repeatKey)) {
        return new Observation(new Assessment(before, true, List.of(), risk.score(now), false), at, before, risk.queries, null);
      }
      long query = risk.queries + 1;
      List<String> flagged = List.of();
      for (int i = 0; i < detectors.size(); i++) {
        if (risk.states[i].observe(reduced, prediction)) {
          if (flagged.isEmpty()) {
            flagged = new ArrayList<>(2);
            events = new ArrayList<>(2);
          }
          flagged.add(detectors.get(i).name());
          risk.add(weights[i], caps[i], now);
          events.add(new ExtractionEvent(at, client, detectors.get(i).name(), before, risk.level(now), query, risk.score(now)));
        }
      }
      // Remembered as seen only once every detector has seen it: a detector that throws fails the
      // query (internal.error), and had the query been remembered first, its retry would pass as a
      // repeat, answered without reaching any detector.
      risk.remember(repeatKey);
      risk.queries = query;
      Assessment assessment = new Assessment(risk.level(now), false, flagged, risk.score(now), false);
      observation = new Observation(assessment, at, before, query, null);
      // The cache dropped this state between the lookup above and this lock (another thread's
      // insertion evicted it), and what it kept of it was read before this query's flags.
      carried = risk.evicted && assessment.level() != RiskLevel.OBSERVE ? assessment.score() : 0;
    }
    if (carried > 0) {
      carryForward(client, carried, now);
    }
    for (ExtractionEvent e : events) {
      publish(e);
    }
    RiskExchange.Member member = exchangeMember.get();
    if (member != null && observation.assessment().level().compareTo(observation.previous()) > 0) {
      share(member, client, observation.assessment().score(), at);
    }
    return observation;
  }

  /**
   * Publishes {@code client}'s raised {@code score} at {@code at} through {@code member}, with this
   * defence's client scope. Never fails the query: a key too long to share, or an exchange that
   * throws, is logged at most once a minute.
   */
  private void share(RiskExchange.Member member, String client, double score, Instant at) {
    if (client.length() > RiskRaise.MAX_CLIENT_LENGTH) {
      exchangeLog.log(Level.WARN, "long-key", clock.millis(), null, "ExtractionDefence '{}': a client's level rose, "
          + "but its key of {} characters is longer than a shared key may be ({}); the raise holds on this instance only",
          exchangeLabel, client.length(), RiskRaise.MAX_CLIENT_LENGTH);
      return;
    }
    try {
      member.publish(new RiskRaise(exchangeLabel, client, score, at, clientScope));
    } catch (RuntimeException e) {
      exchangeLog.log(Level.WARN, "publish/" + e.getClass().getName(), clock.millis(), e,
          "ExtractionDefence '{}': the risk exchange failed to publish a raised level; it holds on this instance only",
          exchangeLabel);
    }
  }

  /**
   * What a raise another instance shared does here: for this defence's label, the client's score is
   * raised to at least the received score (at most {@link #maxReceivedScore}) decayed from its
   * instant (one in the future taken as now: instances' clocks differ) to now, through {@link
   * #carryForward}, whether or not the client's state is here. Never published again. A raise whose
   * decayed score reaches no level changes nothing and keeps nothing. One that raises the client's
   * level here is logged at INFO (at most once a minute, the others at DEBUG) and published to the
   * listener as an {@link ExtractionEvent.Source#EXCHANGE} event: a client refused here for what
   * another instance saw otherwise leaves no trace on this one. A raise from a defence of another
   * client scope is dropped, counted and logged (at most once a minute), unless its client is an
   * address ({@value #ADDRESS_KEY_PREFIX}...), keyed alike in every scope.
   */
  private void received(RiskRaise raise) {
    try {
      if (!exchangeLabel.equals(raise.label())) {
        return; // another model's: one exchange carries them all
      }
      if (raise.scope() != null && raise.scope() != clientScope && !raise.client().startsWith(ADDRESS_KEY_PREFIX)) {
        // Its key names the client as the other scope does, so it could match no client here; kept,
        // it would only fill the residuals, and the instances would silently share nothing. An
        // address's key is the same in either scope (clientOf): that raise is taken.
        raisesOfAnotherScope.incrementAndGet();
        exchangeLog.log(Level.WARN, "scope", clock.millis(), null, "ExtractionDefence '{}': dropped a raise from an "
            + "instance whose defence of this label has clientScope {}, where this one's is {}: their client keys "
            + "differ, so no level is shared between them. Give every instance's defence of a label one clientScope",
            exchangeLabel, raise.scope(), clientScope);
        return;
      }
      Instant now = clock.instant();
      double score = raise.score();
      if (score > maxReceivedScore) {
        exchangeLog.log(Level.WARN, "clamped", clock.millis(), null, "ExtractionDefence '{}': received a raise of "
            + "score {}, above twice the highest threshold; taken as {}", exchangeLabel, score, maxReceivedScore);
        score = maxReceivedScore;
      }
      Instant at = raise.at().isAfter(now) ? now : raise.at();
      Duration elapsed = Duration.between(at, now); // in range for any two instants, unlike their nanos
      double decayed = score * Math.pow(0.5, (elapsed.getSeconds() * 1e9 + elapsed.getNano()) / halfLifeNanos);
      RiskLevel level = levelOf(decayed);
      RiskLevel before = level == RiskLevel.OBSERVE ? null : carryForward(raise.client(), decayed, nanos(now));
      if (before != null) {
        // The key cut and stripped of controls, as the audit log writes it: it came over the wire.
        exchangeLog.log(Level.INFO, "raised", clock.millis(), null, "ExtractionDefence '{}': client {} raised to {} "
            + "by a level another instance shared", exchangeLabel, LogText.oneLine(raise.client(), 256), level);
        publish(new ExtractionEvent(now, raise.client(), ExtractionEvent.EXCHANGE_DETECTOR, before, level, 0, decayed,
            ExtractionEvent.Source.EXCHANGE));
      }
    } catch (RuntimeException e) {
      exchangeLog.log(Level.WARN, "receive/" + e.getClass().getName(), clock.millis(), e,
          "ExtractionDefence '{}': a received raise could not be applied; ignored", exchangeLabel);
    }
  }

  /** An observation that changed nothing: the client's current level and score, if it has a state. */
  private Observation refused(ClientRisk risk, Instant at, String why) {
    if (risk == null) {
      return new Observation(new Assessment(RiskLevel.OBSERVE, false, List.of(), 0, true), at, RiskLevel.OBSERVE, 0, why);
    }
    long now = nanos(at);
    synchronized (risk) {
      RiskLevel level = risk.level(now);
      return new Observation(new Assessment(level, false, List.of(), risk.score(now), true), at, level, risk.queries, why);
    }
  }

  /** {@code features}, or its keyed projection if it has more features than the configured bound. */
  private double[] reduce(double[] features) {
    if (projectTo == 0 || features.length <= projectTo) {
      return features;
    }
    if (features.length > MAX_PROJECTION_TABLE_INPUTS) {
      // No table of a long input's size (about 36 bytes a feature to build, kept outside
      // maxTotalBytes): the same projection, streamed.
      return SparseProjection.applyStreamed(features, projectTo, projectionSeed);
    }
    SparseProjection p = projection;
    if (p != null && p.inputs() == features.length) {
      tableHits++;
      return p.apply(features);
    }
    // One projection per input size is kept: a model takes one size, so this is built once. An
    // input of another length is projected streamed (the same numbers), and the table is rebuilt
    // for its length only once such inputs outnumber those the table served since it was built:
    // inputs alternating between lengths (one client's, or two clients') would otherwise build a
    // table of the input's size on every call.
    if (p != null && (++tableMisses < MIN_MISSES_BEFORE_REBUILD || tableMisses <= tableHits)) {
      return SparseProjection.applyStreamed(features, projectTo, projectionSeed);
    }
    p = new SparseProjection(features.length, projectTo, projectionSeed);
    tableHits = 0;
    tableMisses = 0;
    projection = p;
    return p.apply(features);
  }

  /** How many inputs of another length than the projection table's are streamed before it may be rebuilt. */
  private static final int MIN_MISSES_BEFORE_REBUILD = 16;
  /** Inputs the current projection table served, and inputs of other lengths since it was built (racy counts: a heuristic). */
  private int tableHits;
  private int tableMisses;

  /**
   * The probabilities to return to {@code client} of {@code tier} (nullable) for {@code features}:
   * the risk level's perturbation, then the tier's. Does not update the risk state.
   *
   * @param client the client's key
   * @param tier the client's tier, or null for none
   * @param features the query's input features
   * @param probabilities the model's true probabilities; not changed
   * @return the probabilities to return: a new array, or {@code probabilities} itself if nothing
   *     changed them
   */
  public double[] perturb(String client, String tier, double[] features, double[] probabilities) {
    return perturb(level(client), client, tier, features, probabilities);
  }

  private double[] perturb(RiskLevel level, String client, String tier, double[] features, double[] probabilities) {
    // Keyed on the neighbourhood of what repeat detection compares (the projection of a long
    // input): a query the detectors take for a repeat gets the same noise, and so do most slight
    // variations of it, so near-copies cannot average it away.
    double[] reduced = reduce(features);
    double[] out = levelPerturbations.getOrDefault(level, Perturbation.none())
        .apply(probabilities, keys.source(client, reduced, features.length, levelStage(level), noiseCell));
    Perturbation byTier = tier == null ? null : tierPerturbations.get(tier);
    // The tier's noise is drawn apart from the level's: with one stream, a client replaying its
    // inputs after a level change got the same noise added twice and could cancel it.
    return byTier == null ? out : byTier.apply(out, keys.source(client, reduced, features.length, TIER_STAGE, noiseCell));
  }

  /** The noise stage of the tier's perturbation ({@link NoiseKeys#source(String, double[], int, int, double)}). */
  private static final int TIER_STAGE = 1;

  /**
   * The noise stage of {@code level}'s perturbation: each level draws its own numbers. With one
   * stream for all, a client replaying its inputs after a level change held two answers made with
   * the same draws — N(p + 0.02z) and N(p + 0.06z) for noise of two strengths, which (3·a1 − a2) / 2
   * cancels; and under the defaults the PERTURB noise's Box–Muller radii are the misinformation's
   * exponential confidences. MISINFORM keeps stage 0, the stream all levels shared before.
   */
  private static int levelStage(RiskLevel level) {
    return level == RiskLevel.MISINFORM ? 0 : TIER_STAGE + 1 + level.ordinal();
  }

  /**
   * {@link #observe} then {@link #perturb}: what an in-process caller (or the evaluation) uses.
   *
   * @param client the client's key
   * @param tier the client's tier, or null for none
   * @param features the query's input features
   * @param probabilities the model's true probabilities; not changed
   * @return the probabilities to return: a new array, or {@code probabilities} itself if nothing
   *     changed them
   * @throws IllegalArgumentException if the query is refused ({@link Assessment#refused}): like
   *     {@link #observePolicy}, this gives no answer the detectors did not see
   */
  public double[] answer(String client, String tier, double[] features, double[] probabilities) {
    Observation o = assess(client, features, Prediction.of(probabilities));
    if (o.refusal() != null) {
      throw new IllegalArgumentException("ExtractionDefence refused the query: " + o.refusal());
    }
    return perturb(client, tier, features, probabilities);
  }

  /**
   * The client's current level ({@link RiskLevel#OBSERVE} for an unknown client; for a flagged
   * client whose state was evicted for room, the level its kept score gives).
   *
   * @param client the client's key
   * @return the level now, by the defence's clock
   */
  public RiskLevel level(String client) {
    ClientRisk risk = clients.getIfPresent(client);
    if (risk == null) {
      return residualLevel(client);
    }
    synchronized (risk) {
      return risk.level(now());
    }
  }

  /**
   * How many raises of this defence's label, received through its {@link Builder#exchange}, it
   * dropped because their publisher's defence has another {@link Builder#clientScope} (see {@link
   * RiskRaise}; an address's raise, keyed alike in every scope, is taken and not counted), since
   * it was built: a counter that only grows (for meters). One that grows means
   * the instances sharing this label are configured apart and share no level; each is also logged,
   * at most once a minute. 0 without an exchange.
   *
   * @return the count since the defence was built
   */
  public long raisesOfAnotherScope() {
    return raisesOfAnotherScope.get();
  }

  /**
   * Leaves the {@link Builder#exchange}, if any: its receiver is called no more once this returns,
   * so the exchange holds no reference to this defence, and nothing this defence raises from then
   * on is shared. Call it when the defence is replaced (a configuration reloaded) or shut down;
   * otherwise a rebuilt defence leaves the old one a member of the exchange, receiving every raise
   * and keeping its clients' memory for the exchange's life. Idempotent and safe while queries run:
   * a closed defence still judges the queries it is given (requests in flight on a replaced
   * configuration), on its own, as a defence without an exchange; a raise a query was sharing as
   * the defence closed may still be sent. Does not close the exchange, which the application owns.
   */
  @Override
  public void close() {
    RiskExchange.Member member = exchangeMember.getAndSet(null);
    if (member != null) {
      member.leave();
    }
  }

  /** How many clients' kept scores ({@link Residual}s) there are; for tests. */
  long residuals() {
    residuals.cleanUp();
    return residuals.estimatedSize();
  }

  /** The bytes the kept scores are charged; for tests. */
  long residualBytes() {
    residuals.cleanUp();
    return residuals.policy().eviction().orElseThrow().weightedSize().orElse(0);
  }

  /** The {@code i}-th detector as the defence runs it (hashing detectors keyed under the secret); for tests. */
  ExtractionDetector detector(int i) {
    return detectors.get(i);
  }

  /** The bytes {@code client} is charged against {@link Builder#maxTotalBytes} (0 if unknown). */
  long chargedBytes(String client) {
    ClientRisk risk = clients.getIfPresent(client);
    return risk == null ? 0 : risk.weightKiB * 1024L;
  }

  /**
   * The bytes retained for {@code client}: its state, its key and its entry in the cache of
   * clients (an upper bound; 0 if unknown).
   *
   * @param client the client's key
   * @return the bytes, or 0 for a client without state
   */
  public long retainedBytes(String client) {
    ClientRisk risk = clients.getIfPresent(client);
    if (risk == null) {
      return 0;
    }
    synchronized (risk) {
      long bytes = baseBytes() + risk.entryBytes;
      for (ExtractionDetector.State s : risk.states) {
        bytes += s.retainedBytes();
      }
      return bytes;
    }
  }

  /**
   * A DETECT-phase policy applying {@link #admit} to the request's client.
   *
   * @return a new policy sharing this defence's state
   */
  public Policy requestPolicy() {
    return context -> admit(clientOf(context.request(), context.principal()));
  }

  /**
   * An OBSERVE-phase output policy: encodes the request, decodes the prediction and feeds {@link
   * #observe}. A prediction (an answer the codec reads, whatever its status: a 422's partial scores
   * too) whose request the encoder cannot read (a body over {@code maxBodyBytes}, or one without the
   * features the encoder looks for) is withheld: the policy
   * throws {@link OutputWithheldException}, which the engine answers with {@code internal.error}
   * whatever the step's failure mode (a fail-open step is not skipped for it): otherwise padding a
   * query past the cap would hide it from the detectors. So does a successful
   * answer the codec cannot read to a request whose features it read (an answer in another media
   * type the application negotiates would otherwise hide the query). Answers with neither (not a
   * query of this model: a metadata request) and error answers the codec cannot read pass
   * unchanged. Give {@code maxBodyBytes} at least the model's
   * input limit. A query the defence refuses ({@link Assessment#refused}: another input length
   * than the client's first, a feature outside float range, a client too large for the memory
   * limit) is withheld too, with the reason in the log, and for the same reason: it reaches no detector.
   * Each query on which a detector fires is published to the engine's listeners as an {@link
   * ExtractionDetectionEvent} (besides the {@link Builder#listener} of this defence, if any).
   *
   * <p>Wired into a chain, it makes the engine's {@code build()} refuse a defence with a {@link
   * Builder#tierPerturbation} whose {@link #perturbPolicy} was never created ({@link
   * OutputPolicy#configurationProblems}): those tiers' answers would leave at full fidelity. Only a
   * policy never created is certain to be in no chain; one created but left out of the chains is
   * not detected.
   *
   * @param encoder reads the query's features from the request; not null
   * @param codec reads the prediction from the answer; not null
   * @param maxBodyBytes the most request body bytes the encoder reads, at least the model's input
   *     limit
   * @return a new output policy sharing this defence's state
   */
  public OutputPolicy observePolicy(QueryEncoder encoder, PredictionCodec codec, int maxBodyBytes) {
    Objects.requireNonNull(encoder, "encoder");
    Objects.requireNonNull(codec, "codec");
    checkBodyCap(maxBodyBytes);
    return new OutputPolicy() {
      @Override
      public ModelOutput apply(ResponseContext context) {
        return observed(context, encoder, codec, maxBodyBytes);
      }

      @Override
      public List<String> configurationProblems(ModelGuard.Configuration configuration) {
        if (tierPerturbations.isEmpty() || perturbPolicyCreated) {
          return List.of();
        }
        return List.of("ExtractionDefence tierPerturbation for tier(s) " + new TreeSet<>(tierPerturbations.keySet())
            + " is never applied: its perturbPolicy(...) was never created; add it to the chain's PERTURB phase "
            + "or remove the tierPerturbation");
      }
    };
  }

  /** What {@link #observePolicy} does with one response. */
  private ModelOutput observed(ResponseContext context, QueryEncoder encoder, PredictionCodec codec, int maxBodyBytes) {
    Optional<double[]> features = features(context.request(), encoder, maxBodyBytes);
    Optional<Prediction> prediction = codec.decode(context.output().body());
    if (features.isEmpty() && prediction.isPresent()) {
      // Whatever the status: an error answer can carry the prediction too (a 422's partial scores).
      throw unreadableInput(maxBodyBytes);
    }
    if (features.isPresent() && prediction.isEmpty() && isSuccess(context)) {
      // A query answered in a form the codec does not read (another media type the application
      // negotiates, say) would reach no detector, so the client would never be flagged and never
      // noised.
      throw new OutputWithheldException("ExtractionDefence: the model's answer to a query is not a prediction the "
          + "codec reads, so the query cannot be observed; output withheld");
    }
    if (features.isPresent() && prediction.isPresent()) {
      String client = clientOf(context.request(), context.principal());
      Observation o = assess(client, features.get(), prediction.get());
      if (o.refusal() != null) {
        throw new OutputWithheldException("ExtractionDefence: " + o.refusal() + "; output withheld");
      }
      Assessment a = o.assessment();
      if (!a.flaggedBy().isEmpty()) {
        context.publish(new ExtractionDetectionEvent(
            o.at(), client,
            context.principal().map(Principal::subject).orElse(null),
            context.principal().map(Principal::tenant).orElse(null),
            context.endpoint().model().orElse(null),
            o.previous(), a.level(), a.flaggedBy(), a.score(), o.query()));
      }
    }
    return context.output();
  }

  /**
   * A PERTURB-phase output policy rewriting the probabilities with {@link #perturb}. When a
   * perturbation is due (the client's level or tier has one) and a successful (2xx) answer cannot
   * be rewritten — the request's input or the answer's prediction cannot be read — the policy
   * throws {@link OutputWithheldException} and the engine withholds the answer rather than return
   * the model's exact output, whatever the step's failure mode; so it does for an error answer the
   * codec reads as a prediction (a 422's partial scores) whose request's input cannot be read. Only
   * an error answer holding no prediction the codec reads passes unchanged. In an
   * engine that registers tiers, a {@link Builder#tierPerturbation} naming a tier the engine does
   * not register is refused at the engine's {@code build()} ({@link
   * OutputPolicy#configurationProblems}).
   *
   * @param encoder reads the query's features from the request, for the noise key; not null
   * @param codec reads and rewrites the prediction in the answer; not null
   * @param maxBodyBytes the most request body bytes the encoder reads, at least the model's input
   *     limit
   * @return a new output policy sharing this defence's state
   */
  public OutputPolicy perturbPolicy(QueryEncoder encoder, PredictionCodec codec, int maxBodyBytes) {
    Objects.requireNonNull(encoder, "encoder");
    Objects.requireNonNull(codec, "codec");
    checkBodyCap(maxBodyBytes);
    perturbPolicyCreated = true;
    return new OutputPolicy() {
      @Override
      public ModelOutput apply(ResponseContext context) {
        return perturbed(context, encoder, codec, maxBodyBytes);
      }

      @Override
      public List<String> configurationProblems(ModelGuard.Configuration configuration) {
        List<String> problems = new ArrayList<>();
        for (String tier : configuration.unknownTiers(tierPerturbations.keySet())) {
          problems.add("ExtractionDefence tierPerturbation names unknown tier '" + tier
              + "'; register it with tier(...) or correct the name");
        }
        return problems;
      }
    };
  }

  /** What {@link #perturbPolicy} returns for one response. */
  private ModelOutput perturbed(ResponseContext context, QueryEncoder encoder, PredictionCodec codec, int maxBodyBytes) {
    String client = clientOf(context.request(), context.principal());
    String tier = context.principal().flatMap(Principal::tier).orElse(null);
    RiskLevel level = level(client);
    if (!levelPerturbations.containsKey(level) && (tier == null || !tierPerturbations.containsKey(tier))) {
      // Nothing to apply at this client's level and tier (an unflagged client, the common case):
      // the response leaves as the model wrote it, neither parsed nor re-encoded.
      return context.output();
    }
    Optional<double[]> features = features(context.request(), encoder, maxBodyBytes);
    Optional<PredictionCodec.Decoded> decoded = codec.decodeForRewrite(context.output().body());
    if (features.isEmpty() || decoded.isEmpty()) {
      if (decoded.isEmpty() && !isSuccess(context)) {
        return context.output(); // an error body without a prediction the codec reads
      }
      if (features.isEmpty()) {
        // An error answer the codec reads is a prediction as much as a 2xx one (a 422's partial scores).
        throw unreadableInput(maxBodyBytes);
      }
      throw new OutputWithheldException("ExtractionDefence: the model's answer is not a prediction the codec "
          + "reads, so the perturbation due for this client cannot be applied; output withheld");
    }
    double[] p = perturb(level, client, tier, features.get(), decoded.get().prediction().probabilities());
    return ModelOutput.of(decoded.get().encode(p), rewrittenContentType(context.output().contentType()));
  }

  /**
   * The media type of a rewritten answer: the model's, with a charset it names replaced by UTF-8,
   * which the rewrite is written in (the codec reads UTF-16 and UTF-32 answers too, and a client
   * decoding the UTF-8 rewrite by the model's charset would read garbage); {@code
   * application/json} if the model named none.
   */
  private static String rewrittenContentType(Optional<String> contentType) {
    if (contentType.isEmpty()) {
      return "application/json";
    }
    String[] parts = contentType.get().split(";");
    StringBuilder type = new StringBuilder(parts[0].strip());
    boolean otherCharset = false;
    for (int i = 1; i < parts.length; i++) {
      String parameter = parts[i].strip();
      if (parameter.regionMatches(true, 0, "charset=", 0, "charset=".length())) {
        String name = parameter.substring("charset=".length()).replace("\"", "");
        otherCharset |= !name.equalsIgnoreCase("UTF-8");
      } else if (!parameter.isEmpty()) {
        type.append("; ").append(parameter);
      }
    }
    // Unchanged unless it names another charset: the common answer keeps its header as written.
    return otherCharset ? type.append("; charset=UTF-8").toString() : contentType.get();
  }

  /** Refuses at configuration a cap every request would fail on (and so have its answer withheld). */
  private static void checkBodyCap(int maxBodyBytes) {
    if (maxBodyBytes < 1 || maxBodyBytes > CappedBody.MAX_CAP) {
      throw new IllegalArgumentException("ExtractionDefence policies: maxBodyBytes must be in 1.." + CappedBody.MAX_CAP
          + ", was " + maxBodyBytes);
    }
  }

  private static boolean isSuccess(ResponseContext context) {
    return context.status() >= 200 && context.status() < 300;
  }

  private static OutputWithheldException unreadableInput(int maxBodyBytes) {
    return new OutputWithheldException("ExtractionDefence: the request's input could not be read by the encoder "
        + "(a body over " + maxBodyBytes + " bytes, without the features it looks for, or ambiguous about them), so the query cannot be "
        + "observed or its noise keyed; output withheld. Give the policies at least the model's input limit.");
  }

  /** The client key of a request under this defence's {@link Builder#clientScope}. */
  private String clientOf(InferenceRequest request, Optional<Principal> principal) {
    return clientOf(request, principal, clientScope);
  }

  /**
   * The client key: for a principal, {@code p:<tenant>:<subject>} in {@link ClientScope#PRINCIPAL}
   * scope and {@code t:<tenant>} in {@link ClientScope#TENANT} scope (parts escaped as in a quota
   * key, so one tenant's subject never shares another tenant's state, and the prefixes keep the
   * two forms apart); without one, the remote address's quota key ({@code a:<address>}: an IPv6
   * address reduced to its /64, or to the IPv4 address of the host it stands for (6to4, Teredo,
   * NAT64...), a port dropped, as {@link QuotaKey#forAddress} keys it), so rotating through one's
   * own addresses gives no fresh state.
   */
  static String clientOf(InferenceRequest request, Optional<Principal> principal, ClientScope scope) {
    if (principal.isPresent()) {
      Principal p = principal.get();
      return scope == ClientScope.TENANT
          ? "t:" + KeyText.escape(p.tenant())
          : "p:" + KeyText.escape(p.tenant()) + ":" + KeyText.escape(p.subject());
    }
    return QuotaKey.forAddress(request.remoteAddress().orElse(null)).partition();
  }

  /**
   * The request's features by {@code encoder}. The OBSERVE and PERTURB policies of one request
   * both need them: where the adapter's request carries attributes, the first computes them and
   * the second finds them there (keyed by this encoder and cap), so the body is parsed once.
   */
  private static Optional<double[]> features(InferenceRequest request, QueryEncoder encoder, int maxBodyBytes) {
    RequestAttributes attributes = request instanceof RequestAttributes ? (RequestAttributes) request : null;
    if (attributes != null) {
      Optional<Object> memo = attributes.attribute(FEATURES_ATTRIBUTE);
      if (memo.isPresent() && memo.get() instanceof EncodedFeatures e && e.encoder() == encoder
          && e.maxBodyBytes() == maxBodyBytes) {
        return e.features();
      }
    }
    Optional<double[]> features;
    try {
      features = encoder.encode(request, maxBodyBytes);
    } catch (IOException | RuntimeException e) {
      features = Optional.empty();
    }
    if (attributes != null) {
      attributes.setAttribute(FEATURES_ATTRIBUTE, new EncodedFeatures(encoder, maxBodyBytes, features));
    }
    return features;
  }

  /** A request's features by one encoder, remembered between the output policies of the request. */
  private record EncodedFeatures(QueryEncoder encoder, int maxBodyBytes, Optional<double[]> features) {}

  private void publish(ExtractionEvent e) {
    if (listener == null) {
      return;
    }
    try {
      listener.onEvent(e);
    } catch (RuntimeException ignored) {
      // Detection must never fail a request; the listener's owner logs its own failures.
    }
  }

  private long now() {
    return nanos(clock.instant());
  }

  private static long nanos(Instant i) {
    return i.getEpochSecond() * 1_000_000_000L + i.getNano();
  }

  /** The bytes of a client's state besides its detectors': counters and the duplicate window. */
  private long baseBytes() {
    return baseBytes(detectors.size(), duplicateWindow);
  }

  /**
   * {@link #baseBytes()} for {@code detectors} detectors: the {@link ClientRisk} (three references,
   * the defence's among them, three ints, five longs and doubles, and a boolean), the array of its
   * detectors' states and the duplicate window.
   */
  private static long baseBytes(int detectors, int duplicateWindow) {
    return HeapBytes.object(3L * HeapBytes.REFERENCE + 3 * 4 + 5 * 8 + 1) + HeapBytes.array(detectors, HeapBytes.REFERENCE)
        + LongKeyIndex.retainedBytes(duplicateWindow);
  }

  /** The upper bound of one client's state for inputs of {@code dimensions} features. */
  private static long clientBound(List<ExtractionDetector> detectors, int duplicateWindow, int dimensions) {
    long bound = baseBytes(detectors.size(), duplicateWindow);
    for (ExtractionDetector d : detectors) {
      bound += d.maxRetainedBytes(dimensions);
    }
    return bound;
  }

  /** What keeping the client keyed {@code client} costs besides its state: its key and its cache entry. */
  static long entryBytes(String client) {
    return HeapBytes.string(client) + CACHE_ENTRY_BYTES;
  }

  /**
   * A client's weight in the cache, in KiB: its state's bound and its {@link #entryBytes} rounded
   * up, so the weights bound the bytes.
   */
  private static long weightKiB(List<ExtractionDetector> detectors, int duplicateWindow, int dimensions, long entryBytes) {
    return (clientBound(detectors, duplicateWindow, dimensions) + entryBytes + 1023) / 1024;
  }

  /**
   * A new state for {@code client} with inputs of {@code dimensions} features, or null if it would
   * not fit the limit (Caffeine would evict it at once). Its weight is computed here, once.
   */
  private ClientRisk newClient(String client, int dimensions) {
    long entryBytes = entryBytes(client);
    long weightKiB = weightKiB(detectors, duplicateWindow, dimensions, entryBytes);
    if (weightKiB > clientBudgetKiB) {
      return null;
    }
    ClientRisk risk = new ClientRisk(dimensions, entryBytes, weightKiB);
    Residual kept = residuals.asMap().remove(client);
    if (kept != null) {
      risk.score = kept.score();
      risk.scoreAt = kept.scoreAt();
      long now = now();
      if (risk.level(now) == RiskLevel.THROTTLE) {
        // A state is created by the observation of a query that admit let through without one
        // (a kept score, evicted here or received from another instance): that query was the one
        // a newly throttled client gets, so the next waits the interval.
        risk.lastAdmitted = now;
      }
    }
    return risk;
  }

  /**
   * What is kept of a flagged client evicted for room: its score at {@code scoreAt}, decaying as
   * it would have. Its detectors' histories are gone (they are what takes the room), but not the
   * level they brought it to: otherwise a client, blocked, or its accomplices could flood the
   * cache with a few thousand fresh identities (a few dozen for a model of a thousand classes) and
   * come back unblocked.
   */
  private record Residual(double score, long scoreAt) {}

  /** The bytes of one {@link Residual} (besides its key and cache entry, {@link #entryBytes}). */
  static final long RESIDUAL_BYTES = HeapBytes.object(8 + 8);

  /**
   * Marks {@code risk}, which the cache dropped, so that a query already holding it carries its
   * flags forward ({@link #carryForward}), and keeps its score if it was evicted {@code forRoom}
   * and holds {@code client} above OBSERVE.
   */
  private void dropped(String client, ClientRisk risk, boolean forRoom) {
    long now = now();
    double score;
    synchronized (risk) {
      risk.evicted = true;
      score = risk.score(now);
    }
    if (forRoom && levelOf(score) != RiskLevel.OBSERVE) {
      residuals.put(client, new Residual(score, now));
    }
  }

  /**
   * Keeps {@code score}, reached at {@code now} by a query observed on a state of {@code client}
   * that the cache dropped before the query's flags landed: in the client's current state if it
   * has one, else as its residual, in either case only where it is higher than what is kept.
   * Otherwise a query flagged while another thread's insertion evicted its client (a new client is
   * the likeliest to go) would be answered at its new level and then forgotten. Runs as a
   * computation on the client's cache entry, so no new state can take the residual meanwhile.
   *
   * @return the client's level before, if this raised it (to {@code score}'s level); else null
   */
  private RiskLevel carryForward(String client, double score, long now) {
    RiskLevel to = levelOf(score);
    RiskLevel[] before = {RiskLevel.OBSERVE}; // unless a kept score or a state holds a level already
    clients.asMap().compute(client, (c, current) -> {
      if (current == null) {
        residuals.asMap().merge(c, new Residual(score, now), (kept, fresh) -> {
          double keptNow = decayed(kept.score(), kept.scoreAt(), now);
          before[0] = levelOf(keptNow);
          return keptNow >= score ? kept : fresh;
        });
        return null;
      }
      synchronized (current) {
        before[0] = current.level(now);
        current.raise(score, now);
      }
      return current;
    });
    return to.compareTo(before[0]) > 0 ? before[0] : null;
  }

  /** The level of {@code client}'s kept score; OBSERVE if none is kept. */
  private RiskLevel residualLevel(String client) {
    Residual r = residuals.getIfPresent(client);
    return r == null ? RiskLevel.OBSERVE : levelOf(decayed(r.score(), r.scoreAt(), now()));
  }

  /** {@code score}, set at {@code scoreAt}, decayed to {@code now} by the half-life. */
  private double decayed(double score, long scoreAt, long now) {
    if (score == 0) {
      return 0;
    }
    double elapsed = Math.max(0, now - scoreAt);
    return score * Math.pow(0.5, elapsed / halfLifeNanos);
  }

  /** The highest level whose threshold {@code score} reaches. */
  private RiskLevel levelOf(double score) {
    RiskLevel level = RiskLevel.OBSERVE;
    for (int i = 0; i < LEVELS.length; i++) {
      if (score >= levelThresholds[i]) { // false for NaN: no threshold
        level = LEVELS[i];
      }
    }
    return level;
  }

  private final class ClientRisk {
    final ExtractionDetector.State[] states;
    /** The repeat keys ({@link NoiseKeys#repeatKey}) of the latest {@code duplicateWindow} distinct queries, oldest replaced first. */
    final LongKeyIndex seen;
    int seenNext;
    double score;
    long scoreAt;
    long queries;
    long lastAdmitted = Long.MIN_VALUE;
    /** Whether the cache has dropped this state: a query still holding it carries its flags forward. */
    boolean evicted;
    /** The input length of every query fed to the detectors: no other reaches them. */
    final int dimensions;
    /** The client's key and cache entry ({@link #entryBytes}), counted once, when the client appears. */
    final long entryBytes;
    /**
     * The bound for {@link #dimensions} with {@link #entryBytes}: an upper bound, since no other
     * length reaches the states.
     */
    final int weightKiB;

    ClientRisk(int dimensions, long entryBytes, long weightKiB) {
      this.dimensions = dimensions;
      this.entryBytes = entryBytes;
      this.weightKiB = (int) Math.min(Integer.MAX_VALUE, weightKiB);
      states = new ExtractionDetector.State[detectors.size()];
      for (int i = 0; i < states.length; i++) {
        states[i] = detectors.get(i).newState();
      }
      seen = new LongKeyIndex(duplicateWindow);
    }

    /** Whether {@code repeatKey} is among the latest {@code duplicateWindow} distinct queries. */
    boolean seen(long repeatKey) {
      return seen.contains(repeatKey);
    }

    /** Remembers {@code repeatKey}, not {@link #seen} yet, in place of the oldest remembered one. */
    void remember(long repeatKey) {
      seen.put(seenNext, repeatKey);
      seenNext = (seenNext + 1) % duplicateWindow;
    }

    double score(long now) {
      return decayed(score, scoreAt, now);
    }

    /** Adds {@code weight}, but raises the score no higher than {@code cap} (nor lowers one above it). */
    void add(double weight, double cap, long now) {
      double s = score(now);
      score = s < cap ? Math.min(s + weight, cap) : s;
      scoreAt = now;
    }

    RiskLevel level(long now) {
      return levelOf(score(now));
    }

    /** Raises the score to {@code target} at {@code now}, if it is lower. */
    void raise(double target, long now) {
      if (score(now) < target) {
        score = target;
        scoreAt = now;
      }
    }
  }

  /** Builds an {@link ExtractionDefence}; every setter validates at once. */
  public static final class Builder {
    /** The longest duration whose nanoseconds fit a long. */
    private static final Duration MAX_NANOS = Duration.ofNanos(Long.MAX_VALUE);
    /** The longest {@link #throttleInterval}: 36,500 days (use a block for longer). */
    public static final Duration MAX_THROTTLE_INTERVAL = Duration.ofDays(36_500);

    private final NoiseKeys keys;
    private final int classes;
    private Clock clock = Clock.systemUTC();
    private final List<ExtractionDetector> detectors = new ArrayList<>();
    private final List<Double> weights = new ArrayList<>();
    private final List<RiskLevel> ceilings = new ArrayList<>();
    private final EnumMap<RiskLevel, Double> thresholds = new EnumMap<>(RiskLevel.class);
    private final EnumMap<RiskLevel, Perturbation> levelPerturbations = new EnumMap<>(RiskLevel.class);
    private final Map<String, Perturbation> tierPerturbations = new HashMap<>();
    private Duration halfLife = Duration.ofHours(1);
    private Duration throttleInterval = Duration.ofSeconds(10);
    private Duration idleExpiry = Duration.ofHours(24);
    private long maxTotalBytes = 512L * 1024 * 1024;
    private int duplicateWindow = 1_024;
    private int projectTo = 64;
    private double noiseRadius = 1.0;
    private ExtractionListener listener;
    private ClientScope clientScope = ClientScope.PRINCIPAL;
    private RiskExchange exchange;
    private String exchangeLabel;

    private Builder(NoiseKeys keys, int classes) {
      this.keys = Objects.requireNonNull(keys, "keys");
      if (classes < 2) {
        throw new IllegalArgumentException("extraction.classes must be at least 2, got " + classes);
      }
      this.classes = classes;
      thresholds.put(RiskLevel.PERTURB, 1.0);
      // Below the weight 2 of one PRADA or hashing flag, which the score then decays from at once:
      // at 2 it misinformed for no longer than the instant of the flag. At 1.5, about 25 minutes.
      thresholds.put(RiskLevel.MISINFORM, 1.5);
      thresholds.put(RiskLevel.THROTTLE, 30.0);
      thresholds.put(RiskLevel.BLOCK, 60.0);
      levelPerturbations.put(RiskLevel.PERTURB, Perturbation.gaussianNoise(0.2));
      levelPerturbations.put(RiskLevel.MISINFORM, Perturbation.misinformation());
      levelPerturbations.put(RiskLevel.THROTTLE, Perturbation.misinformation());
      levelPerturbations.put(RiskLevel.BLOCK, Perturbation.misinformation());
    }

    /**
     * The clock for decay and throttling; default the system UTC clock.
     *
     * @param clock the clock; not null
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Adds a detector whose flag adds {@code weight} to the client's score. Without any, the
     * defaults are PRADA (δ 0.9, weight 2: one flag misinforms for about 25 minutes, then perturbs
     * until the score, halving every {@link #halfLife}, falls below 1), Blacklight-style hashing
     * (step 2, window 8, 20 hashes, 18 shared, 200 fingerprints; weight 2) and the coverage monitor (every
     * 1,000 distinct queries, weight 1.25 with the ceiling {@link RiskLevel#PERTURB}: perturb harder
     * only, for about 20 minutes after its latest flag, however many it gives; see {@link
     * #detector(ExtractionDetector, double, RiskLevel)}). Stateful k-NN needs a calibrated
     * threshold, so it is added explicitly ({@link KnnDetector#calibrate}). The hashing step is in
     * input units and suits 0–16 features (digits); for other scales, and for inputs above the
     * {@link #projection} bound (the detectors then see projected features), add the detectors
     * explicitly.
     *
     * @param detector the detector; not null
     * @param weight what one flag adds to the score, at least 0
     * @return this builder
     * @throws IllegalArgumentException if {@code weight} is negative or NaN
     */
    public Builder detector(ExtractionDetector detector, double weight) {
      if (!(weight >= 0)) {
        throw new IllegalArgumentException("extraction.detector weight must be >= 0, got " + weight);
      }
      detectors.add(Objects.requireNonNull(detector, "detector"));
      weights.add(weight);
      ceilings.add(null);
      return this;
    }

    /**
     * Adds a detector whose flag adds {@code weight} to the client's score but never raises it into
     * a level above {@code ceiling} (to just below the lowest threshold above it; a score already
     * there from other detectors is left as it is). Flags add up, so a detector that fires for
     * every heavy user too, such as the {@link CoverageMonitor} (once per so many distinct
     * queries), would otherwise take a busy benign client through misinformation to throttling
     * and blocking by its rate alone. Give it a weight above the ceiling's threshold: the score
     * decays at once, so a weight equal to it holds the level only at the instant of the flag.
     *
     * @param detector the detector; not null
     * @param weight what one flag adds to the score, at least 0
     * @param ceiling the highest level its flags may raise a client into; not null
     * @return this builder
     */
    public Builder detector(ExtractionDetector detector, double weight, RiskLevel ceiling) {
      Objects.requireNonNull(ceiling, "ceiling");
      detector(detector, weight);
      ceilings.set(ceilings.size() - 1, ceiling);
      return this;
    }

    /**
     * The score at which {@code level} starts; defaults PERTURB 1, MISINFORM 1.5, THROTTLE 30, BLOCK
     * 60. The score decays continuously, so a threshold equal to a sum of weights holds only at the
     * instant it is reached: set thresholds below the flags they are meant to follow.
     *
     * @param level a level above {@link RiskLevel#OBSERVE}
     * @param score the threshold, positive
     * @return this builder
     * @throws IllegalArgumentException if {@code level} is {@code OBSERVE} or {@code score} is not
     *     positive
     */
    public Builder threshold(RiskLevel level, double score) {
      if (level == RiskLevel.OBSERVE || !(score > 0)) {
        throw new IllegalArgumentException("extraction.threshold needs a level above OBSERVE and a score > 0");
      }
      thresholds.put(level, score);
      return this;
    }

    /**
     * The perturbation at {@code level}; defaults: none at OBSERVE, keyed Gaussian noise 0.2 at
     * PERTURB, misinformation from MISINFORM up.
     *
     * @param level the level; not null
     * @param perturbation what to apply to the answers at that level; not null
     * @return this builder
     */
    public Builder levelPerturbation(RiskLevel level, Perturbation perturbation) {
      levelPerturbations.put(Objects.requireNonNull(level, "level"), Objects.requireNonNull(perturbation, "perturbation"));
      return this;
    }

    /**
     * The perturbation always applied for principals of tier {@code tier} (after the level's);
     * default none. The tier is the principal's {@link Principal#tier()}; if the engine registers
     * tiers, one it does not register is refused at the engine's {@code build()} (see {@link
     * ExtractionDefence#perturbPolicy}). Only {@link ExtractionDefence#perturbPolicy} applies it to
     * a chain's answers: a defence whose {@link ExtractionDefence#observePolicy} is in a chain but
     * whose perturb policy was never created is refused there too.
     *
     * @param tier the tier name; not null
     * @param perturbation what to apply to that tier's answers; not null
     * @return this builder
     */
    public Builder tierPerturbation(String tier, Perturbation perturbation) {
      tierPerturbations.put(Objects.requireNonNull(tier, "tier"), Objects.requireNonNull(perturbation, "perturbation"));
      return this;
    }

    /**
     * The half-life of a client's risk score; default one hour.
     *
     * @param halfLife the half-life, positive
     * @return this builder
     * @throws IllegalArgumentException if not positive, or longer than {@link Long#MAX_VALUE}
     *     nanoseconds (about 292 years): the decay is computed in nanoseconds
     */
    public Builder halfLife(Duration halfLife) {
      if (halfLife.isNegative() || halfLife.isZero()) {
        throw new IllegalArgumentException("extraction.halfLife must be positive");
      }
      if (halfLife.compareTo(MAX_NANOS) > 0) {
        throw new IllegalArgumentException("extraction.halfLife must be at most " + MAX_NANOS
            + " (Long.MAX_VALUE nanoseconds), got " + halfLife);
      }
      this.halfLife = halfLife;
      return this;
    }

    /**
     * The minimum interval between a throttled client's admitted requests; default 10 s.
     *
     * @param interval the interval, zero (no throttling delay) or more
     * @return this builder
     * @throws IllegalArgumentException if negative or longer than {@link #MAX_THROTTLE_INTERVAL}:
     *     a client's next admission is computed in nanoseconds, which a longer one would overflow
     *     (and so never throttle)
     */
    public Builder throttleInterval(Duration interval) {
      if (interval.isNegative()) {
        throw new IllegalArgumentException("extraction.throttleInterval must not be negative");
      }
      if (interval.compareTo(MAX_THROTTLE_INTERVAL) > 0) {
        throw new IllegalArgumentException("extraction.throttleInterval must be at most " + MAX_THROTTLE_INTERVAL
            + ", got " + interval);
      }
      this.throttleInterval = interval;
      return this;
    }

    /**
     * How long an idle client's state is kept; default 24 h.
     *
     * @param expiry the idle time after which a client is forgotten, positive
     * @return this builder
     * @throws IllegalArgumentException if {@code expiry} is not positive
     */
    public Builder idleExpiry(Duration expiry) {
      if (expiry.isNegative() || expiry.isZero()) {
        throw new IllegalArgumentException("extraction.idleExpiry must be positive");
      }
      this.idleExpiry = expiry;
      return this;
    }

    /**
     * The memory bound of all client states together; default 512 MiB. Each client is weighed by the
     * upper bound of its state for its input size ({@link ExtractionDetector#maxRetainedBytes}) plus
     * its key and its cache entry (a few hundred bytes, and the key's length), and Caffeine's size
     * eviction (W-TinyLFU: rarely seen clients go first) keeps the total under the limit. The
     * budget is one for all clients, so any identities (other tenants' keys, unauthenticated
     * addresses) crowd out each other's histories. An evicted client starts again with a clean
     * history, so size the limit for the number of concurrently active clients; but a flagged one
     * keeps its score (a sixteenth of the limit, less where the rest would not hold one client,
     * keeps the scores of flagged clients evicted for room, under 300 bytes each for keys of a few
     * dozen characters), so flooding the cache with fresh identities lifts no client's level: only
     * a flood of as many flagged identities as that share holds (some 115,000 under the default
     * limit, each flagged and evicted) could. With the default detectors and 10
     * classes a client with a key of ordinary length (a few hundred characters at most) weighs at
     * most 195 KiB whatever its input size (inputs above 64 features are projected, see {@link
     * #projection}), so the default keeps about 2,520 clients. PRADA's share grows with the
     * classes (about 13.4 KiB a class at 64 features: 1.4 MiB a client for 100 classes, 13 MiB for
     * 1,000, when the default keeps 36 clients): for many classes, raise the limit or add PRADA
     * with a smaller {@link PradaDetector.Builder#maxGrowingSetPerClass}.
     *
     * <p>Under concurrent requests the total may pass the limit for a moment: a request thread
     * holds its client's state until its query is assessed, even if the cache evicts it meanwhile,
     * and a thread that finds another running the eviction leaves it to that one. The excess is at
     * most one client's state per request in flight.
     *
     * <p>{@link #build} rejects a limit that cannot hold one client's state for the widest input
     * the detectors can see (its {@link #projection} size): Caffeine would evict every client right
     * after its first query, and the defence would be off. With the projection off the input size
     * is unknown at build time, so {@code build} only requires room for a one-feature client, and a
     * new client whose state for its input length would not fit is refused at its first query (see
     * {@link ExtractionDefence}). Keys are unknown at build time too: {@code build} makes room for
     * the shortest, and a client whose key would take it past the limit is refused the same way.
     *
     * @param bytes the bound in bytes, at least 1,024
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes} is below 1,024
     */
    public Builder maxTotalBytes(long bytes) {
      if (bytes < 1024) {
        throw new IllegalArgumentException("extraction.maxTotalBytes must be at least 1024, got " + bytes);
      }
      this.maxTotalBytes = bytes;
      return this;
    }

    /**
     * How many recent distinct queries per client are remembered to recognise repeats; default 1,024.
     *
     * @param n the number of queries remembered, at least 1
     * @return this builder
     * @throws IllegalArgumentException if {@code n} is below 1
     */
    public Builder duplicateWindow(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("extraction.duplicateWindow must be positive");
      }
      this.duplicateWindow = n;
      return this;
    }

    /**
     * Inputs with more than {@code dimensions} features are reduced to {@code dimensions} by a
     * keyed sparse random projection before duplicate recognition and the detectors; default 64, 0
     * turns it off. This bounds the per-query cost and the memory of a client for any input size
     * (an image's pixels, an embedding). The projection preserves L2 distances to within a small
     * factor with high probability (Johnson–Lindenstrauss), which is what PRADA and k-NN use, and
     * derives from the noise secret, so a client cannot find directions it ignores. It does change
     * what the hashing detector sees (projected coordinates, not pixel windows), and calibrations
     * (k-NN thresholds, the hashing step) must be made on projected inputs; inputs at or below the
     * bound, such as the 64-pixel digits, are used unchanged. Perturbation noise is keyed by the
     * projected input too (its neighbourhood, see {@link #noiseRadius}), so that inputs the repeat
     * check takes for one get the same noise. With the projection off, the memory limit is checked per input length
     * when a client first appears (see {@link #maxTotalBytes}).
     *
     * @param dimensions the projected size, at least 0; 0 turns the projection off
     * @return this builder
     * @throws IllegalArgumentException if {@code dimensions} is negative
     */
    public Builder projection(int dimensions) {
      if (dimensions < 0) {
        throw new IllegalArgumentException("extraction.projection must be >= 0, got " + dimensions);
      }
      this.projectTo = dimensions;
      return this;
    }

    /**
     * The radius, in input units (of the projected input above the {@link #projection} bound),
     * within which a client's queries share their noise; default 1.0, suiting features of 0–16
     * (digits: one pixel nudged by 1 is a distance of 1), like the hashing detector's default step.
     * Set it above the variations that should get the same answer and well below the distance
     * between inputs that should be answered independently; 0 keys the noise by the exact input
     * only.
     *
     * <p>The guarantee: each Gaussian noise value of a query is (a + b)/√2, still standard normal
     * before scaling, where a is drawn from a stream keyed (under the secret) by the client and the
     * input's cell on a grid of width 2 · radius along four secret directions, and b from a stream
     * keyed by the client and the exact input. All of one client's queries within any ball of this
     * radius — wherever an attacker places it, straddling the grid's boundaries included — share at
     * most 16 draws of a, however many variations it sends; an exact repeat gets its answer again.
     * Averaging variations therefore removes at most b and leaves at least a quarter of a's share
     * of the noise (a standard deviation of σ/(4√2) ≈ 0.18 σ or more; measured on digits with one
     * pixel nudged by up to 1: the averages of 200 variations keep 65 % of a single answer's
     * error, against 9 % with exact keying). And since b differs between any two distinct inputs,
     * the answers to two inputs of one cell differ by noise, not by the model's exact difference
     * (keyed by the cell alone, 871 of 1,280 one-pixel finite differences came back within 10 % of
     * the model's local slopes; now none). What remains: the radius is a Euclidean distance, and
     * nudging each of n features by up to δ is a distance of about δ·√(n/3), yet moves each secret
     * coordinate only like δ/√3, so such dense nudges spread over dozens of cells (digits, default
     * radius, every pixel by up to 2: averaging 200 answers keeps 14 % of the error, against 7 %
     * with exact keying); raise the radius to cover the dense nudges the model answers alike.
     * Uniform draws (misinformation's) come from the cell's stream alone: they carry nothing of
     * the model. The cost is O(features) per perturbed query (two keyed hashes), with no state.
     *
     * @param radius the radius, 0 or more and finite
     * @return this builder
     * @throws IllegalArgumentException if {@code radius} is negative, or it or twice it is not finite
     */
    public Builder noiseRadius(double radius) {
      if (!(radius >= 0 && radius <= Double.MAX_VALUE / 2)) { // twice it, the cell, must be finite
        throw new IllegalArgumentException("extraction.noiseRadius must be finite and >= 0, got " + radius);
      }
      this.noiseRadius = radius;
      return this;
    }

    /**
     * Receives one {@link ExtractionEvent} per detector flag, for in-process use without an engine
     * (the evaluation, tests), and one per raise received through the {@link #exchange} that lifts
     * a client's level here ({@link ExtractionEvent.Source#EXCHANGE}, on the exchange's thread);
     * default none. Wired into a chain, {@link ExtractionDefence#observePolicy} also publishes
     * {@link ExtractionDetectionEvent}s to the engine's listeners, which is what audit logs and
     * metrics should consume for detections; received raises reach only this listener.
     *
     * @param listener the listener; not null
     * @return this builder
     */
    public Builder listener(ExtractionListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Whose queries the {@link ExtractionDefence#requestPolicy}, {@link
     * ExtractionDefence#observePolicy} and {@link ExtractionDefence#perturbPolicy} fold into one client (one history for the detectors, one risk level, one noise key); default
     * {@link ClientScope#PRINCIPAL}, each tenant's subject apart. Choose {@link ClientScope#TENANT}
     * where a tenant can mint API keys or subjects itself: per principal, each new key starts a
     * clean history, so an extraction spread over many keys is never seen as one. Unauthenticated
     * requests are keyed by address in either scope. The methods taking a client string ({@link
     * ExtractionDefence#admit}, {@link ExtractionDefence#observe}, {@link ExtractionDefence#perturb})
     * use the string they are given.
     *
     * @param scope the scope; not null
     * @return this builder
     */
    public Builder clientScope(ClientScope scope) {
      this.clientScope = Objects.requireNonNull(scope, "clientScope");
      return this;
    }

    /**
     * Shares the levels this defence raises with the defences of label {@code label} on other
     * instances, through {@code exchange}, and takes theirs; default none (each instance judges
     * alone). Give each model's defence its own label (its name, as for {@link NoiseKeys#derive}):
     * one exchange carries many models' raises, and a defence takes only its label's.
     *
     * <ul>
     *   <li>Sent: when a query raises a client's level (not on every query, so the traffic is
     *       bounded by level changes), the label, the client's key, its score and the instant, by
     *       {@link #clock}. Publishing never blocks or fails the query; a failing exchange, and a
     *       client key longer than {@link RiskRaise#MAX_CLIENT_LENGTH} (not shared), are logged at
     *       most once a minute.
     *   <li>Received: the client's score is raised to at least the received score decayed by the
     *       {@link #halfLife} from its instant to this defence's now (an instant in the future
     *       counts as now, since instances' clocks differ), whether or not its state is here (as
     *       for a client evicted for room: see {@link #maxTotalBytes}), so it is throttled,
     *       blocked or perturbed here as there. A score above twice the highest threshold is
     *       taken as that (logged at most once a minute), so a raise holds a block at most about
     *       one {@link #halfLife} past the threshold; one that has decayed below every threshold
     *       changes nothing. A received raise is never published again, and a defence never
     *       receives its own. One that raises the client's level here is logged at INFO on this
     *       instance, with the client's key and the new level (at most once a minute, the others
     *       at DEBUG), so a client refused here for what another instance saw can be traced, and
     *       published to the {@link #listener} as an {@link ExtractionEvent} of source {@link
     *       ExtractionEvent.Source#EXCHANGE} (on the exchange's thread; no detector fired here).
     *   <li>Scope: a raise carries this defence's {@link #clientScope}, and a defence of another
     *       scope drops it (their keys of one client differ, so it could never match), counting it
     *       ({@link ExtractionDefence#raisesOfAnotherScope}) and logging it at most once a minute:
     *       give every instance's defence of one label the same scope. An unauthenticated client's
     *       raise is taken whatever the scopes: its key, its address's, is the same in both.
     *   <li>Not shared: the detectors' histories (each instance's detectors see the queries it
     *       serves), and later rises of the score within a level. Delivery is best effort: a raise
     *       lost (an exchange disconnected) leaves each instance judging on its own.
     * </ul>
     *
     * The defence joins the exchange at {@link #build} and stays a member until it is {@link
     * ExtractionDefence#close closed}: close a defence that is replaced (a configuration reloaded),
     * or the old one stays a member, receiving raises and holding memory. Closing the defence does
     * not close the exchange. Anyone who can publish on the exchange can raise any client's level.
     *
     * @param exchange the exchange to join; not null
     * @param label this defence's label on the exchange
     * @return this builder
     * @throws IllegalArgumentException if {@code label} is not 1 to {@link RiskRaise#MAX_LABEL_LENGTH}
     *     printable ASCII characters
     */
    public Builder exchange(RiskExchange exchange, String label) {
      Objects.requireNonNull(exchange, "exchange");
      if (!NoiseKeys.isValidLabel(label)) {
        throw new IllegalArgumentException("extraction.exchange label must be 1 to " + RiskRaise.MAX_LABEL_LENGTH
            + " printable ASCII characters, got " + (label == null ? "null" : label.length() + " characters"));
      }
      this.exchange = exchange;
      this.exchangeLabel = label;
      return this;
    }

    /**
     * Builds the defence. The second defence built on one {@link NoiseKeys} that was not {@link
     * NoiseKeys#derive derived} logs one warning (once per such keys): defences on one set of keys
     * add the same noise to a client's same input, so if they guard two models the client reads
     * their exact difference, and if they guard one model each keeps its own history of the
     * client, so each detector sees part of it. A warning, not a refusal: a defence rebuilt on the
     * same keys (a reconfiguration, a test, an evaluation of settings) builds a second one
     * legitimately. Keys derived under a model's name never warn.
     *
     * @return the defence, a member of its exchange if it has one
     * @throws IllegalArgumentException if {@link #maxTotalBytes} cannot hold one client's state for
     *     inputs of the {@link #projection} size (one feature with the projection off)
     */
    public ExtractionDefence build() {
      if (detectors.isEmpty()) {
        detector(PradaDetector.builder(classes).build(), 2);
        detector(HashingDetector.of(2.0, 8, 20, 18, 200), 2);
        // Capped: it fires for every heavy user, and its flags alone must never misinform or block.
        detector(CoverageMonitor.of(1_000, 0.2), 1.25, RiskLevel.PERTURB);
      }
      int widest = projectTo > 0 ? projectTo : 1;
      // Keys are not known yet: room for the shortest one, and a client whose key takes it past
      // the limit is refused at its first query.
      long oneClient = weightKiB(detectors, duplicateWindow, widest, entryBytes("")) * 1024;
      if (maxTotalBytes / 1024 * 1024 < oneClient) {
        throw new IllegalArgumentException("extraction.maxTotalBytes must be at least " + oneClient
            + " bytes, one client's state and cache entry for inputs of " + widest
            + (widest == 1 ? " feature" : " features") + " with these detectors, got " + maxTotalBytes);
      }
      ExtractionDefence defence = new ExtractionDefence(this);
      if (exchange != null) {
        // Joined once built: a raise may arrive at once, on the exchange's thread.
        defence.exchangeMember.set(exchange.join(defence::received));
      }
      if (keys.secondDefenceOnUnderivedKeys()) {
        log.warn("ExtractionDefence: a second defence is built on one NoiseKeys that was not derived per model; "
            + "defences on one NoiseKeys add the same noise to a client's same input, so a client asking two models "
            + "reads their exact difference. Build each model's defence from keys.derive(\"<model name>\"), and "
            + "share one defence between the endpoints of one model (each defence keeps its own client histories)");
      }
      return defence;
    }
  }
}
