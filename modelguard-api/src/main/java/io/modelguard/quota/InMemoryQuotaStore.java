package io.modelguard.quota;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The quota store of a single JVM: exact under contention, bounded, and cheap enough to sit in
 * front of every request (a few hundred nanoseconds over 100,000 keys visited at random).
 *
 * <ul>
 *   <li><b>Exact: lock-free reads, a per-key claim for writes.</b> Each key's state is a few longs
 *       in its entry's own fields (an array for plans of more than three limits), updated in place
 *       under a version number (a seqlock). A decision copies the state
 *       while the version is stable, computes the next state with {@link QuotaArithmetic}, and
 *       claims the key with one compare-and-set of the version; it loses (and retries) if any other
 *       update landed since its copy. Only the winner's copy of a few longs back into the entry runs
 *       under the claim, with no allocation or call in it; other threads on the same key spin on
 *       that copy (no lock object, no parking). Strictly, that is not lock-free: a thread
 *       descheduled inside its claim holds up the other deciders of that one key for as long.
 *       Denials write nothing, unless they find a token bucket or a sliding window further ahead
 *       than a clock that never steps back leaves one ({@link QuotaArithmetic#capLeads}) at a time
 *       read after the key (not one read before another thread wrote it): what it moves back is
 *       claimed and written as a grant is, and the request decided again.
 *   <li><b>Bounded.</b> At most {@link Builder#maximumSize(long) maximumSize} keys (default
 *       {@value #DEFAULT_MAXIMUM_SIZE}). A key of a three-limit plan takes about 220 bytes of heap
 *       (its key strings included), so the default bound is about 210 MB (measured by {@code
 *       QuotaMemoryFootprint} in the benchmarks). Racing additions may pass the bound by a few keys
 *       for a moment.
 *   <li><b>Eviction hands out no quota while it can help it.</b> Adding a key beyond the bound
 *       evicts one, looking at up to 32 keys from a position that moves round the
 *       table (where a key sits depends on a secret hash, so no client can pick its neighbours):
 *       <ol>
 *         <li>the first one back to a full quota (every token bucket full, no window count that
 *             still weighs, parked limits included), however recently it was used: forgetting it
 *             changes no decision;
 *         <li>only if none of them is, the one still counting the fewest units on any of its
 *             limits (the least recently used of those tied). It starts again from a full quota if
 *             it comes back; such an eviction is counted ({@link #lossyEvictions()}) and logged at
 *             WARN, at most once a minute. Size the store above the number of keys active within a
 *             window and this never happens.
 *       </ol>
 *       So a flood of new keys (a client with many addresses, say) evicts keys back to a full
 *       quota, then its own light keys, and cannot push out a key that has spent its quota: to
 *       evict a key still counting {@code U} units, every key sampled with it must count at least
 *       {@code U}, units someone spent within their windows, so the flood must first fill most of
 *       the store with keys each heavier than the one it wants back. The store never refuses a new
 *       key instead: that would let anyone able to create keys cheaply lock every new client out
 *       for up to the longest window, a cheaper attack with a wider reach than getting one
 *       quota back at that price. A size eviction reads at most 32 entries, and
 *       stops at the first one back to a full quota.
 *   <li><b>Idle keys are evicted.</b> A key unused for its plan's {@linkplain
 *       QuotaPlan#horizonMicros() horizon} (twice its longest window) whose state is back to a full
 *       quota is removed, which changes no decision. Adding keys sweeps a few table slots each
 *       time (and a whole segment before its table grows), so idle keys leave as new ones arrive;
 *       {@link #cleanUp()} sweeps everything at once.
 *   <li><b>Time: ticked for grants, exact for denials.</b> By default a decision reads the system
 *       time from a field that one daemon thread per JVM refreshes every millisecond (it stops
 *       after a second in which no one decides), because reading the clock itself, an ordered
 *       time-stamp read, kept one decision's cache misses from overlapping the next one's: 1.6–1.75 M
 *       decisions a second against 3.6–4.5 M over 100,000 keys visited at random. The ticked time
 *       lags by about a millisecond and never runs ahead; a decision that it would deny is decided
 *       again on the exact system time, so denials and their {@code Retry-After} are exact, and a
 *       grant can come at most the lag early (a millisecond, plus any scheduling delay of the
 *       thread writing the time): a token
 *       bucket admits at most {@code rate × lag} units more over any span, under one for rates up
 *       to 1,000 a second. A {@link Clock} given to the builder is read directly for every
 *       decision and for idle eviction, so tests move time with a fake clock and never sleep.
 * </ul>
 *
 * <h2>Why not a Caffeine cache</h2>
 *
 * Earlier versions kept keys in a Caffeine cache. A decision then walked the key's string, the
 * hash map's node, the cache entry, a holder and a freshly copied state array: five or six
 * dependent cache misses over many keys, about 2 µs a decision, a third of the target. Here keys
 * live in 64 segments of open-addressing tables (linear probing, at most half full): a lookup
 * reads the key's cached hash, one table slot and the entry with its state, compares the key's
 * partition string with the entry's (the same string object when the caller reuses its key, else
 * by contents; the entry keeps the string, not the key object, 24 bytes a key fewer), and
 * allocates nothing but the decision. Lookups take no lock; adding, replacing
 * and removing keys lock one segment, and a lookup that races with them looks again under that
 * lock. What Caffeine gave that matters here is kept: a hard size bound and idle expiry on the
 * injected clock.
 *
 * <p>Never throws {@link QuotaStoreException}. Thread-safe.
 */
public final class InMemoryQuotaStore implements QuotaStore {
  private static final Logger log = LoggerFactory.getLogger(InMemoryQuotaStore.class);

  /** The default maximum number of keys. */
  public static final long DEFAULT_MAXIMUM_SIZE = 1_000_000;

  private static final VarHandle VERSION;
  private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Entry[].class);

  static {
    try {
      VERSION = MethodHandles.lookup().findVarHandle(Entry.class, "version", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The version of an entry taken out of its table (odd, like one being written): look the key up again. */
  private static final long RETIRED = -1;
  /** Segments: the top {@value} bits of a key's hash pick one. */
  private static final int MAX_SEGMENT_BITS = 6;
  private static final int INITIAL_TABLE = 16;
  /** The most entries a size eviction looks at; it stops at the first one back to a full quota. */
  private static final int SAMPLE = 32;
  /**
   * A segment is meant for at least 2<sup>{@value}</sup> keys, so that an eviction's sample, taken
   * in the segment the key is added to, stands for the whole store.
   */
  private static final int MIN_SEGMENT_KEYS_BITS = 8;
  /** The shortest time between two warnings about evictions that forgot counts. */
  private static final long WARN_EVERY_MICROS = 60_000_000;
  /** How many table slots each added key sweeps for idle keys. */
  private static final int SWEEP = 4;
  /** An active key's last use is recorded at most once a millisecond. */
  private static final long TOUCH_MICROS = 1000;
  private static final int SPINS_BEFORE_YIELD = 64;
  /** Longs of state per limit ({@link QuotaArithmetic#stateSize}). */
  private static final int STRIDE = QuotaArithmetic.STRIDE;
  /** The most limits kept parked for one key when its plan changes. */
  private static final int MAX_PARKED = 16;

  /** The injected clock, or null for {@link #ticked}. */
  private final Clock clock;
  /** The default time: the system clock, ticked; null when a clock is injected. */
  private final TickedTime ticked;
  private final long maximumSize;
  private final Segment[] segments;
  private final int segmentShift;
  private final AtomicLong size = new AtomicLong();
  private final AtomicLong lossyEvictions = new AtomicLong();
  /** When the next warning about a lossy eviction may be logged, in store microseconds. */
  private final AtomicLong nextWarning = new AtomicLong(Long.MIN_VALUE);

  private InMemoryQuotaStore(Builder b) {
    this.clock = b.clock;
    this.ticked = b.clock == null ? b.time : null;
    this.maximumSize = b.maximumSize;
    // Small stores get fewer segments, so that a size eviction, which looks only at the segment it
    // is adding to while that has keys, compares keys from a good part of the store.
    int bits = 0;
    while (bits < MAX_SEGMENT_BITS && (maximumSize >> (bits + MIN_SEGMENT_KEYS_BITS)) > 0) {
      bits++;
    }
    this.segments = new Segment[1 << bits];
    for (int i = 0; i < segments.length; i++) {
      segments[i] = new Segment();
    }
    this.segmentShift = bits == 0 ? 0 : 32 - bits;
  }

  /** {@return a store with the defaults: the system clock (ticked), at most {@value #DEFAULT_MAXIMUM_SIZE} keys} */
  public static InMemoryQuotaStore create() {
    return builder().build();
  }

  /**
   * Starts a builder.
   *
   * @return a new builder with the defaults
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public QuotaDecision acquire(QuotaKey key, QuotaPlan plan, long cost) {
    if (cost < 1) {
      throw new IllegalArgumentException("cost must be at least 1, was " + cost);
    }
    long now = now();
    boolean exact = ticked == null;
    long[] next = new long[QuotaArithmetic.stateSize(plan)];
    for (boolean raced = false; ; ) {
      Entry e = entry(key, plan, now, raced);
      long v = e.read(next);
      if (v == RETIRED) {
        raced = true;
        continue;
      }
      e.touch(now);
      if (!QuotaArithmetic.tryAcquire(plan, next, now, cost)) {
        if (!exact) {
          // Grants may go by the ticked time, denials go by the exact time: decide once more at
          // it. A later time never takes away room, so this only turns lag-made denials into grants.
          exact = true;
          long exactNow = ticked.exactMicros();
          if (exactNow > now) {
            now = exactNow;
            continue;
          }
        }
        // A bucket or a window further ahead than any decision leaves one: the clock stepped back,
        // or this now is stale (read before a thread that read the clock later wrote the key; an
        // injected clock is read once, before the key). Only a step back may move anything back, a
        // window by a whole window: the time is read again, after the key, and if nothing leads at
        // it the request is decided at it. What capLeads moves is written, or it would move with
        // the clock and the key stay refused for the whole step; then decided again, as a window
        // moved back may have room.
        if (QuotaArithmetic.leads(plan, next, now)) {
          long later = exactNow();
          if (later > now && !QuotaArithmetic.leads(plan, next, later)) {
            now = later;
            continue;
          }
          now = Math.max(now, later);
          QuotaArithmetic.capLeads(plan, next, now);
          e.commit(v, next);
          continue;
        }
        // The copy was consistent at version v: the denial is as of that moment.
        return QuotaArithmetic.decision(plan, next, now, cost, false);
      }
      if (e.commit(v, next)) {
        return QuotaArithmetic.decision(plan, next, now, cost, true);
      }
    }
  }

  @Override
  public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros) {
    adjust(key, plan, delta, decidedAtMicros, null);
  }

  @Override
  public void adjust(QuotaKey key, QuotaPlan plan, long delta, long decidedAtMicros, long[] ends) {
    QuotaArithmetic.checkBucketEnds(plan, ends);
    if (delta == 0) {
      return;
    }
    long now = now();
    long[] next = new long[QuotaArithmetic.stateSize(plan)];
    for (boolean raced = false; ; ) {
      Entry e = entry(key, plan, now, raced);
      long v = e.read(next);
      if (v == RETIRED) {
        raced = true;
        continue;
      }
      e.touch(now);
      if (QuotaArithmetic.leads(plan, next, now)) {
        // adjust moves what leads back, as after a clock step back: only at a time read after the
        // key, not at one read before another thread, on a later time, wrote it (see acquire).
        now = Math.max(now, exactNow());
      }
      QuotaArithmetic.adjust(plan, next, now, delta, decidedAtMicros, ends);
      if (e.commit(v, next)) {
        return;
      }
    }
  }

  /** The time of a decision: the injected clock's, else the ticked system time. */
  private long now() {
    return ticked != null ? ticked.micros() : QuotaArithmetic.micros(clock);
  }

  /** The time read now: the injected clock's, else the exact system time. */
  private long exactNow() {
    return ticked != null ? ticked.exactMicros() : QuotaArithmetic.micros(clock);
  }

  /** {@return the number of keys held} */
  public long estimatedSize() {
    return size.get();
  }

  /**
   * How many keys were evicted to respect the maximum size while their counts still mattered (none
   * of the keys sampled was back to a full quota), each of which starts again from a full quota
   * if it comes back. Zero in a store sized above the keys active within a window; a growing
   * number means it is too small for its traffic, or that a client is creating keys in bulk.
   *
   * @return the count since the store was built; it only grows
   */
  public long lossyEvictions() {
    return lossyEvictions.get();
  }

  /**
   * Removes every idle key now, at the clock's current time (otherwise they leave as keys are
   * added), and any keys beyond the maximum size that racing additions left.
   */
  public void cleanUp() {
    long now = exactNow();
    for (Segment s : segments) {
      s.lock();
      try {
        sweep(s, now, 0, s.table.length);
        while (size.get() > maximumSize && evictFrom(s, now)) {
          // one key fewer each time
        }
      } finally {
        s.unlock();
      }
    }
  }

  /**
   * The key's entry laid out for {@code plan}, added or re-laid out if need be. After meeting a
   * retired entry ({@code raced}), looks under the segment's lock, which its remover holds until
   * the table no longer shows it.
   */
  private Entry entry(QuotaKey key, QuotaPlan plan, long now, boolean raced) {
    int h = key.hashCode();
    Segment s = segments[h >>> segmentShift & (segments.length - 1)];
    Entry e = raced ? null : find(s.table, key, h);
    if (e == null || (e.plan != plan && !e.plan.equals(plan))) {
      s.lock();
      try {
        e = find(s.table, key, h);
        if (e == null) {
          e = add(s, key, h, plan, now);
        } else if (e.plan != plan && !e.plan.equals(plan)) {
          e = replan(s, e, plan, now);
        }
      } finally {
        s.unlock();
      }
    }
    return e;
  }

  /**
   * The key's entry in {@code t}, or null. Without the lock it may miss an entry being moved by a
   * removal or a resize; callers then look again under the lock.
   */
  private static Entry find(Entry[] t, QuotaKey key, int h) {
    String p = key.partition();
    int mask = t.length - 1;
    int i = h & mask;
    for (int n = 0; n <= mask; n++) {
      Entry e = (Entry) SLOT.getAcquire(t, i);
      if (e == null) {
        return null;
      }
      if (e.partition == p || (e.hash == h && e.partition.equals(p))) {
        return e;
      }
      i = (i + 1) & mask;
    }
    return null;
  }

  /** Adds a fresh entry, making room first. Under the segment's lock. */
  private Entry add(Segment s, QuotaKey key, int h, QuotaPlan plan, long now) {
    sweep(s, now, s.cursor, SWEEP);
    // Evicting until within the bound also takes back any excess left by a racing addition that
    // found every other segment busy.
    size.incrementAndGet();
    while (size.get() > maximumSize && evictOne(s, now)) {
      // one key fewer each time
    }
    if (2 * (s.count + 1) > s.table.length) {
      // Sweep the whole segment before growing it, and grow only if that freed too little (a
      // quarter of the table at least, so that a full sweep comes at most every few inserts).
      sweep(s, now, 0, s.table.length);
      if (8 * (s.count + 1) > 3 * s.table.length) {
        grow(s);
      }
    }
    Entry e = Entry.of(key.partition(), h, plan, new long[QuotaArithmetic.stateSize(plan)], now);
    place(s.table, e);
    s.count++;
    return e;
  }

  /**
   * Replaces an entry laid out for another plan (a principal with an override shares its tenant's
   * key): retires it once its state is stable, so no update can land on it afterwards, and puts an
   * entry re-laid out for {@code plan} in its slot. A limit keeps its count if the old plan had it
   * with the same name, algorithm and window ({@link QuotaArithmetic#sharesState}). Limits the new
   * plan lacks, or defines otherwise under the same name, are parked in the segment with their
   * counts, and a later plan that has them again takes them back, as a store keeping each limit
   * apart (Redis) would: otherwise any principal of the tenant could wipe a limit that only
   * another principal's plan has, or has differently, just by calling. A parked limit back to a
   * full quota is forgotten; at most {@value #MAX_PARKED} are kept per key. Under the segment's
   * lock.
   */
  private static Entry replan(Segment s, Entry old, QuotaPlan plan, long now) {
    long[] state = new long[old.width()];
    while (true) {
      long v = old.read(state);
      if (VERSION.compareAndSet(old, v, RETIRED)) {
        break;
      }
    }
    // Every limit known for the key: the old plan's, then the parked ones it does not have.
    List<QuotaLimit> known = old.plan.limits();
    Parked parked = s.parked == null ? null : s.parked.get(old.partition);
    if (parked != null) {
      known = new ArrayList<>(known);
      long[] all = Arrays.copyOf(state, state.length + parked.state.length);
      int width = state.length;
      for (int i = 0; i < parked.limits.size(); i++) {
        QuotaLimit l = parked.limits.get(i);
        if (!has(old.plan.limits(), l)) {
          known.add(l);
          System.arraycopy(parked.state, STRIDE * i, all, width, STRIDE);
          width += STRIDE;
        }
      }
      state = Arrays.copyOf(all, width);
    }
    park(s, old.partition, known, state, plan, now);
    Entry fresh = Entry.of(old.partition, old.hash, plan, QuotaArithmetic.remap(known, state, plan), old.lastUsed);
    Entry[] t = s.table;
    SLOT.setRelease(t, slotOf(t, old), fresh);
    return fresh;
  }

  /** Whether one of {@code limits} {@linkplain QuotaArithmetic#sharesState shares state} with {@code l}. */
  private static boolean has(List<QuotaLimit> limits, QuotaLimit l) {
    return QuotaArithmetic.indexSharingState(limits, l) >= 0;
  }

  /** Parks the limits of {@code known} that {@code plan} does not have and that still count. Under the lock. */
  private static void park(Segment s, String partition, List<QuotaLimit> known, long[] state, QuotaPlan plan, long now) {
    List<QuotaLimit> keep = new ArrayList<>();
    long[] kept = new long[STRIDE * Math.min(known.size(), MAX_PARKED)];
    for (int i = 0; i < known.size() && keep.size() < MAX_PARKED; i++) {
      QuotaLimit l = known.get(i);
      long[] one = Arrays.copyOfRange(state, STRIDE * i, STRIDE * i + STRIDE);
      if (!has(plan.limits(), l) && !QuotaArithmetic.isFresh(List.of(l), one, now)) {
        System.arraycopy(one, 0, kept, STRIDE * keep.size(), STRIDE);
        keep.add(l);
      }
    }
    if (keep.isEmpty()) {
      if (s.parked != null) {
        s.parked.remove(partition);
      }
      return;
    }
    if (s.parked == null) {
      s.parked = new HashMap<>();
    }
    s.parked.put(partition, new Parked(List.copyOf(keep), Arrays.copyOf(kept, STRIDE * keep.size()),
        keep.stream().mapToLong(QuotaLimit::horizonMicros).max().orElse(0)));
  }

  /**
   * Removes idle keys among {@code slots} table slots from {@code from}, moving the segment's sweep
   * cursor past them. Under the segment's lock.
   */
  private void sweep(Segment s, long now, int from, int slots) {
    Entry[] t = s.table;
    int mask = t.length - 1;
    int i = from & mask;
    for (int n = 0; n < slots; n++) {
      Entry e = t[i];
      // A removal shifts a later entry into slot i: look at it again.
      if (e != null && retireIfIdle(s, e, now)) {
        remove(s, i);
        n--;
        continue;
      }
      i = (i + 1) & mask;
    }
    s.cursor = i;
  }

  /**
   * Makes room for one key (the store is over its maximum): evicts one ({@link #evictFrom}) from
   * {@code own} if it has any, else from the first other segment free to lock. Under {@code own}'s lock; other segments are only tried, so two threads
   * evicting never wait on each other.
   *
   * @return false if no segment had a key to give
   */
  private boolean evictOne(Segment own, long now) {
    if (evictFrom(own, now)) {
      return true;
    }
    for (Segment s : segments) {
      if (s != own && s.tryLock()) {
        try {
          if (evictFrom(s, now)) {
            return true;
          }
        } finally {
          s.unlock();
        }
      }
    }
    return false;
  }

  /**
   * Evicts one key of {@code s}, looking at up to {@value #SAMPLE} from its cursor: the first one
   * back to a full quota, which changes no decision; failing that, the one of them that still
   * counts the fewest units ({@link QuotaArithmetic#countedUnits}), the least recently used of
   * those tied, which is counted and logged. Under the segment's lock.
   *
   * @return false if the segment has no key
   */
  private boolean evictFrom(Segment s, long now) {
    long[] state = new long[3 * STRIDE];
    while (s.count > 0) {
      Entry[] t = s.table;
      int mask = t.length - 1;
      int i = s.cursor & mask;
      int victim = -1;
      long victimVersion = 0;
      long victimUnits = Long.MAX_VALUE;
      long victimUsed = 0;
      for (int n = 0, seen = 0; n <= mask && seen < SAMPLE; n++, i = (i + 1) & mask) {
        Entry e = t[i];
        if (e == null) {
          continue;
        }
        seen++;
        if (state.length < e.width()) {
          state = new long[e.width()];
        }
        long v = e.read(state);
        if (v == RETIRED) {
          continue; // not seen under the lock: retiring and removing go together
        }
        long units = QuotaArithmetic.countedUnits(e.plan.limits(), state, now);
        Parked parked = s.parked == null ? null : s.parked.get(e.partition);
        if (parked != null) {
          units = Math.max(units, QuotaArithmetic.countedUnits(parked.limits, parked.state, now));
        }
        // Whatever was decided on the key since its state was read makes the compare-and-set fail.
        if (units == 0 && VERSION.compareAndSet(e, v, RETIRED)) {
          s.cursor = i;
          remove(s, i);
          return true;
        }
        if (units < victimUnits || (units == victimUnits && e.lastUsed < victimUsed)) {
          victim = i;
          victimVersion = v;
          victimUnits = units;
          victimUsed = e.lastUsed;
        }
      }
      s.cursor = i;
      if (victim >= 0 && VERSION.compareAndSet(t[victim], victimVersion, RETIRED)) {
        remove(s, victim);
        lostCounts(victimUnits, now);
        return true;
      }
    }
    return false;
  }

  /** Counts an eviction that forgot {@code units} still counted, and warns at most once a minute. */
  private void lostCounts(long units, long now) {
    long lossy = lossyEvictions.incrementAndGet();
    long next = nextWarning.get();
    if (now >= next && nextWarning.compareAndSet(next, now + WARN_EVERY_MICROS)) {
      log.warn("InMemoryQuotaStore is full ({} keys) of keys whose counts still matter: evicted one "
          + "still counting {} units, which it gets back if it returns ({} such evictions so far). "
          + "Raise maximumSize above the number of keys active within a window, or look for a client "
          + "creating keys in bulk", maximumSize, units, lossy);
    }
  }

  /**
   * Retires {@code e} if it is unused for its plan's horizon and back to a full quota, and so are
   * the limits parked for its key. Under the segment's lock.
   */
  private static boolean retireIfIdle(Segment s, Entry e, long now) {
    if (now - e.lastUsed < e.plan.horizonMicros()) {
      return false;
    }
    Parked parked = s.parked == null ? null : s.parked.get(e.partition);
    if (parked != null && (now - e.lastUsed < parked.horizonMicros
        || !QuotaArithmetic.isFresh(parked.limits, parked.state, now))) {
      return false;
    }
    long[] state = new long[e.width()];
    long v = e.read(state);
    return QuotaArithmetic.isFresh(e.plan.limits(), state, now) && VERSION.compareAndSet(e, v, RETIRED);
  }

  /**
   * Empties slot {@code i} of a retired entry, shifting back the entries after it, and forgets the
   * limits parked for its key. Under the lock.
   */
  private void remove(Segment s, int i) {
    Entry[] t = s.table;
    if (s.parked != null) {
      s.parked.remove(t[i].partition);
    }
    int mask = t.length - 1;
    int hole = i;
    for (int j = (i + 1) & mask; ; j = (j + 1) & mask) {
      Entry e = t[j];
      if (e == null) {
        break;
      }
      int home = e.hash & mask;
      // e may move back to the hole unless its home lies cyclically in (hole, j].
      boolean stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!stays) {
        SLOT.setRelease(t, hole, e);
        hole = j;
      }
    }
    SLOT.setRelease(t, hole, (Entry) null);
    s.count--;
    size.decrementAndGet();
  }

  private static void grow(Segment s) {
    Entry[] t = s.table;
    Entry[] bigger = new Entry[t.length * 2];
    for (Entry e : t) {
      if (e != null) {
        place(bigger, e);
      }
    }
    s.table = bigger;
  }

  private static void place(Entry[] t, Entry e) {
    int mask = t.length - 1;
    int i = e.hash & mask;
    while (t[i] != null) {
      i = (i + 1) & mask;
    }
    SLOT.setRelease(t, i, e);
  }

  private static int slotOf(Entry[] t, Entry e) {
    int mask = t.length - 1;
    int i = e.hash & mask;
    while (t[i] != e) {
      i = (i + 1) & mask;
    }
    return i;
  }

  /**
   * One key: its plan and its state, which only the holder of an odd version writes. Subclasses
   * hold the state in their own fields for plans of one to three limits (laid out right after
   * these, so a one-limit entry is 72 bytes and a decision reads one object), in an array beyond.
   */
  private abstract static class Entry {
    /** The key's {@linkplain QuotaKey#partition() partition}, which identifies it. */
    final String partition;
    final QuotaPlan plan;
    final int hash;
    /** Even: stable; odd: being written; {@link #RETIRED}: out of the table. */
    volatile long version;
    /** When the key was last used, in store microseconds, to the millisecond (racy by design). */
    long lastUsed;

    Entry(String partition, int hash, QuotaPlan plan, long lastUsed) {
      this.partition = partition;
      this.hash = hash;
      this.plan = plan;
      this.lastUsed = lastUsed;
    }

    /** An entry holding {@code state} (whose length is {@value #STRIDE} per limit of {@code plan}). */
    static Entry of(String partition, int hash, QuotaPlan plan, long[] state, long lastUsed) {
      Entry e = state.length == STRIDE ? new OneLimit(partition, hash, plan, lastUsed)
          : state.length <= 3 * STRIDE ? new ThreeLimits(partition, hash, plan, lastUsed, state.length)
          : new ManyLimits(partition, hash, plan, lastUsed, state.length);
      e.store(state);
      return e;
    }

    /** Longs of state: {@link QuotaArithmetic#stateSize}. */
    abstract int width();

    /** Copies the state into {@code into}, without synchronisation. */
    abstract void load(long[] into);

    /** Copies {@code from} into the state, without synchronisation. */
    abstract void store(long[] from);

    /**
     * Copies a consistent state into {@code into}.
     *
     * @return the version it was read at, or {@link #RETIRED}
     */
    final long read(long[] into) {
      for (int spins = 0; ; spins++) {
        long v = (long) VERSION.getAcquire(this);
        if (v == RETIRED) {
          return RETIRED;
        }
        if ((v & 1) == 0) {
          load(into);
          // The copy's loads complete before the version is read again.
          VarHandle.acquireFence();
          if ((long) VERSION.getOpaque(this) == v) {
            return v;
          }
        } else if (spins >= SPINS_BEFORE_YIELD) {
          Thread.yield();
        } else {
          Thread.onSpinWait();
        }
      }
    }

    /** Installs {@code next} if nothing was written since version {@code v}. */
    final boolean commit(long v, long[] next) {
      if (!VERSION.compareAndSet(this, v, v + 1)) {
        return false;
      }
      store(next);
      VERSION.setRelease(this, v + 2);
      return true;
    }

    /** Retires the entry once no write is in progress; false if it already was. */
    final boolean retire() {
      long[] scratch = new long[width()];
      while (true) {
        long v = read(scratch);
        if (v == RETIRED) {
          return false;
        }
        if (VERSION.compareAndSet(this, v, RETIRED)) {
          return true;
        }
      }
    }

    final void touch(long now) {
      if (now - lastUsed >= TOUCH_MICROS) {
        lastUsed = now;
      }
    }
  }

  /** The entry of a one-limit plan. */
  private static final class OneLimit extends Entry {
    long s0;
    long s1;
    long s2;
    long s3;

    OneLimit(String partition, int hash, QuotaPlan plan, long lastUsed) {
      super(partition, hash, plan, lastUsed);
    }

    @Override
    int width() {
      return STRIDE;
    }

    @Override
    void load(long[] into) {
      into[0] = s0;
      into[1] = s1;
      into[2] = s2;
      into[3] = s3;
    }

    @Override
    void store(long[] from) {
      s0 = from[0];
      s1 = from[1];
      s2 = from[2];
      s3 = from[3];
    }
  }

  /** The entry of a two- or three-limit plan. */
  private static final class ThreeLimits extends Entry {
    final int width;
    long s0;
    long s1;
    long s2;
    long s3;
    long s4;
    long s5;
    long s6;
    long s7;
    long s8;
    long s9;
    long s10;
    long s11;

    ThreeLimits(String partition, int hash, QuotaPlan plan, long lastUsed, int width) {
      super(partition, hash, plan, lastUsed);
      this.width = width;
    }

    @Override
    int width() {
      return width;
    }

    @Override
    void load(long[] into) {
      into[0] = s0;
      into[1] = s1;
      into[2] = s2;
      into[3] = s3;
      into[4] = s4;
      into[5] = s5;
      into[6] = s6;
      into[7] = s7;
      if (width > 2 * STRIDE) {
        into[8] = s8;
        into[9] = s9;
        into[10] = s10;
        into[11] = s11;
      }
    }

    @Override
    void store(long[] from) {
      s0 = from[0];
      s1 = from[1];
      s2 = from[2];
      s3 = from[3];
      s4 = from[4];
      s5 = from[5];
      s6 = from[6];
      s7 = from[7];
      if (width > 2 * STRIDE) {
        s8 = from[8];
        s9 = from[9];
        s10 = from[10];
        s11 = from[11];
      }
    }
  }

  /** The entry of a plan of more than three limits. */
  private static final class ManyLimits extends Entry {
    final long[] state;

    ManyLimits(String partition, int hash, QuotaPlan plan, long lastUsed, int width) {
      super(partition, hash, plan, lastUsed);
      this.state = new long[width];
    }

    @Override
    int width() {
      return state.length;
    }

    @Override
    void load(long[] into) {
      System.arraycopy(state, 0, into, 0, state.length);
    }

    @Override
    void store(long[] from) {
      System.arraycopy(from, 0, state, 0, state.length);
    }
  }

  /** A lock and the open-addressing table it guards; lookups read the table without it. */
  @SuppressWarnings("serial") // never serialised
  private static final class Segment extends ReentrantLock {
    volatile Entry[] table = new Entry[INITIAL_TABLE];
    /** Entries in the table. Under the lock. */
    int count;
    /** Where the next sweep or eviction sample starts. Under the lock. */
    int cursor;
    /** Limits of keys in this segment that their current plan lacks ({@link #replan}); null until one. Under the lock. */
    Map<String, Parked> parked;
  }

  /**
   * Limits a key's current plan lacks (a name may appear again there with another algorithm or
   * window), with their state as when they were parked and the longest horizon among them.
   */
  private record Parked(List<QuotaLimit> limits, long[] state, long horizonMicros) {}

  /** Builds an {@link InMemoryQuotaStore}. */
  public static final class Builder {
    private Clock clock;
    private TickedTime time = TickedTime.SYSTEM;
    private long maximumSize = DEFAULT_MAXIMUM_SIZE;

    private Builder() {}

    /**
     * The clock for decisions and idle eviction, read once per decision. Default: the system
     * clock, read for grants from a field a shared daemon thread refreshes every millisecond, and
     * read exactly for denials (see the class comment). A clock given here is read directly, every
     * decision: {@link Clock#systemUTC()} for a store that reads the system clock exactly each
     * time (at about half the decisions a second over many keys), a fake clock in tests. A
     * decision or adjustment while it reads before 1970 throws {@link IllegalArgumentException}
     * (quota state cannot hold such a time; see {@link QuotaArithmetic}).
     *
     * @param clock the clock; not null
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The default time, ticked by {@code time}'s ticker rather than the system's (tests). */
    Builder tickedTime(TickedTime time) {
      this.time = Objects.requireNonNull(time, "time");
      return this;
    }

    /**
     * The most keys to hold. Default {@value #DEFAULT_MAXIMUM_SIZE}.
     *
     * @param maximumSize the most keys, at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder maximumSize(long maximumSize) {
      if (maximumSize < 1) {
        throw new IllegalArgumentException("InMemoryQuotaStore.maximumSize must be at least 1, was " + maximumSize);
      }
      this.maximumSize = maximumSize;
      return this;
    }

    /**
     * Formerly where the cache ran its maintenance. Ignored: the store has no background work,
     * every eviction runs on the thread adding a key (or calling {@link #cleanUp()}).
     *
     * @param executor ignored, but not null
     * @return this builder
     * @deprecated no longer needed; kept so that code written for earlier versions compiles
     */
    @Deprecated
    public Builder executor(Executor executor) {
      Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Builds the store.
     *
     * @return the store, empty
     */
    public InMemoryQuotaStore build() {
      return new InMemoryQuotaStore(this);
    }
  }
}
