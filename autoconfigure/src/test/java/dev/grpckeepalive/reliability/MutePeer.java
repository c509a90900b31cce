package dev.grpckeepalive.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;

import dev.grpckeepalive.test.LoopbackListener;

/**
 * A peer on loopback that opens HTTP/2 as a server does, with an empty SETTINGS frame, and then
 * reads everything and answers nothing, PING frames included: a server process that hangs
 * with its socket open. A channel to it becomes READY, and with keepalive its PING goes
 * unanswered, so the channel closes the connection with a keepalive timeout after its
 * keepalive {@code time} plus {@code timeout}: the event the dashboard's keepalive timeouts
 * panel shows, without a network fault.
 */
final class MutePeer implements AutoCloseable {

	/** An empty SETTINGS frame: length 0, type 0x4, no flags, stream 0. */
	private static final byte[] SETTINGS = { 0, 0, 0, 0x4, 0, 0, 0, 0, 0 };

	private final LoopbackListener listener;

	MutePeer() throws IOException {
		this.listener = new LoopbackListener("mute-peer", this::swallow);
	}

	String target() {
		return this.listener.target();
	}

	/** Sends SETTINGS once, then reads until the peer closes, so that its writes never block. */
	private void swallow(Socket socket) {
		try (socket; InputStream in = socket.getInputStream()) {
			socket.getOutputStream().write(SETTINGS);
			socket.getOutputStream().flush();
			byte[] buffer = new byte[8192];
			while (in.read(buffer) >= 0) {
				// nothing is answered
			}
		}
		catch (IOException ex) {
			// the channel closed the connection
		}
	}

	@Override
	public void close() throws IOException {
		this.listener.close();
	}

}
