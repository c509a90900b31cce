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
 * Keepalive between this starter and gRPC C-core (through Debian's python3-grpcio), both ways.
 * C-core's own rules shape the tests: a client sends at most {@code max_pings_without_data}
 * (default 2) PINGs until it sends DATA or HEADERS again, so a client that keeps pinging over an
 * idle call sets it to 0; a server counts a PING sooner than
 * {@code min_ping_interval_without_data_ms} after the previous one as a strike and sends GOAWAY
 * too_many_pings once strikes exceed {@code max_ping_strikes} (default 2), strikes and interval
 * starting over whenever it sends HEADERS or DATA.
 */
class CCoreInteropTests {

	@BeforeAll
	static void requirePython() throws Exception {
		InteropPeer.requirePython();
	}

	@Test
	void cCoreClientWithinThePermitStaysConnected() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.observed("grpc.keepalive.server.permit-time=5s",
				"grpc.keepalive.server.permit-without-calls=true");
				InteropPeer client = InteropPeer.python("client", target(server), "idle", "60000", "keepalive_ms=6000",
						"max_pings_without_data=0")) {
			// one PING every 6 s, each acknowledged and none a strike
			assertPingsWithinThePermitAccepted(server);
		}
	}

	@Test
	void cCoreClientPingingTooOftenIsCutCountedAndDiagnosed() throws Exception {
		// gRPC's defaults: permit-time 5m, permit-without-calls false; the client pings every
		// second over an idle call, and grpc-java sends GOAWAY too_many_pings at the third strike
		try (ConfigurableApplicationContext server = TestApps.observed();
				InteropPeer client = InteropPeer.python("client", target(server), "idle", "20000", "keepalive_ms=1000",
						"max_pings_without_data=0")) {
			DocumentContext result = client.result(Duration.ofSeconds(20).plus(InteropPeer.START_ALLOWANCE));

			assertCutForPingingTooOften(server, result);
		}
	}

	@Test
	void ourKeepAliveWithinTheirPolicyIsAnsweredByCCoreServer() throws Exception {
		try (InteropPeer server = InteropPeer.python("server", "600000", "5000");
				ConfigurableApplicationContext client = TestApps.client(target(server), "time=10s",
						"without-calls=true")) {
			assertKeepAliveAnswered(client);
		}
	}

	@Test
	void ourKeepAliveFasterThanTheirPolicyGetsTooManyPingsAndGrpcJavaDoublesIt() throws Exception {
		// C-core permits a PING every 60 s and, with max_ping_strikes 1, sends GOAWAY at the second
		// strike: our 10 s keepalive is cut after about 20 s (30 s with C-core's default of 2)
		try (InteropPeer server = InteropPeer.python("server", "600000", "60000", "max_ping_strikes=1");
				ConfigurableApplicationContext client = TestApps.observed(
						"grpc.keepalive.client.channels." + TestApps.CHANNEL + ".target=" + target(server),
						"grpc.keepalive.client.channels." + TestApps.CHANNEL + ".time=10s",
						"grpc.keepalive.client.channels." + TestApps.CHANNEL + ".without-calls=true")) {
			assertCutByPeerAndTimeDoubled(client, Duration.ofSeconds(45));
		}
	}

}
