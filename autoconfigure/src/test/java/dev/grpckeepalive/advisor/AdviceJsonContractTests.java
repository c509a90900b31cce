package dev.grpckeepalive.advisor;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import dev.grpckeepalive.actuate.GrpcKeepAliveEndpoint;
import dev.grpckeepalive.config.ChannelKeepAliveSettings;
import dev.grpckeepalive.config.DurationSetting;
import dev.grpckeepalive.config.GrpcKeepAliveProperties.PeerVisibility;
import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionState;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.GoAway;
import dev.grpckeepalive.connection.PingKind;
import dev.grpckeepalive.connection.PingStatistics;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.connection.SilenceBeforeClose;

import org.springframework.boot.actuate.autoconfigure.endpoint.jackson.JacksonEndpointAutoConfiguration;
import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.jackson.EndpointJsonMapper;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static dev.grpckeepalive.advisor.SettingsFixture.SERVER;
import static dev.grpckeepalive.advisor.SettingsFixture.duration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JSON of the endpoint's {@code /advice} for findings of every watch and every kind of
 * recommendation, made on a fake clock (so nothing varies), against the golden file
 * {@code advice-contract.json}: the evidence and recommendation of each, with key order,
 * value types, nulls and absent keys. The advice is serialised as Spring MVC serialises the
 * endpoint's answer: with Actuator's own {@link EndpointJsonMapper} for an
 * {@link OperationResponseBody}, with the application's mapper otherwise. Findings made at
 * the same instant are sorted by type and subject.
 *
 * <p>To write the golden file again after a deliberate change of the JSON, run with
 * {@code -Dgolden.update=true} and review the diff.
 */
class AdviceJsonContractTests {

	private static final Path GOLDEN = Path.of("src", "test", "resources", "dev", "grpckeepalive", "advisor",
			"advice-contract.json");



	private int ids;

