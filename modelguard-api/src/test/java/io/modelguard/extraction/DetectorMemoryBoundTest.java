package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.openjdk.jol.info.GraphLayout;
import org.openjdk.jol.vm.VM;

/**
 * The detectors' byte bounds, and a client's (its record, key and cache entry), against what they
 * hold on this JVM's heap (measured by JOL): {@link ExtractionDefence} weighs clients by these
 * bounds to keep memory under its limit, so an undercount lets the cache grow past it. Run it also
 * with {@code -DargLine="-XX:ObjectAlignmentInBytes=32 -XX:-UseCompressedOops
 * -XX:-UseCompressedClassPointers"} and {@code -XX:-CompactStrings}.
 */
class DetectorMemoryBoundTest {

  /** The bytes reachable from {@code state}, less its detector's own (a state holds its detector). */
  private static long measured(ExtractionDetector detector, ExtractionDetector.State state) {
    return GraphLayout.parseInstance(state).totalSize() - GraphLayout.parseInstance(detector).totalSize();
  }

  private static void fill(ExtractionDetector detector, ExtractionDetector.State state, int queries, int dimensions) {
    Random random = new Random(5);
    Prediction p = Prediction.of(new double[] {0.2, 0.8});
    for (int q = 0; q < queries; q++) {
      double[] x = new double[dimensions];
      for (int i = 0; i < dimensions; i++) {
        x[i] = random.nextInt(17);
      }
      state.observe(x, p);
    }
  }

  @Test
  void knnBoundCoversAFullBufferOfEveryRowLength() {
    for (int dimensions : new int[] {1, 3, 7, 64}) {
      KnnDetector knn = KnnDetector.of(5, 500, 0.0);
      ExtractionDetector.State state = knn.newState();
      fill(knn, state, 600, dimensions);
      assertThat(knn.maxRetainedBytes(dimensions))
          .as("%d features: bound against measured", dimensions)
          .isGreaterThanOrEqualTo(measured(knn, state))
          .isEqualTo(state.retainedBytes());
    }
  }

  @Test
  void knnBoundIsNotFarAboveWhatAFullBufferHolds() {
    KnnDetector knn = KnnDetector.of(5, 500, 0.0);
    ExtractionDetector.State state = knn.newState();
    fill(knn, state, 600, 64);
    assertThat(knn.maxRetainedBytes(64)).isLessThan(measured(knn, state) * 11 / 10);
  }

  @Test
  void hashingBoundCoversAFullHistory() {
    for (int dimensions : new int[] {3, 64}) {
      HashingDetector hashing = HashingDetector.of(2.0, 8, 20, 18, 200);
      ExtractionDetector.State state = hashing.newState();
      fill(hashing, state, 300, dimensions);
      assertThat(hashing.maxRetainedBytes(dimensions))
          .as("%d features", dimensions)
          .isGreaterThanOrEqualTo(measured(hashing, state));
    }
  }

  /**
   * A client's worst case for PRADA: its first query of every class allocates that class's growing
   * set and distance window at full size (and the first query of all, the sorted pool), so a few
   * rounds over all the classes reach it; the rounds then fill the windows and the pool.
   */
  private static void fillEveryClass(ExtractionDetector.State state, int classes, int rounds, int dimensions) {
    Random random = new Random(5);
    for (int q = 0; q < rounds * classes; q++) {
      double[] x = new double[dimensions];
      for (int i = 0; i < dimensions; i++) {
        x[i] = random.nextInt(17);
      }
      double[] p = new double[classes];
      p[q % classes] = 1;
      state.observe(x, Prediction.of(p));
    }
  }

  @Test
  void pradaBoundCoversEveryClassAtFullSizeForEveryRowLength() {
    for (int classes : new int[] {2, 10}) {
      for (int dimensions : new int[] {1, 3, 7, 64}) {
        PradaDetector prada = PradaDetector.builder(classes).maxGrowingSetPerClass(50).maxDistancesPerClass(50).build();
        ExtractionDetector.State state = prada.newState();
        fillEveryClass(state, classes, 80, dimensions);
        assertThat(prada.maxRetainedBytes(dimensions))
            .as("%d classes, %d features: bound against measured", classes, dimensions)
            .isGreaterThanOrEqualTo(measured(prada, state))
            .isEqualTo(state.retainedBytes());
      }
    }
  }

