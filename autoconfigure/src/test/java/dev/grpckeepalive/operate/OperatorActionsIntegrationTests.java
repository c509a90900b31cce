package dev.grpckeepalive.operate;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.client.GrpcChannels;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.server.ObservedGrpcServer;
import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoReply;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The endpoint's write operations over HTTP, against a real application and a real client:
 * denied unless {@code management.endpoint.grpckeepalive.access=unrestricted}; granted, a drain
 * lets the call in flight finish, closes the connection as {@code drained} on both ends and
 * the client's next call goes over a new connection; a rebalance answers what it drains; bad
 * bodies are refused naming the field.
 */
class OperatorActionsIntegrationTests {

	private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

	private static final EchoRequest HELLO = EchoRequest.newBuilder().setText("hello").build();

	@Test
	void writeOperationsAreDeniedByDefault() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.observed();
				ConfigurableApplicationContext client = TestApps.client("127.0.0.1:" + TestApps.port(app))) {
			TestApps.blockingStub(client).echo(HELLO);
			String id = onlyConnection(app).id();

			assertThat(send(app, "DELETE", "/actuator/grpckeepalive/connections/" + id, null).statusCode())
				.isEqualTo(405);
			assertThat(send(app, "POST", "/actuator/grpckeepalive/rebalance", "{\"keep\": 0}").statusCode())
				.isEqualTo(405);
			assertThat(send(app, "DELETE", "/actuator/grpckeepalive/rebalance", null).statusCode()).isEqualTo(405);
			// the read operations stay
			assertThat(Http.get(app, "/actuator/grpckeepalive/connections/" + id).statusCode()).isEqualTo(200);
			TestApps.blockingStub(client).echo(HELLO);
			assertThat(onlyConnection(app).id()).isEqualTo(id);
		}
	}

	@Test
	void aDrainLetsTheCallInFlightFinishAndTheNextCallTakesANewConnection() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.observed("management.endpoint.grpckeepalive.access=unrestricted",
				"grpc.keepalive.server.shutdown-grace=20s");
				ConfigurableApplicationContext client = TestApps.client("127.0.0.1:" + TestApps.port(app))) {
			TestApps.blockingStub(client).echo(HELLO);
			String id = onlyConnection(app).id();
			// a conversation in flight during the drain: it ends when the client says so
			BlockingQueue<Object> replies = new LinkedBlockingQueue<>();
			StreamObserver<EchoRequest> chat = TestServiceGrpc.newStub(TestApps.channel(client))
				.withDeadlineAfter(60, TimeUnit.SECONDS)
				.chat(new StreamObserver<>() {

					@Override
					public void onNext(EchoReply reply) {
						replies.add(reply.getText());
					}

					@Override
					public void onError(Throwable error) {
						replies.add(error);
					}

					@Override
					public void onCompleted() {
						replies.add("completed");
					}

				});
			chat.onNext(EchoRequest.newBuilder().setText("before").build());
			assertThat(replies.poll(20, TimeUnit.SECONDS)).isEqualTo("before");

			HttpResponse<String> answer = send(app, "DELETE", "/actuator/grpckeepalive/connections/" + id, null);
			assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
			DocumentContext json = JsonPath.parse(answer.body());
			assertThat(json.read("$.id", String.class)).isEqualTo(id);
			assertThat(json.read("$.action", String.class)).isEqualTo("draining");
			assertThat(json.read("$.activeCalls", Integer.class)).isEqualTo(1);
			assertThat(json.read("$.grace", String.class)).isEqualTo("20s");

			// the call goes on over the drained connection, and ends as it would have
			chat.onNext(EchoRequest.newBuilder().setText("after").build());
			assertThat(replies.poll(20, TimeUnit.SECONDS)).isEqualTo("after");
			chat.onCompleted();
			assertThat(replies.poll(20, TimeUnit.SECONDS)).isEqualTo("completed");
			ConnectionTrackerView server = app.getBean(KeepAliveGrpcServer.class).getConnections();
			await().atMost(Duration.ofSeconds(20))
				.until(() -> server.find(id).map(ConnectionSnapshot::closeReason).orElse(null) == CloseReason.DRAINED);
			ConnectionTrackerView channel = client.getBean(GrpcChannels.class).tracked().get(TestApps.CHANNEL).connections();
			await().atMost(Duration.ofSeconds(20)).until(() -> channel.closedConnections(CloseReason.DRAINED) == 1);

			TestApps.blockingStub(client).echo(HELLO);
			assertThat(onlyConnection(app).id()).isNotEqualTo(id);
			assertThat(app.getBean(MeterRegistry.class)
				.get("grpc.keepalive.connections.closed")
				.tags("side", "server", "reason", "drained")
				.functionCounter()
				.count()).isEqualTo(1);
			// closed now: 404, as for an id that never was
			assertThat(send(app, "DELETE", "/actuator/grpckeepalive/connections/" + id, null).statusCode())
				.isEqualTo(404);
			assertThat(send(app, "DELETE", "/actuator/grpckeepalive/connections/s-999", null).statusCode())
				.isEqualTo(404);
		}
	}

	@Test
	void aRebalanceAnswersWhatItDrainsAndRefusesABadBodyOrASecondOne() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.observed("management.endpoint.grpckeepalive.access=unrestricted");
				ConfigurableApplicationContext first = TestApps.client("127.0.0.1:" + TestApps.port(app));
				ConfigurableApplicationContext second = TestApps.client("127.0.0.1:" + TestApps.port(app));
				ConfigurableApplicationContext third = TestApps.client("127.0.0.1:" + TestApps.port(app))) {
			for (ConfigurableApplicationContext client : new ConfigurableApplicationContext[] { first, second, third }) {
				TestApps.blockingStub(client).echo(HELLO);
			}
			ConnectionTrackerView server = app.getBean(KeepAliveGrpcServer.class).getConnections();
			await().atMost(Duration.ofSeconds(10)).until(() -> server.activeConnections() == 3);
			String oldest = server.openConnections().get(0).id();

			HttpResponse<String> bad = send(app, "POST", "/actuator/grpckeepalive/rebalance", "{\"shed\": 2}");
			assertThat(bad.statusCode()).isEqualTo(400);
			assertThat(JsonPath.parse(bad.body()).read("$.field", String.class)).isEqualTo("shed");
			assertThat(JsonPath.parse(bad.body()).read("$.fix", String.class)).contains("above 0 and at most 1");
			bad = send(app, "POST", "/actuator/grpckeepalive/rebalance", "{\"shed\": 0.5, \"over\": \"soon\"}");
			assertThat(JsonPath.parse(bad.body()).read("$.field", String.class)).isEqualTo("over");
			bad = send(app, "POST", "/actuator/grpckeepalive/rebalance", "{}");
			assertThat(bad.statusCode()).isEqualTo(400);
			assertThat(JsonPath.parse(bad.body()).read("$.message", String.class)).contains("give \"keep\"");

			// two of three over an hour: the oldest at once, the next in 30 minutes
			HttpResponse<String> answer = send(app, "POST", "/actuator/grpckeepalive/rebalance",
					"{\"keep\": 1, \"over\": \"1h\"}");
			assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
			DocumentContext plan = JsonPath.parse(answer.body());
			assertThat(plan.read("$.request", String.class)).isEqualTo("keep 1 over 1h");
			assertThat(plan.read("$.open", Integer.class)).isEqualTo(3);
			assertThat(plan.read("$.count", Integer.class)).isEqualTo(2);
			assertThat(plan.read("$.keeping", Integer.class)).isEqualTo(1);
			assertThat(plan.read("$.interval", String.class)).isEqualTo("30m");
			assertThat(plan.read("$.ids[0]", String.class)).isEqualTo(oldest);
			await().atMost(Duration.ofSeconds(20))
				.until(() -> server.find(oldest).map(ConnectionSnapshot::closeReason).orElse(null) == CloseReason.DRAINED);

			HttpResponse<String> refused = send(app, "POST", "/actuator/grpckeepalive/rebalance", "{\"keep\": 0}");
			assertThat(refused.statusCode()).isEqualTo(409);
			assertThat(JsonPath.parse(refused.body()).read("$.running.remaining", Integer.class)).isEqualTo(1);
			HttpResponse<String> cancelled = send(app, "DELETE", "/actuator/grpckeepalive/rebalance", null);
			assertThat(cancelled.statusCode()).isEqualTo(200);
			assertThat(JsonPath.parse(cancelled.body()).read("$.drained", Integer.class)).isEqualTo(1);
			assertThat(JsonPath.parse(cancelled.body()).read("$.cancelled", Boolean.class)).isTrue();
			assertThat(send(app, "DELETE", "/actuator/grpckeepalive/rebalance", null).statusCode()).isEqualTo(404);
			assertThat(server.activeConnections()).isEqualTo(2);
		}
	}

	@Test
	void springBootsOwnServerIsDrainedTheSameWayInCompanionMode() throws Exception {
		try (ConfigurableApplicationContext app = TestApps
			.withBootGrpc("management.endpoint.grpckeepalive.access=unrestricted");
				ConfigurableApplicationContext client = TestApps
					.client("127.0.0.1:" + app.getBean(ObservedGrpcServer.class).getPort())) {
			TestApps.blockingStub(client).echo(HELLO);
			ConnectionTrackerView server = app.getBean(ObservedGrpcServer.class).getConnections();
			await().atMost(Duration.ofSeconds(10)).until(() -> server.openConnections().size() == 1);
			String id = server.openConnections().get(0).id();

			HttpResponse<String> answer = send(app, "DELETE", "/actuator/grpckeepalive/connections/" + id, null);
			assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
			await().atMost(Duration.ofSeconds(20))
				.until(() -> server.find(id).map(ConnectionSnapshot::closeReason).orElse(null) == CloseReason.DRAINED);
			TestApps.blockingStub(client).echo(HELLO);
		}
	}

	private static ConnectionSnapshot onlyConnection(ConfigurableApplicationContext app) {
		ConnectionTrackerView server = app.getBean(KeepAliveGrpcServer.class).getConnections();
		await().atMost(Duration.ofSeconds(10)).until(() -> server.openConnections().size() == 1);
		return server.openConnections().get(0);
	}

	private static HttpResponse<String> send(ConfigurableApplicationContext app, String method, String path,
			String body) throws Exception {
		HttpRequest request = HttpRequest
			.newBuilder(URI.create("http://127.0.0.1:" + TestApps.httpPort(app) + path))
			.timeout(Duration.ofSeconds(10))
			.header("Content-Type", "application/json")
			.method(method, (body != null) ? HttpRequest.BodyPublishers.ofString(body)
					: HttpRequest.BodyPublishers.noBody())
			.build();
		return http.send(request, HttpResponse.BodyHandlers.ofString());
	}

}
