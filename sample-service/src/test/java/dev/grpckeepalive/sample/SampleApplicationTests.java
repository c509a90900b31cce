package dev.grpckeepalive.sample;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.sample.proto.PriceServiceGrpc;
import dev.grpckeepalive.sample.proto.Quote;
import dev.grpckeepalive.sample.proto.QuoteRequest;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/** The sample as shipped, on a free port: quotes, errors, and its own subscription to the feed. */
@SpringBootTest(properties = { "sample.tick-interval=50ms", "server.port=0" })
class SampleApplicationTests {

	@DynamicPropertySource
	static void freePort(DynamicPropertyRegistry registry) throws IOException {
		int port;
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			port = socket.getLocalPort();
		}
		registry.add("grpc.keepalive.server.port", () -> port);
		registry.add("grpc.keepalive.client.channels.prices.target", () -> "localhost:" + port);
	}

	@Autowired
	@Qualifier("prices")
	private ManagedChannel prices;

	@Autowired
	private PriceFeedSubscriber subscriber;

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

}
