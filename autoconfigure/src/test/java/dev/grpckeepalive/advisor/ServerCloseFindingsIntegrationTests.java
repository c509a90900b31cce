package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.util.List;

import com.jayway.jsonpath.DocumentContext;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.RawHttp2Attacker;
import dev.grpckeepalive.test.RecordingObserver;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Findings of a real server's closes: {@code grace_too_short} when max-connection-age-grace
 * cuts a stream, {@code abusive_clients} when a raw HTTP/2 client floods SETTINGS.
 */
class ServerCloseFindingsIntegrationTests {

	@Test
	void aStreamCutByMaxConnectionAgeGraceMakesGraceTooShort() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.observed("grpc.keepalive.server.max-connection-age=1s",
				"grpc.keepalive.server.max-connection-age-grace=1s")) {
			ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", TestApps.port(server))
				.usePlaintext()
				.build();
			try {
				RecordingObserver<StreamReply> stream = new RecordingObserver<>();
				TestServiceGrpc.newStub(channel)
					.stream(StreamRequest.newBuilder().setCount(1).setHoldMillis(5_000).build(), stream);
				Status status = stream.awaitStatus(Duration.ofSeconds(10));
				assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.UNAVAILABLE);

				String finding = "$[?(@.type == 'grace_too_short')]";
				// generous: on a loaded machine the close and the endpoint call each take seconds
				DocumentContext advice = await().atMost(Duration.ofSeconds(20))
					.until(() -> Http.json(server, "/actuator/grpckeepalive/advice"),
							(json) -> !json.read(finding, List.class).isEmpty());
				System.out.println("grace_too_short after a 5 s stream against age 1s + grace 1s: "
						+ advice.read(finding, List.class));
				assertThat(advice.read(finding + ".side", List.class)).containsExactly("server");
				assertThat(advice.read(finding + ".severity", List.class)).containsExactly("warning");
				assertThat(advice.read(finding + ".evidence.callsCut", List.class)).containsExactly(1);
				Number max = (Number) advice.read(finding + ".evidence.cutCallDurationMillis.max", List.class).get(0);
				// started before the GOAWAY, it ran at least the grace, at most age (up to 10% jitter) + grace
				assertThat(max.longValue()).isBetween(1_000L, 4_000L);
				assertThat(advice.read(finding + ".recommendation.property", List.class))
					.containsExactly("grpc.keepalive.server.max-connection-age-grace");
				assertThat(advice.read(finding + ".recommendation.current", List.class)).containsExactly("1s");
				assertThat(advice.read(finding + ".recommendation.suggested", List.class)).containsExactly(
						dev.grpckeepalive.config.DurationFormat.format(Duration.ofSeconds((max.longValue() * 3 / 2 + 999) / 1000)));
			}
			finally {
				channel.shutdownNow();
			}
		}
	}

	@Test
	void aSettingsFloodMakesAbusiveClientsNamingTheLimit() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.observed()) {
			RawHttp2Attacker.Report report = RawHttp2Attacker.attack(TestApps.port(server), RawHttp2Attacker.Mode.SETTINGS_FLOOD)
				.duration(Duration.ofSeconds(3))
				.run();

			String finding = "$[?(@.type == 'abusive_clients')]";
			DocumentContext advice = await().atMost(Duration.ofSeconds(20))
				.until(() -> Http.json(server, "/actuator/grpckeepalive/advice"),
						(json) -> !json.read(finding, List.class).isEmpty());
			System.out.println("abusive_clients after " + report + ": " + advice.read(finding, List.class));
			assertThat(advice.read(finding + ".subject", List.class)).containsExactly("max-settings-frames");
			assertThat(advice.read(finding + ".evidence.connectionsClosed", List.class)).containsExactly(1);
			assertThat(advice.read(finding + ".evidence.connectionsThatHadCalls", List.class)).containsExactly(0);
			assertThat(advice.read(finding + ".evidence.connections[*]", List.class)).singleElement()
				.asString().startsWith("s-");
			assertThat(advice.read(finding + ".recommendation.property", List.class))
				.containsExactly("grpc.keepalive.server.limits.max-settings-frames");
			assertThat(advice.read(finding + ".recommendation.current", List.class)).containsExactly("100");
			assertThat(advice.read(finding + ".recommendation.suggested", List.class)).containsExactly("keep");
			assertThat(advice.jsonString()).doesNotContain("127.0.0.1");
		}
	}

}
