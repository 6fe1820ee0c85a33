package io.modelguard.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.modelguard.GuardDecision;
import io.modelguard.ModelGuard;
import io.modelguard.Phase;
import io.modelguard.Principal;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One tenant (or, unauthenticated, one client address) naming image URLs under domains whose DNS
 * server never answers must not stall every other tenant's fetches: driven through the real policy
 * and fetcher, over the system resolver with a lookup that hangs under the test's control.
 */
class LookupSharePerCallerTest {
  private static final byte[] PNG = TestImages.real("png", 8, 8);

  /** Counted down after each test, so the hanging lookups (and their callers) end. */
  private final CountDownLatch dnsAnswers = new CountDownLatch(1);
  /**
   * {@code images.example.org} is the loopback server; every other name hangs, like the JDK's
   * lookup of a name whose DNS server never answers (deaf to interrupts).
   */
  private final SystemResolver.Lookup lookup = host -> {
    if (host.equals("images.example.org")) {
      return new InetAddress[] {InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1})};
    }
    while (true) {
      try {
        dnsAnswers.await();
        throw new UnknownHostException(host);
      } catch (InterruptedException e) {
        // keeps waiting
      }
    }
  };
  private final List<Thread> attackers = new ArrayList<>();

  private RawHttpServer images;
  private ModelInputPolicy policy;

  @BeforeEach
  void start() throws Exception {
    byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: " + PNG.length
        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    byte[] response = new byte[head.length + PNG.length];
    System.arraycopy(head, 0, response, 0, head.length);
    System.arraycopy(PNG, 0, response, head.length, PNG.length);
    images = new RawHttpServer(response, 0, 0);
    policy = policyOver(new SystemResolver(Duration.ofSeconds(5), lookup));
  }

  private ModelInputPolicy policyOver(HostResolver resolver) {
    ModelSpec spec = ModelSpec.builder("image-classifier")
        .maxBodyBytes(4096)
        .field("imageUrl", FieldSpec.imageUrl(ImageSpec.builder().maxWidth(64).maxHeight(64).build()))
        .build();
    SafeUrlFetcher fetcher = SafeUrlFetcher.builder()
        .resolver(resolver)
        .allowInternalEndpoint("127.0.0.1", images.port())
        .build();
    return ModelInputPolicy.builder().model(spec).fetcher(fetcher).build();
  }

  /** A guard whose principal's tenant is the request's {@code X-Tenant} header, validating with {@code input}. */
  private static ModelGuard guardOver(ModelInputPolicy input) {
    return ModelGuard.builder().auditLog(false)
        .chain("default", c -> c
            .policy(Phase.AUTHENTICATE, "tenant", ctx -> GuardDecision.authenticated(
                Principal.builder("svc").tenant(ctx.request().header("X-Tenant").orElseThrow()).build()))
            .policy(Phase.VALIDATE, "input", input))
        .build();
  }

  @AfterEach
  void stop() throws Exception {
    dnsAnswers.countDown();
    for (Thread t : attackers) {
      t.join(30_000);
    }
    images.close();
  }

  private static TestRequest request(String url, String tenant, String address) {
    TestRequest r = TestRequest.json("image-classifier", "{\"imageUrl\":\"" + url + "\"}").remoteAddress(address);
    return tenant == null ? r : r.header("X-Tenant", tenant);
  }

  private String victimUrl() {
    return "http://images.example.org:" + images.port() + "/cat.png";
  }

  @Test
  void oneTenantsNeverAnsweringDomainsLeaveAnotherTenantSlotsToResolveIn() {
    // The tenant comes from the authenticated principal, not the address: both share one here.
    ModelGuard guard = guardOver(policy);

    // Tenant acme sends as many requests as the resolver has slots, each naming a domain of its
    // own whose DNS server never answers: before, they held all eight slots.
    occupy(i -> guard.check(request("http://img.slow" + i + ".example/cat.png", "acme", "203.0.113.9")));

    GuardDecision victim = guard.check(request(victimUrl(), "globex", "203.0.113.9"));

    assertThat(victim.isAllowed()).as("globex must be served while acme's lookups hang (got %s %s)",
        victim.reason(), victim.detail()).isTrue();
  }

  @Test
  void twoTenantsNeverAnsweringDomainsLeaveAThirdTenantSlotsToResolveIn() {
    // Each tenant may hold half the slots: before the reserve kept for callers holding none, acme
    // and initech, four requests each, held all eight between them.
    ModelGuard guard = guardOver(policy);
    occupy(i -> guard.check(request("http://img.slow" + i + ".example/cat.png", i % 2 == 0 ? "acme" : "initech",
        "203.0.113.9")));

    GuardDecision victim = guard.check(request(victimUrl(), "globex", "203.0.113.9"));

    assertThat(victim.isAllowed()).as("globex must be served while acme's and initech's lookups hang (got %s %s)",
        victim.reason(), victim.detail()).isTrue();
  }

  @Test
  void aResolverWrappingTheSystemOneKeepsItsSharePerCaller() {
    // A resolver of the application's own (here one counting lookups) around the system resolver:
    // told on whose behalf it resolves, it passes the caller on. Before, a resolver given to the
    // fetcher was never told the caller, so one tenant's lookups took every slot of the one it wrapped.
    SystemResolver system = new SystemResolver(Duration.ofSeconds(5), lookup);
    AtomicInteger lookups = new AtomicInteger();
    HostResolver counting = new HostResolver() {
      @Override
      public List<InetAddress> resolve(String host) throws UnknownHostException {
        lookups.incrementAndGet();
        return system.resolve(host);
      }

      @Override
      public List<InetAddress> resolve(String host, Duration timeLeft) throws UnknownHostException {
        lookups.incrementAndGet();
        return system.resolve(host, timeLeft);
      }

      @Override
      public List<InetAddress> resolve(String host, Duration timeLeft, String caller) throws UnknownHostException {
        lookups.incrementAndGet();
        return system.resolve(host, timeLeft, caller);
      }
    };
    ModelGuard guard = guardOver(policyOver(counting));
    occupy(i -> guard.check(request("http://img.slow" + i + ".example/cat.png", "acme", "203.0.113.9")));

    GuardDecision victim = guard.check(request(victimUrl(), "globex", "203.0.113.9"));

    assertThat(victim.isAllowed()).as("globex must be served while acme's lookups hang (got %s %s)",
        victim.reason(), victim.detail()).isTrue();
    assertThat(lookups.get()).isEqualTo(SystemResolver.THREADS + 1);
  }

  @Test
  void oneClientAddressesNeverAnsweringDomainsLeaveAnotherAddressSlotsToResolveIn() {
    // Unauthenticated (the policy on its own): the caller is the client address, an IPv6 one by its /64.
    occupy(i -> policy.check(request("http://img.slow" + i + ".example/cat.png", null, "2001:db8:1:2::" + (i + 1))));

    GuardDecision victim = policy.check(request(victimUrl(), null, "198.51.100.7"));

    assertThat(victim.isAllowed()).as("another client must be served while the first one's lookups hang (got %s %s)",
        victim.reason(), victim.detail()).isTrue();
  }

  /**
   * Starts {@link SystemResolver#THREADS} requests (request {@code i} naming the {@code i}-th
   * never-answering domain) on threads of their own, and returns once each of them waits: for its
   * lookup's answer on a slot it holds, or for a slot.
   */
  private void occupy(Function<Integer, GuardDecision> call) {
    List<Future<GuardDecision>> calls = new ArrayList<>();
    for (int i = 0; i < SystemResolver.THREADS; i++) {
      int n = i;
      FutureTask<GuardDecision> task = new FutureTask<>(() -> call.apply(n));
      Thread t = new Thread(task, "attacker-" + i);
      t.setDaemon(true);
      attackers.add(t);
      calls.add(task);
      t.start();
    }
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      for (int i = 0; i < attackers.size(); i++) {
        while (!calls.get(i).isDone() && attackers.get(i).getState() != Thread.State.TIMED_WAITING) {
          Thread.onSpinWait();
        }
      }
    });
    assertThat(calls).as("the hanging requests must still be waiting").noneMatch(Future::isDone);
  }
}
