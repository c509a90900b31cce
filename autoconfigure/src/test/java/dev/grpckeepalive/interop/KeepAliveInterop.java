package dev.grpckeepalive.interop;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.jayway.jsonpath.DocumentContext;

import dev.grpckeepalive.client.GrpcChannels;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.GoAway;
import dev.grpckeepalive.connection.PingKind;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.InteropPeer;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What the keepalive interop tests of every implementation share: where to look, and the advisor's diagnosis. */
final class KeepAliveInterop {

	private static final Pattern DURATION_PART = Pattern.compile("(\\d+)(ms|h|m|s)");

	private KeepAliveInterop() {
	}

	/** {@code 127.0.0.1:<port>} of a peer in server mode, from its {@code listening} event. */
	static String target(InteropPeer server) throws InterruptedException {
		DocumentContext listening = server.nextEvent(InteropPeer.START_ALLOWANCE);
		assertThat(listening.read("$.event", String.class)).as(listening.jsonString()).isEqualTo("listening");
		return "127.0.0.1:" + listening.read("$.port", Integer.class);
	}

	/** {@code 127.0.0.1:<port>} of the starter's gRPC server. */
	static String target(ConfigurableApplicationContext server) {
		return "127.0.0.1:" + TestApps.port(server);
	}

	static ConnectionTrackerView serverConnections(ConfigurableApplicationContext server) {
		return server.getBean(KeepAliveGrpcServer.class).getConnections();
	}

	static ConnectionTrackerView channelConnections(ConfigurableApplicationContext client) {
		return client.getBean(GrpcChannels.class).tracked().get(TestApps.CHANNEL).connections();
	}

	/** A counter's value from the Actuator metrics endpoint, with tags as {@code name:value}. */
	static double metric(ConfigurableApplicationContext app, String name, String... tags) throws Exception {
		StringBuilder path = new StringBuilder("/actuator/metrics/").append(name);
		for (int i = 0; i < tags.length; i++) {
			path.append(i == 0 ? '?' : '&').append("tag=").append(tags[i]);
		}
		return Http.json(app, path.toString()).read("$.measurements[0].value", Double.class);
	}

	/**
	 * Waits for two PINGs of the peer's client on the server, then checks that it stayed
	 * connected on its one connection and the advisor sees nothing wrong with its PINGs.
	 */
	static void assertPingsWithinThePermitAccepted(ConfigurableApplicationContext server) throws Exception {
		ConnectionTrackerView tracker = serverConnections(server);
		await().atMost(Duration.ofSeconds(40)).until(() -> tracker.pings().received() >= 2);

		assertThat(tracker.goAways(GoAway.Direction.SENT)).isEmpty();
		assertThat(tracker.openedConnections()).isEqualTo(1);
		assertThat(tracker.activeConnections()).isEqualTo(1);
		assertThat(Http.json(server, "/actuator/grpckeepalive/advice")
			.read("$[?(@.type == 'clients_ping_too_often')]", List.class)).isEmpty();
	}

	/**
	 * Checks that the peer's client, pinging too fast, was cut as grpc-java cuts it: its idle
	 * call ended, one connection closed {@code too_many_pings} with a GOAWAY saying so, counted
	 * by the meter, and the advisor names the client.
	 */
	static void assertCutForPingingTooOften(ConfigurableApplicationContext server, DocumentContext result)
			throws Exception {
		assertThat(result.read("$.closed", String.class)).as(result.jsonString()).isNotNull();
		ConnectionTrackerView tracker = serverConnections(server);
		await().atMost(Duration.ofSeconds(10)).until(() -> tracker.closedConnections(CloseReason.TOO_MANY_PINGS) == 1);
		assertThat(tracker.goAwayCount(GoAway.Direction.SENT, "too_many_pings")).isEqualTo(1);
		assertThat(metric(server, "grpc.keepalive.connections.closed", "reason:too_many_pings", "side:server"))
			.isEqualTo(1.0);
		assertClientsPingTooOften(server, result.read("$.peer", String.class));
	}

	/** Makes a call on the client's channel, then checks that its keepalive PINGs are answered and nothing closed it. */
	static void assertKeepAliveAnswered(ConfigurableApplicationContext client) {
		TestApps.blockingStub(client).echo(EchoRequest.newBuilder().setText("hi").build());
		ConnectionTrackerView tracker = channelConnections(client);

		await().atMost(Duration.ofSeconds(20)).until(() -> tracker.pings().sent(PingKind.KEEPALIVE) >= 1
				&& tracker.pings().acked() >= tracker.pings().sent());

		// answered, within the keepalive timeout: 1.7 s was measured on a loaded machine
		assertThat(tracker.pings().snapshot().rttMillis().last()).isGreaterThan(0).isLessThan(10_000);
		assertThat(tracker.goAways(GoAway.Direction.RECEIVED)).isEmpty();
		assertThat(tracker.pings().timeouts()).isZero();
		assertThat(tracker.activeConnections()).isEqualTo(1);
	}

