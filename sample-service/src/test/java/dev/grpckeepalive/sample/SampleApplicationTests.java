package dev.grpckeepalive.sample;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.sample.proto.PriceServiceGrpc;
import dev.grpckeepalive.sample.proto.Quote;
import dev.grpckeepalive.sample.proto.QuoteRequest;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * The sample as shipped, started on a free gRPC port rather than 9090: quotes, errors, and its
 * own subscription to the feed over the {@code prices} channel, which follows the port.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "sample.tick-interval=50ms")
class SampleApplicationTests {

	private static int grpcPort;

	/** Only the server's port: application.yml points the prices channel at it. */
	@DynamicPropertySource
	static void freePort(DynamicPropertyRegistry registry) throws IOException {
		grpcPort = FreeGrpcPort.pick();
		registry.add("grpc.keepalive.server.port", () -> grpcPort);
	}

	@Autowired
	@Qualifier("prices")
	private ManagedChannel prices;

	@Autowired
	private PriceFeedSubscriber subscriber;

	@Value("${local.server.port}")
	private int httpPort;

	@Test
	void quotesKnownSymbol() {
		Quote quote = PriceServiceGrpc.newBlockingStub(this.prices)
			.withDeadlineAfter(5, TimeUnit.SECONDS)
			.getQuote(QuoteRequest.newBuilder().setSymbol("ACME").build());
		assertThat(quote.getSymbol()).isEqualTo("ACME");
		assertThat(quote.getPriceMicros()).isPositive();
	}

	@Test
	void unknownSymbolIsNotFound() {
		assertThatExceptionOfType(StatusRuntimeException.class)
			.isThrownBy(() -> PriceServiceGrpc.newBlockingStub(this.prices)
				.withDeadlineAfter(5, TimeUnit.SECONDS)
				.getQuote(QuoteRequest.newBuilder().setSymbol("NOPE").build()))
			.satisfies((ex) -> assertThat(ex.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
	}

	@Test
	void subscriberKeepsReceivingTheFeed() {
		await().atMost(Duration.ofSeconds(10)).until(() -> this.subscriber.ticksReceived() >= 30);
	}

	@Test
	void pricesChannelTargetsTheServersPortAndIsHealthy() throws Exception {
		await().atMost(Duration.ofSeconds(10)).until(() -> this.subscriber.ticksReceived() >= 1);

		DocumentContext health = get("/actuator/health/grpcKeepalive");
		assertThat(health.read("$.components.prices.status", String.class)).isEqualTo("UP");
		assertThat(health.read("$.components.prices.details.target", String.class))
			.isEqualTo("localhost:" + grpcPort);
		assertThat(health.read("$.components.prices.details.state", String.class)).isEqualTo("READY");
		assertThat(health.read("$.components.server.details.port", Integer.class)).isEqualTo(grpcPort);
		assertThat(health.read("$.status", String.class)).isEqualTo("UP");
	}

	private DocumentContext get(String path) throws Exception {
		HttpResponse<String> response = HttpClient.newHttpClient()
			.send(HttpRequest.newBuilder(URI.create("http://localhost:" + this.httpPort + path)).build(),
					HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
		return JsonPath.parse(response.body());
	}

}
