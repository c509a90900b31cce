package dev.grpckeepalive.reliability;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.jayway.jsonpath.DocumentContext;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.test.ChildJvm;
import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.KernelSockets;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.TestService;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 8 of docs/reliability.md: a client process that stops reading (SIGSTOP) while the
 * server streams to it. Its kernel keeps acknowledging, so TCP sees nothing wrong; the
 * server's keepalive PING goes unanswered and grpc-java gives up on the connection at keepalive
 * time + timeout. Plain grpc-java then waits for its GOAWAY to be written before it closes,
 * which cannot happen while the peer's receive window is full: the socket stays. The starter
 * closes it (abortively) one second later.
 */
@Tag("reliability")
class StoppedPeerTests {

	private static final Duration TIME = Duration.ofSeconds(10);

	private static final Duration TIMEOUT = Duration.ofSeconds(1);

	/** How long after the pause the plain grpc-java server is watched. */
	private static final Duration WATCH = TIME.plus(TIMEOUT).plusSeconds(12);

	@Test
	void plainGrpcJavaHoldsTheSocketOfAStoppedPeer() throws Exception {
		Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
			.keepAliveTime(TIME.toNanos(), TimeUnit.NANOSECONDS)
			.keepAliveTimeout(TIMEOUT.toNanos(), TimeUnit.NANOSECONDS)
			.addService(new TestService())
			.build()
			.start();
		try (ChildJvm client = startStreamingClient(server.getPort())) {
			long pausedAt = pause(client);
			long releasedAfter = KernelSockets.awaitNoConnections(server.getPort(), WATCH);
			System.out.printf("stopped peer, plain grpc-java: socket %s%n",
					(releasedAfter < 0) ? "still held " + WATCH.toSeconds() + " s after the pause"
							: "released " + ms(releasedAfter - pausedAt) + " ms after the pause");
			assertThat(releasedAfter).as("grpc-java keeps the socket").isNegative();
			assertThat(KernelSockets.connections(server.getPort())).isNotEmpty();
		}
		finally {
			server.shutdownNow();
		}
	}

	@Test
	void starterReleasesTheSocketOfAStoppedPeer() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.observed("grpc.keepalive.server.address=127.0.0.1",
				"grpc.keepalive.server.time=" + TIME.toSeconds() + "s",
				"grpc.keepalive.server.timeout=" + TIMEOUT.toSeconds() + "s");
				ChildJvm client = startStreamingClient(TestApps.port(server))) {
			long pausedAt = pause(client);
			long releasedAt = KernelSockets.awaitNoConnections(TestApps.port(server), WATCH);
			DocumentContext summary = Http.json(server, "/actuator/grpckeepalive");
			String id = summary.read("$.server.connections.recentlyClosed[0].id");
			DocumentContext connection = Http.json(server, "/actuator/grpckeepalive/connections/" + id);
			long releasedAfter = releasedAt - pausedAt;
			System.out.printf("stopped peer, starter: socket released %d ms after the pause (limit %d ms)%n",
					ms(releasedAfter), TIME.plus(TIMEOUT).plusSeconds(2).toMillis());

			assertThat(releasedAt).as("socket released").isPositive();
			// keepalive time + timeout, one second for grpc-java to close by itself, one of slack
			assertThat(Duration.ofNanos(releasedAfter)).isLessThan(TIME.plus(TIMEOUT).plusSeconds(2));
			assertThat(connection.<String>read("$.closeReason")).isEqualTo("keepalive_timeout");
			assertThat(connection.<Boolean>read("$.socketReleasedByStarter")).isTrue();
			assertThat(connection.<Integer>read("$.pings.timeouts")).isEqualTo(1);
			// The other side wakes up to a closed stream, not to one that hangs: CANCELLED where
			// grpc-java's RST_STREAM made it into its receive buffer before the window shut,
			// UNAVAILABLE (connection reset) where it did not.
			client.signal("CONT");
			DocumentContext closed = client.await("stream-closed", "s1", Duration.ofSeconds(20));
			System.out.println("stopped peer, starter: the resumed client's stream ended " + closed.jsonString());
			assertThat(closed.<String>read("$.code")).isIn("UNAVAILABLE", "CANCELLED");
		}
	}

	/** A client process streaming 16 KiB messages every 2 ms from the server at {@code port}. */
	private static ChildJvm startStreamingClient(int port) throws Exception {
		ChildJvm client = ChildJvm.start("stopped-client", List.of(), PeerProcess.class, "client",
				"127.0.0.1:" + port);
		client.await("ready", Duration.ofSeconds(60));
		client.send("stream s1 1000000 2 0 16384");
		client.await("stream-first-message", "s1", Duration.ofSeconds(20));
		return client;
	}

	/** Lets the stream run, then stops the client process; returns when it was stopped. */
	private static long pause(ChildJvm client) throws Exception {
		Thread.sleep(1_000);
		long pausedAt = System.nanoTime();
		client.signal("STOP");
		return pausedAt;
	}

	private static long ms(long nanos) {
		return TimeUnit.NANOSECONDS.toMillis(nanos);
	}

}
