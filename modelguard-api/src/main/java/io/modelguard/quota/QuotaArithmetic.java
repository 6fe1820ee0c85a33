package io.modelguard.quota;

import java.time.Clock;
import java.time.Instant;
import java.util.List;

/**
 * The arithmetic every {@link QuotaStore} shares, so that stores agree to the microsecond: the
 * in-memory store runs it directly, and the Redis store's Lua script is a line-by-line
 * transcription of {@link #tryAcquire} and {@link #adjust} whose results are turned into decisions
 * by {@link #decision}. For store implementers; applications never call it. Stateless.
 *
 * <h2>State</h2>
 *
 * Four longs per limit, in plan order ({@link #stateSize}): a token bucket keeps its theoretical
 * arrival time (TAT, microseconds since the epoch) in the first; a sliding window keeps its window
 * index ({@code floor(epochMillis / windowMillis)}), the current and the previous window's count,
 * and a mark, 0 except for a few windows after a clock step back (see <i>A clock that steps
 * back</i>). All zeros is a fresh key.
 *
 * <h2>Token bucket (GCRA)</h2>
 *
 * With interval {@code T = ceil(window / quota)} µs and tolerance {@code τ = quota × T}, a request
 * of cost {@code c} at time {@code now} passes iff {@code max(TAT, now) + c·T − now ≤ τ}, and then
 * {@code TAT ← max(TAT, now) + c·T}. Exact: at most {@code quota + (t / T)} units in any span of
 * length {@code t}.
 *
 * <h2>A clock that steps back</h2>
 *
 * On a clock that never moves back, a TAT is never more than {@code 2τ} ahead of now (the limit's
 * {@linkplain QuotaLimit#horizonMicros() horizon}): a grant leaves it at most {@code τ} ahead, a
 * forced charge at most {@code 2τ}. A TAT further ahead proves that the clock stepped back (a wall
 * clock corrected by NTP, a virtual machine restored from a snapshot, Redis's {@code TIME} on such a
 * machine): left alone, it would refuse the key for the length of the step, an hour for an hour.
 * {@link #capLeads} brings it back to {@code now + 2τ}, the most a bucket can owe, and a store
 * writes that back even when it refuses (a cap applied only when read would move with now and
 * never let the key through): the key then waits {@code τ + c·T} at most, about one window, and its
 * {@code Retry-After} says so. So a step back counts as time still to pass up to what a bucket can
 * owe; beyond that it is forgiven. What that bounds: a step forward refills a bucket as if the time
 * had passed, so a clock that steps forward and later back admits at most one quota more than a
 * steady clock in any span (the bucket the step forward refilled), and a span that ends {@code τ}
 * or more after the step back admits at most {@code quota + (t / T)}, as on a steady clock: the
 * bucket, owing up to {@code 2τ} after the step, has taken that quota back by then.
 *
 * <p>A sliding window is never stored ahead of now's window on such a clock. While it is, {@link
 * #tryAcquire} counts in the stored window as at its start (the previous window weighing whole),
 * which admits nothing extra; once that refuses, {@link #capLeads} moves the stored window back to
 * now's window with its counts, and a store writes that and decides again (otherwise the key would
 * stay refused until the clock reached the stored window's end again, the length of the step).
 * {@link #adjust} moves it back alike, after matching a refund's window against the windows as
 * stored. So a window full at the step waits about as long as on a steady clock, at most one
 * window more.
 *
 * <p>A moved window's counts then sit under indices they were not charged in: moved back from
 * {@code S} to {@code S - 1}, the current count holds {@code S}'s charges and the previous one
 * {@code S - 1}'s, and charges made after the step in {@code S - 1}, then in {@code S}, carry the
 * same window indices as those made before it. Matched by index alone, a refund of a charge of
 * {@code S - 1} would come off the current count, and one of {@code S}, once time reached {@code
 * S} again, off the new window's count: a count weighing more than the one holding the charge,
 * returning units the key never got back. So the move records a mark: the stored index {@code S}
 * (or a mark's still in force, if later) and whether the move was by one window. While the mark is
 * in force (until now's window is {@code S + 2}, when {@link #tryAcquire} or {@link #adjust} drop
 * it), a refund of a charge made in a window up to {@code S} comes off the count one window later
 * than its index (after a move by one window: the current count for {@code S}, the previous one
 * for {@code S - 1} until time reaches {@code S}, then the previous one for {@code S}), and is
 * dropped otherwise (a move by more than a window, another move while the mark is in force, or a
 * window no longer held); a refund of a later window is matched by its index, as only charges
 * made after the step carry it. So a refund comes off the count that holds its charge, an older
 * one (where charges of one window made before and after the step sit in two counts), or none:
 * never off a count weighing more than the one holding the charge, so it never returns more than
 * its charge still weighs. A store must not forget a key while its mark is in force, even with
 * nothing counted: that would let such refunds through.
 *
 * <p>The mark is made from the stored index, so it needs the key kept until the step. A key a
 * store forgot before it (back to a full quota: the Redis store deletes a window counting
 * nothing, either store lets an idle one go) has no index left to lead, so the step is not seen:
 * a refund of a reservation decided before the forgetting, in a window the clock steps back to
 * (or the one before it), comes off the count of charges made after the step. Telling those apart
 * needs a time the state does not keep (when the key was created, or how long the reservation has
 * really been held), so what this adds to the bound below is at most the units of the
 * reservations held across both the forgetting and the step.
 *
 * <p>What that bounds: the counts weigh as at now's point of the window rather than the stored
 * one, as if up to a window had passed, so a step back admits at most what the key still counted
 * more than a steady clock: one quota, unless forced charges took it further. After that the
 * window counts as on a steady clock. The price is on the safe side: while the mark is in force,
 * a refund of a charge made after the step may come off the previous count rather than the
 * current one, or be dropped, giving back less than it would on a steady clock. Only a clock that
 * steps back reaches any of this; a client cannot make one.
 *
 * <h2>Times before 1970</h2>
 *
 * Every time is at or after the epoch: {@link #tryAcquire} and {@link #adjust} refuse an earlier
 * {@code now} (only an injected clock can give one) with an {@link IllegalArgumentException}
 * rather than decide on it. All zeros is a fresh key, so any earlier window index or bucket time
 * would read as a clock that stepped back, and the Redis store's state is unsigned digits (its
 * script refuses such a time alike). So the window indices below, computed with {@code /} on
 * non-negative times, equal the floor division Lua computes.
 *
 * <h2>Sliding-window counter and its error bound</h2>
 *
 * Windows are aligned to the epoch. With {@code s} the elapsed part of the current window in
 * 1/{@value #SLICES}ths (rounded down), a request passes iff {@code previous × (1 − s) + current +
 * c ≤ quota}, compared in exact integer arithmetic. The estimate assumes the previous window's
 * units were spread evenly over it:
 *
 * <ul>
 *   <li>If they were (steady traffic), the count in any window-long span is exact.
 *   <li>A burst of {@code quota} units at the very end of one window followed by a burst at the
 *       very start of the next is caught: the second burst is refused, so at most {@code quota}
 *       units fall in any window-long span (a fixed window would admit twice the quota).
 *   <li>In the worst case — the whole previous window's quota spent in its last moments, then
 *       steady traffic — a span of one window that ends a fraction {@code f} into the current
 *       window can hold up to {@code quota × (1 + f)} units, below {@code 2 × quota}. Cloudflare
 *       measured the estimator on 400 M real requests: 0.003 % of decisions wrong, none wrongly
 *       blocked. Combine it with a token bucket (a burst limit) to bound that worst case.
 * </ul>
 *
 * <h2>Refunds and forced charges</h2>
 *
 * {@link #adjust} returns units (negative delta) to the window they were charged in (a token
 * bucket simply moves its TAT back, never below now), or charges units unconditionally (positive
 * delta), capped at one extra quota so a single huge charge cannot block a key for ever.
 */
