package dev.grpckeepalive.reliability;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.grpc.ConnectivityState;
import io.grpc.Status;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.CallStatus;
import dev.grpckeepalive.test.RecordingObserver;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.TestService;
import dev.grpckeepalive.test.proto.EchoReply;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reliability scenario 6, graceful shutdown: a real server application with
 * {@code shutdown-grace: 2s} is closed while a real client application has unary calls and
 * streams in flight, some shorter and some longer than the grace. Calls within the grace
 * complete {@code OK}; from the moment stop begins, new connections and new calls are
 * refused; calls past the grace end with {@code UNAVAILABLE} and a description naming the
 * shutdown and the property, promptly, none hangs; and every call started ends one way or
 * the other.
 */
@Tag("reliability")
class GracefulShutdownTests {

	private static final Duration GRACE = Duration.ofSeconds(2);

	private static final EchoRequest HELLO = EchoRequest.newBuilder().setText("hello").build();

	@Test
	void callsWithinGraceCompleteNewOnesAreRefusedAndTheRestEndUnavailable() throws Exception {
		ConfigurableApplicationContext server = TestApps.server("shutdown-grace=" + GRACE.toMillis() + "ms");
		int port = TestApps.port(server);
		TestService service = TestApps.service(server);
		ConnectionTrackerView connections = server.getBean(KeepAliveGrpcServer.class).getConnections();
		try (ConfigurableApplicationContext client = TestApps.client("127.0.0.1:" + port)) {
			TestServiceGrpc.TestServiceStub stub = TestApps.asyncStub(client);
			List<RecordingObserver<?>> withinGrace = new ArrayList<>();
			List<RecordingObserver<?>> pastGrace = new ArrayList<>();
			for (int i = 0; i < 5; i++) {
				withinGrace.add(echo(stub, 1000));
			}
			for (int i = 0; i < 2; i++) {
				// five replies 200 ms apart: about 1 s
				withinGrace.add(stream(stub, StreamRequest.newBuilder().setCount(5).setIntervalMillis(200).build()));
			}
			for (int i = 0; i < 3; i++) {
				pastGrace.add(echo(stub, 20_000));
			}
			// one idle stream, and one that sends all the time, so that the close may find the
			// application in the middle of a send
			pastGrace.add(stream(stub, StreamRequest.newBuilder().setHoldMillis(30_000).build()));
			pastGrace.add(stream(stub,
					StreamRequest.newBuilder().setCount(1_000_000).setIntervalMillis(1).setPayloadSize(512).build()));
			int started = withinGrace.size() + pastGrace.size();
			await().atMost(Duration.ofSeconds(10)).until(() -> service.callsStarted.get() == started);

			long stopStart = System.nanoTime();
			Thread stopper = new Thread(server::close, "context-close");
			stopper.start();

			// from the start of the stop: no new connection is accepted
			await().atMost(GRACE.dividedBy(2)).pollInterval(Duration.ofMillis(20)).until(() -> refused(port));
			Duration refusedAfter = Duration.ofNanos(System.nanoTime() - stopStart);
			// and no new call, on the client's existing channel either, once its GOAWAY has arrived
			// (a call that races the GOAWAY may still be accepted: grpc-java's first GOAWAY admits
			// streams already on their way, and they then finish within the grace)
			await().atMost(GRACE.dividedBy(2))
				.pollInterval(Duration.ofMillis(10))
				.until(() -> TestApps.channel(client).getState(false) != ConnectivityState.READY);
			long newCallStart = System.nanoTime();
			Status newCall = CallStatus.of(
					() -> TestApps.blockingStub(client).withDeadlineAfter(5, TimeUnit.SECONDS).echo(HELLO));
			Duration newCallTook = Duration.ofNanos(System.nanoTime() - newCallStart);
			assertThat(newCall.getCode()).as(newCall.toString()).isEqualTo(Status.Code.UNAVAILABLE);
			assertThat(stopper.isAlive()).as("still within the grace").isTrue();
			assertThat(service.callsStarted.get()).as("the refused call never reached the service").isEqualTo(started);

			stopper.join(GRACE.plusSeconds(15).toMillis());
			assertThat(stopper.isAlive()).as("context close returned").isFalse();
			Duration stopTook = Duration.ofNanos(System.nanoTime() - stopStart);

			for (RecordingObserver<?> call : withinGrace) {
				Status status = call.awaitStatus(Duration.ofSeconds(5));
				assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.OK);
			}
			assertThat(withinGrace.subList(5, 7)).allSatisfy((stream) -> assertThat(stream.messages()).isEqualTo(5));
			Duration lastPastGraceEnded = Duration.ZERO;
			for (RecordingObserver<?> call : pastGrace) {
				Status status = call.awaitStatus(Duration.ofSeconds(5));
				assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.UNAVAILABLE);
				assertThat(status.getDescription()).contains("Server shutting down")
					.contains("grpc.keepalive.server.shutdown-grace=" + GRACE.toMillis() + "ms");
				Duration ended = Duration.ofNanos(call.endedAt() - stopStart);
				// not before the grace ran out
				assertThat(ended).isGreaterThanOrEqualTo(GRACE.minusMillis(50));
				lastPastGraceEnded = (ended.compareTo(lastPastGraceEnded) > 0) ? ended : lastPastGraceEnded;
			}
			// nothing lost: every call the client started ended, OK or with the shutdown status, and the
			// service was told of each one it did not finish
			long ok = withinGrace.stream().filter((call) -> call.isDone()).count();
			long closed = pastGrace.stream().filter((call) -> call.isDone()).count();
			assertThat(ok + closed).isEqualTo(started);
			await().atMost(Duration.ofSeconds(2)).until(() -> service.cancellations.size() == pastGrace.size());
			assertThat(connections.closedConnections(CloseReason.APP_REQUESTED)).isEqualTo(1);
			assertThat(stopTook).isLessThan(GRACE.plusSeconds(5));

			report("grace " + GRACE.toMillis() + " ms; " + started + " calls in flight: " + ok + " OK within the grace, "
					+ closed + " UNAVAILABLE after it, 0 lost, " + service.cancellations.size()
					+ " seen as cancelled by the service");
			report("new connections refused " + refusedAfter.toMillis() + " ms after stop began; new call on the "
					+ "existing channel: " + newCall.getCode() + " in " + newCallTook.toMillis() + " ms ("
					+ newCall.getDescription() + ")");
			report("last call past the grace ended " + lastPastGraceEnded.toMillis() + " ms after stop began; "
					+ "context close took " + stopTook.toMillis() + " ms");
		}
		finally {
			server.close();
		}
	}

	private static RecordingObserver<EchoReply> echo(TestServiceGrpc.TestServiceStub stub, long delayMillis) {
		RecordingObserver<EchoReply> call = new RecordingObserver<>();
		stub.echo(EchoRequest.newBuilder().setText("hello").setDelayMillis(delayMillis).build(), call);
		return call;
	}

	private static RecordingObserver<StreamReply> stream(TestServiceGrpc.TestServiceStub stub, StreamRequest request) {
		RecordingObserver<StreamReply> call = new RecordingObserver<>();
		stub.stream(request, call);
		return call;
	}

	private static boolean refused(int port) {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
			return false;
		}
		catch (ConnectException ex) {
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}


	private static void report(String figures) {
		System.out.println("[scenario 6, graceful shutdown] " + figures);
	}

}