	@Test
	void theEvidenceAndRecommendationOfEveryWatchKeepTheirJson() throws Exception {
		Map<String, Consumer<KeepAliveAdvisor>> scenarios = new LinkedHashMap<>();
		ConnectionTrackerView server = ConnectionTracker.create(Side.SERVER, "server", null, null).view();
		ConnectionTrackerView channel = ConnectionTracker.create(Side.CLIENT, "prices", null, null).view();
		scenarios.put("serverPingFits", (advisor) -> {
			ServerPingWatch watch = new ServerPingWatch(advisor, serverSettings(Duration.ofMinutes(5), false));
			for (int strike = 1; strike <= 3; strike++) {
				watch.peerPing(server, 7, "grpc-go/1.33.0", PingKind.OTHER, 15_002_000_000L, true, true, strike);
			}
			watch.connectionClosed(server, closed(server.connectionId(7), CloseReason.TOO_MANY_PINGS, null));
		});
		scenarios.put("serverPingSlowDown", (advisor) -> {
			ServerPingWatch watch = new ServerPingWatch(advisor, serverSettings(Duration.ofMinutes(5), false));
			String python = "grpc-python/1.51.1 grpc-c/29.0.0 (linux; chttp2)";
			watch.peerPing(server, 1, python, PingKind.OTHER, 3_000_000L, true, true, 1);
			watch.peerPing(server, 1, python, PingKind.OTHER, 1_000_000_000L, true, true, 2);
		});
		scenarios.put("serverPingNotMeasured", (advisor) -> {
			ServerPingWatch watch = new ServerPingWatch(advisor, serverSettings(Duration.ofMinutes(5), false));
			watch.peerPing(server, 1, null, PingKind.BDP, 1_000_000L, false, true, 1);
			watch.peerPing(server, 1, null, PingKind.BDP, 1_000_000L, false, true, 2);
		});
		scenarios.put("channelPingLowerBound", (advisor) -> {
			ChannelPingWatch watch = new ChannelPingWatch(advisor, new ChannelKeepAliveSettings("prices", "x:1",
					duration("grpc.keepalive.client.channels.prices.time", Duration.ofSeconds(10)),
					duration("grpc.keepalive.client.channels.prices.timeout", Duration.ofSeconds(20)), true, null));
			watch.keepAlivePingSent(channel, 1, 10_004_000_000L);
			watch.connectionClosed(channel, closed(channel.connectionId(1), CloseReason.TOO_MANY_PINGS,
					new GoAway(GoAway.Direction.RECEIVED, 0xb, "too_many_pings", CloseReason.TOO_MANY_PINGS, 0)));
		});
		scenarios.put("roundTrip", (advisor) -> {
			RoundTripWatch watch = new RoundTripWatch(advisor,
					duration("grpc.keepalive.client.channels.prices.timeout", Duration.ofSeconds(1)));
			watch.pingAcknowledged(channel, PingKind.KEEPALIVE, 200_000_000L);
			watch.pingAcknowledged(channel, PingKind.BDP, 813_000_000L);
		});
		scenarios.put("idlePathTimer", (advisor) -> {
			IdlePathWatch watch = channelWatch(advisor, Duration.ofMinutes(10));
			watch.silenceSurvived(channel, 1, seconds(300), false);
			watch.connectionClosed(channel, silent(CloseReason.PEER_CLOSED, seconds(350) + 40_000_000L, false, false));
			watch.connectionClosed(channel, silent(CloseReason.PEER_CLOSED, seconds(350) + 900_000_000L, false, true));
		});
		scenarios.put("idlePathMiddleboxAndNoKeepAlive", (advisor) -> {
			IdlePathWatch watch = channelWatch(advisor, null);
			watch.silenceSurvived(channel, 1, 1_500_000_000L, false);
			watch.connectionClosed(channel, silent(CloseReason.PEER_CLOSED, 2_999_000_000L, false, false));
			watch.connectionClosed(channel, silent(CloseReason.KEEPALIVE_TIMEOUT, 3_004_000_000L, true, true));
		});
		scenarios.put("idlePathServer", (advisor) -> {
			IdlePathWatch watch = IdlePathWatch.server(advisor, duration(SERVER + "time", Duration.ofHours(2)));
			watch.connectionClosed(server, closedFrom(CloseReason.PEER_CLOSED, seconds(5)));
			watch.connectionClosed(server, closedFrom(CloseReason.PEER_CLOSED, seconds(5) + 20_000_000L));
		});
		scenarios.put("grace", (advisor) -> {
			GraceWatch watch = new GraceWatch(advisor, serverSettings(Duration.ofMinutes(5), false));
			watch.connectionClosed(server, serverClose(CloseReason.MAX_AGE, null, 0,
					List.of(Duration.ofMillis(2_100), Duration.ofMillis(900))));
		});
		scenarios.put("abuse", (advisor) -> {
			AbuseWatch watch = new AbuseWatch(advisor, serverSettings(Duration.ofMinutes(5), false).limits());
			watch.connectionClosed(server, serverClose(CloseReason.ABUSE, "max-settings-frames", 0, List.of()));
			watch.connectionClosed(server, serverClose(CloseReason.ABUSE, "max-rst-frames", 12, List.of()));
			watch.connectionClosed(server, serverClose(CloseReason.ABUSE, "a-limit-of-netty", 0, List.of()));
		});
		scenarios.put("configuration", (advisor) -> {
			ConfigurationCheck check = new ConfigurationCheck(advisor);
			ServerKeepAliveSettings settings = serverSettings(Duration.ofMinutes(5), false);
			check.checkServer(new ServerKeepAliveSettings(
					new DurationSetting(SERVER + "time", Duration.ofSeconds(5), Duration.ofSeconds(10),
							"grpc-java raises keepalive time to its minimum of 10s"),
					settings.timeout(), settings.permitTime(), false, settings.maxConnectionIdle(),
					settings.maxConnectionAge(), settings.maxConnectionAgeGrace(), settings.limits()));
			check.checkChannel(new ChannelKeepAliveSettings("self", "localhost:9090",
					duration("grpc.keepalive.client.channels.self.time", Duration.ofSeconds(30)),
					duration("grpc.keepalive.client.channels.self.timeout", Duration.ofSeconds(20)), true, null),
					settings, 9090);
		});

		JsonMapper endpointMapper = bean(JacksonEndpointAutoConfiguration.class, EndpointJsonMapper.class).get();
		JsonMapper applicationMapper = bean(JacksonAutoConfiguration.class, JsonMapper.class);
		ObjectNode actual = JsonNodeFactory.instance.objectNode();
		for (Map.Entry<String, Consumer<KeepAliveAdvisor>> scenario : scenarios.entrySet()) {
			KeepAliveAdvisor advisor = new KeepAliveAdvisor(Duration.ofHours(1),
					new MutableClock(Instant.parse("2026-01-01T00:00:00Z")));
			advisor.warnings = (line) -> {
			};
			scenario.getValue().accept(advisor);
			Object advice = new GrpcKeepAliveEndpoint(null, List.of(), PeerVisibility.NEVER, advisor)
				.connections("advice", SecurityContext.NONE);
			JsonMapper mapper = (advice instanceof OperationResponseBody) ? endpointMapper : applicationMapper;
			actual.set(scenario.getKey(), sorted(mapper.readTree(mapper.writeValueAsString(advice))));
		}
		String json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build().writeValueAsString(actual)
				+ "\n";
		if (Boolean.getBoolean("golden.update")) {
			Files.writeString(GOLDEN, json, StandardCharsets.UTF_8);
		}
		assertThat(json).isEqualTo(Files.readString(GOLDEN, StandardCharsets.UTF_8));
	}

