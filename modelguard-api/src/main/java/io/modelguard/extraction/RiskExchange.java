package io.modelguard.extraction;

import java.util.function.Consumer;

/**
 * How {@link ExtractionDefence}s on several instances share the levels they raise: each defence
 * given one ({@link ExtractionDefence.Builder#exchange}) joins it once, publishes a {@link
 * RiskRaise} whenever a query raises a client's level, and receives the raises the other members
 * publish. One exchange carries the raises of many models: each defence keeps only those of its
 * own label. Implementations: {@link #inProcess()} (defences of one JVM, tests) and {@code
 * RedisRiskExchange} in modelguard-redis (Redis pub/sub, between JVMs).
 *
 * <p>The contract: {@link Member#publish} must neither block nor throw for a failure to send (the
 * caller is a request thread); delivery is best effort, at most once, to every member but the
 * publisher; and the receiver a member joined with is called with raises of any label, on the
 * exchange's thread, one at a time per member. Whoever can publish on an exchange can raise any
 * client's level on every member: give it the trust the quota store has.
 */
public interface RiskExchange {

  /**
   * Adds a member that receives, through {@code receiver}, what every other member publishes from
   * now on, and returns the handle it publishes with. The receiver must be quick (it runs on the
   * exchange's thread) and should not throw; the exchange ignores what it throws.
   *
   * @param receiver called with each raise another member publishes
   * @return this member's handle
   */
  Member join(Consumer<RiskRaise> receiver);

  /**
   * An exchange between the members that join it in this JVM, delivering on the publisher's thread.
   *
   * @return a new, empty exchange
   */
  static RiskExchange inProcess() {
    return new InProcessRiskExchange();
  }

  /** One member's handle on its exchange. */
  interface Member {

    /**
     * Sends {@code raise} to every other member, without waiting for them to receive it. Never
     * throws for a failure to send: the exchange logs it (at most once a minute) and drops the
     * raise.
     *
     * @param raise the raise to send; not null
     */
    void publish(RiskRaise raise);

    /** Stops receiving: the member's receiver is called no more after this returns. Idempotent. */
    void leave();
  }
}
