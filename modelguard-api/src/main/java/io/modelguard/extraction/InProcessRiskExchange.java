package io.modelguard.extraction;

import io.modelguard.internal.LogPace;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * {@link RiskExchange#inProcess()}: the members of one JVM, each raise handed to the other members'
 * receivers on the publisher's thread before {@link Member#publish} returns. A receiver's work is a
 * cache update, so publishing costs the request thread little; what a receiver throws is logged
 * (at most once a minute) and does not reach the publisher or keep the raise from the others.
 */
final class InProcessRiskExchange implements RiskExchange {
  private static final Logger log = LoggerFactory.getLogger(InProcessRiskExchange.class);

  /** Joins are rare (a defence's build) and publishes frequent: copy on join, iterate freely. */
  private final CopyOnWriteArrayList<InProcessMember> members = new CopyOnWriteArrayList<>();
  private final LogPace<Class<?>> pace = new LogPace<>(log, "per exception class");

  @Override
  public Member join(Consumer<RiskRaise> receiver) {
    InProcessMember member = new InProcessMember(Objects.requireNonNull(receiver, "receiver"));
    members.add(member);
    return member;
  }

  private final class InProcessMember implements Member {
    private final Consumer<RiskRaise> receiver;
    /** Set under this member's lock: no raise reaches its receiver once it has left. */
    private boolean left;

    InProcessMember(Consumer<RiskRaise> receiver) {
      this.receiver = receiver;
    }

    @Override
    public void publish(RiskRaise raise) {
      Objects.requireNonNull(raise, "raise");
      for (InProcessMember other : members) {
        if (other == this) {
          continue;
        }
        try {
          synchronized (other) { // one raise at a time per member, as the contract says
            if (!other.left) {
              other.receiver.accept(raise);
            }
          }
        } catch (RuntimeException e) {
          pace.log(Level.WARN, e.getClass(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime()), e,
              "In-process risk exchange: a member's receiver failed on a raise; the raise is dropped for it");
        }
      }
    }

    @Override
    public void leave() {
      synchronized (this) {
        left = true;
      }
      members.remove(this);
    }
  }
}
