package dev.grpckeepalive.test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A bare HTTP/2 server on loopback that only speaks connection-level frames and enforces a
 * strict PING policy at once: a PING that comes sooner than {@code permitTime} after the
 * server last wrote draws GOAWAY ENHANCE_YOUR_CALM {@code too_many_pings} and a close, as
 * grpc-java's server does at its third strike; later PINGs are acknowledged. For client tests
 * that need that GOAWAY without waiting for three keepalive intervals.
 */
public final class StrictPingServer implements AutoCloseable {

	private static final int PREFACE_LENGTH = 24;

	private final LoopbackListener listener;

	private final long permitNanos;

	public StrictPingServer(Duration permitTime) throws IOException {
		this.permitNanos = permitTime.toNanos();
		this.listener = new LoopbackListener("strict-ping-server", this::serve);
	}

	public String target() {
		return this.listener.target();
	}

	private void serve(Socket socket) {
		try (socket; DataInputStream in = new DataInputStream(socket.getInputStream())) {
			OutputStream out = socket.getOutputStream();
			in.readFully(new byte[PREFACE_LENGTH]);
			frame(out, 0x4, 0, new byte[0]);
			long lastWrite = System.nanoTime();
			while (true) {
				byte[] header = new byte[9];
				in.readFully(header);
				int length = ((header[0] & 0xFF) << 16) | ((header[1] & 0xFF) << 8) | (header[2] & 0xFF);
				int type = header[3] & 0xFF;
				int flags = header[4] & 0xFF;
				byte[] payload = new byte[length];
				in.readFully(payload);
				if (type == 0x4 && (flags & 0x1) == 0) {
					frame(out, 0x4, 0x1, new byte[0]);
					lastWrite = System.nanoTime();
				}
				else if (type == 0x6 && (flags & 0x1) == 0) {
					if (System.nanoTime() - lastWrite < this.permitNanos) {
						byte[] debug = "too_many_pings".getBytes(StandardCharsets.US_ASCII);
						frame(out, 0x7, 0, ByteBuffer.allocate(8 + debug.length).putInt(0).putInt(0xB).put(debug).array());
						Thread.sleep(200);
						return;
					}
					frame(out, 0x6, 0x1, payload);
					lastWrite = System.nanoTime();
				}
			}
		}
		catch (IOException | InterruptedException ex) {
			// the client went away
		}
	}

	private static void frame(OutputStream out, int type, int flags, byte[] payload) throws IOException {
		ByteBuffer frame = ByteBuffer.allocate(9 + payload.length);
		frame.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length);
		frame.put((byte) type).put((byte) flags).putInt(0).put(payload);
		out.write(frame.array());
		out.flush();
	}

	@Override
	public void close() throws IOException {
		this.listener.close();
	}

}
