package dev.grpckeepalive.actuate;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import dev.grpckeepalive.client.GrpcChannels;
import dev.grpckeepalive.test.FreePorts;
import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The JSON of every read operation of the {@code grpckeepalive} endpoint, fetched over HTTP
 * from a real application, against the golden file {@code endpoint-contract.json} (the
 * connection list also as a page with a cursor and every filter, and its {@code 400} answer): key names,
 * key order, nesting, value types, and which keys are {@code null} or absent. Only values that
 * vary from run to run are normalised, to a marker of their type: numbers ({@code <integer>},
 * {@code <decimal>}), instants, connection ids and ports. The advice list, whose findings made
 * at the same instant have no fixed order, is sorted by type and subject.
 *
 * <p>The application: its server; a channel {@code self} to that server with a keepalive time
 * below its permit-time and without calls ({@code keepalive_conflict} findings); a channel
 * {@code unused}, never connected, with a keepalive time grpc-java clamps ({@code value_clamped},
 * and a setting's {@code adjustment}); a client application's connection and the channel's
 * connection open, and a connection closed by the peer's GOAWAY in the history. Peers shown.
 * No keepalive PING is due while the test runs (times of 2h and 5m), so that nothing changes
 * under the test on a slow machine.
 *
 * <p>To write the golden file again after a deliberate change of the JSON, run with
 * {@code -Dgolden.update=true} and review the diff.
 */
class EndpointJsonContractTests {

	private static final Path GOLDEN = Path.of("src", "test", "resources", "dev", "grpckeepalive", "actuate",
			"endpoint-contract.json");

	private static final EchoRequest HELLO = EchoRequest.newBuilder().setText("hello").build();

	private static final Pattern INSTANT = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z");

	private static final Pattern ID = Pattern.compile("[sc]-([a-z]+-)?\\d+");

	private static final Pattern PORT = Pattern.compile("(127\\.0\\.0\\.1|localhost):\\d+");

	private static final JsonMapper json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

	@Test
	void everyReadOperationKeepsItsJson() throws Exception {
		int port = FreePorts.take();
		try (ConfigurableApplicationContext app = TestApps.observed("grpc.keepalive.server.port=" + port,
				"grpc.keepalive.actuator.show-peers=always", "grpc.keepalive.server.permit-time=10m",
				"grpc.keepalive.client.channels.unused.target=127.0.0.1:1",
				"grpc.keepalive.client.channels.unused.time=2s",
				"grpc.keepalive.client.channels.self.target=127.0.0.1:" + port,
				"grpc.keepalive.client.channels.self.time=5m",
				"grpc.keepalive.client.channels.self.without-calls=true");
				ConfigurableApplicationContext client = TestApps.client("127.0.0.1:" + port)) {
			TestApps.blockingStub(client).echo(HELLO);
			TestServiceGrpc.newBlockingStub(app.getBean(GrpcChannels.class).get("self")).echo(HELLO);
			closedAfterGoAway(port);
			// settled: the closed connection in the history, and every PING sent acknowledged
			await().atMost(Duration.ofSeconds(20)).until(() -> isSettled(app));

			ObjectNode actual = JsonNodeFactory.instance.objectNode();
			JsonNode summary = get(app, "/actuator/grpckeepalive");
			actual.set("summary", summary);
			JsonNode connections = get(app, "/actuator/grpckeepalive/connections");
			actual.set("connections", connections);
			// a page: after the first connection, with a limit and every filter; the second connection
			actual.set("connectionsPage", get(app, "/actuator/grpckeepalive/connections?limit=1&after="
					+ connections.get(0).get("id").asString()
					+ "&state=idle,active&remote=127.0.0.1&userAgent=grpc-java&minAge=0ms&minIdle=0"));
			actual.set("badRequest", get(app, "/actuator/grpckeepalive/connections?limit=0", 400));
			actual.set("serverConnection", get(app, "/actuator/grpckeepalive/connections/" + connections.get(0).get("id").asString()));
			JsonNode channelConnection = summary.at("/channels/self/connections/open/0");
			actual.set("channelConnection",
					get(app, "/actuator/grpckeepalive/connections/" + channelConnection.get("id").asString()));
			JsonNode closed = summary.at("/server/connections/recentlyClosed/0");
			actual.set("closedConnection", get(app, "/actuator/grpckeepalive/connections/" + closed.get("id").asString()));
			actual.set("advice", sorted(get(app, "/actuator/grpckeepalive/advice")));

			String normalised = json.writeValueAsString(normalise(actual)) + "\n";
			if (Boolean.getBoolean("golden.update")) {
				Files.writeString(GOLDEN, normalised, StandardCharsets.UTF_8);
			}
			assertThat(normalised).isEqualTo(Files.readString(GOLDEN, StandardCharsets.UTF_8));
		}
	}

	/**
	 * A connection closed in an order that leaves nothing to chance (a gRPC client's close can
	 * end in a reset): HTTP/2 preface, SETTINGS and GOAWAY NO_ERROR, then a FIN, and every byte
	 * of the server read until it closes. Close reason {@code peer_goaway}.
	 */
	private static void closedAfterGoAway(int port) throws Exception {
		try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
			socket.setSoTimeout(10_000);
			OutputStream out = socket.getOutputStream();
			out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
			out.write(new byte[] { 0, 0, 0, 0x4, 0, 0, 0, 0, 0 });
			out.write(new byte[] { 0, 0, 8, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 });
			out.flush();
			socket.shutdownOutput();
			InputStream in = socket.getInputStream();
			while (in.read(new byte[4096]) >= 0) {
				// drained: nothing unread makes the close a reset
			}
		}
	}

	private static boolean isSettled(ConfigurableApplicationContext app) throws Exception {
		JsonNode summary = get(app, "/actuator/grpckeepalive");
		if (summary.at("/server/connections/recentlyClosed").size() != 1
				|| summary.at("/server/connections/active").asInt() != 2) {
			return false;
		}
		List<JsonNode> pings = new ArrayList<>();
		pings.add(summary.at("/server/pings"));
		pings.add(summary.at("/channels/self/pings"));
		for (JsonNode connection : get(app, "/actuator/grpckeepalive/connections")) {
			pings.add(connection.get("pings"));
		}
		summary.at("/channels/self/connections/open").forEach((connection) -> pings.add(connection.get("pings")));
		return pings.stream().allMatch((ping) -> ping.get("sent").asLong() > 0
				&& ping.get("sent").asLong() == ping.get("acked").asLong());
	}

	private static JsonNode get(ConfigurableApplicationContext app, String path) throws Exception {
		return get(app, path, 200);
	}

	private static JsonNode get(ConfigurableApplicationContext app, String path, int status) throws Exception {
		var response = Http.get(app, path);
		assertThat(response.statusCode()).as(path).isEqualTo(status);
		return json.readTree(response.body());
	}

	private static ArrayNode sorted(JsonNode findings) {
		List<JsonNode> list = new ArrayList<>();
		findings.forEach(list::add);
		list.sort(Comparator.comparing((JsonNode finding) -> finding.get("type").asString())
			.thenComparing((finding) -> finding.get("channel").asString())
			.thenComparing((finding) -> finding.get("subject").asString()));
		ArrayNode array = JsonNodeFactory.instance.arrayNode();
		list.forEach(array::add);
		return array;
	}

	/** The same tree with each varying value replaced by a marker of its type. */
	private static JsonNode normalise(JsonNode node) {
		if (node.isObject()) {
			ObjectNode copy = JsonNodeFactory.instance.objectNode();
			for (Map.Entry<String, JsonNode> property : node.properties()) {
				copy.set(property.getKey(), normalise(property.getValue()));
			}
			return copy;
		}
		if (node.isArray()) {
			ArrayNode copy = JsonNodeFactory.instance.arrayNode();
			node.forEach((element) -> copy.add(normalise(element)));
			return copy;
		}
		if (node.isIntegralNumber()) {
			return JsonNodeFactory.instance.stringNode("<integer>");
		}
		if (node.isNumber()) {
			return JsonNodeFactory.instance.stringNode("<decimal>");
		}
		if (node.isString()) {
			String text = node.asString();
			if (INSTANT.matcher(text).matches()) {
				return JsonNodeFactory.instance.stringNode("<instant>");
			}
			if (ID.matcher(text).matches()) {
				return JsonNodeFactory.instance.stringNode("<id>");
			}
			return JsonNodeFactory.instance.stringNode(PORT.matcher(text).replaceAll("$1:<port>"));
		}
		return node;
	}

}
