package dev.grpckeepalive.reliability;

import java.time.Duration;
import java.util.Map;

import com.jayway.jsonpath.DocumentContext;
import io.grpc.Status;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.GoAway;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.RecordingObserver;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Scenario 2, the idle-killing middlebox: HAProxy in TCP mode with client and server
 * timeouts of 15s between a client and a server. A stream that stays idle for 40s dies
 * without keepalive, and survives with a client keepalive time of 10s because each PING and
 * its ACK is traffic that restarts HAProxy's idle timers. The two cases run at the same
 * time (the class runs its methods concurrently), so that the class takes about 45s.
 */
@Tag("reliability")
class IdleMiddleboxTests {

	private static final String SCENARIO = "Scenario 2 (idle-killing middlebox)";

	private static final Duration PROXY_IDLE_TIMEOUT = Duration.ofSeconds(15);

	/** One message at once, then 40s of silence on the connection, then the end of the stream. */
	private static final StreamRequest IDLE_40S = StreamRequest.newBuilder().setCount(1).setHoldMillis(40_000).build();

	/** 10s client pings need a permit time of at most 10s; 5s leaves room for timer jitter. */
	private static final String PERMIT_10S_PINGS = "permit-time=5s";

	@Test
	void idleStreamDiesWithoutKeepAlive() throws Exception {
		HaProxy.require(SCENARIO);
		try (ConfigurableApplicationContext server = TestApps.server("address=127.0.0.1", PERMIT_10S_PINGS);
				HaProxy proxy = HaProxy.tcp(PROXY_IDLE_TIMEOUT, PROXY_IDLE_TIMEOUT)
					.server("server", TestApps.port(server))
					.start();
				ConfigurableApplicationContext client = observedClient(proxy.target())) {
			RecordingObserver<StreamReply> stream = new RecordingObserver<>();
			TestApps.asyncStub(client).stream(IDLE_40S, stream);
			await().atMost(Duration.ofSeconds(10)).until(() -> stream.messages() == 1);
			long idleSince = System.nanoTime();

			Status status = stream.awaitStatus(Duration.ofSeconds(60));

			Duration died = Duration.ofNanos(stream.endedAt() - idleSince);
			DocumentContext endpoint = Http.json(client, "/actuator/grpckeepalive");
			System.out.printf("%s without keepalive: %s after %d ms idle; client endpoint: %s%n", SCENARIO, status,
					died.toMillis(), endpoint.read("$.channels.test", Map.class));
			// HAProxy closes both sides without a GOAWAY: grpc-java fails the stream as UNAVAILABLE
			assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.UNAVAILABLE);
			assertThat(stream.messages()).isEqualTo(1);
			// HAProxy's 15s idle timeout, with generous room for a loaded machine, well before the 40s
			assertThat(died).isBetween(Duration.ofSeconds(13), Duration.ofSeconds(30));
			assertThat(endpoint.read("$.channels.test.pings.sentByKind.keepalive", Integer.class)).isZero();
			assertThat(endpoint.read("$.channels.test.connections.closed.peer_closed", Integer.class)).isEqualTo(1);
			assertThat(endpoint.read("$.channels.test.goaways.received", Map.class)).isEmpty();
		}
	}

	@Test
	void idleStreamSurvivesWithClientKeepAlive() throws Exception {
		HaProxy.require(SCENARIO);
		try (ConfigurableApplicationContext server = TestApps.server("address=127.0.0.1", PERMIT_10S_PINGS);
				HaProxy proxy = HaProxy.tcp(PROXY_IDLE_TIMEOUT, PROXY_IDLE_TIMEOUT)
					.server("server", TestApps.port(server))
					.start();
				ConfigurableApplicationContext client = observedClient(proxy.target(),
						"grpc.keepalive.client.channels.test.time=10s")) {
			RecordingObserver<StreamReply> stream = new RecordingObserver<>();
			TestApps.asyncStub(client).stream(IDLE_40S, stream);

			Status status = stream.awaitStatus(Duration.ofSeconds(70));

			DocumentContext endpoint = Http.json(client, "/actuator/grpckeepalive");
			ConnectionTrackerView serverSide = server.getBean(KeepAliveGrpcServer.class).getConnections();
			System.out.printf("%s with keepalive 10s: %s after %d ms; client endpoint: %s; server: %s pings "
					+ "received, GOAWAYs sent %s%n", SCENARIO, status, stream.lifetime().toMillis(),
					endpoint.read("$.channels.test", Map.class), serverSide.pings().received(),
					serverSide.goAways(GoAway.Direction.SENT));
			assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.OK);
			assertThat(stream.lifetime()).isGreaterThanOrEqualTo(Duration.ofSeconds(40));
			// a PING about every 10s of the 40s of silence, each answered through the proxy
			int keepAlivePings = endpoint.read("$.channels.test.pings.sentByKind.keepalive", Integer.class);
			assertThat(keepAlivePings).isBetween(3, 4);
			assertThat(endpoint.read("$.channels.test.pings.acked", Integer.class))
				.isEqualTo(endpoint.read("$.channels.test.pings.sent", Integer.class));
			assertThat(endpoint.read("$.channels.test.pings.timeouts", Integer.class)).isZero();
			assertThat(endpoint.read("$.channels.test.connections.opened", Integer.class)).isEqualTo(1);
			assertThat(endpoint.read("$.channels.test.connections.active", Integer.class)).isEqualTo(1);
			assertThat(endpoint.read("$.channels.test.goaways.received", Map.class)).isEmpty();
			// the server permitted every PING: no too_many_pings, and it saw them all
			assertThat(serverSide.goAways(GoAway.Direction.SENT)).isEmpty();
			assertThat(serverSide.pings().received()).isGreaterThanOrEqualTo(keepAlivePings);
		}
	}

	/** A client with Actuator over HTTP (so that the test reads the endpoint) and no gRPC server of its own. */
	private static ConfigurableApplicationContext observedClient(String target, String... properties) {
		String[] all = new String[properties.length + 2];
		all[0] = "grpc.keepalive.server.enabled=false";
		all[1] = "grpc.keepalive.client.channels." + TestApps.CHANNEL + ".target=" + target;
		System.arraycopy(properties, 0, all, 2, properties.length);
		return TestApps.observed(all);
	}

}
