package dev.grpckeepalive.reliability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.jayway.jsonpath.DocumentContext;
import io.grpc.Status;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.test.CallStatus;
import dev.grpckeepalive.test.ChildJvm;
import dev.grpckeepalive.test.FreePorts;
import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.RecordingObserver;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Scenario 9 of docs/reliability.md: the server process dies (or is stopped, as a rolling
 * deployment does) and a new one starts behind the same address. The client's stream fails UNAVAILABLE instead of hanging, RPCs fail fast
 * while nothing listens, and the channel reconnects on its own (grpc-java's backoff) once
 * the new server is up.
 */
@Tag("reliability")
class RestartedServerTests {

	private static final Duration PROCESS_START = Duration.ofSeconds(60);

	@Test
	void clientReconnectsToARestartedServerAndStreamsFailUnavailable() throws Exception {
		int port = FreePorts.take();
		ChildJvm first = startServer("server-1", port);
		try (ConfigurableApplicationContext client = TestApps.observed("grpc.keepalive.server.enabled=false",
				"grpc.keepalive.client.channels.test.target=127.0.0.1:" + port,
				"grpc.keepalive.client.channels.test.time=10s")) {
			first.await("ready", PROCESS_START);
			assertThat(echo(client, "before").getCode()).isEqualTo(Status.Code.OK);
			RecordingObserver<StreamReply> stream = new RecordingObserver<>();
			TestApps.asyncStub(client)
				.stream(StreamRequest.newBuilder().setCount(100_000).setIntervalMillis(50).build(), stream);
			await().atMost(Duration.ofSeconds(10)).until(() -> stream.messages() >= 5);

			long killedAt = System.nanoTime();
			first.kill();
			Status streamStatus = stream.awaitStatus(Duration.ofSeconds(10));
			long streamFailedAfter = System.nanoTime() - killedAt;

			// A fail-fast call while nothing listens answers at once instead of waiting for a server.
			long downCallAt = System.nanoTime();
			Status whileDown = echo(client, "while-down");
			long downCallTook = System.nanoTime() - downCallAt;

			try (ChildJvm second = startServer("server-2", port)) {
				long readyAt = second.await("ready", PROCESS_START).<Number>read("$.nanos").longValue();
				// waitForReady: the call waits for the channel's own reconnect, it does not trigger one.
				Status afterRestart = echoWaitingForReady(client, Duration.ofSeconds(30));
				long reconnectedAfterReady = System.nanoTime() - readyAt;
				RecordingObserver<StreamReply> newStream = new RecordingObserver<>();
				TestApps.asyncStub(client).stream(StreamRequest.newBuilder().setCount(3).build(), newStream);
				Status newStreamStatus = newStream.awaitStatus(Duration.ofSeconds(10));
				DocumentContext summary = Http.json(client, "/actuator/grpckeepalive");

				System.out.printf("restarted server: stream failed %d ms after the kill (%s); fail-fast call while "
						+ "down answered in %d ms (%s); first call OK %d ms after the new server was ready%n",
						ms(streamFailedAfter), streamStatus, ms(downCallTook), whileDown.getCode(),
						ms(reconnectedAfterReady));
				assertThat(streamStatus.getCode()).as(streamStatus.toString()).isEqualTo(Status.Code.UNAVAILABLE);
				assertThat(ms(streamFailedAfter)).isLessThan(5_000);
				assertThat(whileDown.getCode()).as(whileDown.toString()).isEqualTo(Status.Code.UNAVAILABLE);
				assertThat(ms(downCallTook)).isLessThan(5_000);
				assertThat(afterRestart.getCode()).as(afterRestart.toString()).isEqualTo(Status.Code.OK);
				assertThat(newStreamStatus.getCode()).isEqualTo(Status.Code.OK);
				assertThat(newStream.messages()).isEqualTo(3);
				// The dead server's connection closed without a GOAWAY; the new one is open.
				assertThat(summary.<Integer>read("$.channels.test.connections.closed.peer_closed")).isEqualTo(1);
				assertThat(summary.<Integer>read("$.channels.test.connections.active")).isEqualTo(1);
			}
		}
		finally {
			first.close();
		}
	}

	/**
	 * A rolling deployment's restart: SIGTERM, so the old server shuts down gracefully. A unary
	 * call shorter than the grace completes; a stream longer than it ends with the starter's
	 * explicit status rather than a reset; the channel moves to the new process by itself.
	 */
	@Test
	void gracefulRestartFinishesShortCallsAndEndsLongStreamsWithAClearStatus() throws Exception {
		int port = FreePorts.take();
		ChildJvm first = startServer("graceful-1", port, "grpc.keepalive.server.shutdown-grace=2s");
		try (ConfigurableApplicationContext client = TestApps.observed("grpc.keepalive.server.enabled=false",
				"grpc.keepalive.client.channels.test.target=127.0.0.1:" + port)) {
			first.await("ready", PROCESS_START);
			assertThat(echo(client, "before").getCode()).isEqualTo(Status.Code.OK);
			RecordingObserver<StreamReply> stream = new RecordingObserver<>();
			TestApps.asyncStub(client)
				.stream(StreamRequest.newBuilder().setCount(100_000).setIntervalMillis(50).build(), stream);
			CompletableFuture<Status> shortCall = CompletableFuture.supplyAsync(() -> CallStatus.of(
					() -> TestApps.blockingStub(client).echo(EchoRequest.newBuilder().setDelayMillis(1_000).build())));
			await().atMost(Duration.ofSeconds(10)).until(() -> stream.messages() >= 5);

			long terminatedAt = System.nanoTime();
			first.signal("TERM");
			Status streamStatus = stream.awaitStatus(Duration.ofSeconds(20));
			long streamEndedAfter = stream.endedAt() - terminatedAt;
			Status shortCallStatus = shortCall.get(20, TimeUnit.SECONDS);

			try (ChildJvm second = startServer("graceful-2", port)) {
				long readyAt = second.await("ready", PROCESS_START).<Number>read("$.nanos").longValue();
				Status afterRestart = echoWaitingForReady(client, Duration.ofSeconds(30));
				long reconnectedAfterReady = System.nanoTime() - readyAt;

				System.out.printf("graceful restart: 1 s call %s; stream ended %d ms after SIGTERM (%s); first call OK "
						+ "%d ms after the new server was ready%n", shortCallStatus.getCode(), ms(streamEndedAfter),
						streamStatus, ms(reconnectedAfterReady));
				assertThat(shortCallStatus.getCode()).as(shortCallStatus.toString()).isEqualTo(Status.Code.OK);
				assertThat(streamStatus.getCode()).as(streamStatus.toString()).isEqualTo(Status.Code.UNAVAILABLE);
				assertThat(streamStatus.getDescription()).contains("grpc.keepalive.server.shutdown-grace");
				// the grace, then the close; generous for a loaded machine, far from a hang
				assertThat(Duration.ofNanos(streamEndedAfter)).isBetween(Duration.ofSeconds(2), Duration.ofSeconds(10));
				assertThat(afterRestart.getCode()).as(afterRestart.toString()).isEqualTo(Status.Code.OK);
			}
		}
		finally {
			first.close();
		}
	}

	private static ChildJvm startServer(String name, int port, String... properties) throws Exception {
		List<String> arguments = new ArrayList<>(List.of("server", String.valueOf(port),
				"grpc.keepalive.server.address=127.0.0.1"));
		arguments.addAll(List.of(properties));
		return ChildJvm.start(name, List.of(), PeerProcess.class, arguments.toArray(String[]::new));
	}

	private static Status echo(ConfigurableApplicationContext client, String text) {
		return CallStatus.of(() -> TestApps.blockingStub(client)
			.withDeadlineAfter(10, TimeUnit.SECONDS)
			.echo(EchoRequest.newBuilder().setText(text).build()));
	}

	private static Status echoWaitingForReady(ConfigurableApplicationContext client, Duration deadline) {
		return CallStatus.of(() -> TestApps.blockingStub(client)
			.withWaitForReady()
			.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
			.echo(EchoRequest.newBuilder().setText("after-restart").build()));
	}



	private static long ms(long nanos) {
		return TimeUnit.NANOSECONDS.toMillis(nanos);
	}

}