	private static <T> T bean(Class<?> configuration, Class<T> type) {
		List<T> bean = new ArrayList<>();
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(configuration))
			.run((context) -> bean.add(context.getBean(type)));
		return bean.get(0);
	}

	private static ArrayNode sorted(JsonNode findings) {
		List<JsonNode> list = new ArrayList<>();
		findings.forEach(list::add);
		list.sort(Comparator.comparing((JsonNode finding) -> finding.get("type").asString())
			.thenComparing((finding) -> finding.get("subject").asString()));
		ArrayNode array = JsonNodeFactory.instance.arrayNode();
		list.forEach(array::add);
		return array;
	}

	private static IdlePathWatch channelWatch(KeepAliveAdvisor advisor, @Nullable Duration time) {
		return IdlePathWatch.channel(advisor, new DurationSetting("grpc.keepalive.client.defaults.time", time, time, null),
				"grpc.keepalive.client.channels.prices", false);
	}

	private ConnectionSnapshot silent(CloseReason reason, long silenceNanos, boolean afterWrite, boolean withCalls) {
		this.ids++;
		return new ConnectionSnapshot("c-prices-" + this.ids, Side.CLIENT, "prices", null, null, 0, seconds(900), 0, 0,
				0, ConnectionState.CLOSED, true, null, new PingStatistics.Snapshot(0, java.util.Map.of(), 0, 0, 0, null), null, null, false, null, reason,
				0L, new SilenceBeforeClose(silenceNanos, afterWrite, withCalls), List.of());
	}

	private ConnectionSnapshot closedFrom(CloseReason reason, long silenceNanos) {
		this.ids++;
		return new ConnectionSnapshot("s-" + (1000 + this.ids), Side.SERVER, "server",
				new InetSocketAddress("10.0.0.7", 40000 + this.ids), null, 0, seconds(900), 0, 0, 0,
				ConnectionState.CLOSED, true, null, new PingStatistics.Snapshot(0, java.util.Map.of(), 0, 0, 0, null), null, null, false, null, reason,
				0L, new SilenceBeforeClose(silenceNanos, false, false), List.of());
	}

	private ConnectionSnapshot serverClose(CloseReason reason, @Nullable String abuseLimit, long totalCalls,
			List<Duration> unfinished) {
		this.ids++;
		return new ConnectionSnapshot("s-" + this.ids, Side.SERVER, "server", null, null, 0, 0, 0, 0, totalCalls,
				ConnectionState.CLOSED, true, null, new PingStatistics.Snapshot(0, java.util.Map.of(), 0, 0, 0, null), null, null, false, abuseLimit,
				reason, 0L, null, unfinished);
	}

	private static ConnectionSnapshot closed(String id, CloseReason reason, @Nullable GoAway received) {
		return new ConnectionSnapshot(id, Side.SERVER, "x", null, null, 0, 0, 0, 0, 0, ConnectionState.CLOSED, true,
				null, new PingStatistics.Snapshot(0, java.util.Map.of(), 0, 0, 0, null), null, received, false, null, reason, 0L, null, List.of());
	}

	private static ServerKeepAliveSettings serverSettings(Duration permitTime, boolean permitWithoutCalls) {
		return SettingsFixture.server(permitTime, permitWithoutCalls, Duration.ofSeconds(1), Duration.ofSeconds(1));
	}

	private static long seconds(long seconds) {
		return Duration.ofSeconds(seconds).toNanos();
	}

}