  @Test
  void pradaBoundIsNotFarAboveWhatAFullStateHolds() {
    PradaDetector prada = PradaDetector.builder(10).build();
    ExtractionDetector.State state = prada.newState();
    fillEveryClass(state, 10, 80, 64);
    assertThat(prada.maxRetainedBytes(64)).isLessThan(measured(prada, state) * 11 / 10);
    // Short rows and few classes, where headers and alignment are most of the bytes.
    PradaDetector small = PradaDetector.builder(2).maxGrowingSetPerClass(1).maxDistancesPerClass(1).build();
    ExtractionDetector.State smallState = small.newState();
    fillEveryClass(smallState, 2, 3, 1);
    assertThat(small.maxRetainedBytes(1)).isLessThan(measured(small, smallState) * 2);
  }

  @Test
  void coverageBoundCoversItsCounters() {
    CoverageMonitor coverage = CoverageMonitor.of(1_000, 0.2);
    ExtractionDetector.State state = coverage.newState();
    fill(coverage, state, 10, 3);
    // An object of two longs and its monitor's reference: a bound that cannot know whether
    // references and class pointers are compressed charges up to 8 bytes more than it holds, which
    // can cost a whole alignment step (32 bytes at 32-byte alignment: twice the 32 it measures), so
    // "not far above" is at most 2x for an object this small.
    assertThat(coverage.maxRetainedBytes(3))
        .isGreaterThanOrEqualTo(measured(coverage, state))
        .isLessThanOrEqualTo(measured(coverage, state) * 2)
        .isEqualTo(state.retainedBytes());
  }

  /** A detector keeping nothing: its state is an object without fields, whose bound is exact. */
  private static final class Stateless implements ExtractionDetector {
    private static final class Empty implements State {
      @Override
      public boolean observe(double[] features, Prediction prediction) {
        return false;
      }

      @Override
      public long retainedBytes() {
        return HeapBytes.object(0);
      }
    }

    @Override
    public String name() {
      return "stateless";
    }

    @Override
    public State newState() {
      return new Empty();
    }

    @Override
    public long maxRetainedBytes(int dimensions) {
      return HeapBytes.object(0);
    }
  }

  @Test
  void aClientsBoundCoversItsOwnStateAndTheArrayOfItsDetectorsStates() throws ReflectiveOperationException {
    // The defence's own part of a client (its counters, the array of detector states, the
    // duplicate window) must be bounded too: with detectors whose bounds are exact, nothing else
    // hides an undercount there. 40 detectors: an array of 40 references.
    ExtractionDefence.Builder builder = ExtractionDefence.builder(NoiseKeys.withSecret(new byte[32]), 2);
    for (int i = 0; i < 40; i++) {
      builder.detector(new Stateless(), 1.0);
    }
    ExtractionDefence defence = builder.build();
    defence.observe("p:t:s", new double[] {1, 2, 3}, Prediction.of(new double[] {0.2, 0.8}));
    long measured = measuredRecord(defence, "p:t:s");
    assertThat(defence.retainedBytes("p:t:s")).isGreaterThanOrEqualTo(measured);
  }

  /**
   * The bytes of {@code client}'s record in {@code defence}: the object itself (not what it reaches:
   * it holds the defence), then its arrays and index.
   */
  private static long measuredRecord(ExtractionDefence defence, String client) throws ReflectiveOperationException {
    Object risk = clientCache(defence).asMap().get(client);
    Field states = risk.getClass().getDeclaredField("states");
    Field seen = risk.getClass().getDeclaredField("seen");
    states.setAccessible(true);
    seen.setAccessible(true);
    return VM.current().sizeOf(risk) + GraphLayout.parseInstance(states.get(risk), seen.get(risk)).totalSize();
  }

  private static Cache<?, ?> clientCache(ExtractionDefence defence) throws ReflectiveOperationException {
    Field clients = ExtractionDefence.class.getDeclaredField("clients");
    clients.setAccessible(true);
    return (Cache<?, ?>) clients.get(defence);
  }

