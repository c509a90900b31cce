package dev.grpckeepalive.actuate;

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
 * from a real application, against the golden file {@code endpoint-contract.json}: key names,
 * key order, nesting, value types, and which keys are {@code null} or absent. Only values that
 * vary from run to run are normalised, to a marker of their type: numbers ({@code <integer>},
 * {@code <decimal>}), instants, connection ids and ports. The advice list, whose findings made
 * at the same instant have no fixed order, is sorted by type and subject.
 *
 * <p>The application: its server (keepalive time 5s, which grpc-java clamps: a
 * {@code value_clamped} finding) and a channel {@code self} to that server with a keepalive
 * time below its permit-time and without calls ({@code keepalive_conflict} findings); a client
 * application's connection and the channel's connection open, and a closed connection in the
 * history. Peers shown.
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
				"grpc.keepalive.actuator.show-peers=always", "grpc.keepalive.server.time=5s",
				"grpc.keepalive.client.channels.self.target=127.0.0.1:" + port,
				"grpc.keepalive.client.channels.self.time=30s",
				"grpc.keepalive.client.channels.self.without-calls=true");
				ConfigurableApplicationContext client = TestApps.client("127.0.0.1:" + port)) {
			TestApps.blockingStub(client).echo(HELLO);
			TestServiceGrpc.newBlockingStub(app.getBean(GrpcChannels.class).get("self")).echo(HELLO);
			TestApps.echoOnNewChannel(port);
			// settled: the closed connection in the history, and every PING sent acknowledged
			await().atMost(Duration.ofSeconds(20)).until(() -> isSettled(app));

			ObjectNode actual = JsonNodeFactory.instance.objectNode();
			JsonNode summary = get(app, "/actuator/grpckeepalive");
			actual.set("summary", summary);
			JsonNode connections = get(app, "/actuator/grpckeepalive/connections");
			actual.set("connections", connections);
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
		var response = Http.get(app, path);
		assertThat(response.statusCode()).as(path).isEqualTo(200);
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
