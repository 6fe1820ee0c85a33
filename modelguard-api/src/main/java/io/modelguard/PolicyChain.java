package io.modelguard;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A named, immutable list of request-side and response-side policies. The engine runs request
 * policies in {@link Phase} order and output policies in {@link OutputPhase} order, whatever order
 * they were added in; within a phase, in the order added.
 */
public final class PolicyChain {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  private final String name;
  private final List<Step<Phase, Policy>> requestSteps;
  private final List<Step<OutputPhase, OutputPolicy>> outputSteps;
  private final int authenticators;

  private PolicyChain(Builder b) {
    this.name = b.name;
    List<Step<Phase, Policy>> req = new ArrayList<>(b.requestSteps);
    req.sort(Comparator.comparing(Step::phase)); // stable: registration order within a phase
    this.requestSteps = List.copyOf(req);
    List<Step<OutputPhase, OutputPolicy>> out = new ArrayList<>(b.outputSteps);
    out.sort(Comparator.comparing(Step::phase));
    this.outputSteps = List.copyOf(out);
    this.authenticators = (int) req.stream().filter(s -> s.phase() == Phase.AUTHENTICATE).count();
  }

  /**
   * Starts a chain called {@code name} (1–64 characters of {@code [A-Za-z0-9._-]}).
   *
   * @param name the chain name
   * @return a new builder with no policies
   * @throws IllegalArgumentException if {@code name} is null or not such a name
   */
  public static Builder builder(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("chain name must match " + NAME.pattern() + ", was '" + name + "'");
    }
    return new Builder(name);
  }

  /** {@return the chain's name, as {@code @ModelSecured(chain = ...)} refers to it} */
  public String name() {
    return name;
  }

  /** {@return the request-side steps in execution order} */
  public List<Step<Phase, Policy>> requestSteps() {
    return requestSteps;
  }

  /** {@return the response-side steps in execution order} */
  public List<Step<OutputPhase, OutputPolicy>> outputSteps() {
    return outputSteps;
  }

  /** {@return whether any output policy needs the response body; adapters buffer the response only then} */
  public boolean hasOutputPolicies() {
    return !outputSteps.isEmpty();
  }

  int authenticatorCount() {
    return authenticators;
  }

  /**
   * One registered policy.
   *
   * @param phase its phase
   * @param name its name, unique within the chain (appears in logs and events)
   * @param policy the policy
   * @param failureMode what a thrown exception means
   * @param <P> the phase type
   * @param <T> the policy type
   */
  public record Step<P extends Enum<P>, T>(P phase, String name, T policy, FailureMode failureMode) {}

  /** Builds a {@link PolicyChain}. */
  public static final class Builder {
    private final String name;
    private final List<Step<Phase, Policy>> requestSteps = new ArrayList<>();
    private final List<Step<OutputPhase, OutputPolicy>> outputSteps = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    private Builder(String name) {
      this.name = name;
    }

    /**
     * Adds a fail-closed request policy.
     *
     * @param phase the phase the policy runs in; not null
     * @param name the policy's name, unique within the chain (it appears in logs and events)
     * @param policy the policy; not null
     * @return this builder
     */
    public Builder policy(Phase phase, String name, Policy policy) {
      return policy(phase, name, policy, FailureMode.CLOSED);
    }

    /**
     * Adds a request policy with an explicit failure mode.
     *
     * @param phase the phase the policy runs in; not null
     * @param name the policy's name, unique within the chain (it appears in logs and events)
     * @param policy the policy; not null
     * @param failureMode whether a thrown exception denies the request ({@code CLOSED}) or skips
     *     the policy ({@code OPEN}); not null
     * @return this builder
     * @throws IllegalArgumentException if the name is blank or taken, if a policy that {@linkplain
     *     Policy#requiresPrincipal() requires a principal} is registered in {@link
     *     Phase#AUTHENTICATE}, or if a policy is to fail
     *     open that must not: any {@link Phase#AUTHORIZE} policy, and in any phase one whose {@link
     *     Policy#mustFailClosed()} is true (such as {@link io.modelguard.authz.ModelAccessPolicy},
     *     {@link io.modelguard.input.ModelInputPolicy} or the library's authenticators): skipped
     *     when it throws, its check would let through exactly the requests it exists to refuse
     */
    public Builder policy(Phase phase, String name, Policy policy, FailureMode failureMode) {
      Objects.requireNonNull(phase, "phase");
      Objects.requireNonNull(policy, "policy");
      if (Objects.requireNonNull(failureMode, "failureMode") == FailureMode.OPEN) {
        if (phase == Phase.AUTHORIZE) {
          throw new IllegalArgumentException("chain '" + this.name + "': policy '" + name + "' in AUTHORIZE cannot "
              + "fail open (a failed authorization check would let the request through); register it with "
              + "FailureMode.CLOSED, the default");
        }
        if (policy.mustFailClosed()) {
          throw new IllegalArgumentException("chain '" + this.name + "': policy '" + name + "' in " + phase
              + " cannot fail open (it must fail closed: a failed check would let through the requests it exists "
              + "to refuse); register it with FailureMode.CLOSED, the default");
        }
      }
      if (phase == Phase.AUTHENTICATE && policy.requiresPrincipal()) {
        throw new IllegalArgumentException("chain '" + this.name + "': policy '" + name + "' cannot be registered in "
            + "AUTHENTICATE: it decides for authenticated requests only and would run before or among the "
            + "authenticators, letting requests through uncounted; register it in a later phase (QUOTA for a quota)");
      }
      requestSteps.add(new Step<>(phase, unique(name), policy, failureMode));
      return this;
    }

    /**
     * Adds a fail-closed output policy.
     *
     * @param phase the output phase the policy runs in; not null
     * @param name the policy's name, unique within the chain (it appears in logs and events)
     * @param policy the output policy; not null
     * @return this builder
     */
    public Builder output(OutputPhase phase, String name, OutputPolicy policy) {
      return output(phase, name, policy, FailureMode.CLOSED);
    }

    /**
     * Adds an output policy with an explicit failure mode.
     *
     * @param phase the output phase the policy runs in; not null
     * @param name the policy's name, unique within the chain (it appears in logs and events)
     * @param policy the output policy; not null
     * @param failureMode whether a thrown exception withholds the output ({@code CLOSED}) or skips
     *     the policy ({@code OPEN}); not null
     * @return this builder
     */
    public Builder output(OutputPhase phase, String name, OutputPolicy policy, FailureMode failureMode) {
      outputSteps.add(new Step<>(
          Objects.requireNonNull(phase, "phase"), unique(name), Objects.requireNonNull(policy, "policy"),
          Objects.requireNonNull(failureMode, "failureMode")));
      return this;
    }

    private String unique(String policyName) {
      if (policyName == null || policyName.isBlank()) {
        throw new IllegalArgumentException("chain '" + name + "': policy name must not be blank");
      }
      if (!names.add(policyName)) {
        throw new IllegalArgumentException("chain '" + name + "': policy name '" + policyName + "' is used twice");
      }
      return policyName;
    }

    /**
     * Builds the chain.
     *
     * @return a new, immutable chain with the policies in the order of their phases, then of
     *     registration
     */
    public PolicyChain build() {
      return new PolicyChain(this);
    }
  }
}
