package dev.grpckeepalive.reliability;

import java.time.Duration;
import java.util.List;

import io.grpc.Status;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.advisor.Evidence;
import dev.grpckeepalive.advisor.Finding;
import dev.grpckeepalive.advisor.FindingType;
import dev.grpckeepalive.advisor.KeepAliveAdvisor;
import dev.grpckeepalive.advisor.Recommendation;
import dev.grpckeepalive.client.GrpcChannels;
import dev.grpckeepalive.config.DurationFormat;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.test.RecordingObserver;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Findings {@code idle_connections_dropped} and {@code no_keepalive_on_idle_path} against a
 * real middlebox: HAProxy in TCP mode with idle timeouts of 3s between a channel without
 * keepalive and a server. A silence of 1.5s between two calls survives; a silence longer than
 * 3s between calls ends with HAProxy closing both sides (no GOAWAY); the next call opens a new
 * connection; a stream then left silent dies the same way with its call in flight: two deaths
 * whose silences agree, as a timer's do. The client's advisor brackets the idle timeout
 * between the two and, since 3s is under what grpc-java can ping (10s), names the proxy's
 * idle timeout as what must change.
 */
@Tag("reliability")
class IdleConnectionsDroppedTests {

	private static final String SCENARIO = "Advisor: idle connections dropped (HAProxy, 3s idle timeouts)";

	private static final Duration PROXY_IDLE_TIMEOUT = Duration.ofSeconds(3);

	@Test
	void theClientBracketsTheProxysIdleTimeoutAndIsToldToPing() throws Exception {
		HaProxy.require(SCENARIO);
		try (ConfigurableApplicationContext server = TestApps.server("address=127.0.0.1");
				HaProxy proxy = HaProxy.tcp(PROXY_IDLE_TIMEOUT, PROXY_IDLE_TIMEOUT)
					.server("server", TestApps.port(server))
					.start();
				ConfigurableApplicationContext client = TestApps.client(proxy.target())) {
			var stub = TestApps.blockingStub(client);
			EchoRequest echo = EchoRequest.newBuilder().setText("x").build();
			stub.echo(echo);
			Thread.sleep(1_500);
			stub.echo(echo);
			// silent until the proxy's idle timeout closes the connection, between calls: awaited, not slept
			ConnectionTrackerView connections = client.getBean(GrpcChannels.class)
				.tracked()
				.get(TestApps.CHANNEL)
				.connections();
			await().atMost(Duration.ofSeconds(30)).until(() -> connections.activeConnections() == 0);
			stub.echo(echo);
			// a stream left silent for longer than the idle timeout, with its call in flight
			RecordingObserver<StreamReply> stream = new RecordingObserver<>();
			TestApps.asyncStub(client).stream(StreamRequest.newBuilder().setCount(1).setHoldMillis(6_000).build(), stream);
			Status status = stream.awaitStatus(Duration.ofSeconds(15));
			assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.UNAVAILABLE);

			KeepAliveAdvisor advisor = client.getBean(KeepAliveAdvisor.class);
			List<Finding> findings = advisor.findings();
			findings.forEach((finding) -> System.out.println(SCENARIO + ": " + finding));
			Finding dropped = find(findings, FindingType.IDLE_CONNECTIONS_DROPPED);
			assertThat(dropped.side()).isEqualTo(Side.CLIENT);
			assertThat(dropped.channel()).isEqualTo(TestApps.CHANNEL);
			Evidence.IdleConnectionsDropped evidence = (Evidence.IdleConnectionsDropped) dropped.evidence();
			assertThat(evidence.deaths()).isEqualTo(2);
			assertThat(evidence.diedDuringSilence()).isEqualTo(2);
			assertThat(evidence.withCallsInFlight()).isEqualTo(1);
			assertThat(evidence.betweenCalls()).isEqualTo(1);
			assertThat(evidence.documentedIdleTimeoutsInBracket()).isEmpty();
			long survived = evidence.longestSurvivedSilenceMillis();
			long killed = evidence.killingSilenceMillis().min();
			Evidence.IdleConnectionsDropped.Bracket bracket = evidence.idleTimeoutBracket();
			// the bracket holds the proxy's 3 s: above the 1.5 s that survived, at most what killed plus 2% (measured
			// from this side's last frame, which HAProxy saw a little earlier: 2999 ms was measured)
			assertThat(survived).isBetween(1_400L, 2_900L);
			assertThat(killed).isBetween(2_950L, 3_600L);
			assertThat(bracket.longerThan()).isEqualTo(DurationFormat.format(Duration.ofMillis(survived)));
			long atMost = Math.round(killed * 1.02);
			assertThat(bracket.atMost()).isEqualTo(DurationFormat.format(Duration.ofMillis(atMost)));
			assertThat(Duration.ofMillis(atMost)).isGreaterThanOrEqualTo(PROXY_IDLE_TIMEOUT);
			// 80% of 3s is under grpc-java's 10s minimum: no keepalive time can keep this path open, and none
			// grpc-java would clamp is suggested; the proxy's idle timeout must exceed 12.5s, then 10s keeps it open
			assertThat(dropped.recommendation().property()).isEqualTo("idle timeout of the middlebox on the path");
			assertThat(dropped.recommendation().suggested()).isEqualTo("12s500ms");
			assertThat(dropped.recommendation().lowerBound()).isTrue();
			assertThat(dropped.recommendation().alsoSet()).extracting(Recommendation.Change::property)
				.containsExactly("grpc.keepalive.client.channels.test.time",
						"grpc.keepalive.client.channels.test.without-calls");
			assertThat(dropped.recommendation().alsoSet()).extracting(Recommendation.Change::suggested)
				.containsExactly("10s", "true");
			assertThat(dropped.recommendation().text()).contains("grpc-java raises a keepalive time under 10s to 10s");

			Finding noKeepAlive = find(findings, FindingType.NO_KEEPALIVE_ON_IDLE_PATH);
			assertThat(noKeepAlive.side()).isEqualTo(Side.CLIENT);
			assertThat(((Evidence.NoKeepAliveOnIdlePath) noKeepAlive.evidence()).deathsWithCallsInFlight()).isEqualTo(1);
			assertThat(noKeepAlive.recommendation().property()).isEqualTo("grpc.keepalive.client.channels.test.time");
			assertThat(noKeepAlive.recommendation().suggested()).isEqualTo("10s");
			assertThat(noKeepAlive.recommendation().alsoSet()).extracting(Recommendation.Change::suggested)
				.containsExactly("true");
		}
	}

	private static Finding find(List<Finding> findings, FindingType type) {
		return findings.stream().filter((finding) -> finding.type() == type).findFirst()
			.orElseThrow(() -> new AssertionError("no " + type.tag() + " in " + findings));
	}

}
