package dev.grpckeepalive.transport;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.Http2Frames;
import dev.grpckeepalive.test.RawHttp2Attacker;
import dev.grpckeepalive.test.TestApps;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A RST_STREAM for a stream the client never opened (stream 0, or above the highest it
 * opened) is a connection error to Netty, which would close the connection and fail every
 * call on it. HAProxy 2.6 and gRPC C-core 1.51 send such frames under load; the frame
 * observer has the server ignore them. Proven on a real server with raw frames: the call on
 * the same connection completes, a later PING is answered, and no GOAWAY comes.
 */
class InvalidResetTests {

	private static final long PING_PAYLOAD = 0x0123456789ABCDEFL;

	@Test
	void resetsOfStreamsNeverOpenedLeaveTheConnectionAndItsCallsAlone() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server();
				Socket socket = new Socket("127.0.0.1", TestApps.port(server))) {
			socket.setSoTimeout(10_000);
			OutputStream out = socket.getOutputStream();
			byte[] echo = Http2Frames.grpcMessage(new byte[] { 0x0a, 0x02, 'h', 'i' });
			out.write(Http2Frames.concat(Http2Frames.PREFACE, Http2Frames.settings(), Http2Frames.settingsAck(),
					Http2Frames.headers(1, Http2Frames.grpcRequestHeaders(RawHttp2Attacker.ECHO_PATH, "localhost"),
							false, true),
					Http2Frames.rstStream(0, 0x8), Http2Frames.rstStream(101, 0x8),
					Http2Frames.data(1, echo, true), Http2Frames.rstStream(0, 0x8),
					Http2Frames.ping(PING_PAYLOAD, false)));
			out.flush();

			List<String> seen = new ArrayList<>();
			boolean trailers = false;
			boolean pingAck = false;
			DataInputStream in = new DataInputStream(socket.getInputStream());
			while (!(trailers && pingAck)) {
				Http2Frames.Frame frame;
				try {
					frame = Http2Frames.read(in);
				}
				catch (EOFException ex) {
					throw new AssertionError("the server closed the connection after " + seen);
				}
				seen.add(Http2Frames.typeName(frame.type()) + "/" + frame.streamId());
				assertThat(frame.type()).as("frames so far: %s", seen).isNotEqualTo(Http2Frames.GOAWAY);
				trailers |= frame.type() == Http2Frames.HEADERS && frame.streamId() == 1 && (frame.flags() & 0x1) != 0;
				pingAck |= frame.type() == Http2Frames.PING && (frame.flags() & 0x1) != 0;
			}
			ConnectionTrackerView tracker = server.getBean(KeepAliveGrpcServer.class).getConnections();
			assertThat(tracker.activeConnections()).isEqualTo(1);
			assertThat(tracker.closedConnections(CloseReason.ERROR)).isZero();
		}
	}

}
