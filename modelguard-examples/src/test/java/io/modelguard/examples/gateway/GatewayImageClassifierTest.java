package io.modelguard.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.modelguard.ReasonCode;
import io.modelguard.examples.AppOptions;
import io.modelguard.examples.ModelServingApp;
import io.modelguard.examples.QuotaClocks;
import io.modelguard.examples.model.Dataset;
import io.modelguard.examples.model.DigitPictures;
import io.modelguard.examples.model.ForwardedImage;
import io.modelguard.examples.model.ModelCatalog;
import io.modelguard.problem.ProblemRenderer;
import io.modelguard.test.input.LoopbackHttpServer;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code image-classifier} in gateway mode: the edge fetches and checks the client's image URL, and
 * forwards the bytes it checked, never the URL; the {@link UpstreamServer} classifies those bytes
 * and fetches nothing. Everything runs on 127.0.0.1: an image server that counts its connections,
 * the upstream, a recorder between the gateway and the upstream that keeps every body the upstream
 * got, the gateway, and the in-process demo to compare answers with.
 */
class GatewayImageClassifierTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
  private static final String PREDICT = "/v1/models/image-classifier/predict";
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private static LoopbackHttpServer images;
  private static byte[] sevenPng;
  private static UpstreamServer upstream;
  private static HttpServer recorder;
  private static ExecutorService recorderThreads;
  /** The bodies the upstream got through the recorder, in order. */
  private static final List<String> upstreamGot = new CopyOnWriteArrayList<>();
  private static ModelServingApp gateway;
  private static ModelServingApp inProcess;

  @BeforeAll
  static void start() throws Exception {
    Dataset digits = Dataset.fromResource("digits", "digits.csv");
    double[] seven = digits.features(DigitPictures.firstFullRangeRow(digits, 7));
    sevenPng = DigitPictures.encode(DigitPictures.draw(seven, 8, true), "png");
    images = LoopbackHttpServer.start()
        .serve("/seven.png", 200, "image/png", sevenPng)
        .serve("/corrupt.png", 200, "image/png", DigitPictures.pngDeclaring(8, 8)) // a header, no pixel data
        .serve("/noise.png", 200, "image/png", noisePng());
    upstream = UpstreamServer.start(0);
    recorder = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    recorderThreads = Executors.newFixedThreadPool(2);
    recorder.setExecutor(recorderThreads);
    recorder.createContext("/", exchange -> {
      byte[] body = exchange.getRequestBody().readAllBytes();
      upstreamGot.add(new String(body, StandardCharsets.UTF_8));
      HttpResponse<byte[]> answer;
      try {
        answer = HTTP.send(HttpRequest.newBuilder(upstream.baseUri().resolve(exchange.getRequestURI().getRawPath()))
            .header("Content-Type", exchange.getRequestHeaders().getFirst("Content-Type"))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        exchange.close();
        return;
      }
      answer.headers().firstValue("Content-Type").ifPresent(t -> exchange.getResponseHeaders().add("Content-Type", t));
      exchange.sendResponseHeaders(answer.statusCode(), answer.body().length == 0 ? -1 : answer.body().length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(answer.body());
      }
    });
    recorder.start();
    AppOptions options = AppOptions.defaults().withPort(0).withAllowFetchHost("127.0.0.1:" + images.port());
    gateway = ModelServingApp.start(options, QUIET, GatewayApp.endpoints(Upstreams.none()
        .withDefault(URI.create("http://127.0.0.1:" + recorder.getAddress().getPort()))
        .withTimeout(Duration.ofSeconds(20))));
    inProcess = ModelServingApp.start(options, QUIET);
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[] {gateway, inProcess, upstream, images}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // best effort
      }
    }
    if (recorder != null) {
      recorder.stop(0);
    }
    if (recorderThreads != null) {
      recorderThreads.shutdownNow();
    }
  }

  @BeforeEach
  void forgetEarlierTraffic() {
    images.reset();
    upstreamGot.clear();
  }

  /** An image-classifier prediction of {@code imageUrl} with the enterprise key (the demo tier that grants it). */
  private static HttpResponse<String> classify(ModelServingApp app, String imageUrl) {
    return Loopback.post(app.baseUri(), PREDICT, "application/json", "{\"imageUrl\":\"" + imageUrl + "\"}",
        "X-API-Key", app.key("enterprise").orElseThrow().plaintext());
  }

  private static void assertProblem(HttpResponse<String> r, ReasonCode code) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(ProblemRenderer.status(code));
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
    assertThat(JSON.readTree(r.body()).get("code").asText()).isEqualTo(code.code());
  }

  @Test
  void aPredictionWhoseImageTheEdgeFetchedStaysChargedWhenTheUpstreamRefusesTheConnection() throws Exception {
    // Refused before forwarding, a prediction was settled to nothing even though the edge had
    // fetched its image from a host of the client's choosing: while the upstream was down, or at an
    // in-flight cap, a tenant could have the edge fetch without end at no cost.
    URI closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = URI.create("http://127.0.0.1:" + s.getLocalPort());
    }
    AppOptions options = AppOptions.defaults().withPort(0).withAllowFetchHost("127.0.0.1:" + images.port());
    try (ModelServingApp edge = ModelServingApp.start(QuotaClocks.frozen(options), QUIET,
        GatewayApp.endpoints(Upstreams.none().with(ModelCatalog.IMAGE_CLASSIFIER, closed)))) {
      List<String> remaining = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> r = classify(edge, images.url("/seven.png"));
        assertProblem(r, ReasonCode.UPSTREAM_UNAVAILABLE);
        remaining.add(r.headers().firstValue("RateLimit").orElseThrow());
      }
      assertThat(images.connections()).as("the edge fetched every image").isEqualTo(3);
      assertThat(remaining).as("each fetch charged: no refusal reports the units an earlier one left")
          .doesNotHaveDuplicates();
    }
  }

  @Test
  void anImageIsClassifiedThroughTheGatewayExactlyAsInProcess() throws Exception {
    HttpResponse<String> direct = classify(inProcess, images.url("/seven.png"));
    HttpResponse<String> viaGateway = classify(gateway, images.url("/seven.png"));

    assertThat(direct.statusCode()).as(direct.body()).isEqualTo(200);
    assertThat(viaGateway.statusCode()).as(viaGateway.body()).isEqualTo(200);
    JsonNode answer = JSON.readTree(viaGateway.body());
    assertThat(answer.get("model").asText()).isEqualTo("image-classifier");
    assertThat(answer.get("label").asInt()).isEqualTo(7);
    assertThat(answer.get("probabilities")).hasSize(10).isEqualTo(JSON.readTree(direct.body()).get("probabilities"));
    assertThat(viaGateway.body()).isEqualTo(direct.body());
    assertThat(viaGateway.headers().firstValue("RateLimit-Policy")).isPresent();
  }

  @Test
  void theUpstreamGetsTheCheckedBytesNeverTheUrlAndTheImageHostIsContactedOnceByTheEdge() throws Exception {
    String url = images.url("/seven.png");

    HttpResponse<String> r = classify(gateway, url);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(images.connections()).isEqualTo(1);
    assertThat(images.requestLines()).containsExactly("GET /seven.png HTTP/1.1");
    assertThat(upstreamGot).hasSize(1);
    String forwarded = upstreamGot.get(0);
    assertThat(forwarded).doesNotContain("imageUrl").doesNotContain(url)
        .doesNotContain("127.0.0.1").doesNotContain("seven.png");
    JsonNode image = JSON.readTree(forwarded).get(ForwardedImage.FIELD);
    assertThat(image.get("contentType").asText()).isEqualTo("image/png");
    assertThat(Base64.getDecoder().decode(image.get("base64").asText())).isEqualTo(sevenPng);
  }

  @Test
  void anInternalImageUrlIsBlockedAtTheEdgeAndTheUpstreamIsNotCalled() throws Exception {
    for (String url : List.of("http://169.254.169.254/latest/meta-data/",
        "http://localhost:" + images.port() + "/seven.png",
        "http://127.0.0.1:" + (images.port() == 65535 ? 65534 : images.port() + 1) + "/seven.png")) {
      HttpResponse<String> r = classify(gateway, url);

      assertProblem(r, ReasonCode.INPUT_URL_BLOCKED);
      assertThat(r.body()).as(url).isEqualTo(classify(inProcess, url).body());
    }
    assertThat(images.connections()).isZero();
    assertThat(upstreamGot).isEmpty();
  }

  @Test
  void theUpstreamsRefusalOfAnImageThatDoesNotDecodeIsTheDemosOwn() throws Exception {
    HttpResponse<String> viaGateway = classify(gateway, images.url("/corrupt.png"));

    assertProblem(viaGateway, ReasonCode.INPUT_INVALID);
    assertThat(viaGateway.body()).isEqualTo(classify(inProcess, images.url("/corrupt.png")).body());
    assertThat(upstreamGot).hasSize(1);
  }

  @Test
  void anImageNearTheByteCapIsForwardedWithinTheFormsBound() throws Exception {
    byte[] noise = noisePng();
    assertThat(noise.length).isGreaterThan(ModelCatalog.IMAGE_MAX_BYTES * 9 / 10)
        .isLessThanOrEqualTo(ModelCatalog.IMAGE_MAX_BYTES);

    HttpResponse<String> r = classify(gateway, images.url("/noise.png"));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(upstreamGot).hasSize(1);
    assertThat(upstreamGot.get(0).length()).isLessThanOrEqualTo(ForwardedImage.MAX_BODY_BYTES);
    assertThat(Base64.getDecoder().decode(JSON.readTree(upstreamGot.get(0)).get(ForwardedImage.FIELD).get("base64")
        .asText())).isEqualTo(noise);
  }

  @Test
  void theUpstreamTakesOnlyTheForwardedFormAndFetchesNothing() throws Exception {
    String png = Base64.getEncoder().encodeToString(sevenPng);
    String[] refused = {
        "{\"imageUrl\":\"" + images.url("/seven.png") + "\"}",
        "{\"image\":{\"contentType\":\"image/gif\",\"base64\":\"" + png + "\"}}",
        "{\"image\":{\"contentType\":\"image/png\",\"base64\":\"not base64!\"}}",
        "{\"image\":{\"contentType\":\"image/png\",\"base64\":\"" + png + "\",\"url\":\"http://x\"}}",
        "{\"image\":{\"contentType\":\"image/png\",\"base64\":\"" + png + "\"},\"imageUrl\":\"http://x\"}",
    };
    for (String body : refused) {
      assertProblem(Loopback.post(upstream.baseUri(), PREDICT, "application/json", body), ReasonCode.INPUT_INVALID);
    }
    String tooLarge = "{\"image\":{\"contentType\":\"image/png\",\"base64\":\""
        + "A".repeat(ForwardedImage.MAX_BODY_BYTES) + "\"}}";
    assertProblem(Loopback.post(upstream.baseUri(), PREDICT, "application/json", tooLarge), ReasonCode.INPUT_TOO_LARGE);
    assertThat(images.connections()).isZero();

    HttpResponse<String> accepted = Loopback.post(upstream.baseUri(), PREDICT, "application/json",
        "{\"image\":{\"contentType\":\"image/png\",\"base64\":\"" + png + "\"}}");
    assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(200);
    assertThat(JSON.readTree(accepted.body()).get("label").asInt()).isEqualTo(7);
  }

  /** A 1000 × 1000 PNG of grey noise (fixed seed): it barely compresses, so it is just under 1 MiB. */
  private static byte[] noisePng() {
    BufferedImage image = new BufferedImage(1000, 1000, BufferedImage.TYPE_BYTE_GRAY);
    byte[] pixels = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
    new Random(42).nextBytes(pixels);
    return DigitPictures.encode(image, "png");
  }
}