public final class QuotaArithmetic {
  /** The resolution of a sliding window's elapsed fraction: 2<sup>16</sup> steps per window. */
  public static final long SLICES = 65536;

  private QuotaArithmetic() {}

  /** The longs of state per limit. */
  static final int STRIDE = 4;

  /**
   * {@return the number of longs of state for {@code plan}: four per limit}
   *
   * @param plan the plan; not null
   */
  public static int stateSize(QuotaPlan plan) {
    return STRIDE * plan.size();
  }

  /**
   * {@return the current time of {@code clock} in microseconds since the epoch}
   *
   * @param clock the clock to read; not null
   */
  public static long micros(Clock clock) {
    Instant i = clock.instant();
    return i.getEpochSecond() * 1_000_000L + i.getNano() / 1000;
  }

  /**
   * Charges {@code cost} to every limit if every limit has room, else to none. Rolls sliding
   * windows forward to {@code now} in {@code state} either way (a window stored ahead of now's
   * stays where it is). A refusal leaves token buckets as they were: a store then calls {@link
   * #capLeads} and, if it returns true, writes {@code state} back although it refused and decides
   * again on it (a clock that never steps back leaves nothing for it to move).
   *
   * @param plan the limits to charge, in order
   * @param state the key's state, {@link #stateSize} longs, updated in place
   * @param now the current time, in microseconds since the epoch
   * @param cost units to charge, at least 1
   * @return whether the cost was charged
   * @throws IllegalArgumentException if {@code cost < 1}, or if {@code now} is before 1970 (see
   *     the class comment, <i>Times before 1970</i>)
   */
  public static boolean tryAcquire(QuotaPlan plan, long[] state, long now, long cost) {
    if (cost < 1 || now < 0) {
      // Built out of line: this method is on every decision's path.
      throw cost < 1 ? new IllegalArgumentException("cost must be at least 1, was " + cost) : beforeEpoch(now);
    }
    long nowMs = Math.floorDiv(now, 1000);
    int n = plan.size();
    boolean fits = true;
    for (int i = 0; i < n; i++) {
      QuotaLimit l = plan.limit(i);
      int b = STRIDE * i;
      if (l.algorithm() == QuotaLimit.Algorithm.TOKEN_BUCKET) {
        long tat = Math.max(state[b], now);
        fits &= cost <= l.quota() && tat + cost * l.intervalMicros() - now <= l.toleranceMicros();
      } else {
        long slice = roll(l, state, b, nowMs);
        long room = l.quota() - state[b + 1] - cost;
        fits &= cost <= l.quota() && room >= 0 && state[b + 2] * (SLICES - slice) <= room * SLICES;
      }
    }
    if (!fits) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      QuotaLimit l = plan.limit(i);
      int b = STRIDE * i;
      if (l.algorithm() == QuotaLimit.Algorithm.TOKEN_BUCKET) {
        state[b] = Math.max(state[b], now) + cost * l.intervalMicros();
      } else {
        state[b + 1] += cost;
      }
    }
    return true;
  }

  /**
   * Undoes in {@code state} what a clock that stepped back leaves, as a clock that never steps back
   * never leaves it (see the class comment, <i>A clock that steps back</i>): brings every token
   * bucket of {@code plan} further ahead of {@code now} than {@code 2τ} (its {@linkplain
   * QuotaLimit#horizonMicros() horizon}) back to {@code now + 2τ}, and moves every sliding window
   * stored ahead of now's window back to now's window, keeping its counts and marking them. Changes
   * nothing else. A
   * store calls it when {@link #tryAcquire} refuses; {@link #adjust} applies it itself. A bucket
   * that plans of other sizes share (a quota changed under the same name and window, a narrowing
   * override) is capped at this plan's {@code 2τ}, as a forced charge under this plan already caps
   * it.
   *
   * @param plan the limits the state is laid out for
   * @param state the key's state, {@link #stateSize} longs, updated in place
   * @param now the current time, in microseconds since the epoch
   * @return whether it moved anything, in which case the store must write {@code state} back, even
   *     for a refusal, and decide the request again on it (a moved window may have room)
   */
  public static boolean capLeads(QuotaPlan plan, long[] state, long now) {
    long nowMs = Math.floorDiv(now, 1000);
    boolean moved = false;
    for (int i = 0; i < plan.size(); i++) {
      QuotaLimit l = plan.limit(i);
      int b = STRIDE * i;
      if (leads(l, state, b, now, nowMs)) {
        if (l.algorithm() == QuotaLimit.Algorithm.TOKEN_BUCKET) {
          state[b] = now + 2 * l.toleranceMicros();
        } else {
          moveBack(state, b, nowMs / l.windowMillis());
        }
        moved = true;
      }
    }
    return moved;
  }

  /**
   * Whether {@link #capLeads} would move anything in {@code state} at {@code now}, without moving
   * it: for a store whose {@code now} may be older than the state it read (a time read before
   * another thread, reading the clock later, wrote the key), which then reads the time again
   * before taking a lead for a step back.
   */
  static boolean leads(QuotaPlan plan, long[] state, long now) {
    long nowMs = Math.floorDiv(now, 1000);
    for (int i = 0; i < plan.size(); i++) {
      if (leads(plan.limit(i), state, STRIDE * i, now, nowMs)) {
        return true;
      }
    }
    return false;
  }

  private static boolean leads(QuotaLimit l, long[] state, int b, long now, long nowMs) {
    return l.algorithm() == QuotaLimit.Algorithm.TOKEN_BUCKET ? state[b] - now > 2 * l.toleranceMicros()
        : state[b] > nowMs / l.windowMillis();
  }

  /**
   * Returns ({@code delta < 0}) or forcibly charges ({@code delta > 0}) units on every limit.
   * A refund goes to the sliding window that was current at {@code decidedAt} (the time of the
   * reservation being settled) and is dropped once that window is older than the previous one.
   * It is matched against the windows as stored, before a window stored ahead of now's (a clock
   * that stepped back) is moved back to now's, and after such a move against the mark it left (see
   * the class comment, <i>A clock that steps back</i>). Caveat:
   * a reservation decided while its window was stored ahead (after a step back, before a refusal
   * moved it back) was counted in the stored window, yet its refund is matched by {@code
   * decidedAt}'s window like any other, so it comes off an older count or none; it never returns
   * more than {@code -delta}.
   *
   * @param plan the limits the state is laid out for
   * @param state the key's state, {@link #stateSize} longs, updated in place
   * @param now the current time, in microseconds since the epoch, not negative
   * @param delta units to return (negative) or charge (positive); 0 changes nothing
   * @param decidedAt when the reservation being settled was decided, in microseconds since the
   *     epoch
   * @throws IllegalArgumentException if {@code now} is before 1970 (see the class comment, <i>Times
   *     before 1970</i>)
   */
  public static void adjust(QuotaPlan plan, long[] state, long now, long delta, long decidedAt) {
    adjust(plan, state, now, delta, decidedAt, null);
  }

  /**
   * Where a reservation left each token bucket of {@code plan}: the bucket's theoretical arrival
   * time just after it ({@code decidedAt + resetAfter}, in the store's time), 0 for a sliding
   * window. Settling the reservation may move a bucket back no further than this end less the
   * time since: the rest of the reservation has refilled meanwhile, as it would have anyway.
   *
   * @param plan the plan the reservation was charged under
   * @param reservation the decision that charged the reservation
   * @return one end per limit of {@code plan}, in microseconds: a token bucket's end, 0 for a
   *     sliding window
   */
  public static long[] bucketEnds(QuotaPlan plan, QuotaDecision reservation) {
    long[] ends = new long[plan.size()];
    for (int i = 0; i < ends.length; i++) {
      if (plan.limit(i).algorithm() == QuotaLimit.Algorithm.TOKEN_BUCKET) {
        ends[i] = reservation.decidedAtMicros() + reservation.resetAfterMicros(i);
      }
    }
    return ends;
  }

  /**
   * Checks that {@code ends} (null: no bound) holds one end per limit of {@code plan}, as {@link
   * #bucketEnds} gives them.
   *
   * @param plan the plan the ends are for
   * @param ends the ends, or null
   * @throws IllegalArgumentException if it holds more or fewer
   */
  public static void checkBucketEnds(QuotaPlan plan, long[] ends) {
    if (ends != null && ends.length != plan.size()) {
      throw new IllegalArgumentException("bucketEnds must have one element per limit of the plan ("
          + plan.size() + "), had " + ends.length);
    }
  }

  /**
   * As {@link #adjust(QuotaPlan, long[], long, long, long)}, for settling a reservation whose
   * {@link #bucketEnds} are {@code ends} (null: no such bound): a refund moves token bucket {@code
   * i} back by at most {@code ends[i] - now}. Without that bound a refund would return units the
   * bucket had already refilled since the reservation, and a client spending those meanwhile would
   * get more than a bucket at one instant.
   *
   * @param plan the limits the state is laid out for
   * @param state the key's state, {@link #stateSize} longs, updated in place
   * @param now the current time, in microseconds since the epoch, not negative
   * @param delta units to return (negative) or charge (positive); 0 changes nothing
   * @param decidedAt when the reservation being settled was decided, in microseconds since the
   *     epoch
   * @param ends one end per limit from {@link #bucketEnds}, or null for no bound
   * @throws IllegalArgumentException if {@code now} is before 1970 (see the class comment, <i>Times
   *     before 1970</i>)
   */
  public static void adjust(QuotaPlan plan, long[] state, long now, long delta, long decidedAt, long[] ends) {
    if (now < 0) {
      throw beforeEpoch(now);
    }
    if (delta == 0) {
      return;
    }
    long nowMs = Math.floorDiv(now, 1000);
    for (int i = 0; i < plan.size(); i++) {
      QuotaLimit l = plan.limit(i);
      int b = STRIDE * i;
      if (l.algorithm() == QuotaLimit.Algorithm.TOKEN_BUCKET) {
        // Capped as capLeads does: a refund after the clock stepped back comes off what the
        // bucket can owe, not off the step.
        long tat = Math.min(Math.max(state[b], now), now + 2 * l.toleranceMicros());
        // -Long.MIN_VALUE does not exist as a long: Math.abs would return it negative.
        long units = Math.min(delta == Long.MIN_VALUE ? Long.MAX_VALUE : Math.abs(delta), 2 * l.quota());
        if (delta < 0) {
          long back = units * l.intervalMicros();
          if (ends != null) {
            back = Math.min(back, Math.max(0, ends[i] - now));
          }
          state[b] = Math.max(tat - back, now);
        } else {
          state[b] = Math.min(tat + units * l.intervalMicros(), now + 2 * l.toleranceMicros());
        }
      } else {
        roll(l, state, b, nowMs);
        long max = 2 * l.quota();
        if (delta > 0) {
          state[b + 1] = Math.min(state[b + 1] + Math.min(delta, max), max);
        } else {
          // Matched against the windows as stored, before a step back moves them: moved first, a
          // window would be matched under another window's index.
          long at = Math.floorDiv(Math.floorDiv(decidedAt, 1000), l.windowMillis());
          int count = refundedCount(state, b, at);
          if (count != 0) {
            state[b + count] = Math.max(0, state[b + count] + Math.max(delta, -max));
          }
        }
        // Then moved back as capLeads does, with its counts.
        if (state[b] > nowMs / l.windowMillis()) {
          moveBack(state, b, nowMs / l.windowMillis());
        }
      }
    }
  }

  /**
   * The decision for a request of {@code cost} at {@code now}, given the state after {@link
   * #tryAcquire} (or after the equivalent script) and whether it charged.
   *
   * @param plan the limits the state is laid out for
   * @param state the key's state after the charge (or the refusal)
   * @param now the time of the decision, in microseconds since the epoch
   * @param cost the units the request asked for
   * @param allowed whether the cost was charged
   * @return the decision, with the remaining units and reset time of every limit
   */
  public static QuotaDecision decision(QuotaPlan plan, long[] state, long now, long cost, boolean allowed) {
    int n = plan.size();
    // A one-limit decision holds its figures without arrays.
    long[] remaining = n == 1 ? null : new long[n];
    long[] reset = n == 1 ? null : new long[n];
    long nowMs = Math.floorDiv(now, 1000);
    long retry = 0;
    int binding = 0;
    long bindingRemaining = 0;
    long bindingReset = 0;
    long bindingRetry = -1;
    long onlyRemaining = 0;
    long onlyReset = 0;
    for (int i = 0; i < n; i++) {
      QuotaLimit l = plan.limit(i);
      int b = STRIDE * i;
      long wait;
      long left;
      long resets;
      if (l.algorithm() == QuotaLimit.Algorithm.TOKEN_BUCKET) {
        long tat = Math.max(state[b], now);
        long used = tat - now;
        left = used >= l.toleranceMicros() ? 0 : (l.toleranceMicros() - used) / l.intervalMicros();
        resets = used;
        wait = allowed ? 0 : cost > l.quota() ? QuotaDecision.NEVER
            : Math.max(0, tat + cost * l.intervalMicros() - l.toleranceMicros() - now);
      } else {
        long w = l.windowMillis();
        long idx = nowMs / w;
        long cur = state[b + 1];
        long prev = state[b + 2];
        if (state[b] == idx - 1) {
          prev = cur;
          cur = 0;
        } else if (state[b] < idx - 1) {
          prev = 0;
          cur = 0;
        } else if (state[b] > idx) {
          idx = state[b];
          nowMs = idx * w;
        }
        long slice = (nowMs - idx * w) * SLICES / w;
        long weighted = ceilDiv(prev * (SLICES - slice), SLICES);
        left = Math.max(0, l.quota() - cur - weighted);
        resets = Math.max(0, (idx + 1) * w * 1000 - now);
        wait = allowed ? 0 : slidingWait(l, idx, slice, cur, prev, cost, now);
        nowMs = Math.floorDiv(now, 1000);
      }
      if (remaining != null) {
        remaining[i] = left;
        reset[i] = resets;
      } else {
        onlyRemaining = left;
        onlyReset = resets;
      }
      if (allowed) {
        if (i == 0 || left < bindingRemaining || (left == bindingRemaining && resets > bindingReset)) {
          binding = i;
          bindingRemaining = left;
          bindingReset = resets;
        }
      } else if (wait > bindingRetry) {
        bindingRetry = wait;
        binding = i;
      }
      retry = Math.max(retry, wait);
    }
    return remaining == null ? QuotaDecision.meteredOne(allowed, plan, onlyRemaining, onlyReset, retry, now)
        : QuotaDecision.metered(allowed, plan, remaining, reset, retry, now, binding);
  }

  /**
   * Moves the window pair forward to {@code nowMs}: an old current window becomes the previous
   * one, anything older is forgotten, and a mark is dropped once now's window is two past the
   * window it names. A clock that stepped back stays in the stored window.
   *
   * @return the elapsed slices of the current window
   */
  private static long roll(QuotaLimit l, long[] state, int b, long nowMs) {
    long w = l.windowMillis();
    long idx = nowMs / w;
    long stored = state[b];
    if (stored == idx - 1) {
      state[b + 2] = state[b + 1];
      state[b + 1] = 0;
      state[b] = idx;
    } else if (stored < idx - 1) {
      state[b + 1] = 0;
      state[b + 2] = 0;
      state[b] = idx;
    } else if (stored > idx) {
      return 0;
    }
    if (state[b + 3] != 0 && !marked(state, b, idx)) {
      state[b + 3] = 0; // every window the mark names has passed: counts are matched as on a steady clock
    }
    return (nowMs - idx * w) * SLICES / w;
  }

  /**
   * Moves the sliding window at {@code b}, stored ahead of window {@code idx} (a clock that stepped
   * back), back to {@code idx} with its counts, and marks which windows' charges its counts may
   * hold under other indices (see the class comment, <i>A clock that steps back</i>): the stored
   * index, or the mark's if that is later and still in force, and whether the move was by one
   * window (its counts then sit one window off) or by more, or over a mark in force (too far to
   * tell).
   */
  private static void moveBack(long[] state, int b, long idx) {
    long stored = state[b];
    boolean marked = marked(state, b, stored);
    long from = marked ? Math.max(stored, state[b + 3] >> 1) : stored;
    state[b + 3] = 2 * from + (!marked && stored - idx == 1 ? 0 : 1);
    state[b] = idx;
  }

  /**
   * Which count of the sliding window at {@code b} (rolled to now) a refund of a charge decided in
   * window {@code at} comes off: 1 the current, 2 the previous, 0 none (dropped). On a steady clock
   * the one of that index. Under a mark ({@link #moveBack}), for a window up to the one it names:
   * after a move by one window, the count of the next index, which holds that window's charges made
   * before the step (one made after it sits in that count or a later one); after a longer move,
   * none. A refund never comes off a count weighing more than the one that holds its charge.
   */
  private static int refundedCount(long[] state, int b, long at) {
    long idx = state[b];
    if (marked(state, b, idx) && at <= state[b + 3] >> 1) {
      if ((state[b + 3] & 1) != 0) {
        return 0;
      }
      idx++;
    }
    return at == idx ? 1 : at == idx - 1 ? 2 : 0;
  }

  /** The shortest wait until {@code cost} fits a sliding window, assuming no other traffic. */
  private static long slidingWait(QuotaLimit l, long idx, long slice, long cur, long prev, long cost, long now) {
    long q = l.quota();
    long w = l.windowMillis();
    if (cost > q) {
      return QuotaDecision.NEVER;
    }
    long room = q - cur - cost;
    long atMs;
    if (room >= 0) {
      if (prev * (SLICES - slice) <= room * SLICES) {
        return 0;
      }
      // The first slice s with prev × (SLICES − s) ≤ room × SLICES, then the first millisecond in it.
      long s = SLICES - room * SLICES / prev;
      atMs = idx * w + Math.min(ceilDiv(s * w, SLICES), w);
    } else {
      // Not in this window: in the next one, today's count becomes the previous window's.
      long s = Math.max(0, SLICES - (q - cost) * SLICES / cur);
      atMs = (idx + 1) * w + Math.min(ceilDiv(s * w, SLICES), w);
    }
    return Math.max(1, atMs * 1000 - now);
  }

  /**
   * Whether {@code state} decides everything from {@code now} on exactly as a fresh key's all-zero
   * state would (every token bucket full, no sliding-window count that still weighs), so that a
   * store may forget the key. A window stored ahead of {@code now} (a clock that stepped back)
   * never counts as fresh.
   */
  static boolean isFresh(List<QuotaLimit> limits, long[] state, long now) {
    long nowMs = Math.floorDiv(now, 1000);
    for (int i = 0; i < limits.size(); i++) {
      QuotaLimit l = limits.get(i);
      int b = STRIDE * i;
      if (l.algorithm() == QuotaLimit.Algorithm.TOKEN_BUCKET) {
        if (state[b] > now) {
          return false;
        }
      } else {
        long idx = nowMs / l.windowMillis();
        long stored = state[b];
        if (stored > idx || (stored >= idx - 1 && state[b + 1] != 0) || (stored == idx && state[b + 2] != 0)
            || marked(state, b, idx)) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * The most units any of {@code limits} still counts in {@code state} at {@code now}: what
   * forgetting the state would hand back on that limit. Zero exactly when {@link
   * #isFresh} holds; a window stored ahead of {@code now}, or one still marked after a clock step
   * back, counts at least one.
   */
  static long countedUnits(List<QuotaLimit> limits, long[] state, long now) {
    long nowMs = Math.floorDiv(now, 1000);
    long most = 0;
    for (int i = 0; i < limits.size(); i++) {
      QuotaLimit l = limits.get(i);
      int b = STRIDE * i;
      long units;
      if (l.algorithm() == QuotaLimit.Algorithm.TOKEN_BUCKET) {
        long ahead = state[b] - now;
        units = ahead <= 0 ? 0 : (ahead - 1) / l.intervalMicros() + 1;
      } else {
        long w = l.windowMillis();
        long idx = nowMs / w;
        long stored = state[b];
        long left = SLICES - (nowMs - idx * w) * SLICES / w;
        if (stored > idx) {
          units = Math.max(1, state[b + 1] + state[b + 2]);
        } else if (stored == idx) {
          units = state[b + 1] + weighed(state[b + 2], left);
        } else if (stored == idx - 1) {
          units = weighed(state[b + 1], left);
        } else {
          units = 0;
        }
        if (marked(state, b, idx)) {
          units = Math.max(1, units);
        }
      }
      most = Math.max(most, units);
    }
    return most;
  }

  /**
   * Whether the sliding window at {@code b}, at window {@code idx}, still carries a mark ({@link
   * #moveBack}) in force, one that decides refunds (until {@code idx} is two past the window it
   * names): forgetting it would let a refund of a charge made before the step come off a count of
   * charges made after it.
   */
  private static boolean marked(long[] state, int b, long idx) {
    return state[b + 3] != 0 && idx <= (state[b + 3] >> 1) + 1;
  }

  /** The part of a previous window's {@code count} that still weighs, {@code left} slices from its end, rounded up. */
  private static long weighed(long count, long left) {
    return count == 0 ? 0 : (count * left - 1) / SLICES + 1;
  }

  /**
   * Re-lays {@code state}, kept for {@code from}, out for {@code to}: a limit keeps its state if
   * {@code from} has a limit of the same name, algorithm and window; otherwise it starts fresh.
   *
   * @param from the plan {@code state} is laid out for
   * @param state the state, {@link #stateSize}{@code (from)} longs; not changed
   * @param to the plan to lay the state out for
   * @return a new array of {@link #stateSize}{@code (to)} longs
   */
  public static long[] remap(QuotaPlan from, long[] state, QuotaPlan to) {
    return remap(from.limits(), state, to);
  }

  /**
   * {@link #remap(QuotaPlan, long[], QuotaPlan)} from a list of limits that may hold several
   * definitions of one name (a key's current and parked limits); the one that {@linkplain
   * #sharesState shares state} with a limit of {@code to} gives it its state.
   */
  static long[] remap(List<QuotaLimit> from, long[] state, QuotaPlan to) {
    long[] out = new long[stateSize(to)];
    for (int j = 0; j < to.size(); j++) {
      int i = indexSharingState(from, to.limit(j));
      if (i >= 0) {
        System.arraycopy(state, STRIDE * i, out, STRIDE * j, STRIDE);
      }
    }
    return out;
  }

  /** The index of the first of {@code limits} that {@linkplain #sharesState shares state} with {@code l}, or -1. */
  static int indexSharingState(List<QuotaLimit> limits, QuotaLimit l) {
    for (int i = 0; i < limits.size(); i++) {
      if (sharesState(limits.get(i), l)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Whether state counted for {@code a} means the same for {@code b}: same name, algorithm and
   * window (the quota may differ). A limit redefined otherwise under its name counts afresh, and
   * its old definition's count stays apart: the Redis store keeps each under its own key.
   */
  static boolean sharesState(QuotaLimit a, QuotaLimit b) {
    return a.name().equals(b.name()) && a.algorithm() == b.algorithm() && a.windowSeconds() == b.windowSeconds();
  }

  /** The refusal of a time before 1970, which state cannot hold (see the class comment). */
  private static IllegalArgumentException beforeEpoch(long now) {
    return new IllegalArgumentException("quota time " + now + " µs is before 1970 (the epoch), which quota"
        + " state cannot hold: the store's clock must not read before 1970-01-01T00:00:00Z");
  }

  private static long ceilDiv(long a, long b) {
    return -Math.floorDiv(-a, b);
  }
}
