package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A declared {@code Content-Length} or chunk size is only a claim: buffers grow with the bytes that really
 * arrive, so a response head of a few dozen bytes cannot make the fetcher allocate up to its byte
 * cap. Run in a forked JVM whose 64 MB heap could not hold the declared body.
 */
class ContentLengthLieTest {

  @ParameterizedTest
  @ValueSource(strings = {"length", "chunked"})
  void aDeclaredLengthFarAboveWhatIsSentAllocatesNothingLikeIt(String framing) throws Exception {
    ForkedJvm.Result r = ForkedJvm.run(List.of("-Xmx64m"), ContentLengthProbe.class, Integer.toString(900 << 20), framing);

    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).as(r.output()).contains("result=FetchResult[failed BAD_RESPONSE]").doesNotContain("threw=");
  }
}
