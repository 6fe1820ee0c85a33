package io.modelguard.extraction;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelguard.input.ForkedJvm;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A keyed index allocates nothing per operation, as its class comment promises, without relying on
 * the JIT's escape analysis: measured in an interpreted JVM ({@code -Xint}), where every {@code new}
 * really allocates, so the result does not depend on what has been compiled.
 */
class LongKeyIndexAllocationTest {

  @Test
  void aKeyedIndexAllocatesNothingPerOperationEvenInterpreted() throws Exception {
    ForkedJvm.Result r = ForkedJvm.run(List.of("-Xint"), LongKeyIndexAllocationProbe.class);

    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("operations=20480 found=20480");
    // 15,360 of them hash a key: a SipHash object (56 bytes) for each was 860,160 bytes. A little
    // slack for the counter's own bookkeeping.
    long allocated = Long.parseLong(r.output().replaceAll("(?s).*allocated=(-?\\d+).*", "$1"));
    assertThat(allocated).as(r.output()).isLessThan(1024);
  }
}
