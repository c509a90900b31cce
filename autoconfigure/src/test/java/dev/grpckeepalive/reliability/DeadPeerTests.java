package dev.grpckeepalive.reliability;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

import com.jayway.jsonpath.DocumentContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.test.ChildJvm;
import dev.grpckeepalive.test.FaultInjection;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 1 of docs/reliability.md: a dead peer at kernel level. Server and client run as
 * two processes in two network namespaces made by the test; mid-stream, blackhole routes
 * make every packet between them vanish. Both ends must find out on their own keepalive,
 * and the channel must recover once the path is back.
 */
@Tag("reliability")
class DeadPeerTests {

	private static final Duration TIME = Duration.ofSeconds(10);

	private static final Duration TIMEOUT = Duration.ofSeconds(1);

	private static final Duration PROCESS_START = Duration.ofSeconds(90);

	@Test
	void blackholedPeerIsDetectedByBothKeepalivesAndTheChannelRecovers() throws Exception {
		FaultInjection.requireNetworkNamespaces("The dead-peer scenario");
		try (NamespacedLink link = NamespacedLink.create();
				ChildJvm server = ChildJvm.start("netns-server", link.inServer(), PeerProcess.class, "server", "9090",
						"grpc.keepalive.server.address=" + link.serverAddress(), "grpc.keepalive.server.time=10s",
						"grpc.keepalive.server.timeout=1s", "grpc.keepalive.server.permit-time=10s");
				ChildJvm client = ChildJvm.start("netns-client", link.inClient(), PeerProcess.class, "client",
						link.serverAddress() + ":9090", "grpc.keepalive.client.channels.test.time=10s",
						"grpc.keepalive.client.channels.test.timeout=1s")) {
			server.await("ready", PROCESS_START);
			client.await("ready", PROCESS_START);
			client.send("stream s1 1000000 100 0 0");
			client.await("stream-first-message", "s1", Duration.ofSeconds(30));

			// Each side's keepalive time runs from the last bytes it read, which is when the blackhole took
			// effect on its side: not when the test asked for it (adding the routes starts two processes,
			// which a loaded machine can take a second or more to do). The client knows when its last
			// message came; the server's last read came before the routes were in place.
			link.blackhole();
			long blackholedAtMillis = System.currentTimeMillis();
			DocumentContext streamClosed = client.await("stream-closed", "s1",
					TIME.plus(TIMEOUT).plusSeconds(15));
			long clientDetectedAfter = streamClosed.<Number>read("$.nanos").longValue()
					- streamClosed.<Number>read("$.lastMessageNanos").longValue();
			long serverDetectedAfter = awaitServerKeepAliveTimeout(server, blackholedAtMillis);
			DocumentContext clientView = endpoint(client, "");

			link.heal();
			long healedAt = System.nanoTime();
			client.send("unary u1 30000");
			DocumentContext unary = client.await("unary", "u1", Duration.ofSeconds(40));
			long recoveredAfter = unary.<Number>read("$.nanos").longValue() - healedAt;
			client.send("stream s2 3 10 0 0");
			DocumentContext secondStream = client.await("stream-closed", "s2", Duration.ofSeconds(20));

			System.out.printf("dead peer (netns blackhole): client stream failed %d ms after its last message (%s: %s); "
					+ "server closed its connection %d ms after the blackhole; after the heal, a new RPC succeeded in %d ms%n",
					ms(clientDetectedAfter), streamClosed.read("$.code"), streamClosed.read("$.description"),
					serverDetectedAfter, ms(recoveredAfter));
			assertThat(streamClosed.<String>read("$.code")).isEqualTo("UNAVAILABLE");
			// the bound of the issue: keepalive time + timeout + 1 s from the last message (100 ms apart)
			assertThat(Duration.ofNanos(clientDetectedAfter)).isLessThan(TIME.plus(TIMEOUT).plusSeconds(1));
			assertThat(Duration.ofMillis(serverDetectedAfter)).isLessThan(TIME.plus(TIMEOUT).plusSeconds(3));
			assertThat(clientView.<Integer>read("$.body.channels.test.connections.closed.keepalive_timeout"))
				.isEqualTo(1);
			assertThat(clientView.<Integer>read("$.body.channels.test.pings.timeouts")).isEqualTo(1);
			assertThat(unary.<String>read("$.code")).isEqualTo("OK");
			assertThat(secondStream.<String>read("$.code")).isEqualTo("OK");
			assertThat(secondStream.<Integer>read("$.messages")).isEqualTo(3);
		}
	}

	/**
	 * Polls the server's endpoint until it reports a keepalive timeout; returns the milliseconds
	 * from {@code sinceEpochMillis} to the close (its opening time plus its age at close).
	 */
	private static long awaitServerKeepAliveTimeout(ChildJvm server, long sinceEpochMillis) throws Exception {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
		while (System.nanoTime() < deadline) {
			DocumentContext view = endpoint(server, "");
			if (view.<Integer>read("$.body.server.connections.closed.keepalive_timeout") > 0) {
				String id = view.read("$.body.server.connections.recentlyClosed[0].id");
				DocumentContext connection = endpoint(server, "/connections/" + id);
				assertThat(connection.<String>read("$.body.closeReason")).isEqualTo("keepalive_timeout");
				assertThat(connection.<Boolean>read("$.body.socketReleasedByStarter")).isTrue();
				long closedAt = Instant.parse(connection.<String>read("$.body.openedAt")).toEpochMilli()
						+ connection.<Number>read("$.body.ageMillis").longValue();
				return closedAt - sinceEpochMillis;
			}
			Thread.sleep(250);
		}
		throw new AssertionError("the server reported no keepalive timeout within 30 s of the blackhole");
	}

	private static DocumentContext endpoint(ChildJvm peer, String path) throws Exception {
		peer.send("endpoint " + path);
		return peer.await("endpoint", Duration.ofSeconds(10));
	}

	private static long ms(long nanos) {
		return TimeUnit.NANOSECONDS.toMillis(nanos);
	}

}
