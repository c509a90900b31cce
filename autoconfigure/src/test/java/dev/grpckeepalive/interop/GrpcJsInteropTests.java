package dev.grpckeepalive.interop;

import java.time.Duration;

import com.jayway.jsonpath.DocumentContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.client.GrpcChannels;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.GoAway;
import dev.grpckeepalive.connection.PingKind;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.InteropPeer;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Keepalive between this starter and grpc-js (Node.js), the other way round too. */
class GrpcJsInteropTests {

	@BeforeAll
	static void installGrpcJs() throws Exception {
		InteropPeer.requireNode();
	}

	@Test
	void grpcJsClientWithinThePermitIsCountedAndStaysConnected() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server("permit-time=5s", "permit-without-calls=true");
				InteropPeer client = InteropPeer.node("client", "127.0.0.1:" + port(server), "10000", "1", "13000")) {
			DocumentContext outcome = client.nextEvent(Duration.ofSeconds(13).plus(InteropPeer.START_ALLOWANCE));

			assertThat(outcome.read("$.event", String.class)).isEqualTo("alive");
			ConnectionTrackerView tracker = tracker(server);
			assertThat(tracker.pings().received()).isPositive();
			assertThat(tracker.goAways(GoAway.Direction.SENT)).isEmpty();
			assertThat(tracker.openedConnections()).isEqualTo(1);
		}
	}

	@Test
	void grpcJsClientPingingTooOftenGetsTooManyPings() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server();
				InteropPeer client = InteropPeer.node("client", "127.0.0.1:" + port(server), "1000", "1", "20000")) {
			DocumentContext outcome = client.nextEvent(Duration.ofSeconds(20).plus(InteropPeer.START_ALLOWANCE));

			// grpc-js reports the ENHANCE_YOUR_CALM GOAWAY without its debug data
			assertThat(outcome.read("$.event", String.class)).isEqualTo("status");
			assertThat(outcome.read("$.code", String.class)).as(outcome.jsonString()).isEqualTo("RESOURCE_EXHAUSTED");
			assertThat(outcome.read("$.details", String.class)).contains("Bandwidth exhausted");
			ConnectionTrackerView tracker = tracker(server);
			await().atMost(Duration.ofSeconds(5)).until(() -> tracker.closedConnections(CloseReason.TOO_MANY_PINGS) == 1);
			assertThat(tracker.pings().received()).isEqualTo(3);
		}
	}

	@Test
	void ourClientKeepAliveIsAnsweredByGrpcJsServer() throws Exception {
		try (InteropPeer server = InteropPeer.node("server", "600000", "5000");
				ConfigurableApplicationContext client = TestApps.client(target(server), "time=10s",
						"without-calls=true")) {
			TestApps.blockingStub(client).echo(EchoRequest.newBuilder().setText("hi").build());
			ConnectionTrackerView tracker = channel(client);

			await().atMost(Duration.ofSeconds(15)).until(() -> tracker.pings().sent(PingKind.KEEPALIVE) >= 1
					&& tracker.pings().acked() >= tracker.pings().sent());

			// answered, within the keepalive timeout: 1.7 s was measured on a loaded machine
			assertThat(tracker.pings().snapshot().rttMillis().last()).isGreaterThan(0).isLessThan(10_000);
			assertThat(tracker.goAways(GoAway.Direction.RECEIVED)).isEmpty();
			assertThat(tracker.pings().timeouts()).isZero();
		}
	}

	@Test
	void grpcJsServerKeepAlivePingsAreObservedByOurChannel() throws Exception {
		try (InteropPeer server = InteropPeer.node("server", "10000", "5000");
				ConfigurableApplicationContext client = TestApps.client(target(server))) {
			TestApps.blockingStub(client).echo(EchoRequest.newBuilder().setText("hi").build());
			ConnectionTrackerView tracker = channel(client);

			await().atMost(Duration.ofSeconds(15)).until(() -> tracker.pings().received() >= 1);
			assertThat(tracker.activeConnections()).isEqualTo(1);
		}
	}

	private static String target(InteropPeer server) throws InterruptedException {
		DocumentContext listening = server.nextEvent(InteropPeer.START_ALLOWANCE);
		assertThat(listening.read("$.event", String.class)).isEqualTo("listening");
		return "127.0.0.1:" + listening.read("$.port", Integer.class);
	}

	private static int port(ConfigurableApplicationContext server) {
		return server.getBean(KeepAliveGrpcServer.class).getPort();
	}

	private static ConnectionTrackerView tracker(ConfigurableApplicationContext server) {
		return server.getBean(KeepAliveGrpcServer.class).getConnections();
	}

	private static ConnectionTrackerView channel(ConfigurableApplicationContext client) {
		return client.getBean(GrpcChannels.class).tracked().get(TestApps.CHANNEL).connections();
	}

}
