package dev.grpckeepalive.interop;

import java.time.Duration;

import com.jayway.jsonpath.DocumentContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.test.InteropPeer;
import dev.grpckeepalive.test.TestApps;

import org.springframework.context.ConfigurableApplicationContext;

import static dev.grpckeepalive.interop.KeepAliveInterop.assertCutByPeerAndTimeDoubled;
import static dev.grpckeepalive.interop.KeepAliveInterop.assertCutForPingingTooOften;
import static dev.grpckeepalive.interop.KeepAliveInterop.assertKeepAliveAnswered;
import static dev.grpckeepalive.interop.KeepAliveInterop.assertPingsWithinThePermitAccepted;
import static dev.grpckeepalive.interop.KeepAliveInterop.target;

/**
 * Keepalive between this starter and grpc-go (1.33, built from Debian's golang-google-grpc-dev),
 * both ways. grpc-go's own rules shape the tests: its client raises a keepalive time under 10 s to
 * 10 s, as grpc-java does; its server counts a PING sooner than the enforcement policy's
 * {@code MinTime} after the previous one as a strike, unless it has sent HEADERS or DATA since,
 * and sends GOAWAY ENHANCE_YOUR_CALM {@code too_many_pings} at the third strike.
 */
class GrpcGoInteropTests {

	@BeforeAll
	static void buildGrpcGo() throws Exception {
		InteropPeer.requireGo();
	}

	@Test
	void grpcGoClientWithinThePermitStaysConnected() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.observed("grpc.keepalive.server.permit-time=5s",
				"grpc.keepalive.server.permit-without-calls=true");
				InteropPeer client = InteropPeer.go("client", target(server), "idle", "60000", "keepalive_ms=10000")) {
			// one PING every 10 s, each acknowledged and none a strike
			assertPingsWithinThePermitAccepted(server);
		}
	}

	@Test
	void grpcGoClientPingingTooOftenIsCutCountedAndDiagnosed() throws Exception {
		// gRPC's defaults: permit-time 5m; grpc-go's fastest keepalive (10 s) over an idle call
		// strikes at 10, 20 and 30 s, and grpc-java sends GOAWAY too_many_pings at the third
		try (ConfigurableApplicationContext server = TestApps.observed();
				InteropPeer client = InteropPeer.go("client", target(server), "idle", "45000", "keepalive_ms=10000")) {
			DocumentContext result = client.result(Duration.ofSeconds(45).plus(InteropPeer.START_ALLOWANCE));

			assertCutForPingingTooOften(server, result);
		}
	}

	@Test
	void ourKeepAliveWithinTheirPolicyIsAnsweredByGrpcGoServer() throws Exception {
		try (InteropPeer server = InteropPeer.go("server", "600000", "5000");
				ConfigurableApplicationContext client = TestApps.client(target(server), "time=10s",
						"without-calls=true")) {
			assertKeepAliveAnswered(client);
		}
	}

	@Test
	void ourKeepAliveFasterThanTheirPolicyGetsTooManyPingsAndGrpcJavaDoublesIt() throws Exception {
		// grpc-go enforces 60 s: the echo's reply clears its strikes, grpc-java's BDP PING after it
		// is let through, and our keepalive PINGs at 10, 20 and 30 s are strikes: GOAWAY at the third
		try (InteropPeer server = InteropPeer.go("server", "600000", "60000");
				ConfigurableApplicationContext client = TestApps.observed(
						"grpc.keepalive.client.channels." + TestApps.CHANNEL + ".target=" + target(server),
						"grpc.keepalive.client.channels." + TestApps.CHANNEL + ".time=10s",
						"grpc.keepalive.client.channels." + TestApps.CHANNEL + ".without-calls=true")) {
			assertCutByPeerAndTimeDoubled(client, Duration.ofSeconds(50));
		}
	}

}