	/**
	 * Makes a call on the client's channel (keepalive 10s), then waits up to {@code within} for
	 * the peer's GOAWAY {@code too_many_pings}, and checks that it was counted and that grpc-java
	 * doubled the channel's keepalive time, as the endpoint shows. Doubled at least once, to 20s,
	 * and possibly more: grpc-java doubles it once per generation of connections, and where the
	 * channel reconnects and is cut again before the endpoint is read (a slow machine), it is
	 * doubled again (40s). What holds in every case: 10s times a power of two, at least twice,
	 * and no more doublings than the GOAWAYs counted.
	 */
	static void assertCutByPeerAndTimeDoubled(ConfigurableApplicationContext client, Duration within)
			throws Exception {
		TestApps.blockingStub(client).echo(EchoRequest.newBuilder().setText("hi").build());
		ConnectionTrackerView tracker = channelConnections(client);

		await().atMost(within).until(() -> tracker.goAwayCount(GoAway.Direction.RECEIVED, "too_many_pings") >= 1);

		assertThat(metric(client, "grpc.keepalive.goaways", "direction:received", "reason:too_many_pings",
				"channel:" + TestApps.CHANNEL)).isGreaterThanOrEqualTo(1.0);
		await().atMost(Duration.ofSeconds(5)).until(() -> tracker.keepAliveBackoffs() >= 1);
		DocumentContext summary = Http.json(client, "/actuator/grpckeepalive");
		String settings = "$.channels." + TestApps.CHANNEL + ".settings.time";
		assertThat(summary.read(settings + ".requested", String.class)).isEqualTo("10s");
		assertDoubled(Duration.ofSeconds(10), summary.read(settings + ".effective", String.class),
				tracker.keepAliveBackoffs());
		assertThat(tracker.keepAliveBackoffs())
			.isLessThanOrEqualTo((int) tracker.goAwayCount(GoAway.Direction.RECEIVED, "too_many_pings"));
	}

	/**
	 * Checks that {@code effective} (as the starter prints durations) is {@code time} doubled at
	 * least once and at most {@code maxDoublings} times: grpc-java's backoff after GOAWAY
	 * {@code too_many_pings}, whatever number of generations of connections were cut.
	 */
	static void assertDoubled(Duration time, String effective, int maxDoublings) {
		long millis = millis(effective);
		long multiple = millis / time.toMillis();
		assertThat(millis % time.toMillis()).as("%s is a multiple of %s", effective, time).isZero();
		assertThat(multiple).as("%s is %s doubled at least once", effective, time).isGreaterThanOrEqualTo(2);
		assertThat(Long.bitCount(multiple)).as("%s is %s times a power of two", effective, time).isEqualTo(1);
		assertThat(Long.numberOfTrailingZeros(multiple)).as("%s is %s doubled no more than %d times", effective, time,
				maxDoublings).isLessThanOrEqualTo(maxDoublings);
	}

	/**
	 * Waits for the advisor's {@code clients_ping_too_often} finding about the clients whose
	 * user agent starts with {@code userAgent}, and checks what must hold whatever else it says:
	 * it names them, and a permit-time it suggests is not one that disarms the server (under 1s).
	 */
	static Map<String, Object> assertClientsPingTooOften(ConfigurableApplicationContext server, String userAgent) {
		String finding = "$[?(@.type == 'clients_ping_too_often')]";
		List<Map<String, Object>> findings = await().atMost(Duration.ofSeconds(20))
			.pollInterval(Duration.ofMillis(500))
			.until(() -> Http.json(server, "/actuator/grpckeepalive/advice").<List<Map<String, Object>>>read(finding),
					(found) -> found.stream().anyMatch((f) -> String.valueOf(f.get("subject")).startsWith(userAgent)));
		Map<String, Object> diagnosis = findings.stream()
			.filter((f) -> String.valueOf(f.get("subject")).startsWith(userAgent))
			.findFirst()
			.orElseThrow();
		System.out.println("clients_ping_too_often: " + diagnosis);
		@SuppressWarnings("unchecked")
		Map<String, Object> evidence = (Map<String, Object>) diagnosis.get("evidence");
		assertThat(String.valueOf(evidence.get("userAgent"))).startsWith(userAgent);
		@SuppressWarnings("unchecked")
		Map<String, Object> recommendation = (Map<String, Object>) diagnosis.get("recommendation");
		if (recommendation != null && "grpc.keepalive.server.permit-time".equals(recommendation.get("property"))) {
			String suggested = String.valueOf(recommendation.get("suggested"));
			assertThat(millis(suggested)).as("suggested permit-time %s", suggested).isGreaterThanOrEqualTo(1000);
		}
		return diagnosis;
	}

	/** Milliseconds of a duration as the starter prints it ({@code 1s438ms}, {@code 5m}, {@code 20s}). */
	static long millis(String duration) {
		Matcher part = DURATION_PART.matcher(duration);
		long millis = 0;
		int end = 0;
		while (part.find() && part.start() == end) {
			long amount = Long.parseLong(part.group(1));
			millis += switch (part.group(2)) {
				case "h" -> Duration.ofHours(amount).toMillis();
				case "m" -> Duration.ofMinutes(amount).toMillis();
				case "s" -> Duration.ofSeconds(amount).toMillis();
				default -> amount;
			};
			end = part.end();
		}
		assertThat(end).as("a duration: %s", duration).isEqualTo(duration.length()).isPositive();
		return millis;
	}

}