  /** The value of the first field named {@code name} in {@code o}'s class or its superclasses. */
  private static Object field(Object o, String name) throws ReflectiveOperationException {
    for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (f.getName().equals(name)) {
          f.setAccessible(true);
          return f.get(o);
        }
      }
    }
    throw new NoSuchFieldException(name + " in " + o.getClass() + " (Caffeine's internals changed: update this test)");
  }

  /**
   * A cache configured as the defence's (weighed, expiring after access, maintained on the caller's
   * thread) holding {@code entries} entries: half full, so that it has sized its frequency sketch
   * (which it does once half its maximum weight is in use) for them.
   */
  private static Cache<String, Object> likeTheClientCache(int entries) {
    Cache<String, Object> cache = Caffeine.newBuilder()
        .maximumWeight(2L * entries)
        .weigher((String key, Object value) -> 1)
        .expireAfterAccess(Duration.ofHours(24))
        .executor(Runnable::run)
        .build();
    for (int i = 0; i < entries; i++) {
      cache.put("k" + i, new Object());
    }
    cache.cleanUp();
    return cache;
  }

  /**
   * The bytes a cache like the defence's spends on {@code entries} entries besides their keys and
   * values: its hash map (nodes and table) and its frequency sketch, less what they take empty.
   * (JOL cannot walk the whole cache, which holds lambdas; these two hold all that grows with it.)
   */
  private static long measuredEntries(int entries) throws ReflectiveOperationException {
    Cache<String, Object> cache = likeTheClientCache(entries);
    assertThat(cache.asMap()).as("nothing evicted").hasSize(entries);
    Object local = field(cache, "cache");
    Object[] keysAndValues = new Object[2 * entries];
    int i = 0;
    for (Map.Entry<String, Object> e : cache.asMap().entrySet()) {
      keysAndValues[i++] = e.getKey();
      keysAndValues[i++] = e.getValue();
    }
    Object empty = field(likeTheClientCache(0), "cache");
    return GraphLayout.parseInstance(field(local, "data"), field(local, "sketch")).totalSize()
        - GraphLayout.parseInstance(keysAndValues).totalSize()
        - GraphLayout.parseInstance(field(empty, "data"), field(empty, "sketch")).totalSize();
  }

  @Test
  void aCacheEntryTakesNoMoreThanTheDefenceChargesForIt() throws ReflectiveOperationException {
    // The defence's cache uses the node class of the cache measured here: the same configuration.
    ExtractionDefence defence = ExtractionDefence.builder(NoiseKeys.withSecret(new byte[32]), 2)
        .detector(new Stateless(), 1.0)
        .build();
    defence.observe("p:t:s", new double[] {1, 2, 3}, Prediction.of(new double[] {0.2, 0.8}));
    Object defenceNode = ((Map<?, ?>) field(field(clientCache(defence), "cache"), "data")).get("p:t:s");
    Object measuredNode = ((Map<?, ?>) field(field(likeTheClientCache(1), "cache"), "data")).get("k0");
    assertThat(defenceNode.getClass()).isEqualTo(measuredNode.getClass());
    // 513 entries: the sketch's table has just doubled (two longs an entry); 769: the map's has
    // (8/3 slots an entry).
    for (int entries : new int[] {513, 769}) {
      assertThat(ExtractionDefence.CACHE_ENTRY_BYTES * entries)
          .as("%d entries", entries)
          .isGreaterThanOrEqualTo(measuredEntries(entries));
    }
  }

  @Test
  void aClientsBoundCoversItsKeyAndItsCacheEntry() throws ReflectiveOperationException {
    long perEntry = Math.max((measuredEntries(513) + 512) / 513, (measuredEntries(769) + 768) / 769);
    ExtractionDefence defence = ExtractionDefence.builder(NoiseKeys.withSecret(new byte[32]), 2)
        .detector(new Stateless(), 1.0)
        .build();
    // Long keys (a subject from a token can be), Latin-1 (one byte a character) and not (two).
    for (String client : new String[] {"p:t:" + "s".repeat(10_000), "p:t:" + "\u0436".repeat(10_000)}) {
      defence.observe(client, new double[] {1, 2, 3}, Prediction.of(new double[] {0.2, 0.8}));
      long measured = measuredRecord(defence, client) + GraphLayout.parseInstance(client).totalSize() + perEntry;
      assertThat(defence.retainedBytes(client)).as("key of %d chars", client.length()).isGreaterThanOrEqualTo(measured);
      assertThat(defence.chargedBytes(client)).isGreaterThanOrEqualTo(defence.retainedBytes(client));
    }
  }

  @Test
  void aClientWhoseKeyWouldTakeItPastTheLimitIsRefusedNotKept() {
    ExtractionDefence defence = ExtractionDefence.builder(NoiseKeys.withSecret(new byte[32]), 2)
        .detector(new Stateless(), 1.0)
        .duplicateWindow(1)
        .maxTotalBytes(8 * 1024)
        .build();
    Prediction p = Prediction.of(new double[] {0.2, 0.8});
    assertThat(defence.observe("p:t:s", new double[] {1, 2, 3}, p).refused()).isFalse();
    String huge = "p:t:" + "s".repeat(16 * 1024);
    assertThat(defence.observe(huge, new double[] {1, 2, 3}, p).refused()).isTrue();
    assertThat(defence.retainedBytes(huge)).isZero();
    assertThat(defence.retainedBytes("p:t:s")).isPositive();
  }
}
