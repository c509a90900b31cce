package dev.grpckeepalive.server;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.grpc.ConnectivityState;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.test.Http2FrameLog;
import dev.grpckeepalive.test.Http2FrameLog.Direction;
import dev.grpckeepalive.test.RecordingObserver;
import dev.grpckeepalive.test.SniffingTcpProxy;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.TestService;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The server's seven keepalive and connection-management options, each shown to take
 * effect on a real connection over loopback: a real server application, a real client
 * application, and a sniffing proxy between them that reads the HTTP/2 frames.
 */
class ServerKeepAliveIntegrationTests {

	private static final StreamRequest IDLE_STREAM = StreamRequest.newBuilder().setHoldMillis(60_000).build();

	private static final long HTTP2_NO_ERROR = 0x0;

	private static final long HTTP2_ENHANCE_YOUR_CALM = 0xB;

	@Test
	void clientPingingMoreOftenThanPermittedGetsTooManyPings() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server();
				SniffingTcpProxy proxy = new SniffingTcpProxy(TestApps.port(server));
				ConfigurableApplicationContext client = TestApps.client(proxy.target(), "time=10s",
						"without-calls=true")) {
			RecordingObserver<StreamReply> stream = new RecordingObserver<>();
			TestApps.asyncStub(client).stream(IDLE_STREAM, stream);

			Status status = stream.awaitStatus(Duration.ofSeconds(45));

			// grpc-java maps GOAWAY ENHANCE_YOUR_CALM to RESOURCE_EXHAUSTED and quotes the debug data
			assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
			assertThat(status.getDescription()).contains("ENHANCE_YOUR_CALM").contains("too_many_pings");
			// KeepAliveEnforcer tolerates two strikes: the third early ping draws the GOAWAY.
			assertThat(proxy.frames().pings(Direction.CLIENT_TO_SERVER, Http2FrameLog.CLIENT_KEEPALIVE_PAYLOAD))
				.hasSize(3);
			assertThat(proxy.frames().goAways(Direction.SERVER_TO_CLIENT)).anySatisfy((goAway) -> {
				assertThat(goAway.errorCode()).isEqualTo(HTTP2_ENHANCE_YOUR_CALM);
				assertThat(goAway.debugData()).isEqualTo("too_many_pings");
			});
			assertThat(stream.lifetime()).isBetween(Duration.ofSeconds(29), Duration.ofSeconds(40));
		}
	}

	@Test
	void clientWithinPermitTimeAndPermitWithoutCallsStaysConnected() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server("permit-time=5s", "permit-without-calls=true");
				SniffingTcpProxy proxy = new SniffingTcpProxy(TestApps.port(server));
				ConfigurableApplicationContext client = TestApps.client(proxy.target(), "time=10s",
						"without-calls=true")) {
			TestApps.blockingStub(client).echo(EchoRequest.newBuilder().setText("hello").build());

			await().atMost(Duration.ofSeconds(40))
				.pollInterval(Duration.ofMillis(200))
				.until(() -> proxy.frames()
					.pingAcks(Direction.SERVER_TO_CLIENT, Http2FrameLog.CLIENT_KEEPALIVE_PAYLOAD)
					.size() >= 3);

			assertThat(proxy.frames().goAways(Direction.SERVER_TO_CLIENT)).isEmpty();
			assertThat(TestApps.channel(client).getState(false)).isEqualTo(ConnectivityState.READY);
			TestApps.blockingStub(client).echo(EchoRequest.newBuilder().setText("still here").build());
			assertThat(proxy.connections()).isEqualTo(1);
		}
	}

	@Test
	void maxConnectionIdleClosesIdleConnectionWithMaxIdleGoAway() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server("max-connection-idle=1s");
				SniffingTcpProxy proxy = new SniffingTcpProxy(TestApps.port(server));
				ConfigurableApplicationContext client = TestApps.client(proxy.target())) {
			TestApps.blockingStub(client).echo(EchoRequest.newBuilder().setText("hello").build());
			long callEnded = System.nanoTime();

			await().atMost(Duration.ofSeconds(5))
				.until(() -> !proxy.frames().goAways(Direction.SERVER_TO_CLIENT).isEmpty());

			Http2FrameLog.Frame goAway = proxy.frames().goAways(Direction.SERVER_TO_CLIENT).get(0);
			assertThat(goAway.debugData()).isEqualTo("max_idle");
			assertThat(goAway.errorCode()).isEqualTo(HTTP2_NO_ERROR);
			// the server's idle clock starts when its side of the call ends, which a loaded client sees later
			assertThat(Duration.ofNanos(goAway.nanoTime() - callEnded)).isBetween(Duration.ofMillis(500),
					Duration.ofSeconds(3));
			await().atMost(Duration.ofSeconds(5))
				.until(() -> TestApps.channel(client).getState(false) == ConnectivityState.IDLE);
		}
	}

	@Test
	void outstandingCallKeepsConnectionOpenPastMaxConnectionIdle() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server("max-connection-idle=1s");
				SniffingTcpProxy proxy = new SniffingTcpProxy(TestApps.port(server));
				ConfigurableApplicationContext client = TestApps.client(proxy.target())) {
			RecordingObserver<StreamReply> stream = new RecordingObserver<>();
			TestApps.asyncStub(client).stream(StreamRequest.newBuilder().setHoldMillis(3500).build(), stream);

			assertThat(stream.awaitStatus(Duration.ofSeconds(10)).getCode()).isEqualTo(Status.Code.OK);
			assertThat(stream.lifetime()).isGreaterThan(Duration.ofSeconds(3));
			assertThat(proxy.frames().goAways(Direction.SERVER_TO_CLIENT)).isEmpty();

			await().atMost(Duration.ofSeconds(5))
				.until(() -> !proxy.frames().goAways(Direction.SERVER_TO_CLIENT).isEmpty());
			Http2FrameLog.Frame goAway = proxy.frames().goAways(Direction.SERVER_TO_CLIENT).get(0);
			assertThat(goAway.debugData()).isEqualTo("max_idle");
			assertThat(goAway.nanoTime()).isGreaterThan(stream.endedAt());
		}
	}

	@Test
	void maxConnectionAgeDrainsWithinGraceAndCancelsLongerStreams() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server("max-connection-age=1s",
				"max-connection-age-grace=3s");
				SniffingTcpProxy proxy = new SniffingTcpProxy(TestApps.port(server));
				ConfigurableApplicationContext client = TestApps.client(proxy.target())) {
			// the server's age clock starts when the connection does, after this and before the streams start
			long connecting = System.nanoTime();
			TestApps.blockingStub(client).echo(EchoRequest.newBuilder().setText("connect").build());
			RecordingObserver<StreamReply> withinGrace = new RecordingObserver<>();
			RecordingObserver<StreamReply> pastGrace = new RecordingObserver<>();
			TestApps.asyncStub(client)
				.stream(StreamRequest.newBuilder().setCount(10).setIntervalMillis(200).build(), withinGrace);
			TestApps.asyncStub(client)
				.stream(StreamRequest.newBuilder().setCount(50).setIntervalMillis(200).build(), pastGrace);

			List<Status.Code> unaryFailures = new ArrayList<>();
			int unaryCalls = 0;
			// 7 s of calls across several max-age cycles, and at least 20 calls however slowly a loaded machine makes
			// them (9 in 7 s were seen), within a bound
			long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(7);
			long hardEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
			while (System.nanoTime() < end || (unaryCalls < 20 && System.nanoTime() < hardEnd)) {
				try {
					TestApps.blockingStub(client)
						.withDeadlineAfter(5, TimeUnit.SECONDS)
						.echo(EchoRequest.newBuilder().setText("unary").build());
				}
				catch (StatusRuntimeException ex) {
					unaryFailures.add(ex.getStatus().getCode());
				}
				unaryCalls++;
				Thread.sleep(50);
			}

			assertThat(withinGrace.awaitStatus(Duration.ofSeconds(10)).getCode()).isEqualTo(Status.Code.OK);
			assertThat(withinGrace.messages()).isEqualTo(10);
			Status cut = pastGrace.awaitStatus(Duration.ofSeconds(10));
			assertThat(cut.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
			// age 1s (+/-10% jitter) then 3s of grace, counted from the connection's start: not before 0.9 s + 3 s
			// after the client began to connect, however long a loaded client took to start the stream after that
			// (3.47 s from the stream's start was seen), and at most 1.1 s + 3 s after the stream's start, with 2 s
			// for timers and threads a loaded machine runs late
			assertThat(Duration.ofNanos(pastGrace.endedAt() - connecting)).isGreaterThanOrEqualTo(Duration.ofMillis(900 + 3000));
			assertThat(pastGrace.lifetime()).isLessThanOrEqualTo(Duration.ofMillis(1100 + 3000 + 2000));
			// about 100 in 7 s on an idle machine; fewer under load: what matters is that they keep succeeding
			assertThat(unaryCalls).isGreaterThanOrEqualTo(20);
			assertThat(unaryFailures).isEmpty();
			assertThat(proxy.frames().goAways(Direction.SERVER_TO_CLIENT))
				.anySatisfy((goAway) -> assertThat(goAway.debugData()).isEqualTo("max_age"));
			assertThat(proxy.connections()).isGreaterThan(2);
		}
	}

	@Test
	void serverKeepAliveCancelsCallsOfSilentClientAndStarterReleasesTheSocket() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server("time=10s", "timeout=1s");
				SniffingTcpProxy proxy = new SniffingTcpProxy(TestApps.port(server));
				ConfigurableApplicationContext client = TestApps.client(proxy.target())) {
			TestService service = TestApps.service(server);
			RecordingObserver<StreamReply> stream = new RecordingObserver<>();
			TestApps.asyncStub(client).stream(IDLE_STREAM, stream);
			// the call reached the server (it has one to cancel), then silence: the server's keepalive time runs
			// from the last bytes it was sent, which the proxy knows once it is blackholed
			await().atMost(Duration.ofSeconds(10)).until(() -> service.callsStarted.get() == 1);
			proxy.blackhole();
			long lastHeard = proxy.lastForwardedToServer();

			await().atMost(Duration.ofSeconds(20)).until(() -> !service.cancellations.isEmpty());

			Duration detection = Duration.ofNanos(service.cancellations.get(0) - lastHeard);
			assertThat(detection).isBetween(Duration.ofSeconds(10), Duration.ofSeconds(10 + 1 + 2));
			// grpc-java writes the GOAWAY before it cancels the calls, but the proxy's own thread decodes it: on a
			// loaded machine the cancellation can be seen before the proxy has logged the frame
			await().atMost(Duration.ofSeconds(5))
				.until(() -> !proxy.frames().goAways(Direction.SERVER_TO_CLIENT).isEmpty());
			List<Http2FrameLog.Frame> pings = proxy.frames()
				.pings(Direction.SERVER_TO_CLIENT, Http2FrameLog.SERVER_KEEPALIVE_PAYLOAD);
			assertThat(pings).hasSize(1);
			assertThat(proxy.frames().pingAcks(Direction.CLIENT_TO_SERVER, Http2FrameLog.SERVER_KEEPALIVE_PAYLOAD))
				.isEmpty();
			// the GOAWAY comes the keepalive timeout (1s) after the PING, which comes the keepalive time (10s) after
			// the last bytes the server was sent. The proxy logs a frame when its thread gets to read it, late on a
			// loaded machine: a bound from below counts from lastHeard, which the proxy took before it went silent (a
			// late PING entry would shorten the span from the PING), and a bound from above from the PING
			assertThat(proxy.frames().goAways(Direction.SERVER_TO_CLIENT)).singleElement().satisfies((goAway) -> {
				assertThat(Duration.ofNanos(goAway.nanoTime() - lastHeard)).isGreaterThanOrEqualTo(Duration.ofSeconds(10 + 1));
				assertThat(Duration.ofNanos(goAway.nanoTime() - pings.get(0).nanoTime()))
					.isLessThanOrEqualTo(Duration.ofSeconds(1 + 2));
			});
			// grpc-java 1.84 cancels the calls and sends GOAWAY here, but would hold the socket for as
			// long as the silent peer stays silent (measured: still open after 60 s); the starter's
			// frame observer closes it one second later.
			await().atMost(Duration.ofSeconds(5)).until(() -> !proxy.upstreamClosedAt().isEmpty());
			Duration released = Duration.ofNanos(proxy.upstreamClosedAt().get(0) - lastHeard);
			assertThat(released).isBetween(Duration.ofSeconds(11), Duration.ofSeconds(10 + 1 + 1 + 2));
			ConnectionTrackerView tracker = server.getBean(KeepAliveGrpcServer.class).getConnections();
			assertThat(tracker.pings().timeouts()).isEqualTo(1);
			await().atMost(Duration.ofSeconds(2))
				.until(() -> tracker.closedConnections(CloseReason.KEEPALIVE_TIMEOUT) == 1);
			assertThat(tracker.recentlyClosed()).singleElement()
				.satisfies((record) -> assertThat(record.socketReleasedByStarter()).isTrue());
			assertThat(stream.isDone()).as("a client without keepalive of its own never notices").isFalse();
		}
	}

	@Test
	void serverKeepAlivePingsAnsweredByHealthyClientKeepConnection() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server("time=10s", "timeout=1s");
				SniffingTcpProxy proxy = new SniffingTcpProxy(TestApps.port(server));
				ConfigurableApplicationContext client = TestApps.client(proxy.target())) {
			RecordingObserver<StreamReply> stream = new RecordingObserver<>();
			TestApps.asyncStub(client).stream(IDLE_STREAM, stream);

			// Not "nothing happened for a while after the first answer", which a loaded machine can fake: the
			// server's second keepalive PING, answered on the same connection, 10s after the first, is an
			// event only a connection that outlived the first PING's 1s timeout can produce.
			await().atMost(Duration.ofSeconds(40))
				.until(() -> proxy.frames()
					.pingAcks(Direction.CLIENT_TO_SERVER, Http2FrameLog.SERVER_KEEPALIVE_PAYLOAD)
					.size() >= 2);

			assertThat(proxy.connections()).isEqualTo(1);
			assertThat(proxy.upstreamClosedAt()).isEmpty();
			assertThat(proxy.frames().goAways(Direction.SERVER_TO_CLIENT)).isEmpty();
			assertThat(stream.isDone()).isFalse();
		}
	}

}
