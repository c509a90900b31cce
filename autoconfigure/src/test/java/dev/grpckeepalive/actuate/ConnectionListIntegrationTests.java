package dev.grpckeepalive.actuate;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoReply;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code GET /actuator/grpckeepalive/connections} over HTTP against a real server with 30 real
 * connections, opened one after another so that the i-th channel's connection is the i-th
 * in open order: ten with the user agent {@code agent-alpha}, five from the source address
 * 127.0.0.2, and the rest plain. Paging, every filter, the bounds and bad input. Time-based
 * filters are checked against a read taken before them: ages and idle times only grow while
 * the test makes no call, so the check holds however slow the machine.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectionListIntegrationTests {

	private static final String LIST = "/actuator/grpckeepalive/connections";

	private static final EchoRequest HELLO = EchoRequest.newBuilder().setText("hello").build();

	private static final JsonMapper json = JsonMapper.builder().build();

	private ConfigurableApplicationContext app;

	private final List<ManagedChannel> channels = new ArrayList<>();

	/** The server connection id of each channel, in the order they opened. */
	private final List<String> ids = new ArrayList<>();

	@BeforeAll
	void openThirtyConnections() {
		this.app = TestApps.observed("grpc.keepalive.actuator.show-peers=always");
		for (int i = 0; i < 30; i++) {
			NettyChannelBuilder builder = NettyChannelBuilder.forAddress("127.0.0.1", port()).usePlaintext();
			if (i < 10) {
				builder.userAgent("agent-alpha");
			}
			if (i >= 20 && i < 25) {
				builder.localSocketPicker(new FromSecondLoopback());
			}
			ManagedChannel channel = builder.build();
			this.channels.add(channel);
			this.ids.add(connect(channel));
		}
	}

	@AfterAll
	void close() {
		this.channels.forEach(ManagedChannel::shutdownNow);
		if (this.app != null) {
			this.app.close();
		}
	}

	@Test
	void pagingByTheCursorReturnsEveryConnectionOnceInOpenOrder() throws Exception {
		List<String> open = tracker().openConnections().stream().map(ConnectionSnapshot::id).toList();
		assertThat(open).containsAll(this.ids);

		List<String> paged = new ArrayList<>();
		String after = null;
		while (true) {
			JsonNode page = list("limit=7" + ((after != null) ? "&after=" + after : ""));
			assertThat(page.size()).isLessThanOrEqualTo(7);
			if (page.isEmpty()) {
				break;
			}
			page.forEach((entry) -> paged.add(entry.get("id").asString()));
			after = page.get(page.size() - 1).get("id").asString();
		}
		assertThat(paged).containsExactlyElementsOf(open);
		assertThat(ids(list(null))).as("without limit: the first 100").containsExactlyElementsOf(open);
	}

	@Test
	void aClosedConnectionsIdIsStillACursor() throws Exception {
		ManagedChannel first = NettyChannelBuilder.forAddress("127.0.0.1", port()).usePlaintext().build();
		ManagedChannel second = NettyChannelBuilder.forAddress("127.0.0.1", port()).usePlaintext().build();
		String firstId = connect(first);
		String secondId = connect(second);
		first.shutdownNow();
		await().atMost(Duration.ofSeconds(10)).until(() -> tracker().find(firstId).map(ConnectionSnapshot::isClosed)
			.orElse(true));
		try {
			assertThat(ids(list("after=" + firstId))).containsExactly(secondId);
			assertThat(ids(list("after=s-999999"))).isEmpty();
		}
		finally {
			second.shutdownNow();
			await().atMost(Duration.ofSeconds(10)).until(() -> tracker().find(secondId)
				.map(ConnectionSnapshot::isClosed).orElse(true));
		}
	}

	@Test
	void userAgentKeepsTheConnectionsWhoseAgentContainsTheText() throws Exception {
		assertThat(ids(list("userAgent=agent-alpha"))).containsExactlyElementsOf(this.ids.subList(0, 10));
		assertThat(ids(list("userAgent=agent-alpha&limit=3&after=" + this.ids.get(4))))
			.containsExactlyElementsOf(this.ids.subList(5, 8));
		assertThat(ids(list("userAgent=grpc-java-netty"))).as("grpc-java appends its own agent")
			.containsAll(this.ids);
		assertThat(ids(list("userAgent=grpc-go"))).isEmpty();
	}

	@Test
	void remoteKeepsTheConnectionsWhosePeerAddressStartsWithThePrefix() throws Exception {
		assertThat(ids(list("remote=127.0.0.2:"))).containsExactlyElementsOf(this.ids.subList(20, 25));
		assertThat(ids(list("remote=" + encode("/127.0.0.2")))).as("with the slash Java prints")
			.containsExactlyElementsOf(this.ids.subList(20, 25));
		assertThat(ids(list("remote=10."))).isEmpty();
		JsonNode first = list("limit=1").get(0);
		assertThat(ids(list("remote=" + encode(first.get("remote").asString())))).containsExactly(this.ids.get(0));
	}

	@Test
	void stateKeepsTheConnectionsInTheStatesListed() throws Exception {
		ManagedChannel busy = this.channels.get(3);
		List<EchoReply> replies = new ArrayList<>();
		Context.CancellableContext call = Context.current().withCancellation();
		call.run(() -> TestServiceGrpc.newStub(busy)
			.echo(EchoRequest.newBuilder().setText("slow").setDelayMillis(60_000).build(), collect(replies)));
		try {
			await().atMost(Duration.ofSeconds(10))
				.untilAsserted(() -> assertThat(ids(list("state=active"))).containsExactly(this.ids.get(3)));
			assertThat(ids(list("state=idle,draining"))).doesNotContain(this.ids.get(3))
				.containsAll(this.ids.subList(4, 30));
		}
		finally {
			call.cancel(null);
		}
		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(list("state=active")).isEmpty());
	}

	@Test
	void minAgeAndMinIdleKeepTheConnectionsAtLeastThatOldAndQuiet() throws Exception {
		// a call now: this connection's idle time starts again, the others' go on
		TestServiceGrpc.newBlockingStub(this.channels.get(7)).withDeadlineAfter(10, TimeUnit.SECONDS).echo(HELLO);
		for (String filter : List.of("minAge", "minIdle")) {
			String field = filter.equals("minAge") ? "ageMillis" : "idleMillis";
			JsonNode before = list("limit=1000");
			long threshold = median(before, field);
			JsonNode filtered = list(filter + "=" + threshold + "ms&limit=1000");
			List<String> expected = new ArrayList<>();
			before.forEach((entry) -> {
				if (entry.get(field).asLong() >= threshold) {
					expected.add(entry.get("id").asString());
				}
			});
			assertThat(ids(filtered)).as(filter + " keeps every connection that was already that old")
				.containsAll(expected);
			filtered.forEach((entry) -> assertThat(entry.get(field).asLong()).as(filter).isGreaterThanOrEqualTo(threshold));
		}
		JsonNode quiet = list("minIdle=1h");
		assertThat(quiet).isEmpty();
	}

	@Test
	void wrongParametersAnswer400NamingTheParameter() throws Exception {
		Map<String, String> wrong = Map.ofEntries(Map.entry("limit=0", "limit"), Map.entry("limit=1001", "limit"),
				Map.entry("limit=ten", "limit"), Map.entry("after=42", "after"), Map.entry("after=c-prices-1", "after"),
				Map.entry("after=s-x", "after"), Map.entry("state=closed", "state"),
				Map.entry("state=idle,sleeping", "state"), Map.entry("minAge=-1s", "minAge"),
				Map.entry("minIdle=soon", "minIdle"), Map.entry("userAgent=", "userAgent"),
				Map.entry("remote=", "remote"));
		for (Map.Entry<String, String> request : wrong.entrySet()) {
			HttpResponse<String> response = Http.get(this.app, LIST + "?" + request.getKey());
			assertThat(response.statusCode()).as(request.getKey()).isEqualTo(400);
			JsonNode body = json.readTree(response.body());
			assertThat(body.get("status").asInt()).isEqualTo(400);
			assertThat(body.get("parameter").asString()).as(request.getKey()).isEqualTo(request.getValue());
			assertThat(body.get("message").asString()).as(request.getKey()).startsWith(request.getValue() + " ");
			assertThat(response.body()).as("no stack trace").doesNotContain("Exception").doesNotContain("\tat ");
		}
		assertThat(list("limit=1000")).as("the most a page holds").isNotEmpty();
		assertThat(list("limt=5")).as("an unknown parameter is ignored, as Actuator does").hasSize(30);
	}

	@Test
	void maskedPeersRefuseTheRemoteFilterAndKeepTheMaskUnderTheUserAgentFilter() throws Exception {
		try (ConfigurableApplicationContext masked = TestApps.observed()) {
			ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", TestApps.port(masked))
				.usePlaintext()
				.userAgent("agent-beta")
				.build();
			try {
				TestServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).echo(HELLO);
				HttpResponse<String> refused = Http.get(masked, LIST + "?remote=127.");
				assertThat(refused.statusCode()).isEqualTo(400);
				assertThat(json.readTree(refused.body()).get("parameter").asString()).isEqualTo("remote");
				assertThat(refused.body()).contains("show-peers");

				HttpResponse<String> byAgent = Http.get(masked, LIST + "?userAgent=agent-beta");
				assertThat(byAgent.statusCode()).isEqualTo(200);
				JsonNode entries = json.readTree(byAgent.body());
				assertThat(entries.size()).isEqualTo(1);
				assertThat(entries.get(0).get("remote").asString()).isEqualTo(ConnectionViews.MASK);
			}
			finally {
				channel.shutdownNow();
			}
		}
	}

	/** Connects the channel with one call, and returns the id of the server connection that opened for it. */
	private String connect(ManagedChannel channel) {
		long openedBefore = tracker().openedConnections();
		TestServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).echo(HELLO);
		List<ConnectionSnapshot> open = tracker().openConnections();
		ConnectionSnapshot newest = open.get(open.size() - 1);
		assertThat(tracker().openedConnections()).as("one connection per channel").isEqualTo(openedBefore + 1);
		return newest.id();
	}

	private JsonNode list(@Nullable String query) throws Exception {
		HttpResponse<String> response = Http.get(this.app, LIST + ((query != null) ? "?" + query : ""));
		assertThat(response.statusCode()).as(query + ": " + response.body()).isEqualTo(200);
		return json.readTree(response.body());
	}

	private static List<String> ids(JsonNode entries) {
		List<String> ids = new ArrayList<>();
		entries.forEach((entry) -> ids.add(entry.get("id").asString()));
		return ids;
	}

	private static long median(JsonNode entries, String field) {
		List<Long> values = new ArrayList<>();
		entries.forEach((entry) -> values.add(entry.get(field).asLong()));
		values.sort(Long::compare);
		return Math.max(1, values.get(values.size() / 2));
	}

	private static String encode(String text) {
		return URLEncoder.encode(text, StandardCharsets.UTF_8);
	}

	private ConnectionTrackerView tracker() {
		return this.app.getBean(KeepAliveGrpcServer.class).getConnections();
	}

	private int port() {
		return TestApps.port(this.app);
	}

	private static StreamObserver<EchoReply> collect(List<EchoReply> replies) {
		return new StreamObserver<>() {

			@Override
			public void onNext(EchoReply reply) {
				replies.add(reply);
			}

			@Override
			public void onError(Throwable error) {
				replies.add(EchoReply.newBuilder().setText(String.valueOf(error)).build());
			}

			@Override
			public void onCompleted() {
			}

		};
	}

	/** Binds a channel's connections to the source address 127.0.0.2. */
	private static final class FromSecondLoopback extends NettyChannelBuilder.LocalSocketPicker {

		@Override
		public @Nullable SocketAddress createSocketAddress(SocketAddress remoteAddress, Attributes attrs) {
			return new InetSocketAddress("127.0.0.2", 0);
		}

	}

}
