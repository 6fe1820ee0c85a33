package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.MutableClock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The extraction defence's client states under many request threads at once. */
class ExtractionConcurrencyTest {
  private static final NoiseKeys KEYS = NoiseKeys.withSecret(new byte[32]);
  private static final double[] P = {0.1, 0.7, 0.2};
  private static final double FLAGGED = 999;

  /** Flags a query whose first feature is {@link #FLAGGED}; keeps nothing, so any thread may use it. */
  private static final class FirstFeatureDetector implements ExtractionDetector {
    @Override
    public String name() {
      return "first-feature";
    }

    @Override
    public long maxRetainedBytes(int dimensions) {
      return 16;
    }

    @Override
    public State newState() {
      return new State() {
        @Override
        public boolean observe(double[] features, Prediction prediction) {
          return features[0] == FLAGGED;
        }

        @Override
        public long retainedBytes() {
          return 16;
        }
      };
    }
  }

  /**
   * A client's state could be evicted by another thread's insertion between the query's lookup of
   * it and the query taking its lock; the eviction kept the score it read then (none, for a new
   * client), and the query's flags landed on a state no longer kept. The query was answered as
   * blocked and the block forgotten at once: 9 to 37 of these 60 clients came back unblocked in
   * each of eight runs. The flags now reach the client's current state or its kept score.
   */
  @Test
  void aClientFlaggedWhileAnotherThreadEvictsItsStateStaysFlagged() throws Exception {
    MutableClock clock = MutableClock.standard();
    ExtractionDefence probe = ExtractionDefence.builder(KEYS, 3).detector(new FirstFeatureDetector(), 100).build();
    probe.observe("p:t:probe", new double[] {1, 2, 3}, Prediction.of(P));
    long oneClient = probe.chargedBytes("p:t:probe");
    // Room for some 40 clients, and the scores of a few hundred evicted flagged ones: far more than the 60 here.
    ExtractionDefence defence = ExtractionDefence.builder(KEYS, 3).clock(clock).detector(new FirstFeatureDetector(), 100)
        .maxTotalBytes(40 * oneClient).build();
    int flaggers = 3;
    int flaggedEach = 20;
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    AtomicBoolean flooding = new AtomicBoolean(true);
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> flooders = new ArrayList<>();
    for (int t = 0; t < 3; t++) {
      int thread = t;
      flooders.add(new Thread(() -> {
        try {
          start.await();
          for (int i = 0; flooding.get(); i++) {
            defence.observe("a:flood:" + thread + ":" + i, new double[] {i, 2, 3}, Prediction.of(P));
          }
        } catch (Throwable e) {
          errors.add(e);
        }
      }));
    }
    List<Thread> flagging = new ArrayList<>();
    for (int t = 0; t < flaggers; t++) {
      int thread = t;
      flagging.add(new Thread(() -> {
        try {
          start.await();
          for (int i = 0; i < flaggedEach; i++) {
            // A few fresh identities of its own first, so that evictions run on this thread too.
            for (int j = 0; j < 20; j++) {
              defence.observe("a:own:" + thread + ":" + i + ":" + j, new double[] {j, 2, 3}, Prediction.of(P));
            }
            RiskLevel answered = defence.observe(flagged(thread, i), new double[] {FLAGGED, 2, 3}, Prediction.of(P)).level();
            assertThat(answered).isEqualTo(RiskLevel.BLOCK);
          }
        } catch (Throwable e) {
          errors.add(e);
        }
      }));
    }
    flooders.forEach(Thread::start);
    flagging.forEach(Thread::start);
    start.countDown();
    for (Thread t : flagging) {
      t.join(60_000); // a hang detector only
    }
    flooding.set(false);
    for (Thread t : flooders) {
      t.join(60_000);
    }
    assertThat(flagging).noneMatch(Thread::isAlive);
    assertThat(flooders).noneMatch(Thread::isAlive);
    assertThat(errors).isEmpty();

    List<String> unblocked = new ArrayList<>();
    for (int t = 0; t < flaggers; t++) {
      for (int i = 0; i < flaggedEach; i++) {
        if (defence.level(flagged(t, i)) != RiskLevel.BLOCK) {
          unblocked.add(flagged(t, i));
        }
      }
    }
    assertThat(unblocked).as("clients answered as blocked whose block was forgotten").isEmpty();
  }

  private static String flagged(int thread, int i) {
    return "p:m:" + thread + ":" + i;
  }
}
