package dev.grpckeepalive.client;

import java.time.Duration;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.test.Http2FrameLog;
import dev.grpckeepalive.test.Http2FrameLog.Direction;
import dev.grpckeepalive.test.RecordingObserver;
import dev.grpckeepalive.test.SniffingTcpProxy;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The client's three keepalive options, each shown to take effect on a real connection
 * over loopback, through a sniffing proxy that can also turn into a silent blackhole.
 */
class ClientKeepAliveIntegrationTests {

	/** A server that accepts a ping every 5s, with or without calls, so that clients are never told off. */
	private static final String[] PERMISSIVE_SERVER = { "permit-time=5s", "permit-without-calls=true" };

	@Test
	void keepAliveFailsOpenStreamWhenServerGoesSilent() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server(PERMISSIVE_SERVER);
				SniffingTcpProxy proxy = new SniffingTcpProxy(TestApps.port(server));
				ConfigurableApplicationContext client = TestApps.client(proxy.target(), "time=10s", "timeout=1s")) {
			RecordingObserver<StreamReply> stream = new RecordingObserver<>();
			TestApps.asyncStub(client).stream(StreamRequest.newBuilder().setHoldMillis(60_000).build(), stream);
			// the call is in flight at the server, so its response HEADERS have been sent; the client's
			// keepalive time runs from the last bytes it read, at the latest when the proxy went silent
			await().atMost(Duration.ofSeconds(10)).until(() -> TestApps.service(server).callsStarted.get() == 1);
			proxy.blackhole();
			long silentSince = System.nanoTime();

			Status status = stream.awaitStatus(Duration.ofSeconds(20));

			assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
			assertThat(status.getDescription()).contains("Keepalive failed");
			Duration detection = Duration.ofNanos(stream.endedAt() - silentSince);
			// ping after 10s without reads, failure 1s later, with a small slack
			assertThat(detection).isBetween(Duration.ofSeconds(9), Duration.ofSeconds(10 + 1 + 2));
		}
	}

	@Test
	void withoutCallsTruePingsIdleConnection() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server(PERMISSIVE_SERVER);
				SniffingTcpProxy proxy = new SniffingTcpProxy(TestApps.port(server));
				ConfigurableApplicationContext client = TestApps.client(proxy.target(), "time=10s",
						"without-calls=true")) {
			TestApps.blockingStub(client).echo(EchoRequest.newBuilder().setText("connect").build());

			await().atMost(Duration.ofSeconds(14))
				.pollInterval(Duration.ofMillis(100))
				.until(() -> !proxy.frames()
					.pingAcks(Direction.SERVER_TO_CLIENT, Http2FrameLog.CLIENT_KEEPALIVE_PAYLOAD)
					.isEmpty());
			assertThat(proxy.frames().pings(Direction.CLIENT_TO_SERVER, Http2FrameLog.CLIENT_KEEPALIVE_PAYLOAD))
				.hasSize(1);
		}
	}

	/**
	 * An absence, shown by an event rather than by sleeping: a witness channel with the same
	 * keepalive time, but without-calls true, goes idle after the tested one, so each of its
	 * keepalive PINGs is due later than the tested channel's would be. Its second PING comes a
	 * whole keepalive time (10s) after the tested channel's first would have been due: room for
	 * any timer a loaded machine runs late.
	 */
	@Test
	void withoutCallsFalseSendsNoPingOnIdleConnection() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server(PERMISSIVE_SERVER);
				SniffingTcpProxy proxy = new SniffingTcpProxy(TestApps.port(server));
				SniffingTcpProxy witnessProxy = new SniffingTcpProxy(TestApps.port(server));
				ConfigurableApplicationContext client = TestApps.client(proxy.target(), "time=10s",
						"without-calls=false");
				ConfigurableApplicationContext witness = TestApps.client(witnessProxy.target(), "time=10s",
						"without-calls=true")) {
			TestApps.blockingStub(client).echo(EchoRequest.newBuilder().setText("connect").build());
			TestApps.blockingStub(witness).echo(EchoRequest.newBuilder().setText("connect").build());

			await().atMost(Duration.ofSeconds(60))
				.pollInterval(Duration.ofMillis(100))
				.until(() -> witnessProxy.frames()
					.pingAcks(Direction.SERVER_TO_CLIENT, Http2FrameLog.CLIENT_KEEPALIVE_PAYLOAD)
					.size() >= 2);

			assertThat(proxy.frames().pings(Direction.CLIENT_TO_SERVER, Http2FrameLog.CLIENT_KEEPALIVE_PAYLOAD))
				.isEmpty();
			assertThat(proxy.connections()).isEqualTo(1);
		}
	}

	@Test
	void keepAliveTimeBelowTenSecondsTakesEffectAsTenSeconds() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server(PERMISSIVE_SERVER);
				SniffingTcpProxy proxy = new SniffingTcpProxy(TestApps.port(server));
				ConfigurableApplicationContext client = TestApps.client(proxy.target(), "time=2s",
						"without-calls=true")) {
			TestApps.blockingStub(client).echo(EchoRequest.newBuilder().setText("connect").build());
			long connected = System.nanoTime();

			await().atMost(Duration.ofSeconds(14))
				.pollInterval(Duration.ofMillis(100))
				.until(() -> !proxy.frames()
					.pings(Direction.CLIENT_TO_SERVER, Http2FrameLog.CLIENT_KEEPALIVE_PAYLOAD)
					.isEmpty());

			Http2FrameLog.Frame firstPing = proxy.frames()
				.pings(Direction.CLIENT_TO_SERVER, Http2FrameLog.CLIENT_KEEPALIVE_PAYLOAD)
				.get(0);
			assertThat(Duration.ofNanos(firstPing.nanoTime() - connected)).isGreaterThan(Duration.ofMillis(9500));
		}
	}

}
